"""Class-weighted HistGradientBoosting bins its columns from one sort each (scikit-learn 1.9 asks
for each of 254 edges separately: seconds per fit on a big table), with the very same edges."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting import binning

from jupyter_automl.spaces.tabular._binning import speed_up_weighted_binning

pytestmark = pytest.mark.skipif(
    not speed_up_weighted_binning(), reason="this scikit-learn bins weighted columns its own way"
)


def _original():
    return binning._find_binning_thresholds.replaces


@pytest.mark.parametrize("seed", range(6))
def test_the_edges_are_the_originals(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(300, 20_000))
    column = rng.normal(size=n) * 10.0 ** rng.integers(-3, 4)
    if seed % 2:  # ties: few distinct values, some above max_bins
        column = np.round(column, 1)
    column[rng.random(n) < 0.1] = np.nan
    weights = rng.choice([0.0, 0.25, 1.0, 3.7, 1 / 3], size=n)
    if seed == 5:  # the balanced class weights of a 1:9 target
        weights = np.where(rng.random(n) < 0.1, 5.0, 5 / 9)
    for max_bins in (255, 128, 16):
        expected = _original()(column.copy(), max_bins, weights.copy())
        got = binning._find_binning_thresholds(column.copy(), max_bins, weights.copy())
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    # unweighted columns are left to scikit-learn
    np.testing.assert_array_equal(
        binning._find_binning_thresholds(column.copy(), 255), _original()(column.copy(), 255)
    )


def test_a_class_weighted_fit_is_the_same_model_and_its_binning_much_faster(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4_000, 8))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (X[:, 0] + rng.logistic(size=len(X)) > 1.5).astype(int)  # about 20 % positives
    weights = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))  # class_weight="balanced"

    def fit():
        model = HistGradientBoostingClassifier(max_iter=3, class_weight="balanced", random_state=0)
        return model.fit(X, y)

    def binning_seconds():
        started = time.perf_counter()
        binning._BinMapper(n_bins=256, random_state=0).fit(X, sample_weight=weights)
        return time.perf_counter() - started

    calls = []
    per_edge = binning._weighted_percentile
    monkeypatch.setattr(
        binning, "_weighted_percentile", lambda *a, **k: calls.append(1) or per_edge(*a, **k)
    )
    fast, fast_s = fit(), min(binning_seconds() for _ in range(3))
    assert calls == []  # no per-edge call left
    with monkeypatch.context() as original:
        original.setattr(binning, "_find_binning_thresholds", _original())
        slow, slow_s = fit(), binning_seconds()
    assert len(calls) == 2 * 8 * 254  # the loop it replaces: one call per edge and column
    np.testing.assert_array_equal(fast.predict_proba(X), slow.predict_proba(X))
    # idle: about 0.5 s against 0.005 s; a busy machine slows both
    assert slow_s > 5 * fast_s, (slow_s, fast_s)

"""Every benchmark dataset loads without the network, has its declared task and a fixed split."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from benchmarks.datasets import DATASETS, SPLIT_SEED, TEST_SIZE, BenchmarkDataset, load, split

_MODULE_OF_PACKAGE = {"scikit-learn": "sklearn"}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any attempt to open a network connection while the test runs."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a benchmark dataset tried to reach the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def _require_package(dataset: BenchmarkDataset) -> None:
    """Skip (naming the missing package) when the dataset's source is not installed."""
    module = _MODULE_OF_PACKAGE.get(dataset.package, dataset.package)
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{dataset.package} is not installed (pip install {dataset.package})")


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_loads_offline_with_its_task(name: str, no_network: None) -> None:
    dataset = DATASETS[name]
    _require_package(dataset)
    X, y, task = load(name)

    assert task == dataset.task
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert len(X) == len(y)
    assert 100 <= len(X) <= 20_000 if dataset.tier == "small" else len(X) >= 20_000
    assert X.shape[1] >= 3
    assert not y.isna().any()
    n_classes = y.nunique()
    if task == "binary":
        assert n_classes == 2
    elif task == "multiclass":
        assert n_classes >= 3
    else:
        assert task == "regression"
        assert pd.api.types.is_float_dtype(y) and n_classes > 20


@pytest.mark.parametrize("name", list(DATASETS))
def test_split_is_deterministic(name: str, no_network: None) -> None:
    dataset = DATASETS[name]
    _require_package(dataset)
    np.random.seed(123)  # the global random state must not matter
    first = split(name)
    np.random.seed(456)
    second = split(name)

    for a, b in zip(first, second, strict=True):
        pd.testing.assert_index_equal(a.index, b.index)
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        else:
            pd.testing.assert_series_equal(a, b)
    X_train, X_test, y_train, y_test = first
    n = len(X_train) + len(X_test)
    assert len(X_test) == pytest.approx(TEST_SIZE * n, abs=1)
    assert set(X_train.index).isdisjoint(X_test.index)
    assert (X_train.index == y_train.index).all() and (X_test.index == y_test.index).all()
    if dataset.task != "regression":
        # stratified: every class is on both sides, in about the same proportion
        train_share = y_train.value_counts(normalize=True)
        test_share = y_test.value_counts(normalize=True)
        assert set(train_share.index) == set(test_share.index)
        assert (train_share - test_share).abs().max() < 0.05


def test_the_mix_covers_every_kind_of_data() -> None:
    tasks = [d.task for d in DATASETS.values()]
    assert len(DATASETS) >= 8
    assert {"binary", "multiclass", "regression"} <= set(tasks)
    assert SPLIT_SEED == 0


def test_some_datasets_have_categorical_and_missing_values(no_network: None) -> None:
    with_categorical, with_missing = [], []
    for name, dataset in DATASETS.items():
        module = _MODULE_OF_PACKAGE.get(dataset.package, dataset.package)
        if importlib.util.find_spec(module) is None:
            continue
        X, _, _ = load(name)
        if any(not pd.api.types.is_numeric_dtype(X[c]) for c in X.columns):
            with_categorical.append(name)
        if X.isna().any().any():
            with_missing.append(name)
    if not with_categorical and not with_missing:
        pytest.skip("none of the packages that ship categorical data is installed")
    assert len(with_categorical) >= 2 and len(with_missing) >= 2


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown dataset 'nope'; known: breast_cancer"):
        load("nope")


def test_large_tier_mixes_tasks_with_categoricals() -> None:
    from benchmarks.datasets import names

    large = [DATASETS[n] for n in names("large")]
    assert len(large) >= 3
    assert {"regression", "binary"} <= {d.task for d in large}
    assert names("small") + names("large") + names("scale") == list(DATASETS)
    assert names("all") == names("small") + names("large")  # the synthetic scale tables run alone
    for dataset in large:
        _require_package(dataset)
        X, _, _ = dataset.load()
        assert len(X) >= 20_000 and any(not pd.api.types.is_numeric_dtype(X[c]) for c in X.columns)

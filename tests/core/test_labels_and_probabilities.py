"""Class labels as people have them, and probabilities from every classifier the search returns.

scikit-learn's forests with ``class_weight="balanced"`` fail on string labels that read as
integers ('0'..'9'); an SVC has no ``predict_proba`` of its own. Both are fixed in the tabular
pipelines, so the trials, the final refit, the ensemble and the exported script agree.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from optuna.trial import TrialState
from sklearn.datasets import load_digits

import jupyter_automl as ja
from jupyter_automl.config import MODEL_FAMILIES
from jupyter_automl.estimators import AutoMLClassifier

_OPTIONAL = {"lightgbm": "lightgbm", "xgboost": "xgboost", "catboost": "catboost"}


@pytest.fixture(scope="module")
def digits():
    frame = load_digits(as_frame=True)
    rows = np.random.default_rng(0).permutation(len(frame.target))[:400]
    return frame.data.iloc[rows].reset_index(drop=True), frame.target.iloc[rows].reset_index(
        drop=True
    )


def _labels(target: pd.Series, kind: str):
    if kind == "str-object":
        return target.astype(str)  # object dtype: '0'..'9'
    if kind == "str-numpy":
        return target.astype(str).to_numpy().astype("<U1")
    if kind == "categorical":
        return target.astype(str).astype("category")
    return target.to_numpy()  # integers


def _weights(result) -> set[str]:
    return {
        t.params.get("rf_class_weight", t.params.get("et_class_weight"))
        for t in result.study.trials
    }


@pytest.mark.parametrize("kind", ["str-object", "str-numpy", "categorical", "int"])
def test_forests_with_balanced_class_weight_take_any_labels(digits, kind):
    X, target = digits
    y = _labels(target, kind)
    r = ja.search(
        X=X,
        y=y,
        models=["random_forest", "extra_trees"],
        metric="balanced_accuracy",
        n_trials=4,
        cv=2,
        seed=0,
        storage="memory",
        display=False,
    )
    states = [t.state for t in r.study.trials]
    errors = [t.user_attrs.get("jupyter_automl", {}).get("error") for t in r.study.trials]
    assert states == [TrialState.COMPLETE] * 4, errors
    assert "balanced" in _weights(r)  # the portfolio's class-weighted forests ran
    assert r.best_score > 0.85
    expected = np.asarray(y).astype(str)
    predicted = r.predict(X.head(50))
    assert set(np.asarray(predicted).astype(str)) <= set(expected)
    assert (np.asarray(predicted).astype(str) == expected[:50]).mean() > 0.9
    # the labels come back as given: strings stay strings, integers integers
    assert (
        isinstance(predicted[0], str)
        if kind != "int"
        else np.issubdtype(np.asarray(predicted).dtype, np.integer)
    )
    proba = r.predict_proba(X.head(7))
    assert proba.shape == (7, 10) and np.allclose(proba.sum(axis=1), 1)


def test_string_labels_ensemble_refit_and_exported_script(digits, tmp_path):
    X, target = digits
    y = target.astype(str)
    r = ja.search(
        X=X,
        y=y,
        models=["random_forest", "extra_trees", "linear"],
        metric="balanced_accuracy",
        n_trials=5,
        cv=2,
        seed=1,
        storage="memory",
        display=False,
    )
    assert all(t.state == TrialState.COMPLETE for t in r.study.trials)
    assert "balanced" in _weights(r)
    assert r.predict_proba(X).shape == (len(X), 10)
    assert (r.predict(X) == y.to_numpy()).mean() > 0.95  # the refit model, on its training rows
    path = r.export(tmp_path / "train.py")
    # the script's model, fitted on the string labels themselves (in a fresh process)
    code = textwrap.dedent(f"""
        import numpy as np, pandas as pd, runpy
        ns = runpy.run_path({str(path)!r})
        X = pd.read_csv({str(tmp_path / "X.csv")!r}).astype(float)
        y = pd.read_csv({str(tmp_path / "y.csv")!r}, dtype=str)["label"].to_numpy(dtype=object)
        model = ns["make_model"]().fit(X, y)
        proba = model.predict_proba(X)
        assert proba.shape == (len(y), 10) and np.allclose(proba.sum(axis=1), 1), proba.shape
        print("agree", (model.predict(X) == y).mean())
    """)
    X.to_csv(tmp_path / "X.csv", index=False)
    pd.DataFrame({"label": y}).to_csv(tmp_path / "y.csv", index=False)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split("agree ")[1]) > 0.95
    # and the script as a user runs it, on the CSV of the frame
    X.assign(**{runpy.run_path(str(path))["TARGET"]: y}).to_csv(tmp_path / "data.csv", index=False)
    proc = subprocess.run(
        [sys.executable, str(path), "data.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split("balanced_accuracy: ")[1].split()[0]) > 0.85
    assert (tmp_path / "best_model.pkl").exists()


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_every_family_gives_probabilities(digits, family, tmp_path):
    if family in _OPTIONAL:
        pytest.importorskip(_OPTIONAL[family])
    X, target = digits
    rows = (target < 4).to_numpy()  # integer labels 0..3: every family applies (XGBoost too)
    X, y = X[rows].reset_index(drop=True), target[rows].to_numpy()
    r = ja.search(
        X=X,
        y=y,
        models=[family],
        metric="balanced_accuracy",
        n_trials=2,
        cv=2,
        seed=0,
        storage="memory",
        display=False,
        ensemble=False,
    )
    assert r.best_params["model"] == family
    proba = r.predict_proba(X.head(9))
    assert proba.shape == (9, 4) and np.allclose(proba.sum(axis=1), 1)
    assert (r.classes_[np.argmax(r.predict_proba(X), axis=1)] == y).mean() > 0.5
    ns = runpy.run_path(str(r.export(tmp_path / "train.py")))  # the script builds the same kind
    assert ns["make_model"]().fit(X, y).predict_proba(X.head(9)).shape == (9, 4)


def test_svm_classifier_estimator_gives_probabilities(digits):
    X, target = digits
    X, y = X.head(200).to_numpy(), target.head(200).astype(str).to_numpy()
    model = AutoMLClassifier(n_trials=2, models=["svm"], cv=2, metric="balanced_accuracy").fit(X, y)
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)
    assert list(model.classes_) == [str(i) for i in range(10)]


def test_svm_is_searched_for_log_loss():
    """A calibrated SVC has probabilities, so a probability metric no longer leaves it out."""
    r = ja.search(
        data="sklearn:iris",
        models=["svm"],
        metric="log_loss",
        n_trials=3,
        cv=2,
        seed=0,
        storage="memory",
        display=False,
    )
    assert [t.state for t in r.study.trials] == [TrialState.COMPLETE] * 3
    assert 0 < r.best_score < 0.6
    proba = r.predict_proba(r.dataset.X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize("kind", ["str-object", "bool"])
def test_catboost_with_balanced_class_weight_predicts_labels_as_given(digits, kind):
    """CatBoost predicts a column for multiclass labels: the search's model predicts a vector of
    the labels as given, with probabilities in ``classes_`` order, class-weighted or not."""
    pytest.importorskip("catboost")
    X, target = digits
    X = X.iloc[:, 16:48]  # the middle rows of the images: CatBoost's multiclass fits cost seconds
    y = (target.to_numpy() % 2 == 0) if kind == "bool" else _labels(target, kind)
    r = ja.search(X=X, y=y, models=["catboost"], metric="balanced_accuracy", n_trials=3, cv=2,
                  seed=0, storage="memory", display=False)
    states = [t.state for t in r.study.trials]
    errors = [t.user_attrs.get("jupyter_automl", {}).get("error") for t in r.study.trials]
    assert states == [TrialState.COMPLETE] * 3, errors
    assert "balanced" in {t.params.get("cb_class_weight") for t in r.study.trials}
    predicted = np.asarray(r.predict(X.head(50)))
    assert predicted.shape == (50,)
    expected = np.asarray(y)[:50]
    assert (predicted.astype(str) == expected.astype(str)).mean() > 0.8
    k = 2 if kind == "bool" else 10
    proba = r.predict_proba(X.head(7))
    assert proba.shape == (7, k) and np.allclose(proba.sum(axis=1), 1)
    assert (np.asarray(r.classes_)[np.argmax(proba, axis=1)].astype(str) == predicted[:7].astype(str)).all()

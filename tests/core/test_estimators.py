"""The scikit-learn estimators: scikit-learn's own checks, pipelines, cross-validation, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import jupyter_automl as ja
from jupyter_automl.estimators import AutoML, AutoMLClassifier, AutoMLRegressor

TINY = {"n_trials": 1, "models": ["linear"], "cv": 2}

_RARE = (
    "the search cross-validates, so it refuses a class with a single example "
    "(this check's y = X[:, 0].astype(int) has one)"
)
_CLASSIFY_FAILS = {
    check: _RARE
    for check in (
        "check_dont_overwrite_parameters",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit2d_predict1d",
    )
}


def _expected_failed(estimator):
    return {} if isinstance(estimator, AutoMLRegressor) else _CLASSIFY_FAILS


@parametrize_with_checks(
    [AutoMLClassifier(**TINY), AutoMLRegressor(**TINY), AutoML(**TINY)],
    expected_failed_checks=_expected_failed,
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def test_params_are_scikit_learns_own():
    model = AutoMLClassifier(time_budget="30s", models=["linear"])
    params = model.get_params()
    assert (
        params["time_budget"] == "30s"
        and params["storage"] == "memory"
        and params["display"] is False
    )
    with pytest.raises(ValueError, match="Invalid parameter 'n_trails'"):
        model.set_params(n_trails=3)
    assert clone(model).get_params() == params
    assert "AutoMLClassifier" in model._repr_html_()
    with pytest.raises(TypeError, match="ntrials"):
        AutoML(ntrials=3)


def test_bad_option_is_a_config_error_at_fit_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ja.ConfigError, match="option 'strategy'.*did you mean 'random'"):
        AutoMLClassifier(strategy="randon", storage=None).fit(X, y)
    with pytest.raises(ja.ConfigError, match="option 'metric'.*r2.*classification|option 'metric'"):
        AutoMLClassifier(metric="r2", n_trials=1).fit(X, y)
    assert list(tmp_path.iterdir()) == []


def test_pipeline_and_cross_val_score():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), AutoMLClassifier(n_trials=2, models=["linear"], cv=3))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.93
    Xr, yr = load_diabetes(return_X_y=True)
    r2 = cross_val_score(
        AutoMLRegressor(time_budget="2s", cv=3), Xr, yr, cv=3
    )  # a budget, as users write it
    assert r2.mean() > 0.3


def test_learned_attributes_with_a_dataframe():
    frame = load_iris(as_frame=True).frame
    frame["colour"] = np.where(frame["petal length (cm)"] > 3, "dark", "light")
    X, y = (
        frame.drop(columns="target"),
        frame["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"}),
    )
    model = AutoMLClassifier(n_trials=2, models=["linear"], cv=3).fit(X, y)
    assert model.n_features_in_ == 5
    assert list(model.feature_names_in_) == list(X.columns)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert model.best_score_ == model.result_.best_score > 0.9
    assert type(model.best_model_).__name__ == "Pipeline"
    proba = model.predict_proba(X.head(4))
    assert proba.shape == (4, 3) and np.allclose(proba.sum(axis=1), 1)
    with pytest.raises(ValueError, match="Feature names"):
        model.predict(X.rename(columns={"colour": "color"}))


def test_auto_detects_the_task():
    X, y = load_diabetes(return_X_y=True)
    model = AutoML(n_trials=1, models=["linear"], cv=2).fit(X, y)
    assert model.task_ == "regression" and not hasattr(model, "classes_")
    assert model.score(X, y) > 0.4


def test_fitted_estimator_and_result_pickle():
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(n_trials=2, models=["linear"], cv=3).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    assert (again.predict(X) == model.predict(X)).all()
    assert again.result_.done and again.result_.leaderboard.shape[0] == 2
    result = pickle.loads(pickle.dumps(model.result_))
    assert result.best_score == model.result_.best_score
    assert result.best_params == model.result_.best_params
    assert (result.predict(X[:5]) == model.predict(X[:5])).all()


def test_a_running_result_refuses_to_pickle():
    frame = pd.DataFrame(load_iris().data)
    result = ja.search(
        X=frame,
        y=load_iris().target,
        time_budget=30,
        storage="memory",
        display=False,
        background=True,
    )
    try:
        if not result.done:
            with pytest.raises(ja.AutoMLError, match="still running.*wait"):
                pickle.dumps(result)
    finally:
        result.stop()
        result.wait()
    assert pickle.loads(pickle.dumps(result)).done

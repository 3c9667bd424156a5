"""The tabular space at every size: fidelity, early stopping, native categoricals, thresholds,
ensembles, task detection that listens to the metric, wide tables and the module layering."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

import jupyter_automl as ja
from jupyter_automl.data import detect_task, load_dataset
from jupyter_automl.evaluate import get_metric
from jupyter_automl.evaluate.cv import Fidelity, choose_fidelity, holdout_validate
from jupyter_automl.spaces.tabular import build_pipeline

PACKAGE = Path(ja.__file__).parent


def _run_exported(script: Path) -> object:
    """Run an exported training script as a user would and load the model it saves."""
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=script.parent, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    with open(script.parent / "best_model.pkl", "rb") as f:
        return pickle.load(f)


# ----------------------------------------------------------------------------- fidelity
def test_fidelity_follows_the_rows():
    assert choose_fidelity(1_000) == Fidelity("cv", folds=5)
    assert choose_fidelity(8_000, folds=5) == Fidelity("cv", folds=3)
    big = choose_fidelity(60_000)
    assert big.method == "holdout" and big.rungs == (1 / 9, 1 / 3, 1.0)
    assert choose_fidelity(25_000).rungs == (1 / 3, 1.0)  # a rung of under 5,000 rows is skipped
    assert choose_fidelity(1_000, method="holdout").method == "holdout"
    assert choose_fidelity(90_000, method="cv", folds=4) == Fidelity("cv", folds=4)


def test_holdout_rungs_are_reported_and_grow():
    X, y = load_digits(return_X_y=True, as_frame=True)
    data = load_dataset(X=X, y=y)
    metric = get_metric("accuracy", data.task)
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    fidelity = Fidelity("holdout", rungs=(1 / 9, 1 / 3, 1.0))

    def pipe():
        params = {"model": "linear", "num_impute": "median", "scaler": "standard", "lr_C": 1.0}
        return build_pipeline(params, data.numeric_columns, [], data.task)

    evaluation = holdout_validate(pipe, data, metric, fidelity, seed=0, trial=trial)
    study.tell(trial, evaluation.values)
    steps = study.trials[0].intermediate_values
    assert sorted(steps) == [0, 1]  # the two cheap rungs; the last one is the trial's value
    assert steps[0] < evaluation.values and 0.9 < evaluation.values <= 1.0
    predicted = np.isfinite(evaluation.oof).all(axis=1)
    assert predicted.sum() == pytest.approx(0.2 * len(y), abs=2)  # the validation rows only


def test_a_holdout_search_in_worker_processes_keeps_its_trials():
    """From 20,000 rows a trial is scored on a holdout, whose predictions cover only the
    validation rows; the worker's result check must take them (it once failed every trial)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(25_000, 3)), columns=list("abc"))
    y = (X["a"] - X["b"] + rng.normal(size=25_000) > 0).astype(int)
    result = ja.search(
        X=X, y=y, models=["linear"], n_trials=2, holdout="none", storage="memory", display=False
    )
    assert result.config.executor == "process" and result.space.fidelity.method == "holdout"
    assert [t.state.name for t in result.study.trials] == ["COMPLETE", "COMPLETE"]
    assert result.best_score > 0.8


def test_weak_candidate_is_pruned_at_the_first_rung():
    X, y = load_digits(return_X_y=True, as_frame=True)
    data = load_dataset(X=X, y=y)
    metric = get_metric("accuracy", data.task)
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.95)
    )
    trial = study.ask()

    def weak():
        params = {
            "model": "knn",
            "num_impute": "median",
            "scaler": "standard",
            "knn_n_neighbors": 40,
            "knn_weights": "uniform",
        }
        return build_pipeline(params, data.numeric_columns, [], data.task)

    with pytest.raises(optuna.TrialPruned, match="pruned after rung 1/3"):
        holdout_validate(
            weak, data, metric, Fidelity("holdout", rungs=(1 / 9, 1 / 3, 1.0)), seed=0, trial=trial
        )


def test_boosting_stops_early_instead_of_searching_its_length():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    big = pd.concat([X] * 5, ignore_index=True)  # 2,276 searched rows: past the early-stopping threshold
    result = ja.search(
        X=big,
        y=np.tile(y, 5),
        models=["hist_gradient_boosting"],
        n_trials=2,
        ensemble=False,
        storage="memory",
        display=False,
    )
    assert all("hgb_max_iter" not in t.params for t in result.study.trials)
    model = result.best_model[-1]
    assert model.early_stopping is True and model.n_iter_ < model.max_iter


def test_native_categoricals_for_histogram_boosting(penguins):
    frame = penguins.dropna(subset=["body_mass_g"])
    result = ja.search(
        data=frame,
        target="species",
        models=["hist_gradient_boosting"],
        n_trials=1,
        ensemble=False,
        storage="memory",
        display=False,
    )
    assert result.best_params["hgb_cat_encoding"] == "native"
    model = result.best_model[-1]
    n_numeric = len(result.dataset.numeric_columns)
    assert model.is_categorical_.tolist() == [False] * n_numeric + [True] * len(
        result.dataset.categorical_columns
    )
    assert result.best_score > 0.95


@pytest.fixture(scope="module")
def city_csv(tmp_path_factory):
    """3,000 rows whose target hangs on a 12-valued text column in no particular order."""
    rng = np.random.default_rng(0)
    n = 3000
    city = rng.choice([f"city{i}" for i in range(12)], n)
    effect = dict(zip([f"city{i}" for i in range(12)], rng.normal(size=12) * 2, strict=True))
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {"x": x, "noise": rng.normal(size=n), "city": city,
         "y": x + pd.Series(city).map(effect) + 0.3 * rng.normal(size=n)}
    )
    path = tmp_path_factory.mktemp("city") / "city.csv"
    frame.to_csv(path, index=False)
    return path


def test_lightgbm_stops_early_reads_categories_and_the_export_keeps_its_rounds(city_csv, tmp_path):
    pytest.importorskip("lightgbm")
    from jupyter_automl.spaces.tabular.pipeline import MAX_BOOSTING_ROUNDS

    result = ja.search(
        data=str(city_csv),
        target="y",
        models=["lightgbm"],
        n_trials=2,
        ensemble=False,
        storage="memory",
        display=False,
    )
    assert all("lgbm_n_estimators" not in t.params for t in result.study.trials)  # not searched
    rounds = result.best_params["lgbm_n_estimators"]  # what the validation split chose
    assert 0 < rounds < MAX_BOOSTING_ROUNDS
    model = result.best_model[-1]
    assert model.n_estimators == rounds  # the refit trains as many rounds, no early stopping
    if result.best_params["lgbm_cat_encoding"] == "native":
        n_numeric = len(result.dataset.numeric_columns)
        assert model.get_params()["cat_feature"] == [n_numeric]
        assert '"decision_type": "=="' in str(model.booster_.dump_model()).replace("'", '"')
    assert result.best_score > 0.9
    script = result.export(tmp_path / "train.py")
    assert f"n_estimators={rounds}" in script.read_text()
    exported = _run_exported(script)
    X = result.dataset.X
    assert np.allclose(exported.predict(X), result.predict(X))


@pytest.mark.parametrize("family", ["lightgbm", "xgboost"])
def test_boosting_native_categoricals_and_early_stopping_in_one_evaluation(family, city_csv):
    pytest.importorskip(family)
    from jupyter_automl.config import SearchConfig
    from jupyter_automl.spaces.tabular import TabularSpace

    data = load_dataset(data=str(city_csv), target="y")
    space = TabularSpace(SearchConfig(), data)
    pre = {"lightgbm": "lgbm", "xgboost": "xgb"}[family]
    params = {
        "model": family,
        "num_impute": "median",
        f"{pre}_cat_encoding": "native",
        f"{pre}_learning_rate": 0.1,
        f"{pre}_subsample": 1.0,
        f"{pre}_colsample_bytree": 1.0,
        f"{pre}_reg_lambda": 1e-6,
        **(
            {"lgbm_num_leaves": 31, "lgbm_min_child_samples": 20}
            if family == "lightgbm"
            else {"xgb_max_depth": 6, "xgb_min_child_weight": 1.0}
        ),
    }
    evaluation = space.evaluate(None, params, None)
    learned = evaluation.user_attrs["learned_params"][f"{pre}_n_estimators"]
    assert 20 < learned < 2000 and evaluation.values > 0.9
    model = space.fit_final(params, None)[-1]  # without learned rounds it stops early itself
    if family == "lightgbm":
        assert model.best_iteration_ > 0 and model.get_params()["cat_feature"] == [2]
    else:
        assert model.best_iteration > 0 and model.get_params()["feature_types"] == ["q", "q", "c"]
    unknown = data.X.head(3).assign(city="a city never seen")  # unknown category → missing
    assert np.isfinite(space.fit_final(params, None).predict(unknown)).all()


# --------------------------------------------------------------------------- portfolio
def test_large_tables_start_with_the_untuned_boosting_default():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(12_000, 4)), columns=list("abcd"))
    data = load_dataset(X=X, y=(X["a"] + rng.normal(size=12_000) > 0).astype(int))
    from jupyter_automl.config import SearchConfig
    from jupyter_automl.spaces.tabular import TabularSpace

    portfolio = TabularSpace(SearchConfig(), data).portfolio()
    first = portfolio[0]
    assert first["model"] == "hist_gradient_boosting" and first["hgb_learning_rate"] == 0.1
    assert first["hgb_max_leaf_nodes"] == 31 and first["hgb_min_samples_leaf"] == 20
    assert [p["model"] for p in portfolio][1] == "lightgbm" or "lightgbm" not in str(portfolio)
    forests = [p["model"] for p in portfolio if p["model"] in ("random_forest", "extra_trees")]
    assert forests == ["random_forest"]  # its default, up to FOREST_DEFAULT_MAX_ROWS; no extra trees
    assert [p["model"] for p in portfolio].index("random_forest") > 1  # after the boosting defaults


# ---------------------------------------------------------------------------- thresholds
@pytest.fixture(scope="module")
def imbalanced_csv(tmp_path_factory):
    """Breast cancer with most malignant cases left out: 10 % positives."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    keep = (y == 1) | (np.cumsum(y == 0) <= 40)
    frame = X.loc[keep, X.columns[:8]].assign(benign=y[keep])
    path = tmp_path_factory.mktemp("thr") / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


def test_binary_threshold_is_tuned_kept_and_exported(imbalanced_csv, tmp_path):
    result = ja.search(
        data=str(imbalanced_csv),
        target="benign",
        metric="balanced_accuracy",
        models=["linear"],
        strategy="random",
        n_trials=3,
        ensemble=False,
        seed=0,
        storage="memory",
        display=False,
    )
    tuned = result.threshold
    assert tuned is not None and tuned["score"] > tuned["untuned"]
    model = result.best_model
    assert (
        type(model).__name__ == "FixedThresholdClassifier" and model.threshold == tuned["threshold"]
    )
    assert result.payload()["threshold"] == tuned
    script = result.export(tmp_path / "train.py")
    assert f"threshold={tuned['threshold']!r}" in script.read_text()
    exported = _run_exported(script)
    assert exported.threshold == tuned["threshold"]
    X = result.dataset.X
    assert (exported.predict(X) == result.predict(X)).all()


def test_no_threshold_for_scores_that_do_not_use_one(imbalanced_csv):
    result = ja.search(
        data=str(imbalanced_csv),
        target="benign",
        metric="roc_auc",
        models=["linear"],
        n_trials=2,
        ensemble=False,
        storage="memory",
        display=False,
    )
    assert result.threshold is None and type(result.best_model).__name__ == "Pipeline"


# ----------------------------------------------------------------------------- ensembles
def test_ensemble_is_on_by_default_and_fits_in_the_budget():
    t0 = time.monotonic()
    result = ja.search(
        data="sklearn:breast_cancer", time_budget=12, storage="memory", display=False
    )
    elapsed = time.monotonic() - t0
    assert elapsed <= 12 * 1.05 + 1.0 + 1.0, f"a 12 s search took {elapsed:.1f} s"
    if result.ensemble is not None:
        assert result.ensemble["score"] > result.ensemble["best_single"]
        assert type(result.best_model).__name__ == "VotingClassifier"


# ------------------------------------------------------------------------ task detection
def test_count_target_with_r2_is_a_regression():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    visits = np.floor(y / 6.0).astype(float)  # an integer-valued count stored as float
    result = ja.search(
        X=X, y=visits, metric="r2", n_trials=1, ensemble=False, storage="memory", display=False
    )
    assert result.task == "regression" and "metric 'r2'" in result.task_reason
    assert result.study.user_attrs["jupyter_automl:task_reason"] == result.task_reason


def test_task_follows_metric_then_values():
    counts = np.arange(300) % 57
    assert detect_task(counts)[0] == "regression"  # many distinct integers: a count
    assert detect_task(counts % 4)[0] == "multiclass"
    assert detect_task(counts % 4, "rmse")[0] == "regression"
    assert detect_task(counts.astype(float) % 2, "roc_auc") == (
        "binary",
        "metric 'roc_auc' scores a classification; the target has 2 classes",
    )
    task, reason = detect_task(counts)
    assert "pass task='multiclass'" in reason


def test_regression_metric_on_text_labels_is_refused():
    with pytest.raises(
        ja.DataError, match="metric 'mae' scores a regression but the target is not numeric"
    ):
        load_dataset(X=pd.DataFrame({"a": range(10)}), y=np.array(["x", "y"] * 5), metric="mae")


# ------------------------------------------------------------------------------ wide data
def test_wide_table_starts_its_first_trial_within_seconds():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 10_000)), columns=[f"f{i}" for i in range(10_000)])
    X["kind"] = ["a", "b", "c"] * 10
    y = np.arange(30) % 2
    called = time.time()
    result = ja.search(
        X=X,
        y=y,
        models=["linear"],
        n_trials=1,
        cv=2,
        ensemble=False,
        storage="memory",
        display=False,
    )
    waited = result.study.trials[0].datetime_start.timestamp() - called
    assert waited < 4.0, f"the first trial started {waited:.2f} s after search() was called"
    assert len(result.dataset.numeric_columns) == 10_000 and result.dataset.categorical_columns == [
        "kind"
    ]


# ------------------------------------------------------------------------------- layering
def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_circles_between_export_spaces_and_evaluate():
    assert not any(m.startswith("jupyter_automl.spaces") for m in _imports(PACKAGE / "export.py"))
    for module in (PACKAGE / "spaces" / "tabular").glob("*.py"):
        assert "jupyter_automl.export" not in _imports(module), module
    for module in (PACKAGE / "evaluate").glob("*.py"):
        assert not any(m.startswith("jupyter_automl.spaces") for m in _imports(module)), module
    assert not any(
        m.startswith("jupyter_automl.spaces")
        for m in _imports(PACKAGE / "_search.py")
        if "tabular" in m
    )

"""The benchmark's own scoring: held-out metric per task and the normalisation by the best tool."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.tabular import METRICS, _parse, normalised_scores, score_model


class _FixedModel:
    """A stand-in fitted model that returns given predictions and probabilities."""

    def __init__(self, predicted: list[object], proba: np.ndarray | None, classes: list[object]):
        self.predicted = predicted
        self.proba = proba
        self.classes_ = np.array(classes, dtype=object)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.array(self.predicted, dtype=object)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray | None:
        return self.proba


def test_each_task_has_its_metric() -> None:
    assert METRICS == {
        "binary": "balanced_accuracy",
        "multiclass": "balanced_accuracy",
        "regression": "r2",
    }


def test_balanced_accuracy_weighs_each_class_equally() -> None:
    X = pd.DataFrame({"x": range(10)})
    y = pd.Series(["no"] * 8 + ["yes"] * 2)
    always_no = _FixedModel(["no"] * 10, None, classes=["no", "yes"])
    assert score_model(always_no, X, y, "binary", y_train=y) == 0.5  # accuracy would say 0.8
    assert score_model(always_no, X, y, "binary", y_train=y, metric="accuracy") == 0.8


def test_ratio_to_the_best_for_auc_and_accuracy() -> None:
    norm = normalised_scores({"a": 0.9, "b": 0.6, "c": None}, "accuracy")
    assert norm == pytest.approx({"a": 1.0, "b": 2 / 3, "c": 0.0})


def test_negative_r2_counts_as_zero() -> None:
    norm = normalised_scores({"a": 0.8, "b": -3.0, "c": 0.4}, "r2")
    assert norm == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.5})


def test_when_no_tool_beats_the_mean_only_the_best_scores() -> None:
    norm = normalised_scores({"a": -0.1, "b": -2.0}, "r2")
    assert norm == {"a": 1.0, "b": 0.0}


def test_binary_auc_uses_the_probability_of_the_larger_label() -> None:
    X = pd.DataFrame({"x": [0, 1, 2, 3]})
    y = pd.Series(["no", "no", "yes", "yes"])
    # classes_ says column 0 is "yes": a model that gets it perfectly right.
    proba = np.array([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3], [0.9, 0.1]])
    model = _FixedModel(["no", "no", "yes", "yes"], proba, classes=["yes", "no"])
    assert score_model(model, X, y, "binary", y_train=y, metric="roc_auc") == 1.0


def test_multiclass_accuracy_and_regression_r2() -> None:
    X = pd.DataFrame({"x": [0, 1, 2, 3]})
    y = pd.Series(["a", "b", "c", "c"])
    model = _FixedModel(["a", "b", "c", "a"], None, classes=["a", "b", "c"])
    assert score_model(model, X, y, "multiclass", y_train=y, metric="accuracy") == 0.75
    y_num = pd.Series([1.0, 2.0, 3.0, 4.0])
    model = _FixedModel([1.0, 2.0, 3.0, 4.0], None, classes=[])
    assert score_model(model, X, y_num, "regression", y_train=y_num) == 1.0


def test_unknown_names_are_refused_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(["--datasets", "titanic,nope", "--tools", "flaml,h2o"])
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "unknown tool 'h2o'" in err


def test_ranks_share_ties_and_put_failures_last() -> None:
    from benchmarks.tabular import ranks_of

    assert ranks_of({"a": 0.9, "b": 0.8, "c": 0.9, "d": None}) == {
        "a": 1.5,
        "c": 1.5,
        "b": 3.0,
        "d": 4.0,
    }


def test_tier_chooses_the_datasets() -> None:
    from benchmarks.datasets import names

    assert _parse(["--tier", "large"]).dataset_list == names("large")
    assert _parse([]).dataset_list == names("small")
    assert "untuned_hgb" in _parse(["--tools", "untuned_hgb"]).tool_list


def test_a_failed_run_scores_zero_in_its_cells_mean() -> None:
    from benchmarks.tabular import _cell_stats

    runs = [{"score": 0.9, "fit_s": 60.0, "n_trials": 5}, {"score": None, "error": "killed"},
            {"score": 0.6, "fit_s": 61.0, "n_trials": 4}]
    stats = _cell_stats(runs)
    assert stats["score"] == pytest.approx(0.5) and stats["failures"] == 1
    assert _cell_stats([{"score": None}, {"score": None}])["score"] is None  # FAILED

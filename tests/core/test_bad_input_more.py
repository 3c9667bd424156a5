"""More bad input (issue 20): each refused before any trial and before any storage is written.

One table: the input, the error type, a pattern naming the culprit and the fix. Every case runs
in a fresh directory with an SQLite file there as its storage; the test checks that the file (and
any directory the input names) was not created, so nothing ran and nothing was written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_automl as ja

RNG = np.random.default_rng(0)
X40 = pd.DataFrame(RNG.normal(size=(40, 3)), columns=["a", "b", "c"])
CLASSES = np.arange(40) % 4  # four integer classes of ten
FLOATS = RNG.normal(size=40)  # a continuous target: a regression


def _nas(space: str):
    return lambda: {"X": X40, "y": CLASSES, "space": space}


CASES = {
    "every feature column empty": (
        lambda: {"X": pd.DataFrame({"a": [np.nan] * 40, "b": [None] * 40}), "y": CLASSES},
        ja.DataError,
        r"every feature column is empty \(all values missing\): 'a', 'b'",
    ),
    "roc_auc on a regression target": (
        lambda: {"X": X40, "y": FLOATS, "metric": "roc_auc"},
        ja.DataError,
        r"metric 'roc_auc' scores a classification but the target looks like a regression "
        r"\(the target has non-integer values\): use a regression metric \(r2, rmse, mae\)$",
    ),
    "accuracy on many integer values": (
        lambda: {"X": X40, "y": np.arange(40) * 3, "metric": "accuracy"},
        ja.DataError,
        r"metric 'accuracy' scores a classification but the target looks like a regression "
        r"\(the target has 40 distinct integer values .*pass task='multiclass' if these values are classes",
    ),
    "log_loss on a regression target": (
        lambda: {"X": X40, "y": FLOATS, "metric": "log_loss"},
        ja.DataError,
        r"metric 'log_loss' scores a classification .*regression",
    ),
    "r2 on a classification target": (
        lambda: {"X": X40, "y": CLASSES, "metric": "r2"},
        ja.DataError,
        r"metric 'r2' scores a regression but the target looks like a multiclass classification "
        r"\(the target has 4 distinct integer values.*pass task='regression' if the values are numbers",
    ),
    "rmse on a binary target": (
        lambda: {"X": X40, "y": np.arange(40) % 2, "metric": "rmse"},
        ja.DataError,
        r"metric 'rmse' scores a regression but the target looks like a binary classification",
    ),
    "a 1-row frame": (
        lambda: {"data": X40.iloc[:1].assign(y=[1.5]), "target": "y"},
        ja.DataError,
        r"the data has 1 row: too few to learn from and cross-validate; give at least 4 rows",
    ),
    "3 rows": (
        lambda: {"X": X40.iloc[:3], "y": [0, 1, 0]},
        ja.DataError,
        r"the data has 3 rows: too few",
    ),
    "regression folds of one row": (
        lambda: {"X": X40.iloc[:9], "y": FLOATS[:9], "cv": 5},
        ja.DataError,
        r"9 rows are too few for 5-fold cross-validation of a regression: a fold needs at least 2 rows "
        r"to be scored; pass cv=4",
    ),
    "space nas-cell on a DataFrame": (
        _nas("nas-cell"),
        ja.DataError,
        "a table of 3 columns cannot be read as square .*use space: nas-mlp for tables",
    ),
    "space nas-dag on a 2-d array": (
        lambda: {"X": X40.to_numpy(), "y": CLASSES, "space": "nas-dag"},
        ja.DataError,
        "a table of 3 columns cannot be read as square .*use space: nas-mlp for tables",
    ),
    "space nas-chain on a DataFrame": (
        _nas("nas-chain"),
        ja.DataError,
        "a table of 3 columns cannot be read as square .*use space: nas-mlp for tables",
    ),
    "storage under a missing directory": (
        lambda: {"X": X40, "y": CLASSES, "storage": "no/such/dir/x.db"},
        ja.ConfigError,
        r"option 'storage': the directory '.*/no/such/dir' does not exist \('.*/no' is missing",
    ),
    "an sqlite URL under a missing directory": (
        lambda: {"X": X40, "y": CLASSES, "storage": "sqlite:///no/such/dir/x.db"},
        ja.ConfigError,
        r"option 'storage': the directory 'no/such/dir' does not exist \('no' is missing; relative paths "
        r"are read from .*create it first",
    ),
    "a journal under a missing directory": (
        lambda: {"X": X40, "y": CLASSES, "storage": "no/x.log"},
        ja.ConfigError,
        r"option 'storage': the directory '.*/no' does not exist",
    ),
    "resume of a study that does not exist": (
        lambda: {"X": X40, "y": CLASSES, "name": "nope", "resume": True},
        ja.ConfigError,
        r"option 'resume': there is no study 'nope' in sqlite:///.*studies\.db \(the file does not exist\)",
    ),
    "a study name of 5,000 characters": (
        lambda: {"X": X40, "y": CLASSES, "name": "x" * 5000},
        ja.ConfigError,
        r"option 'name': got a name of 5000 characters \('x{20}'…\); give one of at most 200 characters$",
    ),
    "a study name with a newline": (
        lambda: {"X": X40, "y": CLASSES, "name": "churn\nv2"},
        ja.ConfigError,
        r"option 'name': got 'churn\\nv2', which holds the control character '\\n'",
    ),
    "a trial memory below the data's size": (
        lambda: {"X": pd.DataFrame(RNG.normal(size=(40_000, 10))), "y": np.arange(40_000) % 2,
                 "trial_memory": "1MB"},
        ja.ConfigError,
        r"option 'trial_memory': 1 MB is less than the data a trial trains on \(2\.\d+ MB in memory\), so every "
        r"trial would run out of memory; give at least [\d.]+ MB \(a fit copies its rows\) or leave trial_memory unset",
    ),
    "a time budget of 1e9 seconds": (
        lambda: {"X": X40, "y": CLASSES, "time_budget": 1e9, "n_trials": None},
        ja.ConfigError,
        r"option 'time_budget': got 1000000000.0 \(31.7 years\), longer than a search may run \(at most 30 "
        r"days, '30d'\); to stop on a number of trials alone give n_trials and time_budget: none$",
    ),
    "an infinite time budget": (
        lambda: {"X": X40, "y": CLASSES, "time_budget": float("inf"), "n_trials": None},
        ja.ConfigError,
        r"option 'time_budget': got inf, longer than a search may run",
    ),
    "a time budget that is not a number": (
        lambda: {"X": X40, "y": CLASSES, "time_budget": float("nan"), "n_trials": None},
        ja.ConfigError,
        r"option 'time_budget': expected seconds or a duration like '90s', got nan",
    ),
    "a study name with an escape": (
        lambda: {"X": X40, "y": CLASSES, "name": "a\x1b[31mb"},
        ja.ConfigError,
        r"control character '\\x1b'",
    ),
}


def _files(tmp: Path) -> set[str]:
    return {str(p.relative_to(tmp)) for p in tmp.rglob("*")}


@pytest.mark.parametrize("case", list(CASES))
def test_more_bad_input_is_refused_before_anything_is_written(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build, error, message = CASES[case]
    options = {"storage": str(tmp_path / "studies.db"), **build()}
    with pytest.raises(error, match=message):
        ja.search(**{"n_trials": 1, "cv": 2, "display": False, **options})
    assert _files(tmp_path) == set()  # no database, no directory: nothing ran, nothing was written


def test_absolute_path_under_a_missing_directory_is_not_created(tmp_path):
    target = tmp_path / "missing" / "deeper" / "s.db"
    with pytest.raises(ja.ConfigError, match=rf"'{tmp_path / 'missing'}' is missing"):
        ja.search(X=X40, y=CLASSES, storage=f"sqlite:///{target}", n_trials=1, display=False)
    assert not (tmp_path / "missing").exists()


def test_resume_of_a_missing_name_lists_the_studies_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = {
        "X": X40,
        "y": CLASSES,
        "models": ["linear"],
        "cv": 2,
        "n_trials": 1,
        "display": False,
    }
    ja.search(name="churn-v2", **common)
    db = tmp_path / ".jupyter_automl" / "studies.db"
    before = db.stat().st_size, len(ja.list_studies())
    with pytest.raises(
        ja.ConfigError,
        match=r"option 'resume': there is no study 'churn-v3' in sqlite:///.*studies\.db "
        r"\(did you mean 'churn-v2'\?\); its studies: 'churn-v2'; check the name, or pass resume=False",
    ):
        ja.search(name="churn-v3", resume=True, **common)
    assert (db.stat().st_size, len(ja.list_studies())) == before  # no study was added


def test_an_empty_feature_column_is_dropped_with_a_note(caplog):
    X = X40.assign(empty=np.nan, blank=pd.Series([None] * 40, dtype=object))
    with caplog.at_level(logging.WARNING, logger="jupyter_automl"):
        result = ja.search(
            X=X, y=CLASSES, models=["linear"], cv=2, n_trials=1, storage="memory", display=False
        )
    note = "dropped 2 empty columns (all values missing): ['empty', 'blank']"
    assert note in caplog.text
    assert list(result.dataset.X.columns) == ["a", "b", "c"]
    assert result.dataset.summary().endswith(note)  # the first progress line says it
    assert result.n_trials == 1 and result.best_model is not None


def test_regression_metric_on_integer_classes_runs_when_the_task_is_forced():
    result = ja.search(
        X=X40,
        y=CLASSES,
        metric="r2",
        task="regression",
        models=["linear"],
        cv=2,
        n_trials=1,
        storage="memory",
        display=False,
    )
    assert result.task == "regression"

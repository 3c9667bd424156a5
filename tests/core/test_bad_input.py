"""Bad input is refused before any trial runs and before anything is written, naming the culprit.

One table: the input, the error type, a pattern the message must match. Every case runs in a
fresh directory with the default storage (``.jupyter_automl/studies.db`` there), and the test
checks that no storage file appeared, or that the existing one is unchanged.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_automl as ja
from jupyter_automl.config import SearchConfig

RNG = np.random.default_rng(0)
X40 = pd.DataFrame(RNG.normal(size=(40, 3)), columns=["a", "b", "c"])
Y40 = np.arange(40) % 4  # four classes of ten: a multiclass task, or a regression if asked


def _with(column, values):
    return X40.assign(**{column: values})


def _inf():
    X = X40.copy()
    X.loc[7, "b"] = np.inf
    return {"X": X, "y": Y40}


def _binary_csv(tmp: Path):
    (tmp / "table.csv").write_bytes(bytes(range(256)) * 16)
    return {"data": "table.csv", "target": "y"}


def _foreign_sqlite(tmp: Path):
    con = sqlite3.connect(tmp / "notes.db")
    con.execute("CREATE TABLE notes (x)")
    con.execute("INSERT INTO notes VALUES (1)")
    con.commit()
    con.close()
    return {"X": X40, "y": Y40, "storage": "notes.db"}


CASES = {
    "inf in a feature": (_inf, ja.DataError, r"column\(s\) \['b'\] hold infinite values"),
    "one row per class": (
        lambda: {"X": X40, "y": [f"id{i}" for i in range(40)]},
        ja.DataError,
        "one row per class .*identifier",
    ),
    "duplicated column names": (
        lambda: {"X": X40.rename(columns={"b": "a"}), "y": Y40},
        ja.DataError,
        r"duplicated column names \['a'\]",
    ),
    "duplicated target-frame columns": (
        lambda: {"data": _with("y", Y40).rename(columns={"b": "a"}), "target": "y"},
        ja.DataError,
        r"duplicated column names \['a'\]",
    ),
    "a column of lists": (
        lambda: {"X": _with("tags", [[1, 2]] * 40), "y": Y40},
        ja.DataError,
        "column 'tags' holds list values",
    ),
    "a column of dicts": (
        lambda: {"X": _with("meta", [{"k": 1}] * 40), "y": Y40},
        ja.DataError,
        "column 'meta' holds dict values",
    ),
    "a datetime column": (
        lambda: {"X": _with("when", pd.date_range("2024-01-01", periods=40)), "y": Y40},
        ja.DataError,
        r"column 'when' holds dates .*\.dt\.year",
    ),
    "dates as objects": (
        lambda: {"X": _with("day", list(pd.date_range("2024-01-01", periods=40).date)), "y": Y40},
        ja.DataError,
        "column 'day' holds dates",
    ),
    "a non-CSV file": (_binary_csv, ja.DataError, r"data file 'table\.csv' is not a text CSV file"),
    "an empty DataFrame": (
        lambda: {"data": pd.DataFrame(), "target": "y"},
        ja.DataError,
        r"the data is empty \(shape \(0, 0\)\)",
    ),
    "space nas-cell on a table": (
        lambda: {"X": X40, "y": Y40, "space": "nas-cell"},
        ja.DataError,
        "cannot be read as square .*use space: nas-mlp for tables",
    ),
    "an SQLite file that is not a study": (
        _foreign_sqlite,
        ja.StorageError,
        r"'.*notes\.db' is an SQLite database but not an Optuna study .*\(its tables: notes\); it was left untouched",
    ),
}


def _storage_state(tmp: Path) -> dict[str, str]:
    """A digest of every storage file (the -shm index changes on reads and is left out)."""
    files = [
        p
        for p in tmp.rglob("*")
        if p.is_file() and p.suffix in (".db", ".log") or p.name.endswith("-wal")
    ]
    return {str(p.relative_to(tmp)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_anything_is_written(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build, error, message = CASES[case]
    options = build(tmp_path) if build.__code__.co_argcount else build()
    before = _storage_state(tmp_path)
    with pytest.raises(error, match=message):
        ja.search(n_trials=1, cv=2, display=False, **options)
    assert _storage_state(tmp_path) == before
    assert not (tmp_path / ".jupyter_automl").exists()


def test_duplicated_key_in_a_cell_body_names_both_lines():
    with pytest.raises(
        ja.ConfigError, match=r"duplicate option 'metric' \(line 3; first given on line 1\)"
    ):
        SearchConfig.from_yaml("metric: accuracy\nn_trials: 3\nmetric: log_loss\n")
    with pytest.raises(ja.ConfigError, match=r"duplicate key 'k' in 'strategy_options' \(line 3; first given on line 2\)"):
        SearchConfig.from_yaml("strategy_options:\n  k: 1\n  k: 2\n")


# -------------------------------------------------------------------------- resuming a study
FIRST = {
    "X": X40,
    "y": Y40,
    "models": ["linear"],
    "cv": 2,
    "n_trials": 1,
    "name": "s",
    "display": False,
}

RESUME_CASES = {
    "a different metric": (
        {"metric": "balanced_accuracy"},
        r"option 'metric': study 's' .* was run with metric='accuracy', this run asks for 'balanced_accuracy'",
    ),
    "different models": (
        {"models": ["knn"]},
        r"option 'models': .*models=\['linear'\], this run asks for \['knn'\]",
    ),
    "all models instead of one": (
        {"models": None},
        r"option 'models': .*this run asks for all \(None\)",
    ),
    "a different task": (
        {"task": "regression"},
        r"option 'task': .*task='multiclass', this run asks for 'regression'",
    ),
    "a different space": (
        {"space": "nas-mlp", "models": None},
        r"option 'space': .*space='tabular', this run asks for 'nas-mlp'",
    ),
    "a different held-out split": (
        {"holdout": 0.3},
        r"option 'holdout': .*holdout=0.2, this run asks for 0.3",
    ),
    "another evaluation": (
        {"evaluation": "holdout"},
        r"option 'evaluation': .*evaluation='auto', this run asks for 'holdout'",
    ),
}


@pytest.fixture
def stored_study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ja.search(**FIRST)
    return tmp_path


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_with_a_different_option_is_refused(case, stored_study):
    changes, message = RESUME_CASES[case]
    before = _storage_state(stored_study)
    with pytest.raises(
        ja.ConfigError, match=message + r".*start a new study: another name, or resume=False"
    ):
        ja.search(**dict(FIRST, resume=True, n_trials=2, **changes))
    assert _storage_state(stored_study) == before


def test_resume_may_change_budget_seed_and_trials(stored_study):
    result = ja.search(**dict(FIRST, resume=True, n_trials=2, seed=5, strategy="random"))
    assert result.n_trials == 2

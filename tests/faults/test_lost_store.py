"""A study file deleted or replaced during a search is noticed at the next write: the search
stops with a StorageError naming the file, and its finished trials are in a recovery file beside it.

Before, SQLite went on writing to the unlinked file (the open connection keeps it) and the search
ended normally with every trial lost.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import optuna
import pytest

import jupyter_automl as ja
from jupyter_automl.runner import Observer


class _AfterTrials(Observer):
    """Does ``action`` once, when the ``n``-th trial has finished (in the runner's thread)."""

    def __init__(self, n: int, action) -> None:
        self.n, self.action, self.seen = n, action, 0

    def on_trial(self, record, trial):
        self.seen += 1
        if self.seen == self.n:
            self.action()


def _delete(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _replace(db: Path, other: Path) -> None:
    _delete(db)
    shutil.copy(other, db)


@pytest.mark.parametrize("fault", ["deleted", "replaced"])
def test_a_lost_study_file_stops_the_search_and_its_trials_are_recovered(tmp_path, fault):
    db = tmp_path / "s.db"
    other = tmp_path / "other.db"
    optuna.create_study(study_name="someone-else", storage=f"sqlite:///{other}")
    action = (lambda: _delete(db)) if fault == "deleted" else (lambda: _replace(db, other))
    with pytest.raises(ja.StorageError) as caught:
        ja.search(data="sklearn:breast_cancer", models=["linear"], cv=2, n_trials=50, storage=str(db),
                  name="lost", display=False, executor="thread", observers=[_AfterTrials(3, action)])
    message = str(caught.value)
    what = "was deleted" if fault == "deleted" else "was replaced by another file"
    assert message.startswith(f"the study file {db} {what} during the search"), message
    found = re.search(r"were written to (\S+\.db): resume from there", message)
    assert found, message
    recovered = Path(found[1])
    assert recovered.parent == tmp_path and recovered.name.startswith("s.recovered-")
    study = optuna.load_study(study_name="lost", storage=f"sqlite:///{recovered}")
    trials = study.get_trials()
    assert len(trials) >= 3 and all(t.state.is_finished() for t in trials)
    assert sum(t.state.name == "COMPLETE" for t in trials) >= 3
    if fault == "replaced":  # the other study's file is left as it was
        assert optuna.get_all_study_names(f"sqlite:///{db}") == ["someone-else"]
    # the recovered study resumes like any other
    result = ja.search(data="sklearn:breast_cancer", models=["linear"], cv=2, n_trials=len(trials) + 1,
                       storage=str(recovered), name="lost", resume=True, display=False, executor="thread")
    assert len(result.study.get_trials()) == len(trials) + 1

"""A PostgreSQL server restarted (``pg_ctl restart``) during a search is ridden out: storage calls
retry with backoff while the connection is lost; a server that stays down ends the search with an
error whose first line says the connection was lost and where."""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
import threading
import uuid
from pathlib import Path

import optuna
import pytest

import jupyter_automl as ja
from jupyter_automl.runner import Observer


def _data_dir(url: str) -> Path:
    """The data directory of the test cluster behind ``url``."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as con:
        data = con.execute(sqlalchemy.text("SHOW data_directory")).scalar()
    engine.dispose()
    return Path(data)


def _pg_ctl(data: Path, *args: str) -> subprocess.CompletedProcess:
    """``pg_ctl`` on the cluster in ``data`` (as the postgres user when we are root)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(as_user + [bins[-1], "-D", str(data), *args], capture_output=True, text=True, timeout=120)


def _start_again(data: Path) -> subprocess.CompletedProcess:
    """Start the stopped cluster with the options it last ran with (its ``postmaster.opts``)."""
    args = shlex.split((data / "postmaster.opts").read_text())[1:]
    options = [a for i, a in enumerate(args) if a != "-D" and (i == 0 or args[i - 1] != "-D")]
    return _pg_ctl(data, "-l", str(data.parent / "pg.log"), "-w", "-o", " ".join(map(shlex.quote, options)), "start")


class _AfterTrials(Observer):
    def __init__(self, n: int, action) -> None:
        self.n, self.action, self.seen = n, action, 0
        self.thread: threading.Thread | None = None

    def on_trial(self, record, trial):
        self.seen += 1
        if self.seen == self.n:  # in the background: the search goes on while the server restarts
            self.thread = threading.Thread(target=self.action)
            self.thread.start()


def test_a_postgresql_restart_during_a_search_is_ridden_out(postgres_url):
    if os.environ.get("JA_TEST_POSTGRES_URL"):
        pytest.skip("restarts only the throwaway cluster the tests start")
    restarted: list[subprocess.CompletedProcess] = []
    data = _data_dir(postgres_url)
    observer = _AfterTrials(2, lambda: restarted.append(_pg_ctl(data, "-l", str(data.parent / "pg.log"), "-m", "fast", "-w", "restart")))
    name = f"restart-{uuid.uuid4().hex[:8]}"
    result = ja.search(data="sklearn:breast_cancer", models=["linear"], cv=2, n_trials=10, storage=postgres_url,
                       name=name, display=False, executor="thread", observers=[observer])
    observer.thread.join(timeout=120)
    assert restarted and restarted[0].returncode == 0, restarted and restarted[0].stderr
    trials = result.study.get_trials()
    optuna.delete_study(study_name=name, storage=postgres_url)  # the cluster is shared with other tests
    assert len(trials) == 10 and all(t.state.is_finished() for t in trials), [t.state.name for t in trials]
    assert sum(t.state.name == "COMPLETE" for t in trials) == 10
    assert result.best_model is not None


def test_a_server_that_stays_down_ends_the_search_with_a_clear_first_line(postgres_url, monkeypatch):
    if os.environ.get("JA_TEST_POSTGRES_URL"):
        pytest.skip("stops only the throwaway cluster the tests start")
    monkeypatch.setenv("JUPYTER_AUTOML_DB_RETRY_S", "3")
    data = _data_dir(postgres_url)
    observer = _AfterTrials(2, lambda: _pg_ctl(data, "-m", "fast", "-w", "stop"))
    name = f"down-{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(ja.StorageError) as caught:
            ja.search(data="sklearn:breast_cancer", models=["linear"], cv=2, n_trials=1000, storage=postgres_url,
                      name=name, display=False, executor="thread", observers=[observer])
        first = str(caught.value).splitlines()[0]
        assert first.startswith("the database connection was lost: postgresql://postgres@127.0.0.1:"), first
        assert "did not answer for 3 s" in first
    finally:
        if observer.thread is not None:
            observer.thread.join(timeout=120)
        started = _start_again(data)  # the other tests share this cluster
        assert started.returncode == 0, started.stderr
    # back up: nothing of this search is left RUNNING (the search failed its trial on the way out)

    study = optuna.load_study(study_name=name, storage=postgres_url)
    states = [t.state.name for t in study.get_trials()]
    optuna.delete_study(study_name=name, storage=postgres_url)  # the cluster is shared with other tests
    assert states and "RUNNING" not in states, states

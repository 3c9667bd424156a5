"""Faults of whole processes: the searching process killed, two processes on one study file,
a full disk, a ``jupyter-automl worker`` killed on PostgreSQL."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE = {"models": ["linear", "knn"], "strategy": "random", "seed": 0, "cv": 3, "name": "faults"}


def _finished(faulty, db: Path, name: str = "faults") -> list:
    if not db.exists():
        return []
    try:
        return [t for t in faulty.stored(db, name) if t.state.is_finished()]
    except Exception:  # the study is being created
        return []


def _worker_pids(trials) -> set[int]:
    return {
        int(t.user_attrs["jupyter_automl"]["worker"].split(":")[1])
        for t in trials
        if t.user_attrs.get("jupyter_automl", {}).get("worker")
    }


def test_killing_the_searching_process_leaves_no_worker_and_resume_reaches_n_trials(
    faulty, workdir
):
    db = workdir / "s.db"
    # the second knn trial hangs: the search is mid-trial when it is killed
    proc = faulty.start(
        dict(BASE, n_trials=8, storage=str(db)), "hang", workdir, JA_FAULT_AFTER="3"
    )
    try:
        done = faulty.wait_for(
            lambda: len(_finished(faulty, db)) >= 2 and _finished(faulty, db),
            120,
            "two finished trials",
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    workers = _worker_pids(done)
    assert workers and os.getpid() not in workers
    faulty.wait_for(
        lambda: faulty.all_gone(workers),
        10,
        "the worker processes to exit with their search",
    )
    # its owner is gone: listed as interrupted, never as running
    import jupyter_automl as ja

    listed = {row["name"]: row for row in ja.list_studies(f"sqlite:///{db}")}
    assert listed["faults"]["state"] == "interrupted", listed["faults"]
    before = {t.number: t.values for t in faulty.stored(db, "faults")}
    assert all(t.state.name != "RUNNING" for t in faulty.stored(db, "faults"))
    result = faulty.run(dict(BASE, n_trials=8, storage=str(db), resume=True), None, workdir)
    trials = faulty.stored(db, "faults")
    assert len(trials) == 8 and all(t.state.is_finished() for t in trials)
    assert {t.number: t.values for t in trials if t.number in before} == before
    assert result["stop_reason"] == "n_trials"


def test_a_second_process_on_a_running_local_study_is_refused(faulty, workdir):
    db = workdir / "s.db"
    first = faulty.start(
        dict(BASE, n_trials=8, storage=str(db)), "hang", workdir, JA_FAULT_AFTER="3"
    )
    try:
        faulty.wait_for(lambda: _finished(faulty, db), 120, "the first search to store a trial")
        second = faulty.start(dict(BASE, n_trials=8, storage=str(db), resume=True), None, workdir)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1
        assert "StorageError" in err and "is being run by pid" in err and "postgresql://" in err, (
            err[-2000:]
        )
        assert f"pid {first.pid} " in err
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    # the refused process wrote nothing: only the first one's trials are there
    assert all(t.state.is_finished() for t in faulty.stored(db, "faults"))


def test_the_study_lock_refuses_a_second_search_in_one_process(tmp_path):
    from jupyter_automl import StorageError, search
    from jupyter_automl.storage import StudyLock, storage_url

    db = tmp_path / "s.db"
    options = dict(
        data="sklearn:iris", storage=str(db), name="one", display=False, executor="thread"
    )
    search(n_trials=1, **options)
    held = StudyLock(storage_url(str(db)), "one").acquire()
    try:
        with pytest.raises(
            StorageError, match=r"study 'one' in sqlite:///.* is being run by pid \d+ .*n_jobs"
        ):
            search(n_trials=2, resume=True, **options)
    finally:
        held.release()
    assert search(n_trials=2, resume=True, **options).n_trials == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (skipped where mounting is not permitted)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_stops_the_search_with_a_storage_error_and_keeps_what_was_written(
    faulty, small_disk, workdir
):
    db = small_disk / "s.db"
    options = dict(BASE, models=["linear"], cv=2, n_trials=100000, storage=str(db))
    proc = faulty.start(options, None, workdir)
    try:
        faulty.wait_for(lambda: len(_finished(faulty, db)) >= 3, 120, "three stored trials")
        try:  # fill the disk while the search writes (it may have filled the 3 MB itself already)
            with open(small_disk / "filler", "wb") as f:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert (
        "StorageError: cannot write trial" in err and "full" in err and "resume the study" in err
    ), err[-2000:]
    (small_disk / "filler").unlink(missing_ok=True)
    trials = faulty.stored(db, "faults")
    assert len(trials) >= 3 and all(t.state.is_finished() for t in trials)


@pytest.mark.postgres
def test_a_worker_killed_on_postgresql_leaves_its_trial_failed_worker_lost(
    faulty, workdir, postgres_url
):
    import optuna

    name = f"pg-faults-{os.getpid()}-{time.monotonic_ns()}"
    faulty.run(dict(BASE, n_trials=2, storage=postgres_url, name=name), None, workdir)
    storage = optuna.storages.RDBStorage(postgres_url)
    study = optuna.load_study(study_name=name, storage=storage)
    cli = Path(sys.executable).with_name("jupyter-automl")
    worker = subprocess.Popen(
        [
            str(cli),
            "worker",
            "--storage",
            postgres_url,
            "--name",
            name,
            "--n-trials",
            "10",
            "--quiet",
        ],
        cwd=workdir,
        env=faulty.env("hang", JA_FAULT_AFTER="3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def hung_trial():
        now = time.time()
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if t.datetime_start is not None and now - t.datetime_start.timestamp() > 3:
                return t
        return None

    try:
        hung = faulty.wait_for(hung_trial, 180, "a trial of the worker to hang")
        owner = hung.user_attrs["jupyter_automl:owner"]
        assert owner["pid"] == worker.pid
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate()
    assert (
        study.get_trials(deepcopy=False)[hung.number].state.name == "RUNNING"
    )  # until someone looks
    faulty.run(dict(BASE, n_trials=6, storage=postgres_url, name=name, resume=True), None, workdir)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    lost = trials[hung.number]
    assert lost.state.name == "FAIL" and lost.user_attrs["jupyter_automl"]["error"] == "worker lost"
    assert all(t.state.is_finished() for t in trials) and len(trials) >= 6


def test_ctrl_c_during_a_hanging_trial_kills_its_worker_and_keeps_a_fitted_model(faulty, workdir):
    import json

    db = workdir / "s.db"
    proc = faulty.start(
        dict(BASE, n_trials=8, storage=str(db)), "hang", workdir
    )  # trial 1 (knn) hangs
    try:
        faulty.wait_for(lambda: _finished(faulty, db), 120, "the first trial")
        proc.send_signal(signal.SIGINT)  # the kernel's interrupt button
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    result = json.loads(
        next(x for x in out.splitlines() if x.startswith("RESULT "))[len("RESULT ") :]
    )
    assert result["stop_reason"] == "interrupted" and result["predicts"] == 3
    hung = [r for r in result["rows"] if r["state"] == "STOPPED"]
    assert [r["error"] for r in hung] == ["interrupted by the user"]
    pid = int(hung[0]["worker"].split(":")[1])
    faulty.wait_for(
        lambda: faulty.all_gone({pid}),
        10,
        "the interrupted trial's worker to be gone",
    )
    assert all(t.state.is_finished() for t in faulty.stored(db, "faults"))


@pytest.mark.postgres
def test_a_trial_on_another_host_is_failed_once_its_heartbeat_is_older_than_the_grace(postgres_url):
    import optuna
    from sqlalchemy import text

    from jupyter_automl.storage import GRACE_PERIOD_S, OWNER_ATTR, fail_lost_trials, resolve_storage

    assert GRACE_PERIOD_S <= 60
    storage = resolve_storage(postgres_url)
    study = optuna.create_study(storage=storage, study_name=f"heartbeat-{time.monotonic_ns()}")
    trial = study.ask()
    trial.set_user_attr(OWNER_ATTR, {"host": "another-host", "pid": 1, "started": None})
    storage.record_heartbeat(trial._trial_id)
    assert fail_lost_trials(study) == []  # another host, fresh heartbeat: it is running
    with storage.engine.begin() as con:  # the other host stopped beating a minute ago
        con.execute(
            text(
                "UPDATE trial_heartbeats SET heartbeat = heartbeat - interval '61 seconds' "
                "WHERE trial_id = :i"
            ),
            {"i": trial._trial_id},
        )
    assert fail_lost_trials(study) == [trial.number]
    lost = study.get_trials(deepcopy=False)[0]
    assert lost.state.name == "FAIL" and lost.user_attrs["jupyter_automl"]["error"] == "worker lost"

"""Storage: the default SQLite file, resume after a restart, PostgreSQL, unreachable servers."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import optuna
import pytest

import jupyter_automl as ja
from jupyter_automl.storage import ATTR, list_studies, redact, resolve_storage


def _python(code: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=240, **kwargs)


def test_default_storage_is_a_sqlite_file_with_the_study_record(workdir):
    result = ja.search(data="sklearn:iris", n_trials=3, cv=3, display=False, name="iris-1", seed=4)
    db = workdir / ".jupyter_automl" / "studies.db"
    assert db.exists()
    study = optuna.load_study(study_name="iris-1", storage=f"sqlite:///{db}")
    attrs = study.user_attrs
    assert attrs[f"{ATTR}:config"]["seed"] == 4
    assert attrs[f"{ATTR}:fingerprint"]["shape"] == [150, 4] and len(attrs[f"{ATTR}:fingerprint"]["hash"]) == 16
    env = attrs[f"{ATTR}:environment"]
    assert env["device"] == "cpu" and "optuna" in env["packages"] and "scikit-learn" in env["packages"]
    assert attrs[f"{ATTR}:state"]["state"] == "finished"
    rows = list_studies()
    assert [r["name"] for r in rows] == ["iris-1"]
    assert rows[0]["best_score"] == pytest.approx(result.best_score)
    assert rows[0]["n_trials"] == 3


def test_same_name_without_resume_is_refused(workdir):
    ja.search(data="sklearn:iris", n_trials=1, display=False, name="dup")
    with pytest.raises(ja.ConfigError, match="'dup' already exists.*resume=True"):
        ja.search(data="sklearn:iris", n_trials=1, display=False, name="dup")


def test_resume_after_restarting_python(workdir):
    first = _python("""
        import jupyter_automl as ja
        r = ja.search(data="sklearn:breast_cancer", n_trials=4, cv=3, name="bc", display=False)
        print(r.n_trials)
    """, workdir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "4"
    second = _python("""
        import jupyter_automl as ja
        r = ja.search(data="sklearn:breast_cancer", n_trials=7, cv=3, name="bc", resume=True, display=False)
        print(r.n_trials, r.best_model is not None, sorted(t.number for t in r.study.trials))
    """, workdir)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "7 True [0, 1, 2, 3, 4, 5, 6]"


def test_resume_refuses_different_data(workdir):
    ja.search(data="sklearn:iris", n_trials=1, display=False, name="d")
    with pytest.raises(ja.DataError, match="was run on different data"):
        ja.search(data="sklearn:wine", n_trials=2, display=False, name="d", resume=True)


def test_interrupt_stops_cleanly_and_keeps_a_fitted_model(workdir):
    script = workdir / "run.py"
    script.write_text(textwrap.dedent("""
        import jupyter_automl as ja
        r = ja.search(data="sklearn:digits", time_budget=120, cv=3, name="long", display=False)
        print("RESULT", r.stop_reason, r.n_trials, type(r.best_model).__name__, flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    db = f"sqlite:///{workdir / '.jupyter_automl' / 'studies.db'}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for two stored trials, then press Ctrl-C
        if (workdir / ".jupyter_automl" / "studies.db").exists():
            try:
                # through the package's opener: a bare RDBStorage would race the search's
                # process creating the schema of the new file ("table ... already exists")
                storage = resolve_storage(str(workdir / ".jupyter_automl" / "studies.db"))
                trials = optuna.load_study(study_name="long", storage=storage).get_trials(deepcopy=False)
                if sum(t.state.name == "COMPLETE" for t in trials) >= 2:
                    break
            except KeyError:
                pass
        time.sleep(0.2)  # polling another process's progress in storage
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    reason, n, model = out.split("RESULT")[1].split()
    assert reason == "interrupted" and int(n) >= 2 and model in ("Pipeline", "VotingClassifier")
    trials = optuna.load_study(study_name="long", storage=db).trials
    assert not [t.number for t in trials if t.state.name == "RUNNING"]  # queued WAITING ones run on resume
    states = [t.state.name for t in trials]
    assert states.count("COMPLETE") >= 2
    assert optuna.load_study(study_name="long", storage=db).user_attrs[f"{ATTR}:state"]["state"] == "stopped"


def test_unreachable_storage_is_a_clear_error_before_any_trial(workdir):
    with pytest.raises(ja.StorageError, match=r"cannot open storage 'postgresql://u:\*\*\*@127.0.0.1:9/db'.*server is running"):
        ja.search(data="sklearn:iris", n_trials=2, storage="postgresql://u:secret@127.0.0.1:9/db")
    with pytest.raises(ja.ConfigError, match="option 'storage': cannot tell what 'studies.txt' is"):
        ja.search(data="sklearn:iris", n_trials=2, storage="studies.txt")


def test_journal_file_storage(workdir):
    r = ja.search(data="sklearn:iris", n_trials=2, display=False, storage="studies.log", name="j")
    assert (workdir / "studies.log").exists() and r.n_trials == 2


@pytest.mark.postgres
def test_resume_naming_no_study_on_a_server_database_says_so_and_starts_it(postgres_url, workdir, caplog):
    # a server database is shared: the first of several processes started alike creates the study
    # (documented); a misspelt name is still said at once, with the closest stored one
    name = f"ledger-{uuid.uuid4().hex[:6]}"
    typo = name.replace("ledger", "ledgr")
    try:
        ja.search(data="sklearn:iris", n_trials=1, cv=2, name=name, storage=postgres_url, display=False)
        with caplog.at_level(logging.WARNING, logger="jupyter_automl"):
            r = ja.search(data="sklearn:iris", n_trials=1, cv=2, name=typo, resume=True, storage=postgres_url,
                          display=False)
        said = [m for m in caplog.messages if m.startswith("resume=True: there is no study")]
        assert said == [f"resume=True: there is no study {typo!r} in {redact(postgres_url)} (did you mean '{name}'?); "
                        "starting it (on a server database the first of several processes started alike creates the "
                        "study)"]
        assert r.n_trials == 1 and len(optuna.load_study(study_name=typo, storage=postgres_url).trials) == 1
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="jupyter_automl"):  # resuming a stored study: no such word
            ja.search(data="sklearn:iris", n_trials=2, cv=2, name=name, resume=True, storage=postgres_url, display=False)
        assert not [m for m in caplog.messages if "there is no study" in m]
    finally:  # the cluster is shared with other tests
        for study in (name, typo):
            with contextlib.suppress(KeyError):
                optuna.delete_study(study_name=study, storage=postgres_url)


@pytest.mark.postgres
def test_postgresql_storage_shared_by_two_processes(postgres_url, workdir):
    code = f"""
        import jupyter_automl as ja
        r = ja.search(data="sklearn:iris", n_trials=6, cv=3, name="shared", resume=True, storage={postgres_url!r},
                      display=False, seed=%d)
        print(r.n_trials)
    """
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code % seed)], cwd=workdir,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (0, 1)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-800:] for o in outs]
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    finished = [t for t in study.trials if t.state.is_finished()]
    assert 6 <= len(finished) <= 8  # both processes worked on one study up to its trial target
    assert len({t.number for t in finished}) == len(finished)
    assert [r["name"] for r in list_studies(postgres_url)] == ["shared"]


@pytest.mark.postgres
def test_workers_join_a_study_through_postgresql(postgres_url, workdir):
    import shutil

    ja.search(data="sklearn:wine", n_trials=2, cv=3, name="joined", storage=postgres_url, display=False)
    exe = shutil.which("jupyter-automl")
    cmd = [exe] if exe else [sys.executable, "-m", "jupyter_automl.cli"]
    workers = [subprocess.Popen(cmd + ["worker", "--storage", postgres_url, "--name", "joined", "--n-trials", "8", "--quiet"],
                                cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [w.communicate(timeout=240) for w in workers]
    assert all(w.returncode == 0 for w in workers), [o[1][-600:] for o in outs]
    study = optuna.load_study(study_name="joined", storage=postgres_url)
    assert 8 <= sum(t.state.is_finished() for t in study.trials) <= 9
    bad = subprocess.run(cmd + ["worker", "--storage", postgres_url, "--name", "nope"], cwd=workdir,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no study 'nope'" in bad.stderr


RACE = '''
import multiprocessing as mp, sys

def open_and_write(path, name, barrier, results):
    import optuna
    from jupyter_automl.storage import resolve_storage
    barrier.wait()  # every process opens the new file at the same moment
    try:
        study = optuna.create_study(study_name=name, storage=resolve_storage(path))
        study.tell(study.ask(), 1.0)
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    folder = sys.argv[1]
    for round_ in range(3):
        path = f"{folder}/round{round_}/studies.db"
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=open_and_write, args=(path, f"s{i}", barrier, results))
                 for i in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        print(*sorted(results.get() for _ in procs), sep="\\n")
'''


def test_kernels_creating_one_new_sqlite_file_at_once_all_open_it(tmp_path):
    """Two notebooks that start a search on a new studies.db at the same moment: both create
    the schema; the slower one's CREATE TABLE (or version row) used to fail its search."""
    script = tmp_path / "race.py"
    script.write_text(RACE)
    run = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:-1] == ["ok"] * 12, run.stdout
    for round_ in range(3):
        url = f"sqlite:///{tmp_path / f'round{round_}' / 'studies.db'}"
        names = {s.study_name for s in optuna.get_all_study_summaries(url)}
        assert names == {"s0", "s1", "s2", "s3"}

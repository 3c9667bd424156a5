"""``executor: dask`` on a real scheduler and two ``dask worker`` processes on loopback."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _cluster(cwd: Path, env: dict[str, str] | None = None):
    """``dask scheduler`` + two ``dask worker`` processes (one thread each, each with its nanny),
    stopped afterwards; ``env`` is the workers' environment."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": cwd}
    procs = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
            ],
            **quiet,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--dashboard-address",
                        ":0",
                    ],
                    env=env,
                    **quiet,
                )
            )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    with _cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


@pytest.fixture
def faulty_dask_cluster(tmp_path):
    """Two workers whose every LogisticRegression fit SIGKILLs the worker process (its nanny
    restarts it), injected by tests/faults/inject/sitecustomize.py."""
    with _cluster(tmp_path, _faulty_env(JA_FAULT="kill", JA_FAULT_MODEL="LogisticRegression")) as address:
        yield address


def _faulty_env(**faults: str) -> dict[str, str]:
    """The workers' environment with tests/faults/inject/sitecustomize.py on ``PYTHONPATH`` and
    the ``faults`` it reads."""
    inject = Path(__file__).with_name("inject")
    pythonpath = os.pathsep.join([str(inject), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=pythonpath, **faults)


def test_a_search_runs_on_a_two_worker_cluster_with_reports_and_worker_names(dask_cluster):
    import jupyter_automl as ja
    from jupyter_automl.runner import Observer

    seen = []

    class Streamed(Observer):
        def on_trial(self, record, trial):
            seen.append(record.number)

    t0 = time.monotonic()
    result = ja.search(
        data="sklearn:breast_cancer",
        n_trials=6,
        n_jobs=2,
        storage="memory",
        display=False,
        executor="dask",
        dask_scheduler=dask_cluster,
        seed=0,
        observers=[Streamed()],
    )
    board = result.leaderboard
    assert (board["state"] == "COMPLETE").sum() >= 5, board[["model", "state", "error"]]
    workers = set(board["worker"])
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert len(workers) == 2  # both workers ran trials
    assert sorted(seen) == list(range(6))  # every trial streamed to the observer as it ended
    # the folds' reports came back over the Queues, as pruning needs them
    assert all(
        t.intermediate_values for t in result.study.get_trials() if t.state.name == "COMPLETE"
    )
    assert result.best_model is not None and result.best_score > 0.9
    assert time.monotonic() - t0 < 120


def test_an_unreachable_scheduler_is_a_config_error_before_any_trial():
    import jupyter_automl as ja

    with pytest.raises(
        ja.ConfigError, match=r"option 'dask_scheduler': cannot reach tcp://127.0.0.1:\d+"
    ):
        ja.search(
            data="sklearn:iris",
            n_trials=1,
            storage="memory",
            display=False,
            executor="dask",
            dask_scheduler=f"tcp://127.0.0.1:{_free_port()}",
        )


def test_a_killed_dask_worker_fails_only_its_own_trial_and_names_the_worker(faulty_dask_cluster):
    """Dask would retry the task of a dead worker on the other one (killing that one too) and the
    data scattered to both would be lost with them, cancelling the other trial ("already
    forgotten"): the trial that killed its worker fails alone, saying which worker died."""
    import jupyter_automl as ja

    result = ja.search(
        data="sklearn:breast_cancer",
        models=["linear", "random_forest"],
        n_trials=6,
        n_jobs=2,
        storage="memory",
        display=False,
        executor="dask",
        dask_scheduler=faulty_dask_cluster,
        seed=0,
    )
    board = result.leaderboard
    linear, forest = board[board["model"] == "linear"], board[board["model"] == "random_forest"]
    assert len(linear) >= 1 and len(forest) >= 1, board[["model", "state"]]
    assert (linear["state"] == "FAIL").all(), board[["model", "state", "error"]]
    for error in linear["error"]:
        assert re.match(
            r"dask worker tcp://127\.0\.0\.1:\d+ died while running this trial", error
        ), error
    # no collateral: every trial that did not kill its worker completed
    assert (forest["state"] == "COMPLETE").all(), board[["model", "state", "error"]]
    assert result.best_model is not None


def test_a_worker_killed_right_after_its_trial_keeps_the_trial(tmp_path):
    """Each worker dies (SIGKILL) the moment a trial's task returns, before Dask has the result:
    the trial finished, so it is recorded COMPLETE with its score, not failed as 'died' nor run
    again; the search goes on over the restarted workers."""
    import jupyter_automl as ja

    with _cluster(tmp_path, _faulty_env(JA_FAULT_DASK_AFTER_TRIAL="kill")) as address:
        result = ja.search(
            data="sklearn:breast_cancer",
            models=["linear"],
            n_trials=3,
            n_jobs=1,
            storage="memory",
            display=False,
            executor="dask",
            dask_scheduler=address,
            seed=0,
        )
    board = result.leaderboard
    assert (board["state"] == "COMPLETE").all(), board[["state", "error"]]
    assert len(board) == 3 and (board["score"] > 0.9).all(), board[["state", "score"]]
    assert result.best_model is not None


def test_a_script_without_a_main_guard_is_told_to_add_one(tmp_path):
    """Dask's local workers re-run the script: without the guard each would start a search of its
    own. The error says what to add, instead of "Nanny failed to start"."""
    script = tmp_path / "search.py"
    script.write_text(
        "import jupyter_automl as ja\n"
        "ja.search(data='sklearn:iris', n_trials=1, storage='memory', display=False, executor='dask')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    last = [line for line in done.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("jupyter_automl._errors.ConfigError: executor: dask could not start"), (
        last
    )
    assert 'put the search under `if __name__ == "__main__":`' in last
    assert not list(tmp_path.glob("*.db"))  # nothing written

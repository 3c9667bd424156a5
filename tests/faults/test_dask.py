"""``executor: dask`` on a real scheduler and two ``dask worker`` processes on loopback."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` + two ``dask worker`` processes (one thread each), stopped afterwards."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    cwd = tmp_path_factory.mktemp("dask")
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
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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
                    cwd=cwd,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
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

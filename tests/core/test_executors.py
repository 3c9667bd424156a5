"""Executors: options, what a worker may return, the same seeded search wherever trials run."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest

import jupyter_automl as ja
from jupyter_automl.config import SearchConfig, parse_memory
from jupyter_automl.executors.thread import ThreadExecutor
from jupyter_automl.runner import Runner
from jupyter_automl.spaces import Evaluation, SearchSpace


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"executor": "proces"}, r"option 'executor': .*did you mean 'process'"),
        ({"trial_memory": "4 parsecs"}, r"option 'trial_memory': expected a size like '4GB'"),
        ({"trial_memory": "10KB"}, r"option 'trial_memory': must be at least 1MB"),
        ({"executor": "thread", "trial_memory": "4GB"}, r"'trial_memory' needs executor: process"),
        ({"dask_scheduler": "tcp://h:8786"}, r"'dask_scheduler' needs executor: dask"),
        (
            {"executor": "dask", "dask_scheduler": "not an address"},
            r"option 'dask_scheduler': expected a scheduler address",
        ),
    ],
)
def test_bad_executor_options_name_the_option(options, message):
    with pytest.raises(ja.ConfigError, match=message):
        SearchConfig.from_dict(options)


def test_sizes_read_as_binary_units():
    assert parse_memory("4GB") == 4 << 30
    assert parse_memory("512mb") == 512 << 20
    assert SearchConfig(trial_memory="1.5g").trial_memory == int(1.5 * (1 << 30))


class _BadSpace(SearchSpace):
    """Each trial returns something a runner must refuse."""

    name = "bad"
    returns: list[Any] = []

    def sample(self, trial: Any) -> dict[str, Any]:
        return {"i": trial.suggest_int("i", 0, 0)}

    def evaluate(self, trial: Any, params: dict[str, Any], budget: Any) -> Any:
        return self.returns[trial.number]

    def fit_final(self, params: dict[str, Any], budget: Any) -> Any:
        return None


def test_what_a_worker_returns_is_checked_before_it_is_told():
    class Data:
        n_samples = 3

    bad = [
        Evaluation(values=float("nan")),
        Evaluation(values=(1.0, 2.0)),
        {"values": 1.0},
        Evaluation(values=0.5, user_attrs={"big": "x" * 2_000_000}),
        Evaluation(values=0.5, oof=np.zeros((5, 2))),
        Evaluation(values=0.5, oof=np.full((3,), np.inf)),
        Evaluation(values=0.7, oof=np.zeros((3, 2))),
    ]
    config = SearchConfig(n_trials=len(bad))
    space = _BadSpace(config, Data())
    space.returns = bad
    study = optuna.create_study(direction="maximize")
    Runner(study, space, config, executor=ThreadExecutor(space)).run()
    errors = [t.user_attrs["jupyter_automl"].get("error") for t in study.trials]
    assert errors[:6] == [
        "worker returned a bad score nan (expected a finite number)",
        "worker returned 2 values for 1 objectives",
        "worker returned dict, not an Evaluation",
        "worker returned 2000011 bytes of user_attrs (at most 1000000)",
        "worker returned out-of-fold predictions of shape (5, 2) for 3 rows",
        "worker returned out-of-fold predictions that are not finite",
    ]
    assert study.trials[6].state.name == "COMPLETE" and study.trials[6].value == 0.7


def _trials(executor: str) -> list[tuple]:
    result = ja.search(
        data="sklearn:breast_cancer",
        n_trials=6,
        strategy="random",
        pruner="median",
        seed=3,
        cv=3,
        storage="memory",
        display=False,
        executor=executor,
    )
    return [
        (t.state.name, t.params, t.values, t.intermediate_values) for t in result.study.get_trials()
    ]


def test_a_seeded_search_is_the_same_in_a_worker_process_and_in_the_kernel():
    """Reports and prune decisions make a synchronous round trip: the same trials are pruned."""
    thread, process = _trials("thread"), _trials("process")
    assert [t[:2] for t in process] == [t[:2] for t in thread]  # states (PRUNED too) and params
    for (_, _, v_thread, i_thread), (_, _, v_process, i_process) in zip(
        thread, process, strict=True
    ):
        assert (v_process is None and v_thread is None) or v_process == pytest.approx(v_thread)
        assert i_process == pytest.approx(i_thread)  # every fold's report reached the study
    assert all(t[3] for t in thread)


def test_worker_processes_are_reused_by_the_next_search_and_named_in_the_leaderboard():
    import os

    first = ja.search(
        data="sklearn:iris", models=["linear"], n_trials=2, storage="memory", display=False
    )
    second = ja.search(
        data="sklearn:wine", models=["linear"], n_trials=2, storage="memory", display=False
    )
    workers = set(first.leaderboard["worker"]) | set(second.leaderboard["worker"])
    assert len(workers) == 1  # one worker, started once
    host, pid = workers.pop().split(":")
    assert int(pid) != os.getpid()


def test_a_search_refused_after_its_workers_started_leaves_them_usable(tmp_path):
    """Workers start while the study opens; a search refused then gives back clean workers."""
    db = str(tmp_path / "s.db")
    ja.search(
        data="sklearn:iris", models=["linear"], n_trials=1, storage=db, name="x", display=False
    )
    with pytest.raises(ja.ConfigError, match="option 'name': a study 'x' already exists"):
        ja.search(
            data="sklearn:iris", models=["linear"], n_trials=1, storage=db, name="x", display=False
        )
    result = ja.search(
        data="sklearn:iris", models=["linear"], n_trials=2, storage="memory", display=False
    )
    assert list(result.leaderboard["state"]) == ["COMPLETE", "COMPLETE"]


def test_with_several_gpus_each_worker_sees_one(monkeypatch):
    """The GPU code path, run on CPU: a NAS space on ``device: cuda`` with CUDA_VISIBLE_DEVICES=2,5."""
    from types import SimpleNamespace

    from jupyter_automl.executors.process import ProcessExecutor, visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    space = SimpleNamespace(
        config=SimpleNamespace(device="cuda"), device_name="cuda:0 (H200)", directions=["maximize"]
    )
    assert visible_gpus(space) == ["2", "5"]
    executor = ProcessExecutor(space, SearchConfig(n_trials=1), None, n_slots=3)
    envs = [executor._settings(slot)[1]["env"]["CUDA_VISIBLE_DEVICES"] for slot in range(3)]
    assert envs == ["2", "5", "2"]
    assert (
        visible_gpus(
            SimpleNamespace(config=SimpleNamespace(device="cuda:1"), device_name="cuda:1 (H200)")
        )
        == []
    )
    assert (
        visible_gpus(SimpleNamespace(config=SimpleNamespace(device="auto"), device_name="cpu"))
        == []
    )

"""Where evaluations run: ``thread`` (in this process), ``process`` (worker processes, the
default) or ``dask`` (a ``dask.distributed`` cluster).

The runner asks and tells; an executor only runs ``space.evaluate(trial, params, budget)``
where the trial must run and returns the checked :class:`~jupyter_automl.spaces.Evaluation`.
"""

from __future__ import annotations

from typing import Any

from jupyter_automl.config import EXECUTORS  # the choice list is written once, in config
from jupyter_automl.executors._base import (
    Executor,
    TrialFailed,
    TrialStopped,
    check_evaluation,
    this_worker,
)

__all__ = [
    "EXECUTORS",
    "Executor",
    "TrialFailed",
    "TrialStopped",
    "check_evaluation",
    "make_executor",
    "this_worker",
]


def make_executor(config: Any, space: Any, dataset: Any, *, n_slots: int, threads: int) -> Executor:
    """The executor ``config.executor`` names, for ``n_slots`` parallel trials."""
    name = getattr(config, "executor", "thread")
    if name == "thread":
        from jupyter_automl.executors.thread import ThreadExecutor

        return ThreadExecutor(space, n_slots=n_slots)
    if name == "process":
        from jupyter_automl.executors.process import ProcessExecutor

        return ProcessExecutor(
            space,
            config,
            dataset,
            n_slots=n_slots,
            threads=threads,
            memory=getattr(config, "trial_memory", None),
        )
    if name == "dask":
        from jupyter_automl.executors.dask import DaskExecutor

        return DaskExecutor(
            space,
            config,
            dataset,
            n_slots=n_slots,
            threads=threads,
            address=getattr(config, "dask_scheduler", None),
        )
    raise ValueError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")

"""``executor: thread``: trials run in threads of the calling process (the kernel), as before."""

from __future__ import annotations

import threading
from typing import Any

from jupyter_automl.executors._base import Executor, check_evaluation, this_worker
from jupyter_automl.spaces._base import Evaluation

__all__ = ["ThreadExecutor"]


class ThreadExecutor(Executor):
    """Calls ``space.evaluate`` in the runner's own thread: no isolation, no start-up cost.

    A segfault or a hang in a model's ``fit`` takes the whole process with it; use the
    ``process`` executor (the default) where that matters.
    """

    name = "thread"

    def evaluate(
        self, trial: Any, params: dict[str, Any], budget: Any, slot: int = 0
    ) -> Evaluation:
        self._workers[slot] = this_worker(f"/{threading.current_thread().name}")
        evaluation = self.space.evaluate(trial, params, budget)
        return check_evaluation(
            evaluation, n_objectives=len(self.space.directions), n_samples=_n_samples(self.space)
        )


def _n_samples(space: Any) -> int | None:
    data = getattr(space, "data", None)
    return getattr(data, "n_samples", None)

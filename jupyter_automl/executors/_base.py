"""What every executor provides to the runner, and the failures it reports."""

from __future__ import annotations

import math
import os
import socket
import threading
from typing import Any

import numpy as np

from jupyter_automl.spaces._base import Evaluation

__all__ = ["Executor", "TrialFailed", "TrialStopped", "check_evaluation", "this_worker"]

MAX_ATTRS_BYTES = 1_000_000  # a worker's user attrs beyond this are refused, not stored


class TrialFailed(Exception):
    """The trial failed where it ran; the message is the reason stored with it."""

    def __init__(self, reason: str, traceback: str | None = None) -> None:
        super().__init__(reason)
        self.traceback = traceback


class TrialStopped(TrialFailed):
    """The user stopped or interrupted the search while this trial ran (its worker was killed)."""


def this_worker(suffix: str = "") -> str:
    """``host:pid`` of the calling process (what a trial's ``worker`` attribute holds)."""
    return f"{socket.gethostname()}:{os.getpid()}{suffix}"


class Executor:
    """Runs ``space.evaluate(trial, params, budget)`` where the trial must run.

    The runner keeps ask/tell, the budget and pruning. ``evaluate`` is called from one runner
    thread per slot (``0 .. n_slots - 1``) and returns the :class:`Evaluation` (checked), or
    raises ``optuna.TrialPruned``, ``TrialTimeout`` or :class:`TrialFailed`. Hooks do nothing by
    default.
    """

    name = "base"
    remote = False  # True: evaluations run in another process, the runner's space learns from them

    def __init__(self, space: Any, *, n_slots: int = 1) -> None:
        self.space = space
        self.n_slots = n_slots
        self._workers: dict[int, str] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Get workers ready (called once, before the first trial)."""

    def evaluate(
        self, trial: Any, params: dict[str, Any], budget: Any, slot: int = 0
    ) -> Evaluation:
        raise NotImplementedError

    def worker_of(self, slot: int) -> str | None:
        """Who ran (or runs) the slot's current trial: ``host:pid`` or a Dask worker address."""
        return self._workers.get(slot)

    def close(self) -> None:
        """Release the workers (called once, when the search ends)."""

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def check_evaluation(evaluation: Any, *, n_objectives: int, n_samples: int | None) -> Evaluation:
    """Refuse what a worker returned unless it is a well-formed, finite, bounded Evaluation."""
    import json

    if not isinstance(evaluation, Evaluation):
        raise TrialFailed(f"worker returned {type(evaluation).__name__}, not an Evaluation")
    values = evaluation.values
    seq = values if isinstance(values, (tuple, list)) else (values,)
    if len(seq) != n_objectives:
        raise TrialFailed(f"worker returned {len(seq)} values for {n_objectives} objectives")
    for v in seq:
        if (
            not isinstance(v, (int, float, np.floating, np.integer))
            or isinstance(v, bool)
            or not math.isfinite(float(v))
        ):
            raise TrialFailed(f"worker returned a bad score {v!r} (expected a finite number)")
    std = evaluation.score_std
    if std is not None and (
        not isinstance(std, (int, float, np.floating)) or not math.isfinite(float(std))
    ):
        raise TrialFailed(f"worker returned a bad score_std {std!r}")
    if not isinstance(evaluation.user_attrs, dict):
        raise TrialFailed(
            f"worker returned user_attrs of type {type(evaluation.user_attrs).__name__}"
        )
    try:
        size = len(json.dumps(evaluation.user_attrs, default=str))
    except (TypeError, ValueError) as exc:
        raise TrialFailed(f"worker returned user_attrs that are not JSON: {exc}") from None
    if size > MAX_ATTRS_BYTES:
        raise TrialFailed(f"worker returned {size} bytes of user_attrs (at most {MAX_ATTRS_BYTES})")
    oof = evaluation.oof
    if oof is not None:
        if not isinstance(oof, np.ndarray) or oof.dtype.kind not in "fiub":
            raise TrialFailed(
                f"worker returned out-of-fold predictions of type {type(oof).__name__}"
            )
        if n_samples is not None and (oof.ndim == 0 or oof.shape[0] != n_samples):
            raise TrialFailed(
                f"worker returned out-of-fold predictions of shape {oof.shape} for {n_samples} rows"
            )
        # a holdout scores only its validation rows: the others are NaN, never infinite
        if np.isinf(oof).any() or not np.isfinite(oof).any():
            raise TrialFailed("worker returned out-of-fold predictions that are not finite")
    state = evaluation.model_state
    if state is not None and not (
        isinstance(state, dict)
        and all(isinstance(k, str) and hasattr(v, "shape") for k, v in state.items())
    ):
        raise TrialFailed("worker returned model weights that are not a state dict of tensors")
    evaluation.values = (
        tuple(float(v) for v in seq) if isinstance(values, (tuple, list)) else float(values)
    )
    return evaluation


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1

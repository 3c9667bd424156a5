"""Executing trials: budget, parallel workers, failures, interrupts and events to observers."""

from __future__ import annotations

import logging
import math
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jupyter_automl._errors import StorageError
from jupyter_automl.evaluate import TrialBudget, TrialTimeout
from jupyter_automl.executors import TrialFailed, TrialStopped
from jupyter_automl.storage import ATTR, OWNER_ATTR, heartbeat_interval, owner

__all__ = ["Observer", "TrialRecord", "RunInfo", "Runner", "trial_record", "trial_state"]

logger = logging.getLogger("jupyter_automl")


@dataclass(frozen=True)
class RunInfo:
    """What observers learn when a run starts."""

    study_name: str
    storage: str
    config: Any
    task: str
    metric: str
    direction: str
    time_budget: float | None
    n_trials: int | None
    started: float  # time.monotonic() at the start of the search
    previous_trials: int = 0
    data: str = ""  # what the search learns from, e.g. "data: 600 images 3×32×32 (C×H×W), 10 classes"


@dataclass(frozen=True)
class TrialRecord:
    """A frozen snapshot of one finished trial, for views and leaderboards."""

    number: int
    state: str  # COMPLETE | PRUNED | FAIL | STOPPED (stored as FAIL with a "stopped" reason)
    value: float | None
    values: tuple[float, ...] | None
    score_std: float | None
    duration_s: float
    model: str
    params: dict[str, Any]
    error: str | None = None
    elapsed_s: float | None = None  # since the run started
    diagram: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def trial_record(trial: Any, space: Any = None, started_wall: float | None = None) -> TrialRecord:
    """Build a :class:`TrialRecord` from an Optuna ``FrozenTrial``."""
    info = dict(trial.user_attrs.get(ATTR, {}))
    if "epochs_run" not in info and trial.intermediate_values and "n_params" in (info.get("key_params") or {}):
        # a pruned NAS trial: the rung it reached (the step it reports is the epochs trained)
        info["epochs_run"] = max(trial.intermediate_values)
    values = tuple(trial.values) if trial.values is not None else None
    params = dict(trial.params)
    model = info.get("model") or (space.describe(params) if space is not None and params else str(params.get("model", "")))
    key = info.get("key_params")
    if key is None:
        key = space.key_params(params) if space is not None else params
    elapsed = None
    if started_wall is not None and trial.datetime_complete is not None:
        elapsed = trial.datetime_complete.timestamp() - started_wall
    return TrialRecord(
        number=trial.number,
        state=trial_state(trial),
        value=values[0] if values and len(values) == 1 else None,
        values=values,
        score_std=info.get("score_std"),
        duration_s=float(info.get("duration_s", trial.duration.total_seconds() if trial.duration else 0.0)),
        model=str(model),
        params=key,
        error=info.get("error"),
        elapsed_s=elapsed,
        diagram=info.get("diagram"),
        extra={k: v for k, v in info.items() if k not in {"model", "key_params", "score_std", "duration_s", "error", "diagram"}},
    )


def trial_state(trial: Any) -> str:
    """The state a view shows: Optuna's, or ``STOPPED`` for a trial cut short by Stop or an interrupt.

    Optuna has no stopped state: such a trial is stored as FAIL (samplers skip it as they skip a
    failure) with its reason in our attributes, ``{"stopped": "stopped by the user"}``.
    """
    name = trial.state.name
    if name == "FAIL" and trial.user_attrs.get(ATTR, {}).get("stopped"):
        return "STOPPED"
    return name


class Observer:
    """Receives run events. Every hook does nothing by default; views override what they need.

    Hooks run in the thread that finished the trial; they receive frozen records only and must
    return quickly (views batch their updates).
    """

    def on_start(self, run: RunInfo) -> None:
        """The run begins (the study exists, no new trial has started)."""

    def on_trial(self, record: TrialRecord, trial: Any) -> None:
        """A trial finished (``trial`` is the Optuna ``FrozenTrial``, already in storage)."""

    def on_progress(self, event: dict[str, Any]) -> None:
        """Something started or moved on: ``{"event": "trial", "trial": N, "model": "..."}`` before a
        trial fits; ``{"event": "stage", "stage": "screening 200 cells", "done": 120, "total": 200}``
        while the search prepares (proxy screening, a DARTS supernet)."""

    def on_end(self, result: Any) -> None:
        """The run ended and the final model is fitted (``result`` is the ``SearchResult``)."""


class Runner:
    """Runs trials of ``space`` in ``study`` until the budget, the trial count or a stop.

    Every trial is told to the storage before the next one starts. A trial that raises is
    stored as FAIL with its error, and the search goes on. Stop and ``KeyboardInterrupt`` (the
    kernel's interrupt button) end the run cleanly: the running trials are recorded as stopped
    (see :func:`trial_state`), with their reason, and are not counted as failures.
    """

    def __init__(self, study: Any, space: Any, config: Any, *, observers: list[Observer] | None = None,
                 deadline: float | None = None, stop: threading.Event | None = None,
                 n_jobs: int = 1, stored_study: Any = None, executor: Any = None) -> None:
        from jupyter_automl.executors.thread import ThreadExecutor

        self.study = study
        self.stored_study = stored_study if stored_study is not None else study  # where finished trials are kept
        self.executor = executor if executor is not None else ThreadExecutor(space, n_slots=n_jobs)
        self.space = space
        self.config = config
        self.observers = list(observers or [])
        self.deadline = deadline
        self.stop = stop if stop is not None else threading.Event()
        self.n_jobs = n_jobs
        self.budget = TrialBudget(deadline, self.stop)
        self.reserve = 0.0  # seconds kept back for the final refit
        self.refits = 1.0  # final fits the end of the run makes (2 with a held-out split)
        self.extra_reserve = 0.0  # seconds kept back for the insight of the best model
        self.stop_reason: str | None = None
        self.oof: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()
        self._target = None
        self.n_failed = 0
        self._open: set[int] = set()  # trial ids asked but not yet told
        self._pending = 0  # claimed, not yet asked
        self._kept: set[int] = set()
        self._shared = self.stored_study is self.study  # trials live in shared storage while they run
        self.store_watch: Any = None  # a storage.StoreWatch on the local study file, set by the search
        self._heartbeat: _Heartbeat | None = None

    # -------------------------------------------------------------------------- loop
    def run(self) -> str:
        """Run to the end; return why it stopped (n_trials, time_budget, stopped, interrupted)."""
        self._target = self.config.n_trials
        heartbeat = self._heartbeat = _Heartbeat(self.study, self._open) if self._shared else None
        if self.n_jobs == 1:
            try:
                self._worker(0)
            except KeyboardInterrupt:
                self.stop_reason = "interrupted"  # before the flag: trials cut short read it
                self.stop.set()
        else:
            threads = [threading.Thread(target=self._worker, args=(i,), name=f"automl-trial-{i}", daemon=True)
                       for i in range(self.n_jobs)]
            for t in threads:
                t.start()
            try:
                while any(t.is_alive() for t in threads):
                    for t in threads:
                        t.join(0.2)
            except KeyboardInterrupt:
                self.stop_reason = "interrupted"  # before the flag: trials cut short read it
                self.stop.set()
                for t in threads:
                    t.join()
        if heartbeat is not None:
            heartbeat.stop()
        self._close_open_trials()
        return self.stop_reason or "n_trials"

    def last_chance(self, params: dict[str, Any], seconds: float) -> bool:
        """One more trial of ``params`` in this process (no worker to start), for at most
        ``seconds``: the run ended on its time budget before any trial completed. Recorded as
        any trial (``last_chance`` in its attributes); returns whether it completed."""
        import optuna

        from jupyter_automl.executors.thread import ThreadExecutor

        self.study.enqueue_trial(params, user_attrs={ATTR: {"last_chance": True}})
        executor, self.executor = self.executor, ThreadExecutor(self.space, n_slots=1)
        self.deadline, self.reserve = time.monotonic() + max(0.0, seconds), 0.0
        self.budget = TrialBudget(self.deadline, self.stop)
        with self._lock:
            self._pending += 1
        try:
            self._one_trial(0)
        finally:
            self.executor = executor
            self._close_open_trials()
        return any(t.state == optuna.trial.TrialState.COMPLETE for t in self.study.get_trials(deepcopy=False))

    def _close_open_trials(self) -> None:
        """An interrupt can land between ask and tell: never leave our trials RUNNING in storage."""
        import optuna

        storage = self.study._storage
        for trial_id in list(self._open):
            try:
                if storage.get_trial(trial_id).state == optuna.trial.TrialState.RUNNING:
                    storage.set_trial_user_attr(trial_id, ATTR, {"stopped": "interrupted by the user"})
                    storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)
                self._keep(storage.get_trial(trial_id))
            finally:
                self._open.discard(trial_id)

    def _claim(self) -> bool:
        with self._lock:
            if self.stop.is_set():
                self.stop_reason = self.stop_reason or "stopped"
                return False
            if self._target is not None and self._counted() >= self._target:
                self.stop_reason = self.stop_reason or "n_trials"
                return False
            if self.deadline is not None and time.monotonic() >= self.deadline - self.reserve:
                self.stop_reason = self.stop_reason or "time_budget"
                return False
            self._pending += 1
            return True

    def _counted(self) -> int:
        """Trials toward ``n_trials``: finished or running in storage (other workers' too), plus ours
        claimed but not yet asked."""
        import optuna

        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
                  optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING)
        return len(self.study.get_trials(deepcopy=False, states=states)) + self._pending

    def _worker(self, slot: int = 0) -> None:
        while self._claim():
            self._one_trial(slot)

    def _one_trial(self, slot: int = 0) -> None:
        import optuna

        try:
            trial = self.study.ask()
        finally:
            with self._lock:
                self._pending -= 1
        self._open.add(trial._trial_id)
        if self._shared:  # lets any process on this host fail it at once if we die (storage.fail_lost_trials)
            trial.set_user_attr(OWNER_ATTR, owner())
            if self._heartbeat is not None:
                self._heartbeat.beat(trial._trial_id)
        t0 = time.perf_counter()
        info: dict[str, Any] = {}
        state = optuna.trial.TrialState.FAIL
        values: Any = None
        interrupted = False
        try:
            params = self.space.sample(trial)
            info["model"] = self.space.describe(params)
            self._progress({"event": "trial", "trial": trial.number, "model": info["model"]})
            info["key_params"] = _jsonable(self.space.key_params(params))
            self.budget.deadline = None if self.deadline is None else self.deadline - self.reserve
            evaluation = self.executor.evaluate(trial, params, self.budget, slot)
            if self.executor.remote:
                self.space.observe(params, evaluation)
            values = evaluation.values
            info["score_std"] = evaluation.score_std
            info.update(_jsonable(evaluation.user_attrs))
            diagram = self.space.diagram(params)
            if diagram is not None:
                info["diagram"] = diagram
            state = optuna.trial.TrialState.COMPLETE
            if evaluation.oof is not None:
                self._keep_oof(trial.number, evaluation)
        except optuna.TrialPruned as exc:
            state = optuna.trial.TrialState.PRUNED
            info["reason"] = str(exc) or "pruned"
        except TrialTimeout as exc:
            if self.stop.is_set() or str(exc) == "stopped by the user":  # Stop, not the deadline
                info["stopped"] = self._stopped_reason()
            else:
                state = optuna.trial.TrialState.PRUNED
                info["reason"] = str(exc)
        except KeyboardInterrupt:
            info["stopped"] = "interrupted by the user"
            interrupted = True
        except TrialStopped:
            info["stopped"] = self._stopped_reason()
        except TrialFailed as exc:  # where it ran, it crashed, hung, ran out of memory or raised
            info["error"] = str(exc)
            if exc.traceback:
                info["traceback"] = exc.traceback
            logger.warning("trial %d failed: %s", trial.number, info["error"])
        except Exception as exc:  # a failing trial is recorded, the search goes on
            info["error"] = f"{type(exc).__name__}: {exc}"
            info["traceback"] = traceback.format_exc(limit=6)[-4000:]
            logger.warning("trial %d failed: %s", trial.number, info["error"])
        info["duration_s"] = time.perf_counter() - t0
        info["worker"] = self.executor.worker_of(slot)
        self._tell(trial, state, values, info)
        frozen = self.study._storage.get_trial(trial._trial_id)
        self._keep(frozen)
        self._open.discard(trial._trial_id)
        if state == optuna.trial.TrialState.FAIL and "stopped" not in info:
            with self._lock:
                self.n_failed += 1
        self._update_reserve(frozen)
        record = trial_record(frozen, self.space)
        for observer in self.observers:
            try:
                observer.on_trial(record, frozen)
            except Exception:  # a broken view must not end the search
                logger.exception("observer %r failed", observer)
        if interrupted:
            raise KeyboardInterrupt

    def _stopped_reason(self) -> str:
        return "interrupted by the user" if self.stop_reason == "interrupted" else "stopped by the user"

    def _progress(self, event: dict[str, Any]) -> None:
        """Tell observers what starts (views show it before the first trial ends)."""
        for observer in self.observers:
            try:
                getattr(observer, "on_progress", lambda _e: None)(event)
            except Exception:  # a broken view must not fail the trial
                logger.exception("observer %r failed", observer)

    def _keep(self, frozen: Any) -> None:
        """Copy a finished trial to the stored study (when trials run in memory), once."""
        if self._shared or frozen.number in self._kept:
            return
        if self.store_watch is not None:  # the file deleted or replaced: stop, the trials saved beside it
            try:
                self.store_watch.check(self.study, self.stored_study)
            except StorageError:
                self.stop.set()
                raise
        try:
            self.stored_study.add_trial(frozen)
        except Exception as exc:  # disk full, file removed, read-only...: stop, keep what is written
            self.stop.set()
            first = _root_message(exc)
            raise StorageError(
                f"cannot write trial {frozen.number} to the study {getattr(self.stored_study, 'study_name', '')!r}: "
                f"{first}. The trials written before it are kept; free space (or fix the file) and "
                "resume the study"
            ) from None
        self._kept.add(frozen.number)

    def _tell(self, trial: Any, state: Any, values: Any, info: dict[str, Any]) -> None:
        import optuna

        try:
            trial.set_user_attr(ATTR, info)
            if state == optuna.trial.TrialState.COMPLETE:
                self.study.tell(trial, values)
            elif state == optuna.trial.TrialState.PRUNED:
                self.study.tell(trial, state=state)
            else:
                self.study.tell(trial, state=state)
        except KeyboardInterrupt:  # never leave the trial RUNNING in storage
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise

    def _keep_oof(self, number: int, evaluation: Any) -> None:
        with self._lock:
            self.oof[number] = evaluation.oof
            if len(self.oof) > 40:  # keep the best 30 for the ensemble: memory stays bounded
                sign = 1.0 if self.space.directions[0] == "maximize" else -1.0
                scores = {}
                for t in self.study.get_trials(deepcopy=False):
                    if t.number in self.oof and t.value is not None:
                        scores[t.number] = sign * t.value
                scores[number] = sign * float(evaluation.values)
                keep = sorted(scores, key=lambda n: scores[n], reverse=True)[:30]
                self.oof = {k: v for k, v in self.oof.items() if k in keep}

    def _update_reserve(self, frozen: Any) -> None:
        """Keep back enough time to refit the current best on all the data."""
        if self.deadline is None or frozen.state.name != "COMPLETE" or len(self.space.directions) > 1:
            return
        try:
            best = self.study.best_trial
        except ValueError:
            return
        reserve = self.space.reserve_seconds(best) if hasattr(self.space, "reserve_seconds") else None
        if reserve is not None:  # the space knows what its final step costs (refit, ensemble);
            # with a held-out split that final model is fitted twice (searched rows, then all rows)
            share, budget = getattr(self.space, "final_share", None), self.config.time_budget
            cap = float("inf") if share is None or budget is None else share * float(budget)
            self.reserve = min(float(reserve) * self.refits, cap) + self.extra_reserve
            return
        info = best.user_attrs.get(ATTR, {})
        fold = info.get("fold_seconds") or info.get("fit_seconds_estimate")
        if fold:
            folds = max(2, int(getattr(self.config, "cv", 5)))
            self.reserve = (1.3 * float(fold) * folds / (folds - 1) + 0.2) * self.refits + self.extra_reserve


def _root_message(exc: BaseException) -> str:
    """The first line of the innermost cause (SQLite's "database or disk is full", not Optuna's wrapper)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Heartbeat:
    """Records a heartbeat for the running trials of a storage that has them enabled (Optuna RDB).

    Optuna beats only inside ``study.optimize``; the runner asks and tells, so it beats here.
    Another process's ``fail_stale_trials`` then fails our trials once we stop beating.
    """

    def __init__(self, study: Any, open_ids: set[int]) -> None:
        storage = study._storage
        self.storage = storage
        self.open_ids = open_ids
        self._stop = threading.Event()
        self.interval = float(heartbeat_interval(storage) or 0)
        if self.interval > 0:
            threading.Thread(target=self._beat, name="automl-heartbeat", daemon=True).start()

    def beat(self, trial_id: int) -> None:
        if self.interval <= 0:
            return
        try:
            self.storage.record_heartbeat(trial_id)
        except Exception:  # a trial told meanwhile, or the database is briefly away
            logger.debug("heartbeat of trial %d failed", trial_id, exc_info=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            for trial_id in list(self.open_ids):
                self.beat(trial_id)

    def stop(self) -> None:
        self._stop.set()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)



"""The engine behind every entry point: config → data → space → storage → runner → result.

It never chooses or imports a view: the entry points (:mod:`jupyter_automl._entry`) add the
observers a notebook or a terminal wants.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
import warnings
from typing import Any

from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.config import SearchConfig
from jupyter_automl.quiet import quiet_optuna
from jupyter_automl.result import SearchResult, best_trial_of
from jupyter_automl.storage import ATTR

__all__ = ["Search", "quiet_optuna"]

logger = logging.getLogger("jupyter_automl")


def _storage_file_exists(url: str) -> bool:
    """Whether a local storage URL's file is there (``memory`` counts as there: it holds nothing)."""
    from pathlib import Path

    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :]).exists()
    if url.startswith("journal:"):
        return Path(url[len("journal:") :]).exists()
    return True


class Search:
    """A configured search, ready to run in the foreground or in a background thread.

    Everything that can be wrong with the input is checked in ``__init__`` (data, options,
    storage), before any trial runs. ``observers`` watch the run; the entry point chooses them
    (a live view in a notebook, a progress bar in a terminal): ``Search`` never picks views.
    """

    def __init__(self, config: SearchConfig, *, data: Any = None, X: Any = None, y: Any = None,
                 namespace: dict[str, Any] | None = None, observers: list[Any] | None = None) -> None:
        self.started = time.monotonic()  # the time budget covers everything from here, imports included
        self.config = config
        from jupyter_automl.storage import check_storage_directory

        check_storage_directory(config.storage)  # a mistyped directory is said before any work
        if config.resume and config.name:  # a study another process runs: said before any work
            from jupyter_automl.storage import StudyLock, storage_url

            StudyLock(storage_url(config.storage), config.name).check()
        self._load_data(data, X, y, namespace)
        self._plan_parallelism()
        self._build_space()
        self.executor = self._make_executor()
        self.executor.start()  # workers start (and load the data) while the study is opened
        try:
            with quiet_optuna():  # no "A new study created" lines in the user's output
                self._open_stored_study()
                self._check_or_describe_study()
                self._prepare_working_study()
        except BaseException:
            self.executor.close()
            raise
        self.stop_event = threading.Event()
        self._notes: list[str] = []  # said with the result (the insight's notes)
        self._final_here = False  # the final model is fitted in this process (after a last chance)
        self.observers = list(observers or [])
        self.result = SearchResult(self.stored_study, config, space=self.space, dataset=self.dataset,
                                   storage_url=self.storage_url, stop_event=self.stop_event)
        self.result.holdout_index = None if self.holdout is None else self.holdout.test_index

    # --------------------------------------------------------------- the steps of __init__
    def _load_data(self, data: Any, X: Any, y: Any, namespace: dict[str, Any] | None) -> None:
        from jupyter_automl.data import load_dataset
        from jupyter_automl.insight import split_holdout

        config = self.config
        source = data if data is not None else config.data
        self.dataset = load_dataset(source, config.target, X=X, y=y, task=config.task, namespace=namespace,
                                    metric=config.metric, column_types=config.column_types)
        # the held-out rows never reach a trial: the search (its space and its workers) sees the rest
        self.holdout, self.holdout_skipped = split_holdout(self.dataset, config.holdout, config.seed)
        self.search_data = self.holdout.train if self.holdout is not None else self.dataset
        self._check_trial_memory()

    def _check_trial_memory(self) -> None:
        """A ``trial_memory`` below the data's size could only fail every trial: said before any work."""
        limit = self.config.trial_memory
        if limit is None:
            return
        X = self.search_data.X
        if hasattr(X, "memory_usage"):  # a DataFrame (its object columns at least their pointers)
            size = int(X.memory_usage(index=False).sum())
        else:
            size = int(getattr(X, "nbytes", 0) or 0)
        if size > limit:
            raise ConfigError(
                f"option 'trial_memory': {_size(limit)} is less than the data a trial trains on "
                f"({_size(size)} in memory), so every trial would run out of memory; give at least "
                f"{_size(2 * size)} (a fit copies its rows) or leave trial_memory unset"
            )

    def _plan_parallelism(self) -> None:
        """Parallel trials, and BLAS/OpenMP threads per trial so they never oversubscribe the cores."""
        from jupyter_automl.executors._base import cores

        self.n_jobs = cores() if self.config.n_jobs == -1 else self.config.n_jobs
        # small data: one thread per trial beats two fighting over two cores (OpenMP spin-waits)
        self.threads = max(1, cores() // self.n_jobs) if self.dataset.n_samples >= 20000 else 1
        if os.environ.get("OMP_NUM_THREADS", "").isdigit():  # never more threads than the user allows:
            self.threads = max(1, min(self.threads, int(os.environ["OMP_NUM_THREADS"])))  # spin-waits on busy cores

    def _build_space(self) -> None:
        from jupyter_automl.spaces import make_space
        from jupyter_automl.strategies import make_pruner, make_sampler

        config = self.config
        self.space = make_space(config, self.search_data, threads=self.threads)
        self._check_folds(getattr(self.space, "fidelity", None))
        with quiet_optuna():  # Optuna warns that some sampler options are experimental
            self.sampler = make_sampler(config.strategy, seed=config.seed, n_jobs=self.n_jobs,
                                        options=config.strategy_options, space=self.space)
        self.pruner = make_pruner(config.pruner, space=config.space, n_objectives=len(self.space.directions))

    def _check_folds(self, fidelity: Any) -> None:
        """A regression fold of one row scores NaN (R² is undefined): refused before any trial."""
        n = self.search_data.n_samples
        if fidelity is None or fidelity.method != "cv" or self.dataset.task != "regression" or n >= 2 * fidelity.folds:
            return
        held = f" after the held-out {self.config.holdout:.0%}" if self.holdout is not None else ""
        raise DataError(
            f"{n} rows{held} are too few for {fidelity.folds}-fold cross-validation of a regression: a fold "
            f"needs at least 2 rows to be scored; pass cv={max(2, n // 2)}"
            + (", holdout=None" if self.holdout is not None else "") + " or give more rows"
        )

    def _open_stored_study(self) -> None:
        """Create the study in its storage, or load it to resume; fail trials whose worker is gone."""
        import optuna

        from jupyter_automl.storage import (
            StudyLock,
            default_study_name,
            fail_lost_trials,
            redact,
            resolve_storage,
            storage_url,
        )

        config = self.config
        self.storage_url = storage_url(config.storage)
        # a local study is run by one process: resume=True naming none there is a slip (a server
        # database is shared, and the first of several machines started alike creates the study)
        local = self.storage_url == "memory" or self.storage_url.startswith(("sqlite:///", "journal:"))
        if config.resume and config.name and local and not _storage_file_exists(self.storage_url):
            raise ConfigError(f"option 'resume': there is no study {config.name!r} in {self.storage_url} (the file "
                              "does not exist); check the name and storage, or pass resume=False to start it")
        self.storage = resolve_storage(config.storage)
        # the names alone: Optuna's study summaries would read every trial of every study
        existing = {s.study_name for s in self.storage.get_all_studies()} if config.name else set()
        self.name = config.name or default_study_name(self.dataset.source, config.space, config.strategy)
        self.resumed = config.name in existing
        if config.resume and config.name and local and not self.resumed:
            from jupyter_automl._errors import did_you_mean

            names = sorted(existing)
            listed = (f"; its studies: {', '.join(repr(n) for n in names[:10])}" + (" …" if len(names) > 10 else "")
                      if names else "; it holds no study")
            raise ConfigError(f"option 'resume': there is no study {config.name!r} in {self.storage_url}"
                              f"{did_you_mean(config.name, names)}{listed}; check the name, or pass resume=False "
                              "to start it")
        if config.resume and config.name and not local and not self.resumed:
            # kept: the first of several processes started alike creates it; said, so a misspelt name shows
            from jupyter_automl._errors import did_you_mean

            logger.warning("resume=True: there is no study %r in %s%s; starting it (on a server database the "
                           "first of several processes started alike creates the study)", config.name,
                           redact(self.storage_url), did_you_mean(config.name, sorted(existing)))
        if self.resumed and not config.resume:
            raise ConfigError(
                f"option 'name': a study {self.name!r} already exists in {redact(self.storage_url)}; "
                "pass resume=True to continue it, or choose another name"
            )
        self.lock = StudyLock(self.storage_url, self.name)
        # create_study(load_if_exists) also covers another worker creating the same study right now
        self.stored_study = optuna.create_study(
            study_name=self.name, storage=self.storage, sampler=self.sampler, pruner=self.pruner,
            directions=self.space.directions, load_if_exists=config.resume)  # type: ignore[arg-type]
        lost = fail_lost_trials(self.stored_study)
        if self.resumed:  # another live process on a shared database may leave nothing to run
            from jupyter_automl.studies import check_not_held

            check_not_held(self.stored_study, config.n_trials)
        if lost:
            logger.warning("study %r: trials %s were running in a process that is gone: failed (worker lost)",
                           self.name, lost)

    def _check_or_describe_study(self) -> None:
        """A resumed study must have been run on the same data; a new one gets its description."""
        from jupyter_automl.storage import environment

        study, fingerprint = self.stored_study, self.dataset.fingerprint()
        stored = study.user_attrs.get(f"{ATTR}:fingerprint")
        if stored is not None:
            self.resumed = True
            self._check_resume()
            if stored.get("hash") != fingerprint["hash"]:
                raise DataError(
                    f"study {self.name!r} was run on different data (stored hash {stored.get('hash')}, "
                    f"shape {stored.get('shape')}; now {fingerprint['hash']}, shape "
                    f"{fingerprint['shape']}): resume it with the same data, or use another name"
                )
            return
        metric = getattr(self.space, "metric", None)
        study.set_user_attr(f"{ATTR}:config", self.config.to_dict())
        study.set_user_attr(f"{ATTR}:task", self.dataset.task)
        study.set_user_attr(f"{ATTR}:task_reason", self.dataset.task_reason)
        study.set_user_attr(f"{ATTR}:metric", metric.name if metric is not None else ",".join(self.config.objectives or []))
        study.set_user_attr(f"{ATTR}:environment", environment(getattr(self.space, "device_name", "cpu")))
        study.set_user_attr(f"{ATTR}:fingerprint", fingerprint)  # last: marks it complete

    def _prepare_working_study(self) -> None:
        from jupyter_automl.storage import working_study

        self.study = working_study(self.stored_study, self.storage_url)

    def _check_resume(self) -> None:
        """A resumed study keeps its task, space, metric, models and objectives (see ``resume.py``)."""
        from jupyter_automl.resume import check_resume_compatible

        metric = getattr(self.space, "metric", None)
        check_resume_compatible(self.stored_study.user_attrs, self.config, task=self.dataset.task,
                                metric=metric.name if metric is not None else ",".join(self.config.objectives or []),
                                name=self.name, storage=self.storage_url)

    def _make_executor(self) -> Any:
        from jupyter_automl.executors import make_executor

        n_slots = 1 if self.config.strategy == "rules" else self.n_jobs
        try:
            return make_executor(self.config, self.space, self.search_data, n_slots=n_slots, threads=self.threads)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"option 'executor': the data or options cannot be sent to worker processes ({exc}); "
                "use executor: thread"
            ) from None

    def _enqueue_first(self, deadline: float | None) -> None:
        """Queue the preset (rules) or the portfolio; skipped where a trial already has those params.

        The portfolio's own work (proxy screening, a DARTS search) runs inside the time budget
        and reports its progress to observers as ``on_progress({"event": "stage", "stage", "done", "total"})``.
        """
        from jupyter_automl.evaluate import TrialBudget

        if self.config.strategy == "rules":
            self.study.enqueue_trial(self.space.preset(), skip_if_exists=True)
            return
        from jupyter_automl.strategies.portfolio import first_candidates

        limit = self.config.n_trials
        candidates = first_candidates(self.space, budget=TrialBudget(deadline, self.stop_event),
                                      progress=self._progress)
        for params in candidates[: limit if limit is not None else None]:
            self.study.enqueue_trial(params, skip_if_exists=True)

    def _progress(self, stage: str, done: int, total: int) -> None:
        event = {"event": "stage", "stage": stage, "done": done, "total": total}
        for observer in self.observers:
            hook = getattr(observer, "on_progress", None)
            if hook is None:
                continue
            try:
                hook(event)
            except Exception:  # a broken view must not end the search
                logger.exception("observer %r failed on progress", observer)

    # ----------------------------------------------------------------------------- run
    def run(self) -> SearchResult:
        """Run in the calling thread (the kernel's interrupt button stops it cleanly)."""
        try:
            self._run()
        except BaseException as exc:
            self.result.mark_done(exc if not isinstance(exc, KeyboardInterrupt) else None)
            raise
        return self.result

    def start(self) -> SearchResult:
        """Run in a background thread; the returned result fills in (``result.wait()``)."""

        def target() -> None:
            try:
                self._run()
            except BaseException as exc:  # surfaced by result.wait()
                self.result.mark_done(exc)

        thread = threading.Thread(target=target, name=f"automl-{self.name}", daemon=True)
        self.result.run_in(thread)
        thread.start()
        return self.result

    def _run(self) -> None:
        config = self.config
        deadline = None if config.time_budget is None else self.started + config.time_budget
        if deadline is not None and not any(t.state.name == "COMPLETE" for t in self.study.get_trials(deepcopy=False)):
            deadline = max(deadline, time.monotonic() + 0.5)  # set-up ate the budget: one late model beats none
        n_trials = 1 if config.strategy == "rules" else config.n_trials
        runner_config = config if n_trials == config.n_trials else config.model_copy(update={"n_trials": n_trials})
        self.lock.acquire()  # a second process on a local study file is refused here, before any trial
        from jupyter_automl.studies import SummaryWriter

        self.summary = SummaryWriter(self.stored_study, self.study).start()  # who runs it, and its counts
        try:
            self._run_trials(deadline, n_trials, runner_config)
        except BaseException:  # no on_end: views that keep a clock (the progress bar) stop it here
            for observer in self.observers:
                getattr(observer, "on_abort", lambda: None)()
            raise
        finally:
            self.executor.close()
            self.summary.close()
            self.lock.release()
        self.result.elapsed_s = time.monotonic() - self.started
        try:
            for observer in self.observers:  # before _done: result.wait() returns once views are final
                try:
                    observer.on_end(self.result)
                except Exception:
                    logger.exception("observer %r failed at the end", observer)
        finally:
            self.result.mark_done()

    def _run_trials(self, deadline: float | None, n_trials: int | None, runner_config: SearchConfig) -> None:
        from jupyter_automl.runner import Runner

        config = self.config
        self.runner = Runner(self.study, self.space, runner_config, observers=self.observers, deadline=deadline,
                             stop=self.stop_event, n_jobs=self.executor.n_slots, stored_study=self.stored_study,
                             executor=self.executor)
        self.runner.observers.append(self.summary)  # rewrites the study's summary as trials finish
        if self.storage_url.startswith(("sqlite:///", "journal:")):
            from jupyter_automl.storage import StoreWatch

            self.runner.store_watch = StoreWatch(self.storage_url)
        from jupyter_automl.insight import insight_allowance

        # the end of the run fits twice with a held-out split (searched rows, then all) and draws the insight
        self.runner.refits = 2.0 if self.holdout is not None else 1.0
        self.runner.extra_reserve = insight_allowance(config.time_budget)
        previous = sum(1 for t in self.study.get_trials(deepcopy=False) if t.state.is_finished())
        self._mark("running")
        try:
            reason = self._run_started(deadline, n_trials, config, previous)
        except BaseException as exc:  # the study never stays "running" after this returns or raises
            interrupted = isinstance(exc, KeyboardInterrupt)
            self._mark("stopped" if interrupted else "failed",
                       reason="interrupted" if interrupted else f"{type(exc).__name__}: {exc}"[:500])
            raise
        self._mark("finished" if reason in ("n_trials", "time_budget") else "stopped", reason=reason)

    def _mark(self, state: str, reason: str | None = None) -> None:
        """Record the study's state (running, finished, stopped, failed) for lists and the sidebar."""
        from jupyter_automl.report import now_iso

        record = {"state": state, "updated": now_iso()} | ({"reason": reason} if reason is not None else {})
        try:
            self.stored_study.set_user_attr(f"{ATTR}:state", record)
        except Exception:  # a lost storage is reported by what failed first, not by this
            if state == "running":
                raise
            logger.exception("could not record the study's state %r", state)

    def _run_started(self, deadline: float | None, n_trials: int | None, config: SearchConfig,
                     previous: int) -> str:
        from threadpoolctl import threadpool_limits

        from jupyter_automl.runner import RunInfo

        metric = getattr(self.space, "metric", None)
        info = RunInfo(study_name=self.name, storage=self.storage_url, config=config, task=self.dataset.task,
                       metric=metric.name if metric is not None else "", direction=self.space.directions[0],
                       time_budget=config.time_budget, n_trials=n_trials, started=self.started,
                       previous_trials=previous, data=self.dataset.summary())
        for observer in self.observers:
            observer.on_start(info)
        with quiet_optuna():  # NAS screening and DARTS run here (with every thread), quietly too
            self._enqueue_first(deadline)
        with threadpool_limits(limits=self.threads), quiet_optuna(), warnings.catch_warnings():
            # candidates warn a lot (convergence, constant features...): the leaderboard says what matters
            for category in (UserWarning, RuntimeWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            reason = self.runner.run()
            self.result.stop_reason = reason
            deadline = self._last_chance(reason, deadline)
            from jupyter_automl.executors._tree import processes_end_with_block

            with processes_end_with_block():  # a fork of the final fit never outlives the search
                self._finish(deadline)
        return reason

    def _last_chance(self, reason: str, deadline: float | None) -> float | None:
        """The budget ended before any trial completed (a loaded machine, workers slow to start):
        the space's cheapest sure candidate runs here, in what the budget's 5 % tolerance leaves,
        so a search still returns a model. Returns the deadline the final model then keeps to."""
        if reason != "time_budget" or deadline is None or self.config.time_budget is None:
            return deadline
        if any(t.state.name == "COMPLETE" for t in self.study.get_trials(deepcopy=False)):
            return deadline
        params = self.space.last_chance()
        if params is None:
            return deadline
        end = deadline + 0.05 * float(self.config.time_budget) + 1.0
        seconds = 0.6 * (end - time.monotonic())  # the rest: the final fit and the result
        if seconds <= 0.2:
            return deadline
        logger.warning("no trial completed in the time budget: trying the untuned %s here, for at most %.1f s",
                       self.space.describe(params), seconds)
        if self.runner.last_chance(params, seconds):
            self._final_here = True  # the workers gave nothing in time: the final fit runs here too
            self._notes.append(f"no trial completed in the time budget: the model is the untuned "
                               f"{self.space.describe(params)}, tried in this process after it")
        return end

    def _finish(self, deadline: float | None) -> None:
        """The space fits the final model (the best trial, or what it builds from the trials)."""
        from jupyter_automl.evaluate import TrialBudget

        best = best_trial_of(self.study)
        if best is None:
            return
        trials = [t for t in self.study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        # the insight's allowance comes after the final model: it is not the final model's time
        budget = TrialBudget(None if deadline is None else deadline - self.runner.extra_reserve,
                             fits=self.runner.refits)
        # a tabular final fit runs where the trials ran: a crash or hang there cannot hurt this process
        self.space.fitter = None if self._final_here else getattr(self.executor, "fit", None)
        try:
            final = self.space.final_model(best, trials, self.runner.oof, budget)
            if final.model is None:  # the fit failed in its worker: said in the result, no model
                self.result.final = final.description
                logger.warning("%s", (final.description or {}).get("note"))
                return
            self._conclude(best, final, deadline)
        finally:
            self.space.fitter = None

    def _conclude(self, best: Any, final: Any, deadline: float | None) -> None:
        """The result takes the final model: its held-out score, insight and refit on all rows."""
        if self._notes:  # said with the final model, as a skipped refit is
            said = (final.description or {}).get("note")
            final.description = {**(final.description or {}), "note": "; ".join([*self._notes, *([said] if said else [])])}
        self.result.final = final.description
        self.result.ensemble = final.ensemble
        # stored, so every reader of the study (list_studies, %automl show) names the same "best"
        self.stored_study.set_user_attr(f"{ATTR}:ensemble", final.ensemble)
        self.result.threshold = final.threshold
        from jupyter_automl.insight import conclude

        # held-out score and insight of the model fitted on the searched rows, then the refit on all rows
        described = final.description or {}
        fit_seconds = described.get("fit_seconds")
        if fit_seconds is not None and described.get("fit_rows"):  # a fit on fewer rows: scaled up
            fit_seconds *= self.search_data.n_samples / max(1, described["fit_rows"])
        self.result.best_model, self.result.insight = conclude(
            self, best, final.model, deadline=deadline, fit_seconds=fit_seconds,
            notes=[note] if (note := (final.description or {}).get("note")) else None,
        )
        if note:
            logger.warning("%s", note)
        trained_on = getattr(self.space, "trained_on", None)  # a NAS final training (or refit) that ran
        if trained_on and self.result.final is not None:
            self.result.final["trained_on"] = trained_on


def _size(n: float) -> str:
    """``2560000`` → ``"2.44 MB"`` (binary units, as ``trial_memory`` reads them)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TB"

"""One engine behind every entry point: config → data → space → storage → runner → result."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.config import SearchConfig
from jupyter_automl.result import SearchResult, best_trial_of
from jupyter_automl.storage import ATTR

__all__ = ["Search", "search", "run_search", "choose_observers", "quiet_optuna"]

logger = logging.getLogger("jupyter_automl")


def _in_notebook() -> bool:
    import sys

    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


_QUIET_LOCK = threading.Lock()
_QUIET_DEPTH = 0
_QUIET_SAVED: int | None = None


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna at WARNING and its experimental warnings ignored, for as long as a search runs.

    Optuna's verbosity is process-wide: it is set when the first running search starts and put
    back as it was when the last one ends, so a search leaves no global trace. The warning
    filter is ``warnings.catch_warnings``' own, restored on exit.
    """
    import optuna

    global _QUIET_DEPTH, _QUIET_SAVED
    with _QUIET_LOCK:
        if _QUIET_DEPTH == 0:
            _QUIET_SAVED = optuna.logging.get_verbosity()
            optuna.logging.set_verbosity(optuna.logging.WARNING)
        _QUIET_DEPTH += 1
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH -= 1
            if _QUIET_DEPTH == 0 and _QUIET_SAVED is not None:
                optuna.logging.set_verbosity(_QUIET_SAVED)


def choose_observers(config: SearchConfig, search: Search) -> list[Any]:
    """The views an entry point adds for ``display``: the live view in a notebook, a bar in a terminal.

    ``display=False`` adds nothing; ``"auto"`` adds the notebook's live view, or a tqdm bar on
    stderr when it is a terminal (nothing in a pipe or a CI log); ``True`` adds the live view in
    any IPython shell, a bar elsewhere.
    """
    if config.display is False:
        return []
    if _in_notebook() or (config.display is True and _in_ipython()):
        views = _live_views(search)
        if views:
            return views
    from jupyter_automl.progress import ProgressBar, stderr_is_terminal

    if config.display is True or stderr_is_terminal():
        return [ProgressBar()]
    return []


def _in_ipython() -> bool:
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return get_ipython() is not None


def _live_views(search: Search) -> list[Any]:
    try:
        from jupyter_automl.ui import live_view
    except ImportError:
        return []
    view = live_view(search)
    return [view] if view is not None else []


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
                                    metric=config.metric)
        # the held-out rows never reach a trial: the search (its space and its workers) sees the rest
        self.holdout, self.holdout_skipped = split_holdout(self.dataset, config.holdout, config.seed)
        self.search_data = self.holdout.train if self.holdout is not None else self.dataset

    def _plan_parallelism(self) -> None:
        """Parallel trials, and BLAS/OpenMP threads per trial so they never oversubscribe the cores."""
        from jupyter_automl.runner import cores

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
        with quiet_optuna():  # Optuna warns that some sampler options are experimental
            self.sampler = make_sampler(config.strategy, seed=config.seed, n_jobs=self.n_jobs,
                                        options=config.strategy_options, space=self.space)
        self.pruner = make_pruner(config.pruner, space=config.space, n_objectives=len(self.space.directions))

    def _open_stored_study(self) -> None:
        """Create the study in its storage, or load it to resume; fail trials whose worker is gone."""
        import optuna

        from jupyter_automl.storage import (
            StudyLock,
            default_study_name,
            fail_lost_trials,
            resolve_storage,
            storage_url,
        )

        config = self.config
        self.storage_url = storage_url(config.storage)
        self.storage = resolve_storage(config.storage)
        existing = {s.study_name for s in optuna.get_all_study_summaries(self.storage)} if config.name else set()
        self.name = config.name or default_study_name(self.dataset.source, config.space, config.strategy)
        self.resumed = config.name in existing
        if self.resumed and not config.resume:
            raise ConfigError(
                f"option 'name': a study {self.name!r} already exists in {self.storage_url}; "
                "pass resume=True to continue it, or choose another name"
            )
        self.lock = StudyLock(self.storage_url, self.name)
        # create_study(load_if_exists) also covers another worker creating the same study right now
        self.stored_study = optuna.create_study(
            study_name=self.name, storage=self.storage, sampler=self.sampler, pruner=self.pruner,
            directions=self.space.directions, load_if_exists=config.resume)  # type: ignore[arg-type]
        lost = fail_lost_trials(self.stored_study)
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
        import inspect

        from jupyter_automl.evaluate import TrialBudget

        if self.config.strategy == "rules":
            self.study.enqueue_trial(self.space.preset(), skip_if_exists=True)
            return
        limit = self.config.n_trials
        portfolio = self.space.portfolio
        if "progress" in inspect.signature(portfolio).parameters:  # the NAS spaces
            candidates = portfolio(budget=TrialBudget(deadline, self.stop_event), progress=self._progress)
        else:
            candidates = portfolio()
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
        if any(getattr(o, "serves_widgets", False) for o in self.observers):  # a live view's Stop works
            from jupyter_automl.ui.foreground import run_serving_widgets

            return run_serving_widgets(self)
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
        try:
            self._run_trials(deadline, n_trials, runner_config)
        finally:
            self.executor.close()
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
        from threadpoolctl import threadpool_limits

        from jupyter_automl.report import now_iso
        from jupyter_automl.runner import RunInfo, Runner

        config = self.config
        self.runner = Runner(self.study, self.space, runner_config, observers=self.observers, deadline=deadline,
                             stop=self.stop_event, n_jobs=self.executor.n_slots, stored_study=self.stored_study,
                             executor=self.executor)
        from jupyter_automl.insight import insight_allowance

        # the end of the run fits twice with a held-out split (searched rows, then all) and draws the insight
        self.runner.refits = 2.0 if self.holdout is not None else 1.0
        self.runner.extra_reserve = insight_allowance(config.time_budget)
        previous = sum(1 for t in self.study.get_trials(deepcopy=False) if t.state.is_finished())
        self.stored_study.set_user_attr(f"{ATTR}:state", {"state": "running", "updated": now_iso()})
        metric = getattr(self.space, "metric", None)
        info = RunInfo(study_name=self.name, storage=self.storage_url, config=config, task=self.dataset.task,
                       metric=metric.name if metric is not None else "", direction=self.space.directions[0],
                       time_budget=config.time_budget, n_trials=n_trials, started=self.started,
                       previous_trials=previous)
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
            self._finish(deadline)
        state = "finished" if reason in ("n_trials", "time_budget") else "stopped"
        self.stored_study.set_user_attr(f"{ATTR}:state", {"state": state, "reason": reason, "updated": now_iso()})

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
        final = self.space.final_model(best, trials, self.runner.oof, budget)
        self.result.final = final.description
        self.result.ensemble = final.ensemble
        self.result.threshold = final.threshold
        from jupyter_automl.insight import conclude

        # held-out score and insight of the model fitted on the searched rows, then the refit on all rows
        described = final.description or {}
        fit_seconds = described.get("fit_seconds")
        if fit_seconds is not None and described.get("fit_rows"):  # a fit on fewer rows: scaled up
            fit_seconds *= self.search_data.n_samples / max(1, described["fit_rows"])
        self.result.best_model, self.result.insight = conclude(
            self, best, final.model, deadline=deadline, fit_seconds=fit_seconds)


def _split_options(options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    data = options.pop("data", None)
    if isinstance(data, str) or data is None:
        options["data"] = data
        return None, options
    return data, options


def search(data: Any = None, target: str | int | None = None, *, X: Any = None, y: Any = None,
           background: bool = False, observers: list[Any] | None = None,
           namespace: dict[str, Any] | None = None, **options: Any) -> SearchResult:
    """Search for the best model and return a :class:`SearchResult`.

    Parameters
    ----------
    data : DataFrame, str, optional
        A DataFrame (with ``target``), a CSV/Parquet path, or ``"sklearn:NAME"``.
    target : str, optional
        The column to predict (defaults to the bundled target of ``sklearn:`` data).
    X, y : array-like, optional
        Features and target, instead of ``data``.
    background : bool
        Run in a thread and return at once; ``result.wait()`` blocks until done.
    **options
        Any :class:`SearchConfig` option: ``task``, ``space``, ``strategy``, ``metric``,
        ``time_budget`` (seconds or ``"90s"``/``"5m"``), ``n_trials``, ``cv``, ``seed``,
        ``n_jobs``, ``storage``, ``name``, ``resume``, ``display``, ``ensemble``, ``models`` ...

    Examples
    --------
    >>> import jupyter_automl as ja
    >>> result = ja.search(data="sklearn:breast_cancer", n_trials=4, storage="memory", display=False)
    >>> 0.9 < result.best_score <= 1.0
    True
    """
    obj, options = _split_options(dict(options, data=data, target=target))
    if options.get("target") is None:
        options.pop("target")
    config = SearchConfig.from_dict(options)
    return run_search(config, data=obj, X=X, y=y, background=background, observers=observers,
                      namespace=namespace)


def run_search(config: SearchConfig, *, data: Any = None, X: Any = None, y: Any = None,
               background: bool = False, observers: list[Any] | None = None,
               namespace: dict[str, Any] | None = None) -> SearchResult:
    """Check everything, add the views ``config.display`` asks for, and run (the entry points' core)."""
    runner = Search(config, data=data, X=X, y=y, namespace=namespace, observers=observers)
    runner.observers.extend(choose_observers(config, runner))
    return runner.start() if background else runner.run()

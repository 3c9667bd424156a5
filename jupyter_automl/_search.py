"""One engine behind every entry point: config → data → space → storage → runner → result."""

from __future__ import annotations

import logging
import pickle
import threading
import time
import warnings
from typing import Any

import numpy as np

from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.config import SearchConfig
from jupyter_automl.result import SearchResult, best_trial_of
from jupyter_automl.storage import ATTR

__all__ = ["Search", "search", "AutoML", "notebook_views"]

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


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


class Search:
    """A configured search, ready to run in the foreground or in a background thread.

    Everything that can be wrong with the input is checked in ``__init__`` (data, options,
    storage), before any trial runs. ``observers`` watch the run; the entry point chooses them
    (a live view in a notebook, a progress bar in a terminal): ``Search`` never picks views.
    """

    def __init__(self, config: SearchConfig, *, data: Any = None, X: Any = None, y: Any = None,
                 namespace: dict[str, Any] | None = None, observers: list[Any] | None = None) -> None:
        self.started = time.monotonic()
        self.config = config
        _quiet_optuna()
        self._load_data(data, X, y, namespace)
        self._plan_parallelism()
        self._build_space()
        self.executor = self._make_executor()
        self.executor.start()  # workers start (and load the data) while the study is opened
        try:
            self._open_stored_study()
            self._check_or_describe_study()
            self._prepare_working_study()
        except BaseException:
            self.executor.close()
            raise
        self.stop_event = threading.Event()
        self.observers = list(observers or [])
        self.result = SearchResult(self.stored_study, config, space=self.space, dataset=self.dataset,
                                   storage_url=self.storage_url)
        self.result._stop = self.stop_event

    # --------------------------------------------------------------- the steps of __init__
    def _load_data(self, data: Any, X: Any, y: Any, namespace: dict[str, Any] | None) -> None:
        from jupyter_automl.data import load_dataset

        source = data if data is not None else self.config.data
        self.dataset = load_dataset(source, self.config.target, X=X, y=y, task=self.config.task,
                                    namespace=namespace)

    def _plan_parallelism(self) -> None:
        """Parallel trials, and BLAS/OpenMP threads per trial so they never oversubscribe the cores."""
        from jupyter_automl.runner import cores

        self.n_jobs = cores() if self.config.n_jobs == -1 else self.config.n_jobs
        # small data: one thread per trial beats two fighting over two cores (OpenMP spin-waits)
        self.threads = max(1, cores() // self.n_jobs) if self.dataset.n_samples >= 20000 else 1

    def _build_space(self) -> None:
        from jupyter_automl.spaces import make_space
        from jupyter_automl.strategies import make_pruner, make_sampler

        config = self.config
        self.space = make_space(config, self.dataset, threads=self.threads)
        self.sampler = make_sampler(config.strategy, seed=config.seed, n_jobs=self.n_jobs,
                                    options=config.strategy_options)
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
        study.set_user_attr(f"{ATTR}:metric", metric.name if metric is not None else ",".join(self.config.objectives or []))
        study.set_user_attr(f"{ATTR}:environment", environment(getattr(self.space, "device_name", "cpu")))
        study.set_user_attr(f"{ATTR}:fingerprint", fingerprint)  # last: marks it complete

    def _prepare_working_study(self) -> None:
        from jupyter_automl.storage import working_study

        self.study = working_study(self.stored_study, self.storage_url)
        self._enqueue_first()

    def _make_executor(self) -> Any:
        from jupyter_automl.executors import make_executor

        n_slots = 1 if self.config.strategy == "rules" else self.n_jobs
        try:
            return make_executor(self.config, self.space, self.dataset, n_slots=n_slots, threads=self.threads)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"option 'executor': the data or options cannot be sent to worker processes ({exc}); "
                "use executor: thread"
            ) from None

    def _enqueue_first(self) -> None:
        """Queue the preset (rules) or the portfolio; skipped where a trial already has those params."""
        if self.config.strategy == "rules":
            self.study.enqueue_trial(self.space.preset(), skip_if_exists=True)
            return
        limit = self.config.n_trials
        for params in self.space.portfolio()[: limit if limit is not None else None]:
            self.study.enqueue_trial(params, skip_if_exists=True)

    # ----------------------------------------------------------------------------- run
    def run(self) -> SearchResult:
        """Run in the calling thread (the kernel's interrupt button stops it cleanly)."""
        try:
            self._run()
        except BaseException as exc:
            self.result._error = exc if not isinstance(exc, KeyboardInterrupt) else None
            self.result._done.set()
            raise
        return self.result

    def start(self) -> SearchResult:
        """Run in a background thread; the returned result fills in (``result.wait()``)."""

        def target() -> None:
            try:
                self._run()
            except BaseException as exc:  # surfaced by result.wait()
                self.result._error = exc
                self.result._done.set()

        thread = threading.Thread(target=target, name=f"automl-{self.name}", daemon=True)
        self.result._thread = thread
        thread.start()
        return self.result

    def _run(self) -> None:
        config = self.config
        deadline = None if config.time_budget is None else self.started + config.time_budget
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
            self.result._done.set()

    def _run_trials(self, deadline: float | None, n_trials: int | None, runner_config: SearchConfig) -> None:
        from threadpoolctl import threadpool_limits

        from jupyter_automl.report import now_iso
        from jupyter_automl.runner import RunInfo, Runner

        config = self.config
        self.runner = Runner(self.study, self.space, runner_config, observers=self.observers, deadline=deadline,
                             stop=self.stop_event, n_jobs=self.executor.n_slots, stored_study=self.stored_study,
                             executor=self.executor)
        previous = sum(1 for t in self.study.get_trials(deepcopy=False) if t.state.is_finished())
        self.stored_study.set_user_attr(f"{ATTR}:state", {"state": "running", "updated": now_iso()})
        metric = getattr(self.space, "metric", None)
        info = RunInfo(study_name=self.name, storage=self.storage_url, config=config, task=self.dataset.task,
                       metric=metric.name if metric is not None else "", direction=self.space.directions[0],
                       time_budget=config.time_budget, n_trials=n_trials, started=self.started,
                       previous_trials=previous)
        for observer in self.observers:
            observer.on_start(info)
        with threadpool_limits(limits=self.threads), warnings.catch_warnings():
            # candidates warn a lot (convergence, constant features...): the leaderboard says what matters
            for category in (UserWarning, RuntimeWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            reason = self.runner.run()
            self.result.stop_reason = reason
            self._finish(deadline)
        state = "finished" if reason in ("n_trials", "time_budget") else "stopped"
        self.stored_study.set_user_attr(f"{ATTR}:state", {"state": state, "reason": reason, "updated": now_iso()})

    def _finish(self, deadline: float | None) -> None:
        """Refit the best candidate (or a better ensemble) on all the data."""
        from jupyter_automl.evaluate import TrialBudget

        best = best_trial_of(self.study)
        if best is None:
            return
        # the runner kept back the time the refit needs; a model slightly late beats no model at all
        budget = TrialBudget(None)
        if self.config.ensemble and len(self.space.directions) == 1:
            model = self._ensemble(best, budget)
            if model is not None:
                self.result.best_model = model
                return
        self.result.best_model = self.space.fit_final(dict(best.params), budget)

    def _ensemble(self, best: Any, budget: Any) -> Any:
        from jupyter_automl.ensemble import greedy_ensemble, voting_model
        from jupyter_automl.spaces.tabular import TabularSpace, _canonical

        if not isinstance(self.space, TabularSpace):
            return None
        oofs = self.runner.oof
        values = {t.number: t.value for t in self.study.get_trials(deepcopy=False) if t.number in oofs and t.value is not None}
        oofs = {n: o for n, o in oofs.items() if n in values}
        if len(oofs) < 2:
            return None
        weights, score = greedy_ensemble(oofs, values, self.dataset.y, self.space.metric, self.dataset.classes)
        sign = 1.0 if self.space.metric.greater_is_better else -1.0
        if len(weights) < 2 or sign * score <= sign * best.value:
            self.result.ensemble = None
            return None
        trials = {t.number: t for t in self.study.get_trials(deepcopy=False)}
        expected = sum(self.space.fold_seconds_estimate(dict(trials[n].params)) for n in weights) * 1.3
        if budget.remaining() < expected:
            logger.info("ensemble skipped: %.1f s left, %.1f s needed to fit it", budget.remaining(), expected)
            return None
        members = [(n, self.space._pipeline(_canonical(dict(trials[n].params)))) for n in weights]
        model = voting_model(members, list(weights.values()), self.dataset.task)
        model.fit(self.dataset.X, self.dataset.y)
        self.result.ensemble = {"score": float(score), "members": {str(n): int(w) for n, w in weights.items()},
                                "best_single": float(best.value)}
        return model


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
    runner = Search(config, data=obj, X=X, y=y, namespace=namespace, observers=observers)
    runner.observers.extend(notebook_views(runner))
    return runner.start() if background else runner.run()


def notebook_views(search: Search) -> list[Any]:
    """The live view an entry point attaches to ``search`` in a notebook (none elsewhere).

    ``display: auto`` shows it in a Jupyter kernel, ``True`` wherever a view can show,
    ``False`` never. ``search()`` and the ``%%automl`` magic call this; ``Search`` never does.
    """
    display = search.config.display
    if display is False or (display == "auto" and not _in_notebook()):
        return []
    try:
        from jupyter_automl.ui import live_view
    except ImportError:
        return []
    view = live_view(search)
    return [view] if view is not None else []


class AutoML:
    """A scikit-learn estimator that searches when fitted.

    ``__init__`` stores the options unchanged (any :func:`search` keyword); ``fit`` validates
    them and runs the search; the learned attributes end in ``_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = AutoML(n_trials=3, storage="memory").fit(X, y)
    >>> model.predict(X[:2]).tolist()
    [0, 0]
    """

    def __init__(self, **options: Any) -> None:
        self._options = dict(options)
        for key, value in options.items():
            setattr(self, key, value)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return dict(self._options)

    def set_params(self, **params: Any) -> AutoML:
        self._options.update(params)
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, X: Any, y: Any) -> AutoML:
        options = dict(self._options)
        options.setdefault("display", False)
        self.result_ = search(X=X, y=y, **options)
        self.best_model_ = self.result_.best_model
        self.best_score_ = self.result_.best_score
        self.classes_ = self.result_.classes_
        return self

    def _check_fitted(self) -> SearchResult:
        if not hasattr(self, "result_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this AutoML is not fitted yet: call fit(X, y) first")
        return self.result_

    def predict(self, X: Any) -> np.ndarray:
        return self._check_fitted().predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._check_fitted().predict_proba(X)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R² (regression), as scikit-learn estimators do."""
        from sklearn.metrics import accuracy_score, r2_score

        result = self._check_fitted()
        pred = result.predict(X)
        return float(r2_score(y, pred) if result._meta.get("task") == "regression" else accuracy_score(y, pred))

    def __repr__(self) -> str:
        return f"AutoML({', '.join(f'{k}={v!r}' for k, v in self._options.items())})"

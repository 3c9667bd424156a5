"""The code a process worker runs: load the search once, then evaluate trial after trial.

Messages on the worker's duplex pipe (tuples, the first item names the kind):

=====================================  ==========================================================
runner → worker                        worker → runner
=====================================  ==========================================================
``("load", token, payload)``           ``("ready", token, {"worker", "load_s"})`` or
                                       ``("load_error", token, msg, traceback)``
``("evaluate", number, params, s)``    ``("report", value, step)``, ``("should_prune",)`` (the
                                       runner answers ``True``/``False``), then one of
                                       ``("done", evaluation)``, ``("pruned", msg)``,
                                       ``("timeout", msg)``, ``("memory", msg)``,
                                       ``("error", kind, msg, traceback)``
``("fit", estimator, data, rows)``     ``("fitted", estimator)``, or ``("memory", msg)``,
                                       ``("error", kind, msg, traceback)`` (the final model:
                                       ``data`` ``None`` for the loaded search's rows; an
                                       object with ``train_in(space, X)``, a NAS final
                                       training, answers what that returns)
``("close",)``                         (the worker exits)
=====================================  ==========================================================

The round trip for ``should_prune`` is synchronous, so a seeded search prunes the same trials
wherever they run.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import traceback
from typing import Any

__all__ = ["main", "TrialProxy", "WorkerSettings"]

WorkerSettings = dict  # {"threads": int, "memory": int | None, "env": {...}, "parent": pid}


class TrialProxy:
    """What ``space.evaluate`` sees as its Optuna trial where it runs remotely.

    ``report`` and ``should_prune`` go to the runner's real trial over the executor's channel
    (``send``) and the prune decision comes back (``receive``), so pruning works wherever the
    trial runs. Process workers use their pipe; Dask tasks use two ``distributed.Queue``.
    """

    def __init__(self, send: Any, receive: Any, number: int, params: dict[str, Any]) -> None:
        self._send, self._receive = send, receive
        self.number = number
        self.params = dict(params)
        self.user_attrs: dict[str, Any] = {}

    def report(self, value: float, step: int) -> None:
        self._send(("report", float(value), int(step)))

    def should_prune(self) -> bool:
        self._send(("should_prune",))
        return bool(self._receive())

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("suggest_"):
            raise RuntimeError(
                "suggest inside evaluate: parameters are sampled by space.sample in the runner"
            )
        raise AttributeError(name)


def main(conn: Any, settings: WorkerSettings) -> None:
    """Entry point of a worker process (``multiprocessing`` target)."""
    import tempfile

    from jupyter_automl.executors._tree import become_session_leader, trial_tempdir_of

    os.environ.update(settings.get("env", {}))
    become_session_leader()  # what a trial forks is in our group, and its orphans come back to us
    _die_with_parent(int(settings["parent"]), signal_on_exit=bool(settings.get("pdeathsig")))
    settings = dict(settings, tmp=trial_tempdir_of(os.getpid(), tempfile.gettempdir()))
    _quiet()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(settings.get("threads", 1)))
    space: Any = None
    token = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "close":
            return
        if kind == "unload":
            space, token = None, None
            _set_memory_limit(None)
        elif kind == "load":
            token = message[1]
            space = _load(conn, token, message[2], settings)
        elif kind == "evaluate" and space is not None and token is not None:
            _evaluate(conn, space, *message[1:], settings=settings)
        elif kind == "fit" and space is not None and token is not None:
            _fit(conn, space, *message[1:], settings=settings)


def _load(conn: Any, token: str, payload: bytes | str, settings: WorkerSettings) -> Any:
    """Unpickle (space factory, config, dataset, threads) once and build the space; set the memory limit."""
    from jupyter_automl.executors._base import this_worker
    from jupyter_automl.spaces import make_space

    t0 = time.perf_counter()
    _set_memory_limit(None)  # a new search: the limit is relative to what this one loads
    try:
        if isinstance(payload, str):  # a big search: the kernel wrote it to a file once
            import joblib

            # mapped copy-on-write: every worker shares the file's pages; a write stays private
            factory, config, dataset, threads = joblib.load(payload, mmap_mode="c")
        else:
            factory, config, dataset, threads = pickle.loads(payload)
        space = (factory or make_space)(config, dataset, threads=threads)
    except BaseException as exc:
        conn.send(
            (
                "load_error",
                token,
                f"{type(exc).__name__}: {exc}",
                traceback.format_exc(limit=6)[-4000:],
            )
        )
        return None
    _set_memory_limit(settings.get("memory"))
    conn.send(
        (
            "ready",
            token,
            {"worker": this_worker(), "load_s": time.perf_counter() - t0, "tmp": settings["tmp"]},
        )
    )
    return space


def _evaluate(
    conn: Any,
    space: Any,
    number: int,
    params: dict[str, Any],
    seconds: float | None,
    *,
    settings: WorkerSettings,
) -> None:
    import optuna

    from jupyter_automl.evaluate import TrialBudget, TrialTimeout
    from jupyter_automl.executors._tree import kill_descendants, trial_tempdir

    trial = TrialProxy(conn.send, conn.recv, number, params)
    budget = TrialBudget(None if seconds is None else time.monotonic() + seconds)
    try:
        # the trial's temporary files go to its own directory, removed with what it started
        with trial_tempdir(settings["tmp"]):
            try:
                evaluation = space.evaluate(trial, params, budget)
            finally:
                kill_descendants()
        if trial.user_attrs:
            evaluation.user_attrs = {**trial.user_attrs, **evaluation.user_attrs}
        reply: tuple[Any, ...] = ("done", evaluation)
    except optuna.TrialPruned as exc:
        reply = ("pruned", str(exc) or "pruned")
    except TrialTimeout as exc:
        reply = ("timeout", str(exc))
    except MemoryError as exc:
        reply = ("memory", str(exc))
    except BaseException as exc:  # the runner records it; this worker lives on
        reply = ("error", type(exc).__name__, str(exc), traceback.format_exc(limit=6)[-4000:])
    try:
        conn.send(reply)
    except MemoryError:
        conn.send(("memory", "while sending the result"))
    except Exception as exc:  # an unpicklable result
        conn.send(("error", type(exc).__name__, f"cannot send the result: {exc}", None))


def _fit(
    conn: Any, space: Any, estimator: Any, data: bytes | str | None, rows: Any, *, settings: WorkerSettings
) -> None:
    """Fit the final model on the loaded search's rows (``rows`` of them) or on the rows sent;
    a NAS final training (``estimator.train_in``) trains on the loaded space."""
    from jupyter_automl.executors._tree import kill_descendants, trial_tempdir

    try:
        frame = None
        if data is not None:
            if isinstance(data, str):
                import joblib

                frame = joblib.load(data, mmap_mode="c")[2]
            else:
                frame = pickle.loads(data)[2]
        with trial_tempdir(settings["tmp"]):
            try:
                if hasattr(estimator, "train_in"):  # a NAS final training: the space trains it
                    fitted = estimator.train_in(space, None if frame is None else frame.X)
                else:
                    X, y = (space.data.X, space.data.y) if frame is None else (frame.X, frame.y)
                    if rows is not None:
                        X, y = X.iloc[rows], y[rows]
                    estimator.fit(X, y)
                    fitted = estimator
            finally:
                kill_descendants()
        reply: tuple[Any, ...] = ("fitted", fitted)
    except MemoryError as exc:
        reply = ("memory", str(exc))
    except BaseException as exc:
        reply = ("error", type(exc).__name__, str(exc), traceback.format_exc(limit=6)[-4000:])
    try:
        conn.send(reply)
    except MemoryError:
        conn.send(("memory", "while sending the fitted model"))
    except Exception as exc:  # a model that cannot be pickled
        conn.send(("error", type(exc).__name__, f"cannot send the fitted model: {exc}", None))


def _set_memory_limit(limit: int | None) -> None:
    """``RLIMIT_AS`` soft limit: what is mapped now plus ``limit`` bytes (``None`` lifts it)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if limit is None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    soft = _mapped_bytes() + int(limit)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _die_with_parent(parent: int, *, signal_on_exit: bool) -> None:
    """Never outlive the searching process, nor let a trial's processes outlive this one.

    On Linux the kernel sends SIGTERM when the searching process dies (``PR_SET_PDEATHSIG``);
    its handler kills what the running trial started and this worker. ``PR_SET_PDEATHSIG``
    fires when the *thread* that started us ends, so it is only asked for workers started from
    the main thread (a background search's thread ends with the search, and its workers are
    kept for the next one). A watchdog thread checks the parent every second as well.
    """
    import signal

    def end_all(*_: Any) -> None:
        from jupyter_automl.executors._tree import kill_descendants

        try:
            kill_descendants()
        finally:
            os._exit(0)

    if signal_on_exit and sys.platform.startswith("linux"):
        from jupyter_automl.executors._tree import ask_signal_on_parent_death

        signal.signal(signal.SIGTERM, end_all)
        ask_signal_on_parent_death(signal.SIGTERM)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                end_all()
            except PermissionError:
                pass

    threading.Thread(target=watch, name="automl-parent-watch", daemon=True).start()


def _quiet() -> None:
    import logging
    import warnings

    for category in (UserWarning, RuntimeWarning, FutureWarning, DeprecationWarning):
        warnings.simplefilter("ignore", category)
    logging.getLogger("optuna").setLevel(logging.WARNING)

"""``executor: process`` (the default): each trial runs in a worker process beside the kernel.

A worker is a long-lived process with one duplex pipe to the runner (see ``_worker``). It gets
the search (config, data) once, in a ``load`` message, then evaluates trial after trial; its
``report``/``should_prune`` calls are answered over the same pipe. A trial that segfaults,
calls ``os._exit``, is killed (OOM killer, SIGKILL), runs out of its memory limit or overruns
the time left is failed with the reason, its worker is replaced, and the search goes on.

Workers come from one pool per process and are reused by later searches (start-up is paid
once). They are fresh interpreters started by loky's process launcher (fork + exec), never a
bare fork of the kernel (a kernel has threads: forking it is unsafe), and they do not re-run the
user's ``__main__`` (scripts need no ``if __name__ == "__main__"`` guard).
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import signal
import threading
import time
import uuid
import weakref
from multiprocessing import connection as mp_connection
from typing import Any

from jupyter_automl.executors._base import Executor, TrialFailed, TrialStopped, check_evaluation
from jupyter_automl.spaces._base import Evaluation

__all__ = ["ProcessExecutor", "WorkerPool", "format_bytes", "visible_gpus"]

GRACE_S = (
    0.5  # past the time left, before a trial's worker is killed: its own budget check goes first
)


def format_bytes(n: int) -> str:
    """``4294967296`` → ``"4 GB"`` (binary units, as ``trial_memory`` reads them)."""
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


class _Worker:
    """One worker process and the runner's end of its pipe."""

    def __init__(self, key: tuple[Any, ...], settings: dict[str, Any]) -> None:
        import multiprocessing

        from joblib.externals.loky.backend.process import LokyProcess

        from jupyter_automl.executors import _worker

        ours, theirs = multiprocessing.Pipe(duplex=True)
        settings = dict(settings, pdeathsig=threading.current_thread() is threading.main_thread())
        # loky's process: a fresh interpreter (fork + exec, never a fork of the kernel), its
        # environment set before any import, and the user's __main__ not re-run in it
        self.process = LokyProcess(
            target=_worker.main,
            args=(theirs, settings),
            name="automl-worker",
            env=dict(settings.get("env", {})),
            init_main_module=False,
        )
        self.process.start()
        theirs.close()
        self.conn = ours
        self.key = key
        self.token: str | None = None  # which search it has loaded
        self.tmp: str | None = None  # its trials' temporary directory (told when it is ready)
        self.ready = False
        self.name = (
            f"{os.uname().nodename if hasattr(os, 'uname') else 'localhost'}:{self.process.pid}"
        )

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        """Kill the worker with what its trial started (its process group) and remove the trial's files."""
        from jupyter_automl.executors._tree import kill_group

        if self.process.pid is not None:
            kill_group(self.process.pid)  # the group outlives a crashed leader: kill it either way
        self.process.join(5)
        self.conn.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def exit_reason(self) -> str:
        """Why the process ended, for the trial's error."""
        self.process.join(2)
        code = self.process.exitcode
        if code is None:
            return "worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = (
                " (killed from outside, e.g. by the out-of-memory killer)"
                if -code == signal.SIGKILL
                else ""
            )
            return f"worker crashed: {name}{hint}"
        return f"worker exited with code {code}"


class WorkerPool:
    """Idle workers kept for the next trial or search of this process; all killed at exit."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        atexit.register(self.shutdown)

    def acquire(self, key: tuple[Any, ...], settings: dict[str, Any]) -> _Worker:
        with self._lock:
            for worker in list(self._idle):
                self._idle.remove(worker)
                if worker.key == key and worker.alive():
                    return worker
                self._idle.append(worker) if worker.alive() else None
            worker = _Worker(key, settings)
            self._all = [w for w in self._all if w.alive()] + [worker]
            return worker

    def release(self, worker: _Worker) -> None:
        from jupyter_automl.executors._base import cores

        if not worker.alive():
            return
        try:
            worker.conn.send(("unload",))  # the search's data leaves the idle worker
        except OSError:
            worker.kill()
            return
        worker.token, worker.ready = None, False
        with self._lock:
            if len(self._idle) < max(2, cores()):
                self._idle.append(worker)
                return
        worker.kill()

    def shutdown(self) -> None:
        """Kill every worker (at interpreter exit, and when a test asks)."""
        with self._lock:
            workers, self._idle, self._all = list(self._all), [], []
        for worker in workers:
            try:
                worker.kill()
            except Exception:
                pass

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._all if w.alive() and w.process.pid is not None]


POOL = WorkerPool()


#: A search's pickled data up to this size is sent to its workers as bytes; a larger one is
#: written once to a temporary file (joblib's pickle, numeric arrays stored raw) that every worker
#: memory-maps: the workers share one copy of the table's numbers and category codes through the
#: page cache, and this process holds no second copy either.
PAYLOAD_IN_MEMORY_BYTES = 4 << 20


def _payload(parts: tuple[Any, ...]) -> bytes | str:
    """The pickled search: bytes when small, else the path of a temporary file holding them."""
    import tempfile

    import joblib

    data = pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL) if _small(parts) else None
    if data is not None:
        return data
    fd, path = tempfile.mkstemp(prefix="jupyter-automl-search-", suffix=".joblib")
    os.close(fd)
    try:
        joblib.dump(parts, path)  # numpy blocks (numbers, category codes) raw, for mmap_mode
        return path
    except OSError:  # a full disk: keep the bytes in memory instead
        _unlink(path)
        return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


class _Frame:
    """Rows sent to a worker for a fit: what :func:`_small` measures, and what the worker fits on."""

    def __init__(self, X: Any, y: Any) -> None:
        self.X, self.y = X, y


def _small(parts: tuple[Any, ...]) -> bool:
    """Whether the search's data is small enough to keep pickled in memory (a quick estimate)."""
    dataset = parts[2]
    X = getattr(dataset, "X", None)
    if hasattr(X, "X") and hasattr(X, "task"):  # a whole Dataset sent along (a NAS refit on every row)
        X = X.X
    try:
        size = int(X.memory_usage(index=False).sum()) if hasattr(X, "memory_usage") else int(getattr(X, "nbytes", 0))
    except Exception:
        return True
    return size < PAYLOAD_IN_MEMORY_BYTES


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def visible_gpus(space: Any) -> list[str]:
    """CUDA device ids a NAS space's workers share out, one worker per GPU (``[]`` on CPU)."""
    wanted = str(getattr(getattr(space, "config", None), "device", "cpu"))
    if wanted not in ("auto", "cuda"):  # cpu, mps, or one chosen GPU (cuda:N): used as configured
        return []
    if not str(getattr(space, "device_name", "cpu")).startswith("cuda"):
        return []
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given:
        return [d.strip() for d in given.split(",") if d.strip()]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:
        return []


class ProcessExecutor(Executor):
    """Evaluations in worker processes with per-trial time and memory limits.

    Parameters
    ----------
    space : SearchSpace
        The runner's space; workers build their own from the same config and data.
    config, dataset :
        What each worker loads once (pickled once per search, sent once per worker).
    n_slots : int
        Parallel trials (one worker each).
    threads : int
        BLAS/OpenMP threads per worker (the runner chose them so workers never oversubscribe).
    memory : int, optional
        Bytes a trial may allocate beyond its loaded worker (``RLIMIT_AS``).
    space_factory : callable, optional
        ``factory(config, dataset, threads=...)`` building the worker's space (default
        :func:`~jupyter_automl.spaces.make_space`); importable by name in the worker.
    """

    name = "process"
    remote = True

    def __init__(
        self,
        space: Any,
        config: Any,
        dataset: Any,
        *,
        n_slots: int = 1,
        threads: int = 1,
        memory: int | None = None,
        pool: WorkerPool | None = None,
        space_factory: Any = None,
    ) -> None:
        super().__init__(space, n_slots=n_slots)
        self.pool = pool or POOL
        self.memory = memory
        self.threads = threads
        self.token = uuid.uuid4().hex
        # what a worker builds its space with: make_space by default (by reference, never the code)
        self.payload = _payload((space_factory, config, dataset, threads))
        if isinstance(self.payload, str):  # the file goes with this executor, or at exit
            weakref.finalize(self, _unlink, self.payload)
        self.gpus = visible_gpus(space)
        self._slots: dict[int, _Worker] = {}
        self.n_samples = getattr(dataset, "n_samples", None)
        self.started_workers = 0
        self._closed = False

    # ------------------------------------------------------------------------ workers
    def _settings(self, slot: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        env = {
            "OMP_NUM_THREADS": str(self.threads),
            "MKL_NUM_THREADS": str(self.threads),
            "OPENBLAS_NUM_THREADS": str(self.threads),
        }
        if self.gpus:
            env["CUDA_VISIBLE_DEVICES"] = self.gpus[slot % len(self.gpus)]
        key = (self.threads, self.memory, tuple(sorted(env.items())))
        return key, {
            "threads": self.threads,
            "memory": self.memory,
            "env": env,
            "parent": os.getpid(),
        }

    def start(self) -> None:
        """Start (or take from the pool) one worker per slot and send it the search; do not wait."""
        if self._closed:
            return
        for slot in range(self.n_slots):
            self._load(slot)

    def _load(self, slot: int) -> _Worker:
        worker = self._slots.get(slot)
        if worker is None or not worker.alive():
            if worker is not None:
                worker.kill()
            key, settings = self._settings(slot)
            worker = self._slots[slot] = self.pool.acquire(key, settings)
        if worker.token != self.token:
            worker.conn.send(("load", self.token, self.payload))
            worker.token, worker.ready = self.token, False
            self.started_workers += 1
        return worker

    def _discard(self, slot: int) -> None:
        worker = self._slots.pop(slot, None)
        if worker is not None:
            worker.kill()

    def _wait_ready(self, worker: _Worker, budget: Any) -> None:
        from jupyter_automl.evaluate import TrialTimeout

        while not worker.ready:
            remaining = budget.remaining()
            if remaining <= 0:
                raise TrialTimeout("stopped: the time budget would be overrun")
            ready = mp_connection.wait([worker.conn, worker.process.sentinel], min(0.1, remaining))
            if budget.stop.is_set():
                raise TrialStopped("stopped by the user")
            if worker.conn in ready:
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    raise TrialFailed(f"{worker.exit_reason()} while loading the search") from None
                if message[1] != self.token:
                    continue  # the answer to an earlier search's load (it was released unread)
                if message[0] == "ready":
                    worker.ready = True
                    worker.name = str(message[2]["worker"])
                    worker.tmp = message[2].get("tmp")
                elif message[0] == "load_error":
                    raise TrialFailed(f"worker could not load the search: {message[2]}", message[3])
            elif ready:
                raise TrialFailed(f"{worker.exit_reason()} while loading the search")

    # --------------------------------------------------------------------- evaluating
    def evaluate(
        self, trial: Any, params: dict[str, Any], budget: Any, slot: int = 0
    ) -> Evaluation:
        self._closed = False
        worker = self._load(slot)
        self._workers[slot] = worker.name
        try:
            self._wait_ready(worker, budget)
            self._workers[slot] = worker.name
            remaining = budget.remaining()
            seconds = None if remaining == float("inf") else max(0.0, remaining)
            worker.conn.send(("evaluate", trial.number, dict(params), seconds))
            reply = self._serve(
                worker, trial, budget, None if seconds is None else seconds + GRACE_S
            )
        except BaseException:
            self._discard(slot)  # its state is unknown: a fresh worker takes the next trial
            raise
        return self._outcome(reply)

    def _serve(
        self, worker: _Worker, trial: Any, budget: Any, limit: float | None
    ) -> tuple[Any, ...]:
        """Answer the worker's reports and prune questions until its trial ends or must be stopped."""
        end = None if limit is None else time.monotonic() + limit
        while True:
            wait_s = 0.1 if end is None else max(0.0, min(0.1, end - time.monotonic()))
            ready = mp_connection.wait([worker.conn, worker.process.sentinel], wait_s)
            if worker.conn in ready:
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    raise TrialFailed(worker.exit_reason()) from None
                if message[0] == "report":
                    trial.report(message[1], message[2])
                elif message[0] == "should_prune":
                    worker.conn.send(bool(trial.should_prune()))
                else:
                    return message
                continue
            if ready:  # the process ended and nothing is left to read
                raise TrialFailed(self._with_memory_hint(worker.exit_reason()))
            if budget.stop.is_set():
                raise TrialStopped("stopped by the user")
            if end is not None and time.monotonic() >= end:
                raise TrialFailed(f"trial exceeded {limit:.1f} s")

    def _with_memory_hint(self, reason: str) -> str:
        if self.memory is not None and "SIGKILL" not in reason:
            return f"{reason} (memory limit {format_bytes(self.memory)})"
        return reason

    def _outcome(self, reply: tuple[Any, ...]) -> Evaluation:
        import optuna

        from jupyter_automl.evaluate import TrialTimeout

        kind = reply[0]
        if kind == "done":
            return check_evaluation(
                reply[1], n_objectives=len(self.space.directions), n_samples=self.n_samples
            )
        if kind == "pruned":
            raise optuna.TrialPruned(reply[1])
        if kind == "timeout":
            raise TrialTimeout(reply[1])
        raise self._failure(reply)

    def _failure(self, reply: tuple[Any, ...]) -> TrialFailed:
        """What a worker's ``memory`` or ``error`` reply (or one it should not send) says."""
        if reply[0] == "memory":
            limit = (
                f"limit {format_bytes(self.memory)}" if self.memory is not None else "no limit set"
            )
            return TrialFailed(f"out of memory ({limit})")
        if reply[0] == "error":
            return TrialFailed(f"{reply[1]}: {reply[2]}", reply[3])
        return TrialFailed(f"worker sent an unknown reply {str(reply[0])[:40]!r}")

    # ------------------------------------------------------------------- final fit
    def fit(
        self,
        estimator: Any,
        *,
        rows: Any = None,
        X: Any = None,
        y: Any = None,
        seconds: float | None = None,
    ) -> Any:
        """Fit ``estimator`` in a worker and return it fitted (the final model's fit).

        On the searched rows the worker already holds (``rows``: a subset of them, ``None``: all),
        or on ``X``, ``y`` sent along (the refit on every row, the held-out ones too). It runs
        under the trials' memory limit, in its own temporary directory, and what it forks is
        killed after it; a worker that crashes, or is still fitting ``seconds`` (plus
        :data:`GRACE_S`) after it was asked, is killed and this raises
        :class:`TrialFailed` with the reason: the searching process is never hurt.
        """
        from jupyter_automl.evaluate import TrialBudget

        self._closed = False
        data = None if X is None else _payload((None, None, _Frame(X, y), None))
        path = data if isinstance(data, str) else None
        limit = None if seconds is None else max(0.0, seconds) + GRACE_S
        try:
            worker = self._load(0)
            self._wait_ready(worker, TrialBudget(None if limit is None else time.monotonic() + limit))
            worker.conn.send(("fit", estimator, data, rows))
            reply = self._fitted(worker, limit)
        except BaseException:
            self._discard(0)  # its state is unknown: killed, with what it started
            raise
        finally:
            if path is not None:
                _unlink(path)
        if reply[0] == "fitted":
            return reply[1]
        raise self._failure(reply)

    def _fitted(self, worker: _Worker, limit: float | None) -> tuple[Any, ...]:
        end = None if limit is None else time.monotonic() + limit
        while True:
            wait_s = 1.0 if end is None else max(0.0, min(1.0, end - time.monotonic()))
            ready = mp_connection.wait([worker.conn, worker.process.sentinel], wait_s)
            if worker.conn in ready:
                try:
                    return worker.conn.recv()
                except (EOFError, OSError):
                    raise TrialFailed(worker.exit_reason()) from None
            if ready:
                raise TrialFailed(self._with_memory_hint(worker.exit_reason()))
            if end is not None and time.monotonic() >= end:
                raise TrialFailed(f"the fit exceeded {limit:.1f} s")

    def close(self) -> None:
        self._closed = True
        for slot in list(self._slots):
            worker = self._slots.pop(slot)
            self.pool.release(worker)

    def __del__(self) -> None:  # a search built but never run gives its workers back
        try:
            self.close()
        except Exception:
            pass

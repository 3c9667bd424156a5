"""``executor: dask``: evaluations on a ``dask.distributed`` cluster.

The runner (in the notebook) asks and tells; each evaluation is a Dask task. The search's
config and data are scattered to every worker once (``broadcast=True``) and each worker builds
its space once per search (cached on the worker). A task's ``report``/``should_prune`` calls go
through two ``distributed.Queue`` objects per slot, answered synchronously by the runner, so
pruning works on the cluster as it does locally and trials stream to the views as they end.
Without ``dask_scheduler`` a ``LocalCluster`` sized to this machine is started (once per process).
"""

from __future__ import annotations

import atexit
import pickle
import sys
import threading
import time
import uuid
from typing import Any

from jupyter_automl.executors._base import Executor, TrialFailed, TrialStopped, check_evaluation
from jupyter_automl.spaces._base import Evaluation

__all__ = ["DaskExecutor"]

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(address: str | None, n_workers: int, threads: int) -> Any:
    """One client per scheduler address in this process (a local cluster when ``None``)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        from jupyter_automl._errors import ConfigError

        raise ConfigError(
            "option 'executor': dask needs dask.distributed: pip install 'jupyter-automl[dask]'"
        ) from None
    key = address or "local"
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is not None and client.status == "running":
            return client
        if address is None:
            _check_main_guard()
            try:
                cluster = LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    env={"OMP_NUM_THREADS": str(threads)},
                )
            except Exception as exc:
                from jupyter_automl._errors import ConfigError

                raise ConfigError(
                    f"executor: dask could not start a local cluster ({exc}). {_GUARD_HINT}"
                    if _run_as_script()
                    else f"executor: dask could not start a local cluster: {exc}"
                ) from exc
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout=10)
            except OSError as exc:
                from jupyter_automl._errors import ConfigError

                raise ConfigError(
                    f"option 'dask_scheduler': cannot reach {address} ({exc}); is `dask scheduler` running there?"
                ) from None
        _CLIENTS[key] = client
        if len(_CLIENTS) == 1:
            atexit.register(_close_clients)
        return client


_GUARD_HINT = (
    "Dask starts its local workers by running your script again: put the search under "
    '`if __name__ == "__main__":` (or give `dask_scheduler:` a running scheduler)'
)


def _run_as_script() -> bool:
    main = sys.modules.get("__main__")
    return main is not None and bool(getattr(main, "__file__", None))


def _check_main_guard() -> None:
    """A search called while Python is starting a worker process (it re-runs the script's top
    level, which has no ``__main__`` guard) says so here, in the worker, instead of a bare
    "Nanny failed to start" in the parent."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        from jupyter_automl._errors import ConfigError

        raise ConfigError(
            f"a search started while a Dask worker process was starting. {_GUARD_HINT}"
        )


def _close_clients() -> None:
    """At exit: close our clients and the local cluster we started (never a remote cluster)."""
    for client in list(_CLIENTS.values()):
        try:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
        except Exception:
            pass
    _CLIENTS.clear()


def _run_on_worker(
    payload: bytes,
    token: str,
    number: int,
    params: dict[str, Any],
    seconds: float | None,
    up_name: str,
    down_name: str,
) -> tuple[str, Any]:
    """The task: build the space once per worker and search, then evaluate ``params``."""
    from distributed import Queue, get_worker

    worker = get_worker()
    up, down = Queue(up_name), Queue(down_name)
    up.put(("start", worker.address))
    # Dask retries a task whose worker died; that attempt was the trial, so the retry does not run.
    # The runner answers at once while it waits for the trial; nobody answers a retry that starts
    # after the runner has its result, and that one must not hold the worker's thread for long.
    if not down.get(timeout=_HANDSHAKE_S):
        return "lost", None
    outcome = _evaluate_on_worker(worker, payload, token, number, params, seconds, up, down)
    # the result goes to the scheduler's queue before the task ends: a worker killed right after
    # (by the next trial on it) would take a result kept in its memory with it, and Dask would run
    # the finished trial again
    try:
        blob = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # not picklable here: Dask's own serialisation takes it
        return outcome
    if len(blob) > _QUEUED_RESULT_BYTES:  # large weights stay on the worker until gathered
        return outcome
    up.put(("result", blob))
    return "queued", None


def _evaluate_on_worker(
    worker: Any,
    payload: bytes,
    token: str,
    number: int,
    params: dict[str, Any],
    seconds: float | None,
    up: Any,
    down: Any,
) -> tuple[str, Any]:
    import optuna

    from jupyter_automl.evaluate import TrialBudget, TrialTimeout
    from jupyter_automl.executors._worker import TrialProxy
    from jupyter_automl.spaces import make_space

    cache = worker.__dict__.setdefault("_jupyter_automl_spaces", {})
    if token not in cache:
        cache.clear()  # one search's data at a time on a worker
        factory, config, dataset, threads = pickle.loads(payload)
        cache[token] = (factory or make_space)(config, dataset, threads=threads)
    space = cache[token]
    budget = TrialBudget(None if seconds is None else time.monotonic() + seconds)
    try:
        return "done", space.evaluate(
            TrialProxy(up.put, lambda: down.get(timeout=600), number, params), params, budget
        )
    except optuna.TrialPruned as exc:
        return "pruned", str(exc) or "pruned"
    except TrialTimeout as exc:
        return "timeout", str(exc)
    except MemoryError:
        return "memory", "out of memory"


_HANDSHAKE_S = 60.0  # how long a task waits for the runner's go-ahead
_QUEUED_RESULT_BYTES = 64 << 20  # results up to this size come back through the scheduler's queue
_ATTEMPTS = 8  # sends of one trial whose data was lost before it started


class _NeverStarted(Exception):
    """Dask cancelled a trial's task before it started (its data was lost with a worker)."""


class DaskExecutor(Executor):
    """Evaluations as Dask tasks; a task that overruns the time left has its worker restarted."""

    name = "dask"
    remote = True

    def __init__(
        self,
        space: Any,
        config: Any,
        dataset: Any,
        *,
        n_slots: int = 1,
        threads: int = 1,
        address: str | None = None,
        space_factory: Any = None,
    ) -> None:
        super().__init__(space, n_slots=n_slots)
        self.address = address
        self.threads = threads
        self.token = uuid.uuid4().hex
        self._payload_bytes = pickle.dumps(
            (space_factory, config, dataset, threads), protocol=pickle.HIGHEST_PROTOCOL
        )
        self.n_samples = getattr(dataset, "n_samples", None)
        self.client: Any = None
        self._payload: Any = None
        self._n_workers = 1

    def start(self) -> None:
        from jupyter_automl.executors._base import cores

        self.client = _client(self.address, max(1, min(self.n_slots, cores())), self.threads)
        self.client.wait_for_workers(1, timeout=120)  # a local cluster's workers may be restarting
        self._n_workers = max(1, len(self._live_workers()))
        # data reaches every worker once: tasks get a reference, never the bytes
        self._payload = self.client.scatter(self._payload_bytes, broadcast=True, hash=False)

    def _scatter(self, left: float) -> Any:
        """Send the search's data again after the workers holding it died. Killed workers are being
        restarted by their nannies: wait (briefly) for as many as the search started with, so the
        data has a copy on each and one more death does not lose it again."""
        wait = 60.0 if left == float("inf") else max(1.0, min(60.0, left))
        try:
            self.client.wait_for_workers(self._n_workers, timeout=min(wait, 15.0))
        except Exception:  # fewer came back: go on with those there are, and expect no more
            self.client.wait_for_workers(1, timeout=wait)
            self._n_workers = max(1, len(self._live_workers()))
        return self.client.scatter(self._payload_bytes, broadcast=True, hash=False)

    def evaluate(
        self, trial: Any, params: dict[str, Any], budget: Any, slot: int = 0
    ) -> Evaluation:

        if self.client is None:
            self.start()
        # A trial whose data went with a dead worker before it ran is not the trial's fault: it is
        # sent again (with the data) while its budget lasts. Another slot's trials may keep killing
        # workers, so this is bounded by attempts, not by a count of one.
        for attempt in range(_ATTEMPTS):
            try:
                return self._attempt(trial, params, budget, slot, attempt)
            except _NeverStarted as exc:
                if attempt == _ATTEMPTS - 1 or budget.remaining() <= 0:
                    raise TrialFailed(f"{exc}; sent {attempt + 1} times") from None
                self._payload = None  # the client may still call it "finished": send it again
        raise AssertionError("unreachable")

    def _attempt(
        self, trial: Any, params: dict[str, Any], budget: Any, slot: int, attempt: int
    ) -> Evaluation:
        from distributed import Queue

        payload = self._payload  # one reference: another slot's thread may replace it meanwhile
        if payload is None or payload.status != "finished":  # lost with its workers
            payload = self._payload = self._scatter(budget.remaining())
        up_name, down_name = (
            f"ja-{self.token}-{trial.number}-{attempt}-up",
            f"ja-{self.token}-{trial.number}-{attempt}-down",
        )
        up, down = Queue(up_name, client=self.client), Queue(down_name, client=self.client)
        remaining = budget.remaining()
        seconds = None if remaining == float("inf") else max(0.0, remaining)
        future = self.client.submit(
            _run_on_worker,
            payload,
            self.token,
            trial.number,
            dict(params),
            seconds,
            up_name,
            down_name,
            pure=False,
            retries=0,
            key=f"ja-trial-{self.token}-{trial.number}-{attempt}",
        )
        limit = None if seconds is None else seconds + 1.0
        end = None if limit is None else time.monotonic() + limit
        address = lost = outcome = None
        try:
            while outcome is None and (not future.done() or up.qsize()):
                try:
                    message = up.get(timeout=0.02)
                except Exception:  # no message within the poll interval
                    message = None
                if message is not None:
                    if message[0] == "start":
                        if address is not None:  # rescheduled: the worker running it died
                            lost = address
                        address = self._workers[slot] = message[1]
                        down.put(lost is None)
                    elif message[0] == "report":
                        trial.report(message[1], message[2])
                    elif message[0] == "should_prune":
                        down.put(bool(trial.should_prune()))
                    elif message[0] == "result":  # the trial's outcome, safe from its worker's fate
                        outcome = pickle.loads(message[1])
                    continue
                if budget.stop.is_set():
                    raise TrialStopped("stopped by the user")
                if end is not None and time.monotonic() >= end:
                    raise TrialFailed(f"trial exceeded {limit:.1f} s")
            return self._outcome(future, lost or address, outcome)
        except BaseException:  # noqa: B036 -- also on KeyboardInterrupt: the task must not run on
            if outcome is None and not future.done():  # a finished task's worker is healthy: keep it and its trial
                self._stop_task(future, address)
            raise
        finally:
            future.release()

    def _stop_task(self, future: Any, address: str | None) -> None:
        """A running Dask task cannot be interrupted: restart the worker that runs it."""
        future.cancel()
        if address is not None:
            try:
                self.client.restart_workers([address], timeout=30, raise_for_error=False)
            except Exception:
                pass

    def _outcome(self, future: Any, address: str | None, outcome: tuple[str, Any] | None) -> Evaluation:
        import optuna

        from jupyter_automl.evaluate import TrialTimeout

        where = f"dask worker {address}" if address else "the dask worker"
        try:
            kind, value = outcome if outcome is not None else future.result()
        except Exception as exc:  # KilledWorker (a crash), lost data, or the task raised
            name = type(exc).__name__
            if name == "KilledWorker":
                raise TrialFailed(
                    f"{where} died while running this trial (its process was killed or crashed; "
                    "the worker's log says why)"
                ) from None
            if name in ("FutureCancelledError", "CancelledError"):
                if address is None:
                    raise _NeverStarted(
                        f"dask cancelled this trial before it started: {exc} (the workers holding "
                        "the search's data died)"
                    ) from None
                gone = address not in self._live_workers()
                raise TrialFailed(
                    f"{where} died while running this trial (its process was killed or crashed; "
                    "the worker's log says why)"
                    if gone
                    else f"dask cancelled this trial: {exc} (a worker holding the search's data "
                    "died; the data is sent again for the next trial)"
                ) from None
            raise TrialFailed(f"{name}: {exc}") from None
        if kind == "queued":  # cannot happen: the loop reads the queue until it is empty
            raise TrialFailed(f"{where} queued this trial's result but it did not arrive")
        if kind == "lost":
            raise TrialFailed(
                f"{where} died while running this trial (its process was killed or crashed; "
                "the worker's log says why); Dask's retry on another worker was not run"
            )
        if kind == "done":
            return check_evaluation(
                value, n_objectives=len(self.space.directions), n_samples=self.n_samples
            )
        if kind == "pruned":
            raise optuna.TrialPruned(value)
        if kind == "timeout":
            raise TrialTimeout(value)
        raise TrialFailed(str(value))

    def _live_workers(self) -> set[str]:
        try:
            return set(self.client.scheduler_info().get("workers", {}))
        except Exception:
            return set()

    def close(self) -> None:
        if self._payload is not None:
            try:
                self._payload.release()
            except Exception:
                pass
            self._payload = None

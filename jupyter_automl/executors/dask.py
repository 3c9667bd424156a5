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
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                env={"OMP_NUM_THREADS": str(threads)},
            )
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
    import optuna
    from distributed import Queue, get_worker

    from jupyter_automl.evaluate import TrialBudget, TrialTimeout
    from jupyter_automl.executors._worker import TrialProxy
    from jupyter_automl.spaces import make_space

    worker = get_worker()
    up, down = Queue(up_name), Queue(down_name)
    up.put(("start", worker.address))
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

    def start(self) -> None:
        from jupyter_automl.executors._base import cores

        self.client = _client(self.address, max(1, min(self.n_slots, cores())), self.threads)
        self.client.wait_for_workers(1, timeout=120)  # a local cluster's workers may be restarting
        # data reaches every worker once: tasks get a reference, never the bytes
        self._payload = self.client.scatter(self._payload_bytes, broadcast=True, hash=False)

    def evaluate(
        self, trial: Any, params: dict[str, Any], budget: Any, slot: int = 0
    ) -> Evaluation:
        from distributed import Queue

        if self.client is None:
            self.start()
        if self._payload.status != "finished":  # every worker holding it was lost: scatter again
            self._payload = self.client.scatter(self._payload_bytes, broadcast=True, hash=False)
        up_name, down_name = (
            f"ja-{self.token}-{trial.number}-up",
            f"ja-{self.token}-{trial.number}-down",
        )
        up, down = Queue(up_name, client=self.client), Queue(down_name, client=self.client)
        remaining = budget.remaining()
        seconds = None if remaining == float("inf") else max(0.0, remaining)
        future = self.client.submit(
            _run_on_worker,
            self._payload,
            self.token,
            trial.number,
            dict(params),
            seconds,
            up_name,
            down_name,
            pure=False,
            retries=0,
            key=f"ja-trial-{self.token}-{trial.number}",
        )
        limit = None if seconds is None else seconds + 1.0
        end = None if limit is None else time.monotonic() + limit
        address = None
        try:
            while not future.done() or up.qsize():
                try:
                    message = up.get(timeout=0.02)
                except Exception:  # no message within the poll interval
                    message = None
                if message is not None:
                    if message[0] == "start":
                        address = self._workers[slot] = message[1]
                    elif message[0] == "report":
                        trial.report(message[1], message[2])
                    elif message[0] == "should_prune":
                        down.put(bool(trial.should_prune()))
                    continue
                if budget.stop.is_set():
                    raise TrialStopped("stopped by the user")
                if end is not None and time.monotonic() >= end:
                    raise TrialFailed(f"trial exceeded {limit:.1f} s")
            return self._outcome(future)
        except BaseException:  # noqa: B036 -- also on KeyboardInterrupt: the task must not run on
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

    def _outcome(self, future: Any) -> Evaluation:
        import optuna

        from jupyter_automl.evaluate import TrialTimeout

        try:
            kind, value = future.result()
        except Exception as exc:  # KilledWorker (a crash), or the task raised
            name = type(exc).__name__
            if name == "KilledWorker":
                raise TrialFailed(f"dask worker crashed: {exc}") from None
            raise TrialFailed(f"{name}: {exc}") from None
        if kind == "done":
            return check_evaluation(
                value, n_objectives=len(self.space.directions), n_samples=self.n_samples
            )
        if kind == "pruned":
            raise optuna.TrialPruned(value)
        if kind == "timeout":
            raise TrialTimeout(value)
        raise TrialFailed(str(value))

    def close(self) -> None:
        if self._payload is not None:
            try:
                self._payload.release()
            except Exception:
                pass
            self._payload = None

"""At most N storage reads at once, at most M per storage, each with a deadline, off the event loop.

A request that would exceed either bound is refused at once (:class:`BusyError`, answered 503)
instead of queueing behind a storage that hangs. Reads run on daemon threads, one per admitted
read: ``concurrent.futures.ThreadPoolExecutor`` joins its workers when the interpreter exits,
so a worker stuck in a database driver would keep the server from stopping on SIGTERM. The
bound on threads is the admission count, so this is still a bounded pool.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

__all__ = ["AccessGate", "BusyError", "DeadlineError"]


class BusyError(RuntimeError):
    """Every slot (or every slot of this storage) is taken: try again later."""


class DeadlineError(TimeoutError):
    """The read did not finish within its deadline (its thread finishes, or times out, alone)."""


class AccessGate:
    """Admission control for blocking storage reads; used from the event loop thread only.

    Parameters
    ----------
    max_reads
        Reads running at once, over all storages.
    max_per_storage
        Reads running at once on one storage (one key).
    """

    def __init__(self, max_reads: int = 4, max_per_storage: int = 2) -> None:
        self.max_reads = max_reads
        self.max_per_storage = max_per_storage
        self._running: Counter[str] = Counter()

    @property
    def running(self) -> int:
        """Reads in flight now."""
        return sum(self._running.values())

    def _admit(self, key: str) -> None:
        if self.running >= self.max_reads:
            raise BusyError(
                f"the studies API is busy ({self.max_reads} storage reads running); try again shortly"
            )
        if self._running[key] >= self.max_per_storage:
            raise BusyError(
                f"{key} is busy ({self.max_per_storage} reads still waiting for it); try again shortly"
            )
        self._running[key] += 1

    def _release(self, key: str) -> None:
        self._running[key] -= 1
        if self._running[key] <= 0:
            del self._running[key]

    async def run(self, key: str, timeout: float, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a daemon thread, once a slot for ``key`` is free; its result or error.

        Raises :class:`BusyError` at once when no slot is free and :class:`DeadlineError` after
        ``timeout`` seconds (the slot stays taken until the thread ends, so a hung storage
        cannot take more than ``max_per_storage`` threads).
        """
        self._admit(key)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(ok: bool, value: Any) -> None:
            self._release(key)
            if done.done():
                return
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)

        def work() -> None:
            try:
                outcome = (True, fn(*args))
            except Exception as exc:
                outcome = (False, exc)
            try:
                loop.call_soon_threadsafe(settle, *outcome)
            except RuntimeError:  # the loop is closed: the server is gone
                pass

        threading.Thread(target=work, name=f"jupyter-automl-read {key}"[:60], daemon=True).start()
        finished, _ = await asyncio.wait({done}, timeout=timeout)
        if not finished:
            done.cancel()  # a late result is dropped; settle() still frees the slot
            raise DeadlineError(f"{key} did not answer within {timeout:g} s")
        return done.result()

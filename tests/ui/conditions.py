"""Waiting on conditions (never on fixed sleeps) in the notebook-experience tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds (a condition wait, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout} s")
        tick.wait(0.05)

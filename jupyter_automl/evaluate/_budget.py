"""The clock a trial answers to: the run's deadline and the stop button."""

from __future__ import annotations

import threading
import time

__all__ = ["TrialBudget", "TrialTimeout"]


class TrialTimeout(Exception):
    """Raised inside a trial when going on would overrun the run's deadline, or a stop was asked."""


class TrialBudget:
    """Deadline (``time.monotonic`` seconds) and stop flag shared by the trials of one run.

    A trial calls :meth:`check` before each expensive step with its estimate of that step's
    duration; the step is skipped (``TrialTimeout``) when it would end after the deadline.
    """

    def __init__(
        self, deadline: float | None, stop: threading.Event | None = None, *, fits: float = 1.0
    ) -> None:
        self.deadline = deadline
        self.stop = stop if stop is not None else threading.Event()
        #: How many times the final model will be fitted before the deadline (2 with a held-out
        #: split: on the searched rows, then on all rows); the final step plans with it.
        self.fits = fits

    def remaining(self) -> float:
        """Seconds left (``inf`` without a deadline)."""
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def check(self, expected_seconds: float = 0.0) -> None:
        """Raise :class:`TrialTimeout` if stopped, or if ``expected_seconds`` more would overrun."""
        if self.stop.is_set():
            raise TrialTimeout("stopped by the user")
        if self.deadline is not None and time.monotonic() + expected_seconds > self.deadline:
            raise TrialTimeout("stopped: the time budget would be overrun")

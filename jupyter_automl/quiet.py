"""Optuna kept quiet while searches run, with no global trace left once they end."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

__all__ = ["quiet_optuna"]

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

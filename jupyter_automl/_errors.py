"""The exceptions users see. Every message names the culprit and says how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["AutoMLError", "ConfigError", "DataError", "MissingDependencyError", "StorageError", "did_you_mean", "one_line"]


class AutoMLError(Exception):
    """Base class of every error raised on purpose by jupyter-automl."""


class ConfigError(AutoMLError, ValueError):
    """An option is unknown, has the wrong type or a value out of range.

    ``problems`` lists every problem found (they are collected and raised together);
    ``details`` gives each one's place in a YAML text where it is known: dicts with ``message``,
    ``key`` (the option), ``line`` (1-based) and ``start``/``end`` (character offsets), so an
    editor can mark exactly what the kernel refuses.
    """

    def __init__(
        self, message: str, problems: list[str] | None = None, details: list[dict] | None = None
    ) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [message]
        self.details = details if details is not None else [
            {"message": p, "key": None, "line": None, "start": None, "end": None} for p in self.problems
        ]


class DataError(AutoMLError, ValueError):
    """The data cannot be searched as given (missing column, NaN target, one class, ...)."""


class StorageError(AutoMLError, RuntimeError):
    """The study storage cannot be reached or does not hold what was asked for."""


class MissingDependencyError(AutoMLError, ImportError):
    """An optional dependency is not installed; the message gives the ``pip install`` that adds it."""

    def __init__(self, message: str, module: str | None = None) -> None:
        super().__init__(message)
        self.name = module


def one_line(exc: BaseException) -> str:
    """A user-facing error as a single line (collected config problems are joined with '; ')."""
    problems = getattr(exc, "problems", None)
    if problems and len(problems) > 1:
        return f"{len(problems)} problems in the options: " + "; ".join(problems)
    return " ".join(str(exc).split())


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""

"""A journal backend that reads an Optuna journal file and never writes it."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

from optuna.storages.journal import BaseJournalBackend

__all__ = ["ReadOnlyJournalFile"]


class ReadOnlyJournalFile(BaseJournalBackend):
    """Optuna journal logs read from ``path`` opened ``rb``; appending raises ``PermissionError``.

    Optuna's ``JournalFileBackend`` creates a missing file and takes a lock file to append: it
    is built for writers. This reader stops at a line a writer has not finished.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        with open(self._path, "rb") as f:
            for number, line in enumerate(f):
                if not line.endswith(b"\n"):
                    return  # a writer is in the middle of this line
                if number >= log_number_from:
                    yield json.loads(line)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        raise PermissionError("the studies API reads journal files, it never writes them")

"""Finding the studies a server may show, and reading them without writing or leaving the root.

Two kinds of storage are read: study files under the server root (``db=``, a path relative to
the root; the listing walks the root for ``.jupyter_automl/studies.db``) and the storages the
server's admin named in ``c.JupyterAutoML.storages`` (``storage=<name>``). A request never
gives a storage URL. Paths are checked the same way wherever they come from: resolved (links
followed), inside the root, and with no hidden folder on the way but ``.jupyter_automl``.

Every method of :class:`StudyReader` but :meth:`~StudyReader.locate` blocks (file system walks,
SQL): the handlers run them on the threads of :class:`~jupyter_automl.server.gate.AccessGate`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_automl.server.readonly import (
    JOURNAL_SUFFIXES,
    SQLITE_SUFFIXES,
    Deadline,
    NamedStorages,
    StorageTimeoutError,
    StorageUnreachableError,
    open_journal,
    open_sqlite,
    storage_error,
)

__all__ = [
    "OutsideRootError",
    "StudyLocation",
    "StudyReader",
    "check_path",
    "find_study_files",
    "MAX_PARAM",
]

STUDY_FILE = Path(".jupyter_automl") / "studies.db"
MAX_DEPTH = 4
MAX_DIRS = 5000
#: The longest ``db``, ``storage`` or study name accepted (Optuna's study names are at most 512).
MAX_PARAM = 512
_SKIP_DIRS = {
    "node_modules",
    "__pycache__",
    "site-packages",
    ".git",
    ".venv",
    "venv",
    ".ipynb_checkpoints",
}
_FILE_SUFFIXES = SQLITE_SUFFIXES + JOURNAL_SUFFIXES
_ALLOWED_HIDDEN = STUDY_FILE.parts[0]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class OutsideRootError(PermissionError):
    """A path that leaves the server root or passes through a hidden folder."""


@dataclass(frozen=True)
class StudyLocation:
    """Where studies are: a file under the root (``db``, relative posix) or a named ``storage``."""

    db: str | None = None
    storage: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """The location as the API shows it (``url`` is always ``None``: URLs stay on the server)."""
        return {"db": self.db, "storage": self.storage, "url": None}

    @property
    def label(self) -> str:
        """How messages name it."""
        return f"storage {self.storage!r}" if self.storage is not None else f"{self.db!r}"

    @property
    def key(self) -> str:
        """One key per storage, for the per-storage bound on concurrent reads."""
        return self.label


def check_text(kind: str, value: str) -> str:
    """``value`` if it is a short printable parameter, else ``ValueError`` naming ``kind``."""
    if len(value) > MAX_PARAM:
        raise ValueError(
            f"parameter {kind!r} is {len(value)} characters long; at most {MAX_PARAM} are accepted"
        )
    if not value.strip():
        raise ValueError(f"parameter {kind!r} is empty")
    if _CONTROL.search(value):
        raise ValueError(f"parameter {kind!r} contains a control character")
    return value


def check_path(root: Path, rel: str) -> Path:
    """The real path of ``rel`` (relative to ``root``), or :class:`OutsideRootError`.

    Links are followed first, so a link that leaves the root, or that leads into a hidden
    folder, is refused like the path it stands for.
    """
    check_text("db", rel)
    if os.path.isabs(rel) or rel.startswith("~"):
        raise OutsideRootError(f"{rel!r} is not relative to the server root")
    real = (root / rel).resolve()
    if real != root and root not in real.parents:
        raise OutsideRootError(f"{rel!r} is outside the server root")
    hidden = [p for p in real.relative_to(root).parts if p.startswith(".") and p != _ALLOWED_HIDDEN]
    if hidden:
        raise OutsideRootError(
            f"{rel!r} is in a hidden folder ({hidden[0]!r}); only {_ALLOWED_HIDDEN}/ is read"
        )
    return real


def find_study_files(
    root: str | Path, *, max_depth: int = MAX_DEPTH, max_dirs: int = MAX_DIRS
) -> list[str]:
    """Paths (relative, posix) of ``.jupyter_automl/studies.db`` files at most ``max_depth`` below ``root``.

    Hidden folders, ``node_modules`` and virtual environments are not walked, links to folders
    are not followed, and a study file whose real path fails :func:`check_path` (a linked
    ``.jupyter_automl`` folder or file that leads out of the root) is skipped. The walk stops
    after ``max_dirs`` folders so a huge root never stalls the server.
    """
    root = Path(root).resolve()
    found: list[str] = []
    seen = 0
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        seen += 1
        here = Path(dirpath)
        rel = (here / STUDY_FILE).relative_to(root).as_posix()
        try:
            if check_path(root, rel).is_file():
                found.append(rel)
        except (OutsideRootError, ValueError, OSError):
            pass
        if len(here.relative_to(root).parts) >= max_depth or seen >= max_dirs:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
    return sorted(found)


def _summaries(storage: Any, per_study_s: float, budget_s: float | None) -> list[dict[str, Any]]:
    """One row per study of an opened Optuna storage (as :func:`jupyter_automl.studies.list_studies`):
    each from its stored summary, or counted within ``per_study_s`` (else listed as ``partial``)."""
    from jupyter_automl.studies import study_rows

    return study_rows(storage, per_study_s=per_study_s, budget_s=budget_s)


class StudyReader:
    """Reads the studies a server may show: files under ``root`` and the admin's named storages.

    Parameters
    ----------
    root
        The server's ``root_dir``.
    storages
        Name → Optuna storage URL, from ``c.JupyterAutoML.storages``.
    deadline
        Connect and query timeouts of every access.
    """

    def __init__(
        self,
        root: str | Path,
        storages: dict[str, str] | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.deadline = deadline or Deadline()
        self.named = NamedStorages(storages or {}, self.deadline)

    # -------------------------------------------------------------- parameters (no I/O but stat)
    def locate(self, *, db: str | None = None, storage: str | None = None) -> StudyLocation:
        """Check a ``db`` path or a ``storage`` (a configured name, or a path under the root).

        Raises :class:`OutsideRootError` for paths that leave the root, ``FileNotFoundError``
        for a path that is not a study file or a name that is not configured, ``ValueError``
        for a bad parameter. Nothing is opened.
        """
        if (db is None) == (storage is None):
            raise ValueError(
                "give exactly one of 'db' (a path under the server root) or 'storage' (a configured name)"
            )
        if storage is not None:
            check_text("storage", storage)
            if storage in self.named:
                return StudyLocation(storage=storage)
            if "://" in storage or storage.startswith(("journal:", "sqlite:")):
                raise ValueError(
                    f"{_shown(storage)} is a storage URL: requests cannot name URLs. "
                    "Ask the server's admin to add it to c.JupyterAutoML.storages and use its name"
                )
            if not storage.endswith(_FILE_SUFFIXES):
                raise FileNotFoundError(
                    f"no storage named {storage!r}: configured names are "
                    f"{', '.join(self.named.names) or '(none)'}; a study file path ends in .db or .log"
                )
            db = storage
        assert db is not None
        path = check_path(self.root, db)
        if path.suffix not in _FILE_SUFFIXES or not path.is_file():
            raise FileNotFoundError(f"no study file {db!r} under the server root")
        return StudyLocation(db=path.relative_to(self.root).as_posix())

    # ---------------------------------------------------------------------------- blocking reads
    def open(self, location: StudyLocation) -> Any:
        """The read-only Optuna storage of ``location``."""
        if location.storage is not None:
            return self.named.get(location.storage)
        assert location.db is not None
        path = check_path(self.root, location.db)  # again: a link may have changed since locate()
        if path.suffix in JOURNAL_SUFFIXES:
            return open_journal(path, location.label)
        return open_sqlite(path, self.deadline, location.label)

    def _guarded(self, location: StudyLocation, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` with driver errors turned into the storage errors the API answers."""
        from sqlalchemy.exc import SQLAlchemyError

        started = time.monotonic()
        try:
            return fn(*args)
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            if isinstance(exc, (PermissionError, StorageTimeoutError, StorageUnreachableError)):
                raise  # already an answer
            raise storage_error(
                location.label, exc, time.monotonic() - started, self.deadline
            ) from None

    def summaries(self, location: StudyLocation, end: float | None = None) -> list[dict[str, Any]]:
        """The rows of every study in ``location``, each with the location's keys.

        A study without a stored summary is counted within ``deadline.study`` seconds (and
        before ``end``, a ``time.monotonic()``), else listed with ``partial: True``.
        """
        budget = None if end is None else max(0.0, end - time.monotonic())
        rows = self._guarded(
            location, lambda: _summaries(self.open(location), self.deadline.study, budget)
        )
        return [{**row, **location.as_dict()} for row in rows]

    def list_files(self, extra: list[StudyLocation] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        """Every study of the files under the root and of the ``extra`` files; failures are listed.

        The listing spends at most half the query deadline counting studies that have no
        summary: past it, they are listed as ``partial`` and the files not yet opened as errors,
        so one huge or slow study never turns the whole answer into a timeout.
        """
        locations = [StudyLocation(db=rel) for rel in find_study_files(self.root)]
        locations += [loc for loc in extra if loc not in locations]
        end = time.monotonic() + self.deadline.query / 2
        studies: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for loc in locations:
            if time.monotonic() >= end:
                errors.append(
                    {
                        **loc.as_dict(),
                        "message": f"not read: the listing's {self.deadline.query / 2:g} s ran out; "
                        "add this storage alone to list it",
                    }
                )
                continue
            try:
                studies += self.summaries(loc, end)
            except Exception as exc:  # one broken file must not hide the others
                errors.append({**loc.as_dict(), "message": _one_line(exc)})
        return {"studies": studies, "errors": errors}

    def payload(self, location: StudyLocation, name: str) -> dict[str, Any]:
        """The result payload of study ``name`` (``KeyError`` when the storage has no such study)."""
        return self._guarded(location, self._payload, location, name)

    def _payload(self, location: StudyLocation, name: str) -> dict[str, Any]:
        import optuna

        from jupyter_automl.report import study_payload

        backend = self.open(location)
        backend.get_study_id_from_name(name)  # KeyError when there is no such study
        study = optuna.load_study(study_name=name, storage=backend)
        payload = study_payload(
            study, storage=location.db if location.db is not None else location.storage
        )
        payload["location"] = location.as_dict()
        return _without_passwords(payload)


def _shown(value: str) -> str:
    from jupyter_automl.storage import redact

    return repr(redact(value))


def _without_passwords(payload: dict[str, Any]) -> dict[str, Any]:
    """A study's own ``storage:`` option may be a URL with a password: it is shown redacted."""
    from jupyter_automl.storage import redact

    config = payload.get("config")
    if isinstance(config, dict) and isinstance(config.get("storage"), str):
        payload["config"] = {**config, "storage": redact(config["storage"])}
    if isinstance(payload.get("config_text"), str):
        payload["config_text"] = redact(payload["config_text"])
    return payload


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

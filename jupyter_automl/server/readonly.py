"""Opening Optuna storages strictly for reading, with a deadline on every access.

Nothing here can write: a SQLite file is opened through a ``file:…?mode=ro`` URI (so no
schema is created and the journal mode is left as it is), a journal file is read with a plain
``open(…, "rb")`` (Optuna's :class:`~optuna.storages.journal.JournalFileBackend` creates a
missing file and locks for appends, so it is not used), and a server database runs every
transaction read-only (``default_transaction_read_only`` on PostgreSQL).

Optuna's :class:`~optuna.storages.RDBStorage` is only built once the tables have been checked:
its version manager inserts a ``version_info`` row and stamps ``alembic_version`` when they are
missing, so a database without them is answered as "not a study" before Optuna sees it.

Every function blocks (file reads, SQL): the handlers run them on worker threads.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = [
    "Deadline",
    "NotAStudyError",
    "SchemaVersionError",
    "StorageTimeoutError",
    "StorageUnreachableError",
    "open_sqlite",
    "open_journal",
    "NamedStorages",
    "storage_error",
]

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
JOURNAL_SUFFIXES = (".log", ".journal")
_LOG = logging.getLogger(__name__)


class NotAStudyError(LookupError):
    """The file or database exists but is not an Optuna storage (left untouched)."""


class SchemaVersionError(RuntimeError):
    """An Optuna storage written by another Optuna version (never upgraded from here)."""


class StorageTimeoutError(TimeoutError):
    """The storage did not answer within the configured connect and query timeouts."""


class StorageUnreachableError(ConnectionError):
    """A configured storage could not be connected to or read (details go to the server log)."""


@dataclass(frozen=True)
class Deadline:
    """How long one access may take: ``connect`` seconds to connect, ``query`` seconds per query,
    ``study`` seconds to count one study that has no stored summary (then it is listed as partial)."""

    connect: float = 5.0
    query: float = 10.0
    study: float = 2.0

    @property
    def total(self) -> float:
        """Connect plus query time: the most a single request waits for a storage."""
        return self.connect + self.query


def _optuna_tables() -> set[str]:
    from optuna.storages._rdb import models  # the one place that knows Optuna's table names

    return set(models.BaseModel.metadata.tables)


def _check_tables(tables: set[str], versions: list[Any], revisions: list[Any], where: str) -> str:
    """The schema revision, or :class:`NotAStudyError` unless the tables, version row and alembic
    stamp are all there."""
    missing = _optuna_tables() - tables
    if missing:
        raise NotAStudyError(
            f"{where} is not a study: it has no Optuna tables ({', '.join(sorted(missing)[:3])} missing)"
        )
    if not versions or not revisions:
        raise NotAStudyError(f"{where} is not a study: its Optuna version records are empty")
    return str(revisions[0][0])


#: Optuna's schema head revision, learnt from the first storage opened: computing it parses
#: alembic's migration scripts (about 0.1 s), which Optuna would do on every open.
_HEAD: list[str] = []


def _rdb_storage(url: str, engine_kwargs: dict[str, Any], revision: str, where: str) -> Any:
    """``RDBStorage`` without table creation; the schema check is Optuna's until the head is known."""
    import optuna

    try:
        storage = optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            skip_table_creation=True,
            skip_compatibility_check=bool(_HEAD) and revision == _HEAD[0],
        )
    except RuntimeError as exc:  # check_table_schema_compatibility: another Optuna version
        raise SchemaVersionError(f"{where}: {exc}") from None
    if not _HEAD:
        _HEAD.append(storage.get_head_version())
    return storage


# ----------------------------------------------------------------------------------- SQLite
def _sqlite_connect(path: Path, deadline: Deadline) -> sqlite3.Connection:
    """A read-only connection that waits ``deadline.connect`` for locks, then aborts past the deadline."""
    uri = f"file:{quote(str(path))}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=deadline.connect, check_same_thread=False)
    limit = time.monotonic() + deadline.total

    def _past_deadline() -> int:
        return 1 if time.monotonic() > limit else 0  # non-zero interrupts the running statement

    con.set_progress_handler(_past_deadline, 10_000)
    return con


def _check_sqlite(path: Path, deadline: Deadline, where: str) -> str:
    try:
        con = _sqlite_connect(path, deadline)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            versions = (
                con.execute("SELECT 1 FROM version_info LIMIT 1").fetchall()
                if "version_info" in tables
                else []
            )
            revisions = (
                con.execute("SELECT version_num FROM alembic_version LIMIT 1").fetchall()
                if "alembic_version" in tables
                else []
            )
        finally:
            con.close()
    except (
        sqlite3.DatabaseError
    ) as exc:  # "file is not a database", "interrupted", "database is locked"
        _raise_sqlite(exc, where, deadline)
    return _check_tables(tables, versions, revisions, where)


def _raise_sqlite(exc: sqlite3.DatabaseError, where: str, deadline: Deadline) -> None:
    text = str(exc)
    if "interrupted" in text or "locked" in text:
        raise StorageTimeoutError(
            f"{where} did not answer within {deadline.total:g} s ({text})"
        ) from None
    raise NotAStudyError(f"{where} is not a study ({text})") from None


def open_sqlite(path: Path, deadline: Deadline, where: str) -> Any:
    """An Optuna ``RDBStorage`` over the SQLite file ``path``, opened read-only.

    ``where`` names the file in messages (a path relative to the server root). Raises
    :class:`NotAStudyError` for a file that is not an Optuna storage, :class:`SchemaVersionError`
    for one written by an incompatible Optuna and :class:`StorageTimeoutError` past the deadline.
    """
    from sqlalchemy.pool import NullPool

    revision = _check_sqlite(path, deadline, where)
    kwargs = {"creator": lambda: _sqlite_connect(path, deadline), "poolclass": NullPool}
    return _rdb_storage("sqlite://", kwargs, revision, where)


# ---------------------------------------------------------------------------------- journal
def _check_journal(path: Path, where: str) -> None:
    with open(path, "rb") as f:
        first = f.readline(1 << 20)
    if not first:
        return  # an empty journal: a storage with no study yet
    try:
        log = json.loads(first)
    except ValueError:
        raise NotAStudyError(f"{where} is not a study (not an Optuna journal)") from None
    if not isinstance(log, dict) or "op_code" not in log:
        raise NotAStudyError(f"{where} is not a study (not an Optuna journal)")


def open_journal(path: Path, where: str) -> Any:
    """An Optuna ``JournalStorage`` replaying the journal file ``path`` without writing to it."""
    from optuna.storages.journal import JournalStorage

    from jupyter_automl.server._journal import ReadOnlyJournalFile

    _check_journal(path, where)
    try:
        return JournalStorage(ReadOnlyJournalFile(path))
    except (ValueError, KeyError, TypeError) as exc:
        raise NotAStudyError(
            f"{where} is not a study (a broken journal: {type(exc).__name__})"
        ) from None


# ------------------------------------------------------------------------- named storages
def _connect_args(url: str, deadline: Deadline) -> dict[str, Any]:
    """Driver options for a connect timeout, a per-statement timeout and read-only transactions."""
    connect = max(2, round(deadline.connect))  # libpq and MySQL drivers take whole seconds
    if url.startswith(("postgresql", "postgres")):
        ms = int(deadline.query * 1000)
        return {
            "connect_timeout": connect,
            "options": f"-c statement_timeout={ms} -c lock_timeout={ms} -c default_transaction_read_only=on",
        }
    if url.startswith("mysql"):
        return {
            "connect_timeout": connect,
            "read_timeout": max(1, round(deadline.query)),
            "write_timeout": max(1, round(deadline.query)),
        }
    return {}


def _check_database(engine: Any, name: str) -> str:
    from sqlalchemy import inspect, text

    where = f"storage {name!r}"
    with engine.connect() as con:
        tables = set(inspect(con).get_table_names())
        versions = (
            list(con.execute(text("SELECT 1 FROM version_info")))
            if "version_info" in tables
            else []
        )
        revisions = (
            list(con.execute(text("SELECT version_num FROM alembic_version")))
            if "alembic_version" in tables
            else []
        )
    return _check_tables(tables, versions, revisions, where)


class NamedStorages:
    """The storages a server's admin configured, by name; each opened once and kept.

    The URLs (and their passwords) stay in this object: messages name the storage only.
    """

    def __init__(self, urls: dict[str, str], deadline: Deadline) -> None:
        self._urls = dict(urls)
        self._deadline = deadline
        self._open: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        """The configured names, sorted."""
        return sorted(self._urls)

    def __contains__(self, name: object) -> bool:
        return name in self._urls

    def get(self, name: str) -> Any:
        """The Optuna storage ``name`` stands for (``KeyError`` when there is none)."""
        url = self._urls[name]
        with self._lock:
            if name in self._open:
                return self._open[name]
        storage = self._build(name, url)
        with self._lock:
            kept = self._open.setdefault(name, storage)
        if kept is not storage and hasattr(storage, "engine"):
            storage.engine.dispose()  # another request opened it meanwhile
        return kept

    def _build(self, name: str, url: str) -> Any:
        if url.startswith("sqlite:///"):
            return open_sqlite(Path(url[len("sqlite:///") :]), self._deadline, f"storage {name!r}")
        if url.startswith("journal:") or url.endswith(JOURNAL_SUFFIXES):
            return open_journal(
                Path(url.split(":", 1)[1] if url.startswith("journal:") else url),
                f"storage {name!r}",
            )
        return self._open_database(name, url)

    def _open_database(self, name: str, url: str) -> Any:
        import sqlalchemy
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        kwargs = {
            "connect_args": _connect_args(url, self._deadline),
            "pool_pre_ping": True,
            "pool_timeout": self._deadline.connect,
            "pool_size": 2,
            "max_overflow": 2,
        }
        started = time.monotonic()
        try:
            engine = sqlalchemy.create_engine(url, **kwargs)
        except ImportError as exc:
            raise StorageUnreachableError(
                f"storage {name!r} needs the {exc.name or 'database driver'!r} package on the server"
            ) from None
        except SQLAlchemyError as exc:  # NoSuchModuleError: a dialect or driver SQLAlchemy lacks
            raise StorageUnreachableError(
                f"storage {name!r} has a URL this server cannot open: {type(exc).__name__}"
            ) from None
        try:
            revision = _check_database(engine, name)
        except NotAStudyError:
            engine.dispose()
            raise
        except (SQLAlchemyError, DBAPIError, OSError) as exc:
            engine.dispose()
            raise storage_error(
                f"storage {name!r}", exc, time.monotonic() - started, self._deadline
            ) from None
        engine.dispose()
        # the URL's braces are Optuna's template syntax: a password with "{" must survive it
        escaped = url.replace("{", "{{").replace("}", "}}")
        try:
            return _rdb_storage(escaped, kwargs, revision, f"storage {name!r}")
        except (SQLAlchemyError, OSError) as exc:
            raise storage_error(
                f"storage {name!r}", exc, time.monotonic() - started, self._deadline
            ) from None


def storage_error(where: str, exc: BaseException, took: float, deadline: Deadline) -> Exception:
    """The error to answer for a driver failure: it names the storage and the kind, never its URL.

    The driver's own message (which may name hosts and users) goes to the server log only.
    """
    _LOG.warning(
        "jupyter-automl: reading %s failed after %.1f s: %s", where, took, str(exc).strip()[:500]
    )
    text = str(exc).lower()
    if any(
        k in text for k in ("timeout", "timed out", "canceling statement", "interrupted", "locked")
    ) or (took >= deadline.connect):
        return StorageTimeoutError(f"{where} did not answer within {deadline.total:g} s")
    return StorageUnreachableError(
        f"{where} cannot be read: {type(exc).__name__} (details in the server log)"
    )

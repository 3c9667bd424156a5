"""Where studies live: resolving ``storage:``, naming, resuming, and recording the environment."""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jupyter_automl._errors import ConfigError, StorageError

__all__ = [
    "DEFAULT_STORAGE_PATH",
    "ATTR",
    "resolve_storage",
    "storage_url",
    "list_studies",
    "environment",
    "default_study_name",
    "working_study",
    "redact",
    "refuse_foreign_sqlite",
    "OWNER_ATTR",
    "owner",
    "fail_lost_trials",
    "StudyLock",
    "HEARTBEAT_INTERVAL_S",
    "heartbeat_interval",
    "GRACE_PERIOD_S",
]

DEFAULT_STORAGE_PATH = Path(".jupyter_automl") / "studies.db"
ATTR = "jupyter_automl"  # prefix of every study / trial attribute we write

OWNER_ATTR = f"{ATTR}:owner"  # trial attribute: the host and process that run it
HEARTBEAT_INTERVAL_S = 5  # server databases: running trials beat this often ...
GRACE_PERIOD_S = 30  # ... and are failed "worker lost" this long after their last beat
LOST = "worker lost"

_CACHE: dict[str, Any] = {}


def storage_url(storage: str | None) -> str:
    """The URL a ``storage:`` option stands for (``None`` → the SQLite file under the cwd)."""
    if storage is None:
        return f"sqlite:///{(Path.cwd() / DEFAULT_STORAGE_PATH).as_posix()}"
    if storage == "memory":
        return "memory"
    if "://" in storage:
        return storage
    if storage.startswith("journal:"):
        return storage
    path = Path(storage).expanduser()
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        return f"sqlite:///{path.resolve().as_posix()}"
    if path.suffix in (".log", ".journal"):
        return f"journal:{path.resolve().as_posix()}"
    raise ConfigError(
        f"option 'storage': cannot tell what {storage!r} is; use 'memory', a file ending in .db "
        "(SQLite) or .log (journal), or an Optuna URL such as postgresql://user:pass@host/db"
    )


def check_storage_directory(storage: str | None) -> None:
    """Refuse a storage file in a directory that does not exist (only the default one is created).

    A typo in a path must not leave a database in a new directory tree (or at the filesystem
    root, for ``sqlite:////...``): said before any work, naming the missing directory.
    """
    if storage is None or storage == "memory":
        return
    url = storage_url(storage)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
    elif url.startswith("journal:"):
        path = Path(url[len("journal:") :])
    else:
        return
    if path.name == "" or path.parent.exists() or path.parent.name == DEFAULT_STORAGE_PATH.parent.name:
        return  # an existing directory (a file there is refused when opened), or the default one
    missing = path.parent
    while not missing.parent.exists():
        missing = missing.parent
    raise ConfigError(
        f"option 'storage': the directory {str(path.parent)!r} does not exist ({str(missing)!r} is missing; "
        f"relative paths are read from {Path.cwd()}): create it first (os.makedirs) or give a file in an "
        "existing directory; nothing was written"
    )


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and listings)."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _driver_hint(url: str, module: str | None) -> str:
    """The install line for the database driver a URL needs (SQLAlchemy 2 picks psycopg 3 for postgresql://)."""
    from jupyter_automl._imports import install_hint

    scheme = url.split("://", 1)[0]
    if scheme.startswith("postgresql"):
        if "psycopg2" in scheme or module == "psycopg2":
            return "the psycopg2 driver (postgresql+psycopg2://): pip install psycopg2-binary"
        return f"the psycopg driver: {install_hint('postgres')}"
    if scheme.startswith("mysql"):
        return "a MySQL driver: pip install pymysql (and write mysql+pymysql://...)"
    return f"the {module or 'database driver'} package: pip install {module or 'the driver named in the URL'}"


def refuse_foreign_sqlite(path: Path) -> None:
    """Raise :class:`StorageError` when ``path`` exists but is not an (empty or Optuna) SQLite database.

    Checked read-only, before Optuna would add its tables and switch the file to WAL.
    """
    import sqlite3

    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise StorageError(f"storage {str(path)!r} is a directory: name a .db file inside it")
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise StorageError(
                f"storage file {str(path)!r} exists and is not an SQLite database; it was left untouched: "
                "choose another file name"
            )
    con = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, timeout=60)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()
    # a storage another process is creating right now has Optuna's first tables but not yet all
    optuna_tables = {"studies", "trials"} <= tables or {"studies", "version_info"} <= tables
    if tables and not optuna_tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StorageError(
            f"storage file {str(path)!r} is an SQLite database but not an Optuna study storage "
            f"(its tables: {shown}); it was left untouched: choose another file name"
        )


def resolve_storage(storage: str | None) -> Any:
    """An Optuna storage for ``storage`` (cached per URL within the process).

    SQLite files get WAL journaling and ``synchronous=NORMAL``: every finished trial is still
    committed before the next one starts, at a fraction of the default fsync cost.
    """
    import optuna

    url = storage_url(storage)
    if url in _CACHE:
        return _CACHE[url]
    if url == "memory":
        return optuna.storages.InMemoryStorage()  # never shared: each search keeps its own
    try:
        if url.startswith("journal:"):
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            path = Path(url.split(":", 1)[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            result: Any = JournalStorage(JournalFileBackend(str(path)))
        elif url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///") :])
            refuse_foreign_sqlite(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            result = _open_sqlite(url)
            _tune_sqlite(result)
        else:
            result = _open_rdb(url)
    except StorageError:
        raise
    except ModuleNotFoundError as exc:
        raise StorageError(f"storage {redact(url)!r} needs {_driver_hint(url, exc.name)}") from None
    except Exception as exc:  # sqlalchemy.exc.OperationalError, ArgumentError, OSError ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Failed to import DB access module" in first or "No module named" in first:
            raise StorageError(f"storage {redact(url)!r} needs {_driver_hint(url, None)}") from None
        if url.startswith(("sqlite:///", "journal:")):
            raise StorageError(
                f"cannot open the storage file {url.split(':', 1)[1].lstrip('/')!r}: {first}. Check the path "
                "and its permissions, or use storage: memory to keep nothing"
            ) from None
        raise StorageError(
            f"cannot open storage {redact(url)!r}: {first}. Check that the server is running and "
            "reachable and the URL is right, or use storage: memory to keep nothing"
        ) from None
    _CACHE[url] = result
    return result


def working_study(record: Any, url: str) -> Any:
    """The study trials run in, for a study ``record`` kept at ``url``.

    A local file (SQLite, journal) is written by this process alone, so trials run in memory and
    the runner copies each finished trial to the file in one transaction before the next starts:
    one round trip per trial instead of one per ask, report, attribute and tell. A server
    database (PostgreSQL...) is shared with other workers and used directly.
    """
    import optuna

    if not url.startswith(("sqlite:///", "journal:")):
        return record
    work = optuna.create_study(study_name=record.study_name, storage=optuna.storages.InMemoryStorage(),
                               sampler=record.sampler, pruner=record.pruner, directions=record.directions)
    for trial in record.get_trials(deepcopy=False):
        if trial.state.is_finished():
            work.add_trial(trial)
    return work


def owner() -> dict[str, Any]:
    """Who runs a trial: host, pid and the process's start time (a reused pid is not the owner)."""
    import socket

    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _process_start(os.getpid())}


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _owner_gone(info: Any) -> bool:
    """True when ``info`` names a process of this host that no longer exists."""
    import socket

    if not isinstance(info, dict) or info.get("host") != socket.gethostname():
        return False
    pid = info.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    started = info.get("started")
    return started is not None and _process_start(pid) not in (None, started)


def heartbeat_interval(storage: Any) -> int | None:
    """Seconds between heartbeats of a storage's running trials (``None``: no heartbeats)."""
    getter = getattr(storage, "get_heartbeat_interval", None)
    return getter() if callable(getter) and hasattr(storage, "record_heartbeat") else None


def fail_lost_trials(study: Any) -> list[int]:
    """Fail (``"worker lost"``) the RUNNING trials of ``study`` whose worker is gone; return their numbers.

    A trial run on this host whose owner process no longer exists is failed at once; on a
    storage with heartbeats (a server database) a trial whose last beat is older than the
    grace period is failed wherever it ran. Any process that opens the study calls this.
    """
    import optuna

    storage = study._storage
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    lost = {t._trial_id: t.number for t in running if _owner_gone(t.user_attrs.get(OWNER_ATTR))}
    if heartbeat_interval(storage):
        # Optuna's fail_stale_trials cannot say why; the same query, then our reason first
        stale = storage._get_stale_trial_ids(study._study_id)
        numbers = {t._trial_id: t.number for t in running}
        lost.update({i: numbers.get(i, storage.get_trial(i).number) for i in stale})
    failed = []
    for trial_id, number in lost.items():
        try:
            storage.set_trial_user_attr(trial_id, ATTR, {"error": LOST})
            if storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL):
                failed.append(number)
        except (RuntimeError, optuna.exceptions.UpdateFinishedTrialError):
            continue  # another process failed (or finished) it first
    return failed


class StudyLock:
    """One process at a time on a study kept in a local file (SQLite, journal).

    Trials of a local-file study run in memory and are copied to the file when they finish, so
    two processes would each see only their own trials and both run ``n_trials``. The second
    is refused with the way to run in parallel instead. The lock is an ``flock`` on a file next
    to the study: the system drops it when its process dies, so a killed search never leaves
    the study locked.
    """

    def __init__(self, url: str, name: str) -> None:
        self.path: Path | None = None
        self._file: Any = None
        if url.startswith("sqlite:///"):
            base = Path(url[len("sqlite:///") :])
        elif url.startswith("journal:"):
            base = Path(url.split(":", 1)[1])
        else:
            return  # memory: nobody else sees it; a server database: shared by design
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]
        self.path = base.parent / f".{base.name}.locks" / f"{safe}.lock"
        self.url, self.name = url, name

    def check(self) -> None:
        """Raise :class:`StorageError` at once when another live process holds the lock (takes nothing)."""
        import fcntl

        if self.path is None or self._file is not None or not self.path.exists():
            return
        with open(self.path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)  # fails while a holder has it exclusively
            except OSError:
                raise self._held(handle.read().strip()) from None
            fcntl.flock(handle, fcntl.LOCK_UN)

    def _held(self, holder: str) -> StorageError:
        return StorageError(
            f"study {self.name!r} in {self.url} is being run by {holder or 'another process'}; two "
            "processes on one local study file would each run n_trials on their own. Wait for it to "
            "end (or stop it), run the trials in parallel in one search (n_jobs: 4 with executor: "
            "process or dask), or keep the study in a database that several processes share "
            "(storage: postgresql://user@host/db)"
        )

    def acquire(self) -> StudyLock:
        """Take the lock or raise :class:`StorageError` naming the process that holds it."""
        import fcntl
        import socket

        if self.path is None or self._file is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise self._held(holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.release()


def _open_rdb(url: str) -> Any:
    """Open a server database; two workers creating the schema at once is retried, not fatal.
    Every storage call on it rides out a lost connection (a restarted server) for
    ``JUPYTER_AUTOML_DB_RETRY_S`` seconds (default 60), see :func:`_retrying`."""
    return _create_rdb_storage(url, engine_kwargs={"pool_pre_ping": True},
                               heartbeat_interval=HEARTBEAT_INTERVAL_S,
                               grace_period=GRACE_PERIOD_S, retrying=True)


_LOST_CONNECTION = ("connection refused", "server closed the connection", "terminating connection",
                    "could not connect", "the database system is shutting down",
                    "the database system is starting up", "connection is closed",
                    "consuming input failed", "connection timeout", "ssl syscall error")


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the database connection was lost."""
    from sqlalchemy.exc import DBAPIError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if any(part in str(seen).lower() for part in _LOST_CONNECTION):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def db_retry_seconds() -> float:
    """How long storage calls on a server database wait out a lost connection."""
    try:
        return float(os.environ.get("JUPYTER_AUTOML_DB_RETRY_S", "60"))
    except ValueError:
        return 60.0


def _retrying(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of an RDB storage, retried with backoff while the connection is lost (the pool's
    dead connections dropped before each try), for :func:`db_retry_seconds`; past that a
    :class:`StorageError` whose first line says the connection was lost and where."""
    import functools

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline, delay = None, 0.1
        while True:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                if not _connection_lost(exc):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + db_retry_seconds()
                if now >= deadline:
                    raise StorageError(
                        f"the database connection was lost: {redact(str(self.url))} did not answer for "
                        f"{db_retry_seconds():.0f} s ({_root(exc)}); the finished trials are stored there: "
                        "resume the study when it is back"
                    ) from exc
                try:
                    self.engine.dispose()  # the pool's connections died with the server
                except Exception:  # noqa: BLE001
                    pass
                time.sleep(min(delay, max(0.0, deadline - now)))  # backoff while the server restarts
                delay = min(2 * delay, 2.0)

    return call


def _retrying_class() -> type:
    import optuna

    base = optuna.storages.RDBStorage
    # the public calls, and the private ones Optuna's cached storage makes (each opens its own session)
    private = ("_create_new_trial", "_set_trial_param", "_get_trials", "_get_best_trial_id", "_get_stale_trial_ids")
    methods = {name: _retrying(member) for name, member in vars(base).items()
               if callable(member) and (not name.startswith("_") or name in private)
               and not isinstance(member, (staticmethod, classmethod))}
    return type("RetryingRDBStorage", (base,), methods)


def _open_sqlite(url: str) -> Any:
    """Open a SQLite file in WAL mode; two processes creating its schema at once is retried."""
    path = Path(url[len("sqlite:///") :])
    return _create_rdb_storage(url, before=lambda: _enable_wal(path),
                               engine_kwargs={"connect_args": {"timeout": 60}},
                               skip_compatibility_check=False)


def _create_rdb_storage(url: str, before: Callable[[], None] | None = None, retrying: bool = False,
                        **kwargs: Any) -> Any:
    """``RDBStorage(url, **kwargs)`` (after ``before()``), opened again while another process
    creates the schema.

    Two kernels (or Dask workers) that open a new database at the same moment both find no
    tables and both create them: SQLAlchemy checks, then creates, outside one transaction, so
    the slower one's ``CREATE TABLE`` fails ("already exists", or a duplicate-table error on a
    server) or its insert of the schema's version row breaks a unique constraint. Opening
    again finds the schema in place. SQLite may also answer "database is locked" at once,
    without waiting out its busy timeout, when one connection's read must become a write
    after another connection wrote (its deadlock rule); that is retried too, a lock held
    for the whole timeout is not.
    """
    import sqlite3

    import optuna
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    attempts = 5
    for attempt in range(attempts):
        start = time.monotonic()
        try:
            if before is not None:
                before()
            return (_retrying_class() if retrying else optuna.storages.RDBStorage)(url, **kwargs)
        except (IntegrityError, ProgrammingError, OperationalError, sqlite3.OperationalError) as exc:
            message = str(exc)
            racing = (
                isinstance(exc, (IntegrityError, ProgrammingError))
                or "already exists" in message
                or ("database is locked" in message and time.monotonic() - start < 5.0)
            )
            if not racing or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))  # the other process is creating the tables
    raise AssertionError("unreachable")


def _enable_wal(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(str(path), timeout=60)
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def _tune_sqlite(storage: Any) -> None:
    from sqlalchemy import event

    engine = storage.engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    engine.dispose()


def default_study_name(source: str, space: str, strategy: str) -> str:
    """``<data>-<space>-<strategy>-<UTC time>``, e.g. ``breast_cancer-tabular-tpe-20261128-101500``."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", Path(source.split(":")[-1]).stem).strip("_") or "data"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")[:-3]
    return f"{stem}-{space}-{strategy}-{stamp}"


def environment(device: str = "cpu") -> dict[str, Any]:
    """Versions, platform and device: stored with every study so it can be reproduced."""
    from importlib import metadata

    packages = {}
    for name in ("jupyter-automl", "optuna", "scikit-learn", "numpy", "pandas", "lightgbm", "xgboost", "catboost", "torch"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "device": device,
        "packages": packages,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def list_studies(storage: str | None = None) -> list[dict[str, Any]]:
    """One dict per stored study, from its summary (see :func:`jupyter_automl.studies.list_studies`)."""
    from jupyter_automl.studies import list_studies as listed

    return listed(storage)


class StoreWatch:
    """The local study file a search opened, checked before each finished trial is written.

    A SQLite file deleted (or replaced) during a search would take the writes silently: the
    open connection goes on writing to the unlinked file. The runner calls :meth:`check` before
    each write; when the file is gone or is another file, the finished trials of the working
    study go to a recovery file beside it and the search stops with a :class:`StorageError`
    that names both.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(url.split(":///", 1)[1] if url.startswith("sqlite:///") else url[len("journal:"):])
        self.identity = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def check(self, working: Any, record: Any) -> None:
        """Raise :class:`StorageError` (after writing the recovery file) if the file changed."""
        now = self._identity()
        if now == self.identity:
            return
        what = "was deleted" if now is None else "was replaced by another file"
        try:
            recovered, count = self._recover(working, record)
        except Exception as exc:  # noqa: BLE001 -- the error below still says what happened
            saved = f"; the finished trials could not be saved elsewhere either ({exc})"
        else:
            saved = (f"; its {count} finished trials were written to {recovered}: resume from there "
                     f"(storage: {recovered})")
        raise StorageError(f"the study file {self.path} {what} during the search{saved}")

    def _recover(self, working: Any, record: Any) -> tuple[Path, int]:
        import optuna

        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.stem}.recovered-{stamp}-{os.getpid()}.db")
        trials = [t for t in working.get_trials(deepcopy=False) if t.state.is_finished()]
        try:
            attrs = dict(record.user_attrs)  # an unlinked file may still be readable
        except Exception:  # noqa: BLE001
            attrs = {}
        study = optuna.create_study(study_name=working.study_name, storage=f"sqlite:///{target}",
                                    directions=working.directions)
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        study.add_trials(trials)
        return target, len(trials)

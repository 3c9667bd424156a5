"""Finding the study files under the server root and reading them, without leaving the root.

Every function here blocks (file system walks, SQL queries): the handlers run them in a thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["OutsideRootError", "StudyLocation", "find_study_files", "locate", "list_all", "load_payload"]

STUDY_FILE = Path(".jupyter_automl") / "studies.db"
MAX_DEPTH = 4
MAX_DIRS = 5000
_SKIP_DIRS = {"node_modules", "__pycache__", "site-packages", ".git", ".venv", "venv", ".ipynb_checkpoints"}
_FILE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".log", ".journal")


class OutsideRootError(PermissionError):
    """A path or file URL that points outside the server root."""


class StudyLocation:
    """Where a storage is: a file under the root (``db``, relative) or a database ``url``."""

    def __init__(self, root: Path, *, db: str | None = None, url: str | None = None) -> None:
        self.root = root
        self.db = db
        self.url = url

    @property
    def storage(self) -> str:
        """What :func:`jupyter_automl.storage.resolve_storage` accepts."""
        if self.db is not None:
            return str(self.root / self.db)
        assert self.url is not None
        return self.url

    def as_dict(self) -> dict[str, str | None]:
        return {"db": self.db, "url": self.url}


def _inside(root: Path, path: Path) -> Path:
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise OutsideRootError(f"{path} is outside the server root")
    return resolved


def locate(root: str | Path, *, db: str | None = None, url: str | None = None) -> StudyLocation:
    """Check a ``db`` path (relative to ``root``) or a storage ``url``; never outside ``root``.

    Raises :class:`OutsideRootError` for paths and file URLs that leave the root,
    :class:`FileNotFoundError` for a ``db`` that is not a study file, ``ValueError`` when
    neither or both are given.
    """
    root = Path(root).resolve()
    if (db is None) == (url is None):
        raise ValueError("give exactly one of 'db' (a path relative to the server root) or 'url'")
    if db is not None:
        if os.path.isabs(db) or db.startswith("~"):
            raise OutsideRootError(f"{db!r} is not relative to the server root")
        path = _inside(root, root / db)
        if path.suffix not in _FILE_SUFFIXES or not path.is_file():
            raise FileNotFoundError(f"no study file {db!r}")
        return StudyLocation(root, db=path.relative_to(root).as_posix())
    assert url is not None
    if url.startswith("sqlite:///"):
        path = _inside(root, Path(url[len("sqlite:///"):]) if url[len("sqlite:///"):].startswith("/")
                       else root / url[len("sqlite:///"):])
        if not path.is_file():
            raise FileNotFoundError(f"no study file for {url!r}")
        return StudyLocation(root, db=path.relative_to(root).as_posix())
    if url.startswith("journal:") or "://" not in url:
        raw = url.split(":", 1)[1] if url.startswith("journal:") else url
        path = _inside(root, Path(raw) if os.path.isabs(raw) else root / raw)
        if path.suffix not in _FILE_SUFFIXES or not path.is_file():
            raise FileNotFoundError(f"no study file for {url!r}")
        return StudyLocation(root, db=path.relative_to(root).as_posix())
    if url.startswith(("sqlite:", "file:")):
        raise OutsideRootError(f"{url!r}: only sqlite:/// files under the server root are read")
    return StudyLocation(root, url=url)


def find_study_files(root: str | Path, *, max_depth: int = MAX_DEPTH, max_dirs: int = MAX_DIRS) -> list[str]:
    """Paths (relative, posix) of ``.jupyter_automl/studies.db`` files at most ``max_depth`` below ``root``.

    Hidden folders, ``node_modules`` and virtual environments are skipped, and the walk stops
    after ``max_dirs`` folders so a huge root never stalls the server.
    """
    root = Path(root).resolve()
    found: list[str] = []
    seen = 0
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        seen += 1
        here = Path(dirpath)
        depth = len(here.relative_to(root).parts)
        candidate = here / STUDY_FILE
        if candidate.is_file():
            found.append(candidate.relative_to(root).as_posix())
        if depth >= max_depth or seen >= max_dirs:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
    return sorted(found)


def list_all(root: str | Path, urls: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Every study under ``root`` and in ``urls``; a storage that fails is reported, not raised."""
    from jupyter_automl.storage import list_studies

    root = Path(root).resolve()
    locations = [StudyLocation(root, db=rel) for rel in find_study_files(root)]
    errors: list[dict[str, Any]] = []
    for url in urls:
        try:
            loc = locate(root, url=url)
        except (OutsideRootError, FileNotFoundError, ValueError) as exc:
            errors.append({"url": url, "message": str(exc)})
            continue
        if all(loc.as_dict() != other.as_dict() for other in locations):
            locations.append(loc)
    studies: list[dict[str, Any]] = []
    for loc in locations:
        try:
            rows = list_studies(loc.storage)
        except Exception as exc:  # one broken file must not hide the others
            errors.append({**loc.as_dict(), "message": str(exc).splitlines()[0] if str(exc) else type(exc).__name__})
            continue
        for row in rows:
            studies.append({**row, **loc.as_dict()})
    studies.sort(key=lambda s: s.get("updated") or s.get("started") or "", reverse=True)
    return {"studies": studies, "errors": errors}


def load_payload(location: StudyLocation, name: str) -> dict[str, Any]:
    """The result payload of study ``name`` (``KeyError`` when the storage has no such study)."""
    import optuna

    from jupyter_automl.report import study_payload
    from jupyter_automl.storage import redact, resolve_storage

    backend = resolve_storage(location.storage)
    backend.get_study_id_from_name(name)  # KeyError when there is no such study
    study = optuna.load_study(study_name=name, storage=backend)
    shown = location.db if location.db is not None else redact(location.url or "")
    payload = study_payload(study, storage=shown)
    payload["location"] = location.as_dict()
    return payload

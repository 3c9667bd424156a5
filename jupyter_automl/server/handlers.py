"""Tornado handlers of the REST API: read-only, authenticated, bounded, and never blocking the loop.

Every answer is JSON, errors included (``{"message": …}``): 400 for a bad parameter (a
``url=``, a value too long, a parameter given twice), 403 for a path outside the root, 404 for
an unknown name, a file that is not a study or a study that is not there, 409 for a storage of
another Optuna version, 502 for a storage that fails, 503 when the reads are all taken (with
``Retry-After``), 504 for a storage that does not answer in time.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler

from jupyter_automl.server import API_PREFIX, BOKEH_PREFIX
from jupyter_automl.server.gate import AccessGate, BusyError, DeadlineError
from jupyter_automl.server.readonly import (
    Deadline,
    NotAStudyError,
    SchemaVersionError,
    StorageTimeoutError,
    StorageUnreachableError,
)
from jupyter_automl.server.studies import OutsideRootError, StudyLocation, StudyReader, check_text
from jupyter_automl.storage import redact

__all__ = ["StudiesHandler", "StudyHandler", "SchemaHandler", "ValidateHandler", "BokehStaticHandler", "handlers"]

#: The most storages one listing may ask for.
MAX_LISTED = 32
_NO_URLS = (
    "requests cannot give a storage URL ('url=' is not accepted). Use db=<path under the server root>, "
    "or storage=<name> for a storage the server's admin configured in c.JupyterAutoML.storages"
)


_RAW_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _parameter_error(exc: Exception) -> tornado.web.HTTPError:
    """The answer to a parameter :meth:`StudyReader.locate` refused."""
    if isinstance(exc, OutsideRootError):
        return tornado.web.HTTPError(403, str(exc))
    if isinstance(exc, FileNotFoundError):
        return tornado.web.HTTPError(404, str(exc))
    return tornado.web.HTTPError(400, str(exc))


_READ_ERRORS: tuple[tuple[type[BaseException], int], ...] = (
    (BusyError, 503),
    (DeadlineError, 504),
    (StorageTimeoutError, 504),
    (NotAStudyError, 404),
    (SchemaVersionError, 409),
    (StorageUnreachableError, 502),
    (PermissionError, 403),
)


class _BaseHandler(APIHandler):
    auth_resource = "contents"  # reading studies is reading files of the server root

    def initialize(self, reader: StudyReader, gate: AccessGate) -> None:
        self.reader = reader
        self.gate = gate

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 503:
            self.set_header("Retry-After", "2")  # here: tornado clears headers before write_error
        super().write_error(status_code, **kwargs)

    def _send(self, data: Any) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(_clean(data), default=str))

    def _check_query(self) -> None:
        """No ``url=``, and no control character (tornado would turn it into a space)."""
        if "url" in self.request.query_arguments:
            raise tornado.web.HTTPError(400, _NO_URLS)
        for name, values in self.request.query_arguments.items():
            if any(_RAW_CONTROL.search(v) for v in values):
                raise tornado.web.HTTPError(
                    400, f"parameter {name[:40]!r} contains a control character"
                )

    def _single(self, name: str) -> str | None:
        values = self.get_arguments(name)
        if len(values) > 1:
            raise tornado.web.HTTPError(
                400, f"parameter {name!r} is given {len(values)} times; give it once"
            )
        return values[0] if values else None

    def _checked(self, kind: str, value: str) -> str:
        try:
            return check_text(kind, value)
        except ValueError as exc:
            raise tornado.web.HTTPError(400, str(exc)) from None

    async def _read(self, key: str, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` through the gate, with its failures turned into HTTP errors."""
        try:
            return await self.gate.run(key, self.reader.deadline.total + 1.0, fn, *args)
        except Exception as exc:
            raise self._read_error(exc) from None

    def _read_error(self, exc: Exception) -> tornado.web.HTTPError:
        for kind, code in _READ_ERRORS:
            if isinstance(exc, kind):
                return tornado.web.HTTPError(code, str(exc))
        self.log.exception("jupyter-automl: reading a storage failed", exc_info=exc)
        return tornado.web.HTTPError(
            500, f"reading the storage failed: {type(exc).__name__} (details in the server log)"
        )


class StudiesHandler(_BaseHandler):
    """``GET studies[?storage=…]``: every study under the root, plus those of the storages given."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self._check_query()
        wanted = [("storage", v) for v in self.get_arguments("storage")] + [
            ("db", v) for v in self.get_arguments("db")
        ]
        if len(wanted) > MAX_LISTED:
            raise tornado.web.HTTPError(
                400, f"{len(wanted)} storages asked for; at most {MAX_LISTED} per listing"
            )
        files: list[StudyLocation] = []
        named: list[StudyLocation] = []
        errors: list[dict[str, Any]] = []
        for kind, value in wanted:
            self._checked(kind, value)
            try:
                loc = self.reader.locate(**{kind: value})
            except (OutsideRootError, FileNotFoundError, ValueError) as exc:
                shown = redact(value)
                errors.append(
                    {
                        "db": shown if kind == "db" else None,
                        "storage": shown if kind == "storage" else None,
                        "url": None,
                        "message": str(exc),
                    }
                )
                continue
            (named if loc.storage is not None else files).append(loc)
        timeout = self.reader.deadline.total + 1.0
        named = list(dict.fromkeys(named))
        reads = [self.gate.run("the studies listing", timeout, self.reader.list_files, files)]
        end = time.monotonic() + self.reader.deadline.query / 2  # then studies are listed as partial
        reads += [
            self.gate.run(loc.key, timeout, self.reader.summaries, loc, end) for loc in named
        ]
        results = await asyncio.gather(*reads, return_exceptions=True)
        listed = results[0]
        if isinstance(listed, BaseException):
            raise self._read_error(listed) if isinstance(listed, Exception) else listed
        studies = list(listed["studies"])
        errors += listed["errors"]
        for loc, rows in zip(named, results[1:], strict=True):
            if isinstance(rows, Exception):
                errors.append({**loc.as_dict(), "message": str(rows)})
            elif isinstance(rows, BaseException):
                raise rows
            else:
                studies += rows
        studies.sort(key=lambda s: s.get("updated") or s.get("started") or "", reverse=True)
        self._send({"studies": studies, "errors": errors, "storages": self.reader.named.names})


class StudyHandler(_BaseHandler):
    """``GET studies/<name>?db=<relative path>`` or ``?storage=<name>``: the result payload."""

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self._check_query()
        name = self._checked("name", name)
        db = self._single("db")
        storage = self._single("storage")
        for kind, value in (("db", db), ("storage", storage)):
            if value is not None:
                self._checked(kind, value)
        try:
            location = self.reader.locate(db=db, storage=storage)
        except (OutsideRootError, FileNotFoundError, ValueError) as exc:
            raise _parameter_error(exc) from None
        try:
            payload = await self.gate.run(
                location.key, self.reader.deadline.total + 1.0, self.reader.payload, location, name
            )
        except KeyError:
            raise tornado.web.HTTPError(
                404, f"no study named {name!r} in {location.label}"
            ) from None
        except Exception as exc:
            raise self._read_error(exc) from None
        self._send(payload)


def schema_for_editor() -> dict[str, Any]:
    """``SearchConfig.json_schema()``, with duration strings allowed where seconds are expected."""
    from jupyter_automl.config import DURATION_UNITS, SearchConfig

    schema = SearchConfig.json_schema()
    budget = schema.get("properties", {}).get("time_budget")
    if budget is not None:
        unit = DURATION_UNITS
        number = r"(\d+(\.\d*)?|\.\d+)"
        duration = {
            "type": "string",
            "pattern": rf"^\s*{number}\s*{unit}?(\s*{number}\s*{unit})*\s*$",
            "x-expected": "a duration like '90s', '5m' or '1h30m'",
        }
        budget.setdefault("anyOf", [{"type": budget.pop("type", "number")}]).append(duration)
    return schema


class SchemaHandler(_BaseHandler):
    """``GET schema``: the JSON Schema of the ``%%automl`` options (for completion and checks)."""

    _cache: dict[str, Any] | None = None

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        if SchemaHandler._cache is None:
            SchemaHandler._cache = await self._read("the options schema", schema_for_editor)
        self._send(SchemaHandler._cache)


#: The longest ``%%automl`` body the validation call reads (a cell, not a data file).
MAX_VALIDATED = 64_000


def validate_cell(text: str, first_line: int) -> list[dict[str, Any]]:
    """Every problem the kernel would report for a ``%%automl`` body, with its place (``[]`` if none).

    The same code as the kernel's (``SearchConfig.from_yaml``), so the editor says what the
    kernel will say; it reads no data and opens no storage.
    """
    from jupyter_automl._errors import ConfigError
    from jupyter_automl.config import SearchConfig

    try:
        SearchConfig.from_yaml(text, first_line=first_line)
    except ConfigError as exc:
        return list(exc.details)
    return []


class ValidateHandler(_BaseHandler):
    """``POST validate`` with ``{"text": body, "first_line": 2}``: the kernel's problems of a ``%%automl`` body.

    A pure function of the text: it reads no file and opens no storage.
    """

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        if len(self.request.body) > MAX_VALIDATED:
            raise tornado.web.HTTPError(400, f"the text is longer than {MAX_VALIDATED} bytes; a cell body is shorter")
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, 'expected a JSON body {"text": ..., "first_line": 2}') from None
        text = body.get("text") if isinstance(body, dict) else None
        first_line = body.get("first_line", 1) if isinstance(body, dict) else None
        if not isinstance(text, str) or isinstance(first_line, bool) or not isinstance(first_line, int):
            raise tornado.web.HTTPError(
                400, 'expected {"text": <the cell body, a string>, "first_line": <an integer>}')
        problems = await asyncio.get_running_loop().run_in_executor(None, validate_cell, text, first_line)
        self._send({"problems": problems})


class BokehStaticHandler(JupyterHandler, tornado.web.StaticFileHandler):
    """BokehJS of the installed ``bokeh`` package, laid out like a Bokeh server's ``static/``."""

    auth_resource = "contents"

    def initialize(self, path: str, default_filename: str | None = None) -> None:  # type: ignore[override]
        tornado.web.StaticFileHandler.initialize(self, path, default_filename)

    @tornado.web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True) -> Any:  # type: ignore[override]
        return tornado.web.StaticFileHandler.get(self, path, include_body)

    @tornado.web.authenticated
    @authorized
    def head(self, path: str) -> Any:  # type: ignore[override]
        return tornado.web.StaticFileHandler.head(self, path)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "max-age=86400")  # versioned by the bokeh package


def _bokeh_static_dir() -> str | None:
    try:
        from bokeh.util.paths import bokehjs_path
    except ImportError:  # bokeh is optional: no route, the live view inlines (or is absent)
        return None
    return str(Path(bokehjs_path()))


def handlers(root_dir: str, options: Any) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes, relative to the base URL; ``options`` is a ``JupyterAutoML`` configurable."""
    deadline = Deadline(
        connect=options.connect_timeout, query=options.query_timeout, study=options.study_timeout
    )
    reader = StudyReader(root_dir, dict(options.storages), deadline)
    kw = {"reader": reader, "gate": AccessGate(options.max_reads, options.max_reads_per_storage)}
    routes: list[tuple[str, type, dict[str, Any]]] = [
        (f"{API_PREFIX}/studies", StudiesHandler, kw),
        (f"{API_PREFIX}/studies/(?P<name>[^/]+)", StudyHandler, kw),
        (f"{API_PREFIX}/schema", SchemaHandler, kw),
        (f"{API_PREFIX}/validate", ValidateHandler, kw),
    ]
    static = _bokeh_static_dir()
    if static is not None:
        routes.append((f"{BOKEH_PREFIX}static/(.*)", BokehStaticHandler, {"path": static}))
    return routes

"""Tornado handlers of the REST API. Read-only, authenticated, and never blocking the event loop."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler

from jupyter_automl.server import API_PREFIX, BOKEH_PREFIX
from jupyter_automl.server.studies import OutsideRootError, list_all, load_payload, locate

__all__ = ["StudiesHandler", "StudyHandler", "SchemaHandler", "BokehStaticHandler", "handlers"]

# Queries on a SQLite file or a remote database can take seconds; they run here, not on the loop.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jupyter-automl-api")


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class _BaseHandler(APIHandler):
    auth_resource = "contents"  # reading studies is reading files of the server root

    def initialize(self, root_dir: str) -> None:
        self.root_dir = root_dir

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, fn, *args)

    def _send(self, data: Any) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(_clean(data), default=str))


class StudiesHandler(_BaseHandler):
    """``GET studies``: every study under the root, plus the storages given as ``?url=``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        urls = self.get_arguments("url")
        self._send(await self._in_thread(list_all, self.root_dir, urls))


class StudyHandler(_BaseHandler):
    """``GET studies/<name>?db=<relative path>`` or ``?url=<storage URL>``: the result payload."""

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        db = self.get_argument("db", None)
        url = self.get_argument("url", None)
        try:
            location = locate(self.root_dir, db=db, url=url)
        except OutsideRootError as exc:
            raise tornado.web.HTTPError(403, str(exc)) from None
        except FileNotFoundError as exc:
            raise tornado.web.HTTPError(404, str(exc)) from None
        except ValueError as exc:
            raise tornado.web.HTTPError(400, str(exc)) from None
        try:
            payload = await self._in_thread(load_payload, location, name)
        except KeyError:
            raise tornado.web.HTTPError(404, f"no study named {name!r} in {db or url}") from None
        self._send(payload)


def schema_for_editor() -> dict[str, Any]:
    """``SearchConfig.json_schema()``, with duration strings allowed where seconds are expected."""
    from jupyter_automl.config import SearchConfig

    schema = SearchConfig.json_schema()
    budget = schema.get("properties", {}).get("time_budget")
    if budget is not None:
        unit = "(h|hr|hours?|m|min|minutes?|s|sec|seconds?)"
        number = r"(\d+(\.\d*)?|\.\d+)"
        duration = {"type": "string", "pattern": rf"^\s*{number}\s*{unit}?(\s*{number}\s*{unit})*\s*$",
                    "x-expected": "a duration like '90s', '5m' or '1h30m'"}
        budget.setdefault("anyOf", [{"type": budget.pop("type", "number")}]).append(duration)
    return schema


class SchemaHandler(_BaseHandler):
    """``GET schema``: the JSON Schema of the ``%%automl`` options (for completion and checks)."""

    _cache: dict[str, Any] | None = None

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        if SchemaHandler._cache is None:
            SchemaHandler._cache = await self._in_thread(schema_for_editor)
        self._send(SchemaHandler._cache)


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


def handlers(root_dir: str) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes, relative to the base URL."""
    kw = {"root_dir": root_dir}
    routes: list[tuple[str, type, dict[str, Any]]] = [
        (f"{API_PREFIX}/studies", StudiesHandler, kw),
        (f"{API_PREFIX}/studies/(?P<name>[^/]+)", StudyHandler, kw),
        (f"{API_PREFIX}/schema", SchemaHandler, kw),
    ]
    static = _bokeh_static_dir()
    if static is not None:
        routes.append((f"{BOKEH_PREFIX}static/(.*)", BokehStaticHandler, {"path": static}))
    return routes

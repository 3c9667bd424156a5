"""The server extension's REST API, through a real Jupyter server (pytest-jupyter's ``jp_fetch``).

The server runs under a base URL (``/a%40b/``, pytest-jupyter's default), so every route is
also checked to work below one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import tornado.httpclient

API = ("jupyter-automl", "api")


def _make_study(workdir: Path, name: str) -> None:
    import jupyter_automl as ja

    old = os.getcwd()
    os.chdir(workdir)
    try:
        ja.search(data="sklearn:iris", n_trials=2, models=["linear"], cv=2, name=name, display=False)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def study_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``root/`` with a study at its top and one two folders down; ``outside/`` beside it."""
    base = tmp_path_factory.mktemp("studies")
    root, outside = base / "root", base / "outside"
    for d in (root, root / "projects" / "deep", outside):
        d.mkdir(parents=True)
    _make_study(root, "top-study")
    _make_study(root / "projects" / "deep", "deep-study")
    _make_study(outside, "secret-study")
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    return base


@pytest.fixture
def jp_root_dir(study_tree: Path) -> Path:
    return study_tree / "root"


@pytest.fixture(autouse=True)
def _restore_bokeh_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension exports JUPYTER_AUTOML_BOKEH_ROOT into this process: undo it after each test."""
    from jupyter_automl.server import BOKEH_ROOT_ENV

    monkeypatch.setenv(BOKEH_ROOT_ENV, "")  # recorded, so teardown restores the original (absent)


@pytest.fixture
def jp_server_config() -> dict:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_automl": True}}}


async def _get_json(jp_fetch, *parts: str, **params: str) -> dict:
    response = await jp_fetch(*parts, params=params or None)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def _status(jp_fetch, *parts: str, headers: dict | None = None, **params: str) -> int:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(*parts, params=params or None, headers=headers)
    return info.value.code


async def test_list_finds_studies_under_the_root_only(jp_fetch, study_tree: Path) -> None:
    data = await _get_json(jp_fetch, *API, "studies")
    by_name = {s["name"]: s for s in data["studies"]}
    assert set(by_name) == {"top-study", "deep-study"}  # the symlinked outside folder is not walked
    top, deep = by_name["top-study"], by_name["deep-study"]
    assert top["db"] == ".jupyter_automl/studies.db"
    assert deep["db"] == "projects/deep/.jupyter_automl/studies.db"
    assert top["space"] == "tabular" and top["strategy"] == "tpe" and top["metric"] == "accuracy"
    assert top["n_trials"] == 2 and top["state"] == "finished"
    assert 0.5 < top["best_score"] <= 1.0
    assert data["errors"] == []


async def test_detail_is_the_result_payload(jp_fetch) -> None:
    data = await _get_json(jp_fetch, *API, "studies", "deep-study", db="projects/deep/.jupyter_automl/studies.db")
    assert data["version"] == "1.1"
    assert data["study"]["name"] == "deep-study"
    assert data["study"]["n_complete"] == 2
    rows = data["leaderboard"]["rows"]
    assert [r["rank"] for r in rows] == [1, 2]
    assert rows[0]["model"] == "linear" and rows[0]["score"] == data["best"]["score"]
    assert len(data["history"]) == 2
    assert "data: sklearn:iris" in data["config_text"]
    assert data["location"] == {"db": "projects/deep/.jupyter_automl/studies.db", "url": None}


async def test_detail_unknown_study_or_file_is_404(jp_fetch) -> None:
    assert await _status(jp_fetch, *API, "studies", "nope", db=".jupyter_automl/studies.db") == 404
    assert await _status(jp_fetch, *API, "studies", "top-study", db="missing/studies.db") == 404
    assert await _status(jp_fetch, *API, "studies", "top-study") == 400


@pytest.mark.parametrize("db", [
    "../outside/.jupyter_automl/studies.db",
    "projects/../../outside/.jupyter_automl/studies.db",
    "link-out/.jupyter_automl/studies.db",
    "/etc/passwd",
])
async def test_paths_outside_the_root_are_refused(jp_fetch, study_tree: Path, db: str) -> None:
    assert await _status(jp_fetch, *API, "studies", "secret-study", db=db) == 403


async def test_file_urls_outside_the_root_are_refused(jp_fetch, study_tree: Path) -> None:
    outside = study_tree / "outside" / ".jupyter_automl" / "studies.db"
    assert await _status(jp_fetch, *API, "studies", "secret-study", url=f"sqlite:///{outside}") == 403
    listed = await _get_json(jp_fetch, *API, "studies", url=f"sqlite:///{outside}")
    assert "secret-study" not in {s["name"] for s in listed["studies"]}
    assert listed["errors"] and "outside the server root" in listed["errors"][0]["message"]


async def test_added_url_under_the_root_is_listed_once(jp_fetch, study_tree: Path) -> None:
    inside = study_tree / "root" / "projects" / "deep" / ".jupyter_automl" / "studies.db"
    listed = await _get_json(jp_fetch, *API, "studies", url=f"sqlite:///{inside}")
    assert sorted(s["name"] for s in listed["studies"]) == ["deep-study", "top-study"]
    data = await _get_json(jp_fetch, *API, "studies", "deep-study", url=f"sqlite:///{inside}")
    assert data["study"]["name"] == "deep-study"


async def test_schema_has_every_option_and_accepts_durations(jp_fetch) -> None:
    import re

    from jupyter_automl.config import SearchConfig

    schema = await _get_json(jp_fetch, *API, "schema")
    assert set(schema["properties"]) == set(SearchConfig.model_fields)
    assert "tpe" in schema["properties"]["strategy"]["enum"]
    budget = schema["properties"]["time_budget"]["anyOf"]
    pattern = next(b["pattern"] for b in budget if b.get("type") == "string")
    assert re.match(pattern, "1h30m") and re.match(pattern, "90s") and not re.match(pattern, "soon")


@pytest.mark.parametrize("parts", [
    (*API, "studies"),
    (*API, "studies", "top-study"),
    (*API, "schema"),
])
async def test_no_token_is_403(jp_fetch, parts: tuple[str, ...]) -> None:
    # an empty Authorization header replaces the fixture's token; no cookie either
    assert await _status(jp_fetch, *parts, headers={"Authorization": ""}, db=".jupyter_automl/studies.db") == 403


async def test_bokehjs_needs_a_login(jp_fetch) -> None:
    # a page resource, not an API: without a token it redirects to the login page
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("jupyter-automl", "bokeh", "static", "js", "bokeh.min.js",
                       headers={"Authorization": ""}, follow_redirects=False)
    assert info.value.code == 302 and "/login" in info.value.response.headers["Location"]


async def test_bokehjs_is_served_from_the_bokeh_package(jp_fetch) -> None:
    from bokeh.util.paths import bokehjs_path

    response = await jp_fetch("jupyter-automl", "bokeh", "static", "js", "bokeh.min.js")
    assert response.code == 200
    assert response.body == (Path(bokehjs_path()) / "js" / "bokeh.min.js").read_bytes()
    assert await _status(jp_fetch, "jupyter-automl", "bokeh", "static", "..", "..", "__init__.py") in (403, 404)


async def test_handlers_run_queries_off_the_event_loop(jp_fetch, jp_serverapp, monkeypatch) -> None:
    """A slow storage must not stall the server: a second request is answered meanwhile."""
    import asyncio
    import threading

    from jupyter_automl.server import handlers

    release = threading.Event()
    entered = threading.Event()
    real = handlers.list_all

    def slow_list_all(*args, **kwargs):
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(handlers, "list_all", slow_list_all)
    slow = asyncio.ensure_future(jp_fetch(*API, "studies"))
    await asyncio.get_running_loop().run_in_executor(None, entered.wait, 30)
    fast = await jp_fetch("api", "status")  # served while the listing is still blocked
    assert fast.code == 200 and not slow.done()
    release.set()
    assert (await slow).code == 200


def test_outside_root_checks_without_a_server(tmp_path: Path) -> None:
    from jupyter_automl.server.studies import OutsideRootError, find_study_files, locate

    (tmp_path / "a" / "b" / "c" / "d" / "e" / ".jupyter_automl").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "d" / "e" / ".jupyter_automl" / "studies.db").touch()
    (tmp_path / "a" / ".jupyter_automl").mkdir()
    (tmp_path / "a" / ".jupyter_automl" / "studies.db").touch()
    assert find_study_files(tmp_path) == ["a/.jupyter_automl/studies.db"]  # depth-limited
    assert find_study_files(tmp_path, max_depth=6) == [
        "a/.jupyter_automl/studies.db", "a/b/c/d/e/.jupyter_automl/studies.db"]
    with pytest.raises(OutsideRootError):
        locate(tmp_path / "a", db="../a/../../x.db")
    with pytest.raises(OutsideRootError):
        locate(tmp_path, url="sqlite:////etc/x.db")
    with pytest.raises(FileNotFoundError):
        locate(tmp_path, db="a/notes.txt")
    assert locate(tmp_path, url="postgresql://u:p@db/x").url == "postgresql://u:p@db/x"
    shutil.rmtree(tmp_path / "a")


def test_bokeh_resources_follow_the_server_extension() -> None:
    """Kernels started elsewhere (nbclient, a server without the extension) inline BokehJS."""
    from jupyter_automl.server.bokeh_resources import bokeh_resources, served_bokeh_root

    assert bokeh_resources(environ={}).mode == "inline"
    env = {"JUPYTER_AUTOML_BOKEH_ROOT": "/user/ann/jupyter-automl/bokeh"}
    assert served_bokeh_root(env) == "/user/ann/jupyter-automl/bokeh/"
    served = bokeh_resources(environ=env)
    assert served.mode == "server"
    assert served.js_files[0] == "/user/ann/jupyter-automl/bokeh/static/js/bokeh.min.js"
    assert bokeh_resources(environ={**env, "JUPYTER_AUTOML_BOKEH": "inline"}).mode == "inline"


async def test_kernels_of_the_server_learn_where_bokehjs_is(jp_serverapp) -> None:
    from jupyter_automl.server import BOKEH_ROOT_ENV

    assert os.environ[BOKEH_ROOT_ENV] == "/a%40b/jupyter-automl/bokeh/"


def test_the_bokeh_root_does_not_leak_out_of_server_tests() -> None:
    from jupyter_automl.server import BOKEH_ROOT_ENV

    assert not os.environ.get(BOKEH_ROOT_ENV)

"""The server extension's REST API, through a real Jupyter server (pytest-jupyter's ``jp_fetch``).

The server runs under a base URL (``/a%40b/``, pytest-jupyter's default), so every route is
also checked to work below one. The probes of issue #12 are here as tests: nothing is written
(hash and journal mode of a plain SQLite file, an empty PostgreSQL database), no connection a
request names (a listening socket that would see one), nothing outside the root (links), no
lock-up (a storage that accepts connections and never answers), no 500 for bad parameters, and
a server process that stops on SIGTERM while a request waits for a storage.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import tornado.httpclient

from jupyter_automl._errors import ConfigError
from jupyter_automl.config import SearchConfig

API = ("jupyter-automl", "api")
SECRET = "hunter2"  # a password that must never reach a client


def _make_study(workdir: Path, name: str, storage: str | None = None) -> None:
    import jupyter_automl as ja

    old = os.getcwd()
    os.chdir(workdir)
    try:
        ja.search(
            data="sklearn:iris",
            n_trials=2,
            models=["linear"],
            cv=2,
            name=name,
            display=False,
            **({"storage": storage} if storage else {}),
        )
    finally:
        os.chdir(old)


def _plain_files(folder: Path) -> None:
    """Storages written by Optuna itself (no WAL), and files that are not studies."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    folder.mkdir()
    for storage in (
        f"sqlite:///{folder / 'optuna.db'}",
        JournalStorage(JournalFileBackend(str(folder / "study.log"))),
    ):
        study = optuna.create_study(study_name="plain-study", storage=storage)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    shutil.copy(
        folder / "optuna.db", folder / "old.db"
    )  # as an Optuna before alembic would have left it
    con = sqlite3.connect(folder / "old.db")
    con.execute("UPDATE alembic_version SET version_num = 'v0.9.0.a'")
    con.commit()
    con.close()
    con = sqlite3.connect(folder / "precious.db")
    con.execute("CREATE TABLE notes (body TEXT)")
    con.execute("INSERT INTO notes VALUES ('mine')")
    con.commit()
    con.close()
    (folder / "notes.db").write_text("not a database\n")
    (folder / "notes.log").write_text("a log of my own\n")


@pytest.fixture(scope="module")
def study_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``root/`` with studies at its top, two folders down and in a hidden folder; ``outside/``
    beside it, reached from the root by links to its folder, its ``.jupyter_automl`` and its file."""
    base = tmp_path_factory.mktemp("studies")
    root, outside = base / "root", base / "outside"
    for d in (
        root,
        root / "projects" / "deep",
        root / ".hidden",
        outside,
        root / "linked",
        root / "filelink" / ".jupyter_automl",
    ):
        d.mkdir(parents=True)
    _make_study(root, "top-study")
    _make_study(root / "projects" / "deep", "deep-study")
    _make_study(root / ".hidden", "hidden-study")
    _make_study(outside, "secret-study")
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    (root / "linked" / ".jupyter_automl").symlink_to(
        outside / ".jupyter_automl", target_is_directory=True
    )
    (root / "filelink" / ".jupyter_automl" / "studies.db").symlink_to(
        outside / ".jupyter_automl" / "studies.db"
    )
    _plain_files(root / "plain")
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
def storages() -> dict[str, str]:
    """``c.JupyterAutoML.storages`` of the test's server (none unless a test overrides it)."""
    return {}


@pytest.fixture
def automl_options() -> dict:
    """Other ``c.JupyterAutoML`` options of the test's server."""
    return {"connect_timeout": 2.0, "query_timeout": 5.0}


@pytest.fixture
def jp_server_config(storages: dict[str, str], automl_options: dict) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_automl": True}},
        "JupyterAutoML": {"storages": storages, **automl_options},
    }


@pytest.fixture
def silent_socket():
    """A port on 127.0.0.1 that completes TCP handshakes (the kernel's backlog) and never answers.

    ``pending(timeout)`` says whether a client has connected: a test waits on it (no sleeps) to
    know a request reached the storage, or asserts it stays false to prove none was made.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)

    def pending(timeout: float = 0.0) -> bool:
        return bool(select.select([sock], [], [], timeout)[0])

    yield sock.getsockname()[1], pending
    sock.close()


def _silent_url(port: int) -> str:
    return f"postgresql://automl:{SECRET}@127.0.0.1:{port}/automl"


async def _get_json(jp_fetch, *parts: str, **params: str) -> dict:
    response = await jp_fetch(*parts, params=params or None)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.body.decode()
    assert SECRET not in body
    return json.loads(body)


async def _error(
    jp_fetch, *parts: str, headers: dict | None = None, **params: str
) -> tuple[int, dict]:
    """The status and JSON body of a request that must fail."""
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(*parts, params=params or None, headers=headers)
    response = info.value.response
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.body.decode()
    assert SECRET not in body
    return info.value.code, json.loads(body)


async def _status(jp_fetch, *parts: str, headers: dict | None = None, **params: str) -> int:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(*parts, params=params or None, headers=headers)
    return info.value.code


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` (names included: a new -wal or -journal file shows) → sha256.

    Folders (the searches' ``.studies.db.locks``) are listed by name, with what they hold.
    """
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.rglob("*"))
    }


def _journal_mode(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()


# ------------------------------------------------------------------------------- listing
async def test_list_finds_studies_under_the_root_only(jp_fetch, study_tree: Path) -> None:
    data = await _get_json(jp_fetch, *API, "studies")
    by_name = {s["name"]: s for s in data["studies"]}
    # not the hidden folder's, not the ones reached through links out of the root
    assert set(by_name) == {"top-study", "deep-study"}
    top, deep = by_name["top-study"], by_name["deep-study"]
    assert (
        top["db"] == ".jupyter_automl/studies.db" and top["storage"] is None and top["url"] is None
    )
    assert deep["db"] == "projects/deep/.jupyter_automl/studies.db"
    assert top["space"] == "tabular" and top["strategy"] == "tpe" and top["metric"] == "accuracy"
    assert top["n_trials"] == 2 and top["state"] == "finished"
    assert 0.5 < top["best_score"] <= 1.0
    assert data["errors"] == [] and data["storages"] == []


@pytest.mark.parametrize(
    "db",
    [
        "linked/.jupyter_automl/studies.db",  # a linked .jupyter_automl folder
        "filelink/.jupyter_automl/studies.db",  # a linked study file
        "link-out/.jupyter_automl/studies.db",  # a linked folder
        ".hidden/.jupyter_automl/studies.db",  # a hidden folder inside the root
    ],
)
async def test_links_out_of_the_root_and_hidden_folders_are_neither_listed_nor_read(
    jp_fetch, db: str
) -> None:
    listed = await _get_json(jp_fetch, *API, "studies")
    assert not {"secret-study", "hidden-study"} & {s["name"] for s in listed["studies"]}
    code, body = await _error(jp_fetch, *API, "studies", "secret-study", db=db)
    assert code == 403 and (
        "outside the server root" in body["message"] or "hidden folder" in body["message"]
    )
    added = await _get_json(jp_fetch, *API, "studies", storage=db)  # the sidebar's "add a storage"
    assert not {"secret-study", "hidden-study"} & {s["name"] for s in added["studies"]}
    assert len(added["errors"]) == 1 and added["errors"][0]["db"] is None


async def test_a_study_file_added_by_path_is_listed_once(jp_fetch) -> None:
    listed = await _get_json(
        jp_fetch, *API, "studies", storage="projects/deep/.jupyter_automl/studies.db"
    )
    assert sorted(s["name"] for s in listed["studies"]) == ["deep-study", "top-study"]
    listed = await _get_json(
        jp_fetch, *API, "studies", storage="plain/study.log", db="plain/optuna.db"
    )
    plain = sorted((s["name"], s["db"]) for s in listed["studies"] if s["name"] == "plain-study")
    assert plain == [("plain-study", "plain/optuna.db"), ("plain-study", "plain/study.log")]
    assert listed["errors"] == []


# -------------------------------------------------------------------------------- detail
async def test_detail_is_the_result_payload(jp_fetch) -> None:
    data = await _get_json(
        jp_fetch, *API, "studies", "deep-study", db="projects/deep/.jupyter_automl/studies.db"
    )
    assert data["version"] == "1.3"
    assert data["study"]["name"] == "deep-study"
    assert data["study"]["n_complete"] == 2
    rows = data["leaderboard"]["rows"]
    assert [r["rank"] for r in rows] == [1, 2]
    assert rows[0]["model"] == "linear" and rows[0]["score"] == data["best"]["score"]
    assert len(data["history"]) == 2
    assert "data: sklearn:iris" in data["config_text"]
    assert data["location"] == {
        "db": "projects/deep/.jupyter_automl/studies.db",
        "storage": None,
        "url": None,
    }
    same = await _get_json(
        jp_fetch, *API, "studies", "deep-study", storage="projects/deep/.jupyter_automl/studies.db"
    )
    assert same["location"] == data["location"]


async def test_unknown_study_file_or_name_is_404(jp_fetch) -> None:
    code, body = await _error(jp_fetch, *API, "studies", "nope", db=".jupyter_automl/studies.db")
    assert (
        code == 404 and body["message"] == "no study named 'nope' in '.jupyter_automl/studies.db'"
    )
    code, body = await _error(jp_fetch, *API, "studies", "top-study", db="missing/studies.db")
    assert code == 404 and "no study file 'missing/studies.db'" in body["message"]
    code, body = await _error(jp_fetch, *API, "studies", "top-study", storage="team")
    assert code == 404 and "no storage named 'team': configured names are (none)" in body["message"]
    code, body = await _error(jp_fetch, *API, "studies", "top-study")
    assert code == 400 and "give exactly one of 'db'" in body["message"]


@pytest.mark.parametrize(
    "db",
    [
        "../outside/.jupyter_automl/studies.db",
        "projects/../../outside/.jupyter_automl/studies.db",
        "/etc/passwd",
        "~/studies.db",
    ],
)
async def test_paths_outside_the_root_are_refused(jp_fetch, db: str) -> None:
    code, body = await _error(jp_fetch, *API, "studies", "secret-study", db=db)
    assert code == 403 and "server root" in body["message"]


# ------------------------------------------------------------------------- nothing written
@pytest.mark.parametrize("name", ["optuna.db", "study.log"])
async def test_reading_a_plain_storage_changes_no_byte(
    jp_fetch, study_tree: Path, name: str
) -> None:
    plain = study_tree / "root" / "plain"
    before = _fingerprint(plain)
    assert _journal_mode(plain / "optuna.db") == "delete"  # Optuna's own file, not switched to WAL
    for _ in range(2):
        listed = await _get_json(jp_fetch, *API, "studies", storage=f"plain/{name}")
        assert [s["n_trials"] for s in listed["studies"] if s["db"] == f"plain/{name}"] == [2]
        data = await _get_json(jp_fetch, *API, "studies", "plain-study", db=f"plain/{name}")
        assert data["study"]["n_complete"] == 2
    assert _fingerprint(plain) == before  # same bytes, and no -wal, -shm, -journal or .lock file
    assert _journal_mode(plain / "optuna.db") == "delete"


@pytest.mark.parametrize("name", ["precious.db", "notes.db", "notes.log"])
async def test_a_file_that_is_not_a_study_is_404_and_untouched(
    jp_fetch, study_tree: Path, name: str
) -> None:
    plain = study_tree / "root" / "plain"
    before = _fingerprint(plain)
    code, body = await _error(jp_fetch, *API, "studies", "plain-study", db=f"plain/{name}")
    assert code == 404 and body["message"].startswith(f"'plain/{name}' is not a study")
    listed = await _get_json(jp_fetch, *API, "studies", storage=f"plain/{name}")
    assert [e["db"] for e in listed["errors"]] == [f"plain/{name}"]
    assert "is not a study" in listed["errors"][0]["message"]
    assert _fingerprint(plain) == before
    con = sqlite3.connect(f"file:{plain / 'precious.db'}?mode=ro", uri=True)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == [
        "notes"
    ]  # no Optuna table added
    con.close()


async def test_a_storage_of_another_optuna_version_is_409_and_not_upgraded(
    jp_fetch, study_tree: Path
) -> None:
    plain = study_tree / "root" / "plain"
    before = _fingerprint(plain)
    code, body = await _error(jp_fetch, *API, "studies", "plain-study", db="plain/old.db")
    assert code == 409 and body["message"].startswith("'plain/old.db': The runtime optuna version")
    assert "optuna storage upgrade" in body["message"]
    assert _fingerprint(plain) == before


# ------------------------------------------------------------------- no URL from a request
async def test_a_url_parameter_is_refused_without_any_connection(jp_fetch, silent_socket) -> None:
    port, pending = silent_socket
    url = _silent_url(port)
    code, body = await _error(jp_fetch, *API, "studies", url=url)
    assert code == 400 and "requests cannot give a storage URL" in body["message"]
    assert "c.JupyterAutoML.storages" in body["message"]
    code, _ = await _error(jp_fetch, *API, "studies", "top-study", url=url)
    assert code == 400
    code, _ = await _error(
        jp_fetch, *API, "studies", "top-study", url=f"sqlite:///{Path.cwd()}/x.db"
    )
    assert code == 400
    code, body = await _error(
        jp_fetch, *API, "studies", "top-study", storage=url
    )  # a URL where a name goes
    assert code == 400 and "is a storage URL" in body["message"] and "***" in body["message"]
    listed = await _get_json(jp_fetch, *API, "studies", storage=url)
    assert "is a storage URL" in listed["errors"][0]["message"]
    assert not pending(0.2)  # nobody connected to the port


# ----------------------------------------------------------------------- bad parameters
@pytest.mark.parametrize(
    "params",
    [
        {"db": "a" * 5000},
        {"storage": "b" * 5000},
        {"db": "x\x00.db"},
        {"db": "   "},
    ],
)
async def test_bad_parameters_are_400_not_500(jp_fetch, params: dict) -> None:
    code, body = await _error(jp_fetch, *API, "studies", "top-study", **params)
    assert code == 400 and body["message"].startswith("parameter ")
    code, body = await _error(jp_fetch, *API, "studies", **params)
    assert code == 400 and body["message"].startswith("parameter ")


async def test_a_long_study_name_or_a_repeated_parameter_is_400(jp_fetch) -> None:
    code, body = await _error(
        jp_fetch, *API, "studies", "n" * 5000, db=".jupyter_automl/studies.db"
    )
    assert (
        code == 400
        and body["message"] == "parameter 'name' is 5000 characters long; at most 512 are accepted"
    )
    twice = [("db", ".jupyter_automl/studies.db"), ("db", "plain/optuna.db")]
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(*API, "studies", "top-study", params=twice)
    assert (
        info.value.code == 400
        and b"parameter 'db' is given 2 times; give it once" in info.value.response.body
    )
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(*API, "studies", params=[("db", f"plain/{i}.db") for i in range(40)])
    assert info.value.code == 400 and b"at most 32 per listing" in info.value.response.body


# ------------------------------------------------------------------- named PostgreSQL storage
@pytest.fixture(scope="module")
def team_databases(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two databases of the test cluster: ``team`` with a study, ``empty`` with no table at all."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(postgres_url)
    if base.password is None:
        base = base.set(password=SECRET)  # the cluster trusts local users: any password passes
    con = psycopg.connect(
        host=base.host,
        port=base.port,
        user=base.username,
        dbname=base.database,
        password=base.password,
    )
    con.autocommit = True
    with con.cursor() as cur:
        for db in ("ja_server_team", "ja_server_empty"):
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
            cur.execute(f"CREATE DATABASE {db}")
    con.close()
    urls = {
        name: base.set(database=f"ja_server_{name}").render_as_string(hide_password=False)
        for name in ("team", "empty")
    }
    _make_study(tmp_path_factory.mktemp("team"), "team-study", storage=urls["team"])
    return urls


def _public_tables(url: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as con:
        n = con.execute(
            sqlalchemy.text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ).scalar_one()
    engine.dispose()
    return n


@pytest.mark.postgres
class TestNamedPostgreSQLStorage:
    @pytest.fixture
    def storages(self, team_databases: dict[str, str]) -> dict[str, str]:
        return team_databases

    async def test_a_named_storage_is_listed_and_read_by_name(self, jp_fetch) -> None:
        listed = await _get_json(jp_fetch, *API, "studies", storage="team")
        assert listed["storages"] == ["empty", "team"]  # names only: the URLs stay on the server
        team = [s for s in listed["studies"] if s["storage"] == "team"]
        assert [(s["name"], s["db"], s["url"], s["n_trials"]) for s in team] == [
            ("team-study", None, None, 2)
        ]
        data = await _get_json(jp_fetch, *API, "studies", "team-study", storage="team")
        assert data["study"]["name"] == "team-study" and data["study"]["storage"] == "team"
        assert data["location"] == {"db": None, "storage": "team", "url": None}
        assert data["config"]["storage"].startswith(
            "postgresql://postgres:***@"
        )  # the study's own option
        code, body = await _error(jp_fetch, *API, "studies", "nope", storage="team")
        assert code == 404 and body["message"] == "no study named 'nope' in storage 'team'"

    async def test_a_database_without_optuna_tables_is_not_a_study_and_stays_empty(
        self, jp_fetch, storages
    ) -> None:
        code, body = await _error(jp_fetch, *API, "studies", "team-study", storage="empty")
        assert code == 404 and body["message"].startswith("storage 'empty' is not a study")
        listed = await _get_json(jp_fetch, *API, "studies", storage="empty")
        assert [(e["storage"], e["message"][:27]) for e in listed["errors"]] == [
            ("empty", "storage 'empty' is not a st")
        ]
        assert _public_tables(storages["empty"]) == 0  # no Optuna schema was created


# ----------------------------------------------------------------------------- no lock-up
class TestHangingStorage:
    @pytest.fixture
    def storages(self, silent_socket) -> dict[str, str]:
        return {"hang": _silent_url(silent_socket[0])}

    async def test_four_requests_on_a_hanging_storage_leave_the_api_answering(
        self, jp_fetch, silent_socket
    ) -> None:
        _, pending = silent_socket
        await _get_json(jp_fetch, *API, "studies")  # warm: imports, Optuna's schema head (once)
        t0 = time.monotonic()
        hung = [
            asyncio.ensure_future(_error(jp_fetch, *API, "studies", "x", storage="hang"))
            for _ in range(4)
        ]
        assert await asyncio.get_running_loop().run_in_executor(
            None, pending, 30
        )  # the server is connecting
        t1 = time.monotonic()
        listed = await _get_json(jp_fetch, *API, "studies")
        assert time.monotonic() - t1 < 1.0
        assert {s["name"] for s in listed["studies"]} == {"top-study", "deep-study"}
        outcomes = await asyncio.gather(*hung)
        took = time.monotonic() - t0
        codes = sorted(code for code, _ in outcomes)
        assert codes == [
            503,
            503,
            504,
            504,
        ]  # two slots per storage: two wait for it, two are refused at once
        messages = {code: body["message"] for code, body in outcomes}
        assert (
            messages[503]
            == "storage 'hang' is busy (2 reads still waiting for it); try again shortly"
        )
        assert messages[504] == "storage 'hang' did not answer within 7 s"
        assert took < 10  # the 2 s connect timeout, not for ever

    async def test_a_listing_reports_a_hanging_storage_and_lists_the_rest(self, jp_fetch) -> None:
        listed = await _get_json(jp_fetch, *API, "studies", storage="hang")
        assert {s["name"] for s in listed["studies"]} == {"top-study", "deep-study"}
        assert listed["errors"] == [
            {
                "db": None,
                "storage": "hang",
                "url": None,
                "message": "storage 'hang' did not answer within 7 s",
            }
        ]


class TestFullPool:
    @pytest.fixture
    def storages(self, silent_socket) -> dict[str, str]:
        return {"hang": _silent_url(silent_socket[0])}

    @pytest.fixture
    def automl_options(self) -> dict:
        return {"connect_timeout": 2.0, "query_timeout": 5.0, "max_reads": 2}

    async def test_a_request_beyond_the_bound_is_503_at_once(self, jp_fetch, silent_socket) -> None:
        _, pending = silent_socket
        hung = [
            asyncio.ensure_future(_error(jp_fetch, *API, "studies", "x", storage="hang"))
            for _ in range(2)
        ]
        assert await asyncio.get_running_loop().run_in_executor(None, pending, 30)
        t0 = time.monotonic()
        with pytest.raises(tornado.httpclient.HTTPClientError) as info:
            await jp_fetch(
                *API, "studies", "top-study", params={"db": ".jupyter_automl/studies.db"}
            )
        assert time.monotonic() - t0 < 1.0
        assert info.value.code == 503 and info.value.response.headers["Retry-After"] == "2"
        assert json.loads(info.value.response.body)["message"].startswith(
            "the studies API is busy (2 storage reads"
        )
        assert sorted(code for code, _ in await asyncio.gather(*hung)) == [504, 504]
        data = await _get_json(
            jp_fetch, *API, "studies", "top-study", db=".jupyter_automl/studies.db"
        )
        assert data["study"]["name"] == "top-study"  # the slots are free again


class TestNamedFiles:
    """An admin may also name a study file, anywhere (the admin chose it), or a journal."""

    @pytest.fixture
    def storages(self, study_tree: Path) -> dict[str, str]:
        return {
            "archive": f"sqlite:///{study_tree / 'outside' / '.jupyter_automl' / 'studies.db'}",
            "journal": f"journal:{study_tree / 'root' / 'plain' / 'study.log'}",
        }

    async def test_named_files_are_read_by_name(self, jp_fetch, study_tree: Path) -> None:
        outside = study_tree / "outside" / ".jupyter_automl"
        before = _fingerprint(outside)
        response = await jp_fetch(
            *API, "studies", params=[("storage", "archive"), ("storage", "journal")]
        )
        listed = json.loads(response.body)
        named = sorted((s["storage"], s["name"]) for s in listed["studies"] if s["storage"])
        assert named == [("archive", "secret-study"), ("journal", "plain-study")]
        assert str(study_tree) not in response.body.decode()  # names, not paths
        data = await _get_json(jp_fetch, *API, "studies", "secret-study", storage="archive")
        assert data["study"]["n_complete"] == 2
        assert {
            k: v for k, v in _fingerprint(outside).items() if not k.endswith(("-wal", "-shm"))
        } == {k: v for k, v in before.items() if not k.endswith(("-wal", "-shm"))}


class TestBrokenStorages:
    @pytest.fixture
    def storages(self) -> dict[str, str]:
        with socket.socket() as s:  # a port nobody listens on once closed
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        return {
            "down": _silent_url(closed),
            "shop": f"mysql+pymysql://shop:{SECRET}@127.0.0.1:{closed}/shop",
            "odd": f"postgresql+nodriver://u:{SECRET}@127.0.0.1:{closed}/x",
        }

    async def test_a_storage_that_fails_is_a_502_naming_it_not_its_url(self, jp_fetch) -> None:
        code, body = await _error(jp_fetch, *API, "studies", "x", storage="down")
        assert code == 502
        assert (
            body["message"]
            == "storage 'down' cannot be read: OperationalError (details in the server log)"
        )
        code, body = await _error(jp_fetch, *API, "studies", "x", storage="shop")
        assert code == 502
        if importlib.util.find_spec("pymysql") is None:
            assert body["message"] == "storage 'shop' needs the 'pymysql' package on the server"
        code, body = await _error(jp_fetch, *API, "studies", "x", storage="odd")
        assert code == 502 and body["message"].startswith(
            "storage 'odd' has a URL this server cannot open"
        )
        response = await jp_fetch(
            *API, "studies", params=[("storage", n) for n in ("down", "shop", "odd")]
        )
        listed = json.loads(response.body)
        assert [e["storage"] for e in listed["errors"]] == ["down", "shop", "odd"]
        assert "127.0.0.1" not in response.body.decode() and SECRET not in response.body.decode()


# --------------------------------------------------------------------------- SIGTERM
def test_the_server_stops_on_sigterm_with_a_request_waiting_for_a_storage(
    study_tree: Path, tmp_path: Path, silent_socket
) -> None:
    """A real ``jupyter server`` process, configured as the README tells an admin to."""
    port, pending = silent_socket
    config = tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.py").write_text(
        'c.ServerApp.jpserver_extensions = {"jupyter_automl": True}\n'
        f'c.JupyterAutoML.storages = {{"team": "{_silent_url(port)}"}}\n'
        "c.JupyterAutoML.connect_timeout = 120  # the request stays in flight for the whole test\n"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        http_port = s.getsockname()[1]
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={http_port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=t0k",
        f"--ServerApp.root_dir={study_tree / 'root'}",
    ]
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait_until_up(proc, f"{base}/api/status?token=t0k", log)
        with urllib.request.urlopen(
            f"{base}/jupyter-automl/api/studies?token=t0k", timeout=30
        ) as r:
            assert json.load(r)["storages"] == ["team"]
        answers: list[object] = []

        def request() -> None:
            try:
                urllib.request.urlopen(
                    f"{base}/jupyter-automl/api/studies/x?storage=team&token=t0k", timeout=60
                )
            except (urllib.error.URLError, OSError) as exc:  # the server went away under it
                answers.append(exc)

        client = threading.Thread(target=request, daemon=True)
        client.start()
        assert pending(30)  # the request is in flight: the server is connecting to the storage
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        assert time.monotonic() - t0 < 10, log.read_text()[-2000:]
        assert rc == 0 or rc == -signal.SIGTERM
        client.join(30)
        assert not client.is_alive()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen, url: str, log: Path) -> None:
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter server died: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() - t0 > 60:
                raise TimeoutError(
                    f"jupyter server did not come up: {log.read_text()[-2000:]}"
                ) from None
            time.sleep(0.2)  # polling a server that is starting, not synchronising the test


# -------------------------------------------------------------------------- the rest
async def test_schema_has_every_option_and_accepts_durations(jp_fetch) -> None:
    import re

    from jupyter_automl.config import SearchConfig

    schema = await _get_json(jp_fetch, *API, "schema")
    assert set(schema["properties"]) == set(SearchConfig.model_fields)
    assert "tpe" in schema["properties"]["strategy"]["enum"]
    budget = schema["properties"]["time_budget"]["anyOf"]
    pattern = next(b["pattern"] for b in budget if b.get("type") == "string")
    assert re.match(pattern, "1h30m") and re.match(pattern, "90s") and not re.match(pattern, "soon")


async def test_validate_gives_the_kernels_problems_and_touches_nothing(jp_fetch, jp_root_dir) -> None:
    """The editor's validation call: every problem of a body, in the kernel's words, with its place."""
    body = "strategy: tpee\ncv: 3\ncv: 4\ntime_budgt: 30s\nstorage: sqlite:///made.db\n"
    before = sorted(p.name for p in Path(jp_root_dir).rglob("*"))
    response = await jp_fetch(*API, "validate", method="POST", body=json.dumps({"text": body, "first_line": 2}))
    problems = json.loads(response.body)["problems"]
    with pytest.raises(ConfigError) as info:
        SearchConfig.from_yaml(body, first_line=2)
    assert [p["message"] for p in problems] == info.value.problems
    assert [(p["line"], body[p["start"]:p["end"]]) for p in problems] == [(2, "tpee"), (4, "cv"), (5, "time_budgt")]
    assert "did you mean 'time_budget'?" in problems[2]["message"]
    assert sorted(p.name for p in Path(jp_root_dir).rglob("*")) == before  # no storage made or opened
    ok = await jp_fetch(*API, "validate", method="POST", body=json.dumps({"text": "data: sklearn:iris\n"}))
    assert json.loads(ok.body) == {"problems": []}
    for bad in (b"not json", json.dumps({"text": 3}).encode(), json.dumps({"text": "x" * 70_000}).encode()):
        with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
            await jp_fetch(*API, "validate", method="POST", body=bad)
        assert refused.value.code == 400 and "message" in json.loads(refused.value.response.body)


@pytest.mark.parametrize(
    "parts",
    [
        (*API, "studies"),
        (*API, "studies", "top-study"),
        (*API, "schema"),
    ],
)
async def test_no_token_is_403(jp_fetch, parts: tuple[str, ...]) -> None:
    # an empty Authorization header replaces the fixture's token; no cookie either
    assert (
        await _status(
            jp_fetch, *parts, headers={"Authorization": ""}, db=".jupyter_automl/studies.db"
        )
        == 403
    )


async def test_bokehjs_needs_a_login(jp_fetch) -> None:
    # a page resource, not an API: without a token it redirects to the login page
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(
            "jupyter-automl",
            "bokeh",
            "static",
            "js",
            "bokeh.min.js",
            headers={"Authorization": ""},
            follow_redirects=False,
        )
    assert info.value.code == 302 and "/login" in info.value.response.headers["Location"]


async def test_bokehjs_is_served_from_the_bokeh_package(jp_fetch) -> None:
    from bokeh.util.paths import bokehjs_path

    response = await jp_fetch("jupyter-automl", "bokeh", "static", "js", "bokeh.min.js")
    assert response.code == 200
    assert response.body == (Path(bokehjs_path()) / "js" / "bokeh.min.js").read_bytes()
    assert await _status(
        jp_fetch, "jupyter-automl", "bokeh", "static", "..", "..", "__init__.py"
    ) in (403, 404)


async def test_handlers_run_queries_off_the_event_loop(jp_fetch, monkeypatch) -> None:
    """A slow storage must not stall the server: a second request is answered meanwhile."""
    from jupyter_automl.server.studies import StudyReader

    release = threading.Event()
    entered = threading.Event()
    real = StudyReader.list_files

    def slow_list_files(self, *args, **kwargs):
        entered.set()
        release.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StudyReader, "list_files", slow_list_files)
    slow = asyncio.ensure_future(jp_fetch(*API, "studies"))
    await asyncio.get_running_loop().run_in_executor(None, entered.wait, 30)
    fast = await jp_fetch("api", "status")  # served while the listing is still blocked
    assert fast.code == 200 and not slow.done()
    release.set()
    assert (await slow).code == 200


def test_path_checks_without_a_server(tmp_path: Path) -> None:
    from jupyter_automl.server.studies import OutsideRootError, StudyReader, find_study_files

    (tmp_path / "a" / "b" / "c" / "d" / "e" / ".jupyter_automl").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "d" / "e" / ".jupyter_automl" / "studies.db").touch()
    (tmp_path / "a" / ".jupyter_automl").mkdir()
    (tmp_path / "a" / ".jupyter_automl" / "studies.db").touch()
    assert find_study_files(tmp_path) == ["a/.jupyter_automl/studies.db"]  # depth-limited
    assert find_study_files(tmp_path, max_depth=6) == [
        "a/.jupyter_automl/studies.db",
        "a/b/c/d/e/.jupyter_automl/studies.db",
    ]
    reader = StudyReader(tmp_path / "a", {"team": "postgresql://u:p@db/x"})
    with pytest.raises(OutsideRootError, match="is outside the server root"):
        reader.locate(db="../a/../../x.db")
    with pytest.raises(ValueError, match=r"is a storage URL: requests cannot name URLs"):
        reader.locate(storage="sqlite:////etc/x.db")
    with pytest.raises(FileNotFoundError, match="no study file 'notes.txt'"):
        reader.locate(db="notes.txt")
    with pytest.raises(
        FileNotFoundError, match="no storage named 'tema': configured names are team"
    ):
        reader.locate(storage="tema")
    assert reader.locate(storage="team").as_dict() == {"db": None, "storage": "team", "url": None}
    assert reader.locate(storage=".jupyter_automl/studies.db").db == ".jupyter_automl/studies.db"


def test_the_admin_options_are_checked() -> None:
    from traitlets import TraitError

    from jupyter_automl.server.options import JupyterAutoML

    with pytest.raises(TraitError, match=r"the name 'team/db' must be 1-64 letters"):
        JupyterAutoML(storages={"team/db": "postgresql://h/db"})
    with pytest.raises(TraitError, match=r"JupyterAutoML.storages\['team'\] is empty"):
        JupyterAutoML(storages={"team": " "})
    with pytest.raises(TraitError, match=r"JupyterAutoML.storages\['team'\] is not a database URL"):
        JupyterAutoML(storages={"team": "://nope"})
    with pytest.raises(TraitError, match="JupyterAutoML.connect_timeout must be a positive number"):
        JupyterAutoML(connect_timeout=0)
    with pytest.raises(TraitError, match="JupyterAutoML.max_reads must be at least 1"):
        JupyterAutoML(max_reads=0)


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


# ---------------------------------------------------------------------- the sidebar, in Lab
@pytest.mark.browser
def test_the_sidebar_adds_a_study_file_by_path_and_refuses_urls(lab, e2e_page) -> None:
    """The sidebar's "add a storage" field takes a path under the root or a configured name; a URL
    is refused in the page, its password hidden."""
    import optuna
    from playwright.sync_api import expect

    from tests.conftest import ARTIFACTS

    runs = lab["root"] / "runs"
    runs.mkdir(exist_ok=True)
    study = optuna.create_study(
        study_name="added-by-path", storage=f"sqlite:///{runs / 'plain.db'}"
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    page = e2e_page
    page.goto(f"{lab['url']}/lab?token={lab['token']}&reset")
    page.wait_for_selector("#jupyter-automl-studies", state="attached", timeout=90_000)
    page.evaluate("window.jupyterapp.shell.activateById('jupyter-automl-studies')")
    panel = page.locator("#jupyter-automl-studies")
    field = panel.locator(".jp-AutoML-studies-add input")
    assert field.get_attribute("placeholder") == "add: path/to/studies.db or a storage name"
    help_text = panel.locator(".jp-AutoML-studies-help").inner_text()
    assert "c.JupyterAutoML.storages" in help_text and "URLs are not accepted" in help_text

    field.fill("runs/plain.db")
    field.press("Enter")
    row = panel.locator('.jp-AutoML-study[data-study="added-by-path"]')
    row.wait_for(timeout=30_000)
    assert row.locator(".jp-AutoML-study-where").inner_text().endswith(" · runs/plain.db")

    field.fill("team")  # not a name this server's admin configured
    field.press("Enter")
    unknown = panel.locator(".jp-AutoML-error", has_text="no storage named 'team'")
    unknown.wait_for(timeout=30_000)
    assert "configured names are (none)" in unknown.inner_text()

    field.fill(f"postgresql://automl:{SECRET}@db.example/automl")
    field.press("Enter")  # refused in the page: never sent, never saved
    refused = panel.locator(".jp-AutoML-studies-add-error")
    expect(refused).to_contain_text("storage URLs are not accepted")
    assert (
        "automl:***@db.example" in refused.inner_text()
        and "c.JupyterAutoML.storages" in refused.inner_text()
    )
    assert panel.locator(".jp-AutoML-studies-urls li").all_inner_texts() == [
        "runs/plain.db×",
        "team×",
    ]
    assert SECRET not in panel.inner_text()
    assert row.is_visible()  # the rest of the list is still there
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "lab-sidebar-add-storage.png"))
    removes = panel.locator(".jp-AutoML-studies-remove")
    for left in range(removes.count(), 0, -1):  # each click redraws the list
        removes.first.click()
        expect(removes).to_have_count(left - 1)
    assert page.blocked == [] and page.errors == []

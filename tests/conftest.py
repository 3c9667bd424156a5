"""Shared fixtures: a scratch working directory, a throwaway PostgreSQL, and for browser tests a real
JupyterLab + Chromium.

Browser tests are marked ``@pytest.mark.browser`` and skipped when Debian's chromium is absent.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

# jp_fetch, jp_serverapp ... for the server extension tests (tests/test_server.py)
pytest_plugins = ["pytest_jupyter.jupyter_server"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost",
]
TOKEN = "e2e-token"
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "test-artifacts"))
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def new_notebook(cells: list[str]) -> Any:
    """A notebook of code ``cells`` for the lab's Python 3 kernel (``nbformat.write`` it where needed)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # browser tests last: they share one JupyterLab and one Chromium for the session
    items.sort(key=lambda item: "browser" in item.keywords)
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def jp_asyncio_loop(request: pytest.FixtureRequest):
    """pytest-jupyter's event loop, for its server tests only.

    Its fixture takes the thread's current loop and closes it at teardown; during a browser test
    that is the loop Playwright's sync API keeps running for the session. Browser tests run last
    (see ``pytest_collection_modifyitems``), so no server test follows them.
    """
    if request.node.get_closest_marker("browser"):
        yield None
    else:
        yield request.getfixturevalue("jp_asyncio_loop")  # pytest-jupyter's own fixture


@pytest.fixture(autouse=True)
def jp_server_cleanup(request: pytest.FixtureRequest):
    """pytest-jupyter's server cleanup, for its server tests only (see ``jp_asyncio_loop``)."""
    if request.node.get_closest_marker("browser"):
        yield None
    else:
        yield request.getfixturevalue("jp_server_cleanup")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in an empty directory (the default storage lands in it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------- PostgreSQL
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on localhost (or ``JA_TEST_POSTGRES_URL`` when set)."""
    if os.environ.get("JA_TEST_POSTGRES_URL"):
        yield os.environ["JA_TEST_POSTGRES_URL"]
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="ja-pg-"))
    os.chmod(root, 0o777)
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    log = root / "pg.log"
    subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                              f"-p {port} -k {root} -h 127.0.0.1 -c fsync=off", "start"], check=True, capture_output=True)
    try:
        for _ in range(100):
            if subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)  # polling a starting server
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "automl"],
                       check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/automl"  # psycopg 3, as SQLAlchemy 2.1 picks
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------------------- notebooks
@pytest.fixture(scope="session")
def nb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of examples/ (servers autosave, and executed notebooks are large)."""
    root = tmp_path_factory.mktemp("nbroot")
    if EXAMPLES.exists():
        shutil.copytree(EXAMPLES, root, dirs_exist_ok=True)
    return root


@pytest.fixture
def run_notebook(nb_root: Path):
    """Execute a notebook of ``nb_root`` with nbclient; returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    def _run(name: str, timeout: int = 300):
        path = nb_root / name
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(nb_root)}}, store_widget_state=True).execute()
        nbformat.write(nb, path.with_name(path.stem + ".executed.ipynb"))
        return nb

    return _run


# ------------------------------------------------------------------------- JupyterLab
@pytest.fixture(scope="session")
def lab(nb_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """A JupyterLab server on localhost with isolated settings, serving ``nb_root``."""
    home = tmp_path_factory.mktemp("jlab-home")
    settings = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for rel, value in settings.items():
        p = home / "settings" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               BOKEH_RESOURCES="inline")
    built = ROOT / "jupyter_automl" / "labextension"
    if (built / "package.json").exists():
        # this checkout's build of the lab extension, ahead of the copy an install put in the environment
        (home / "data" / "labextensions").mkdir(parents=True)
        (home / "data" / "labextensions" / "jupyter-automl").symlink_to(built)
        env["JUPYTER_PATH"] = os.pathsep.join([str(home / "data"), os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={nb_root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
           f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url, t0 = f"http://127.0.0.1:{port}", time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab died: {(home / 'lab.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2).close()
                break
            except OSError:
                if time.monotonic() - t0 > 90:
                    raise TimeoutError("jupyter lab did not come up in 90 s") from None
                time.sleep(0.2)  # polling a server that is starting, not synchronising the test
        yield {"url": url, "token": TOKEN, "root": nb_root, "log": home / "lab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def e2e_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def e2e_page(e2e_browser, request: pytest.FixtureRequest):
    """A fresh page whose requests may only reach localhost; errors are collected."""
    ctx = e2e_browser.new_context(viewport={"width": 1400, "height": 1800})
    blocked: list[str] = []
    errors: list[str] = []

    def guard(route) -> None:
        u = route.request.url
        if u.startswith(("data:", "blob:")) or urlparse(u).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(u)
            route.abort()

    ctx.route("**/*", guard)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.blocked, page.errors = blocked, errors
    yield page
    _screenshot_if_failed(request, page)
    ctx.close()


def _screenshot_if_failed(request: pytest.FixtureRequest, page) -> None:
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and not page.is_closed():
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"{request.node.name}-failed.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


def shutdown_sessions(lab: dict) -> None:
    """Shut down every kernel session of the server (kernels outlive pages)."""
    base, hdr = lab["url"], {"Authorization": f"token {lab['token']}"}
    with urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions", headers=hdr)) as r:
        sessions = json.load(r)
    for s in sessions:
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions/{s['id']}", headers=hdr,
                                                      method="DELETE")).close()


@pytest.fixture
def open_notebook(lab, e2e_page, request: pytest.FixtureRequest):
    """Open a notebook of the lab's root and wait for an idle kernel; sessions are shut down after."""

    def _open(name: str, wait_kernel: bool = True):
        e2e_page.goto(f"{lab['url']}/lab/tree/{name}?token={lab['token']}&reset")
        if wait_kernel:
            e2e_page.wait_for_function(
                "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
                timeout=90_000)
        else:
            e2e_page.wait_for_selector(".jp-Notebook", timeout=90_000)
        return e2e_page

    yield _open
    _screenshot_if_failed(request, e2e_page)
    shutdown_sessions(lab)


def run_in_terminal(command: list[str], *, cwd: Any = None, columns: int = 120, timeout: float = 180) -> tuple[int, str]:
    """Run ``command`` with stderr on a real pseudo-terminal; its exit code and what the terminal showed."""
    import pty
    import select

    main, secondary = pty.openpty()
    proc = subprocess.Popen(command, cwd=cwd, stderr=secondary, stdout=subprocess.DEVNULL,
                            env=dict(os.environ, COLUMNS=str(columns)))
    os.close(secondary)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], timeout)
        if not ready:
            break
        try:
            data = os.read(main, 4096)
        except OSError:  # the command closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=timeout)
    os.close(main)
    return proc.returncode, b"".join(chunks).decode(errors="replace")

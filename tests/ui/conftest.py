"""Fixtures of the notebook-experience tests: an IPython shell with the extension loaded.

Kernels started by nbclient or JupyterLab inherit this process's environment: ``PYTHONPATH``
is pointed at this checkout so they import the package under test, not another install.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
if str(ROOT) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *[p for p in _paths if p]])


def pytest_configure(config: pytest.Config) -> None:
    """Start IPython's test shell first: formatting a display bundle (the panel's output widget)
    would otherwise create a plain ``InteractiveShell`` singleton that the test shell cannot join."""
    from IPython.testing.globalipapp import get_ipython

    get_ipython()


@pytest.fixture
def ip(workdir: Path):
    """The global test IPython shell with ``%load_ext jupyter_automl``, in an empty directory."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "jupyter_automl")
    before = set(shell.user_ns)
    yield shell
    for key in set(shell.user_ns) - before:
        shell.user_ns.pop(key, None)
    for key in ("automl",):
        shell.user_ns.pop(key, None)


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """No pytest-jupyter event loop here: these tests start no server in-process.

    Its autouse fixture closes "its" loop after each test; after a browser test that loop is the
    one Playwright's sync API keeps running, so closing it fails.
    """
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    """No pytest-jupyter server cleanup here (see ``jp_asyncio_loop``)."""
    yield None

"""A missing optional dependency says which extra installs it; local storage errors say nothing of servers.

"Missing" is made real: the child process cannot import the package (a meta-path finder refuses it),
as in a venv where it was never installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import jupyter_automl as ja

_BLOCKED = textwrap.dedent("""
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

    sys.meta_path.insert(0, Block())
    import numpy as np
    import jupyter_automl as ja
    try:
        {code}
    except ja.AutoMLError as exc:
        print(type(exc).__name__, "|", exc)
""")

CASES = {
    "a NAS space without torch": (
        ["torch"],
        "ja.search(X=np.zeros((20, 1, 8, 8)), y=np.arange(20) % 2, space='nas-cell', storage='memory')",
        "MissingDependencyError | option 'space': 'nas-cell' needs torch, which is not installed: "
        "pip install 'jupyter-automl[nas]'",
    ),
    "the panel without ipywidgets": (
        ["ipywidgets"],
        "ja.Panel",
        "MissingDependencyError | ja.Panel needs ipywidgets, which is not installed: pip install 'jupyter-automl[notebook]'",
    ),
    "the magics without IPython": (
        ["IPython"],
        "ja.load_ipython_extension(None)",
        "MissingDependencyError | the %automl magics need",
    ),
    "lightgbm without the boosting extra": (
        ["lightgbm"],
        "ja.search(data='sklearn:iris', models=['lightgbm'], n_trials=1, storage='memory')",
        "ConfigError | option 'models': nothing left to search: lightgbm is not installed "
        "(pip install 'jupyter-automl[boosting]')",
    ),
    "postgresql:// without a driver": (
        ["psycopg", "psycopg2"],
        "ja.search(data='sklearn:iris', n_trials=1, storage='postgresql://u@127.0.0.1:9/db')",
        "StorageError | storage 'postgresql://u@127.0.0.1:9/db' needs the psycopg driver: "
        "pip install 'jupyter-automl[postgres]'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_missing_extra_names_the_pip_install(case, tmp_path):
    blocked, code, expected = CASES[case]
    proc = subprocess.run(
        [sys.executable, "-c", _BLOCKED.format(blocked=set(blocked), code=code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert expected.split(" need")[0] in proc.stdout and expected.split("|")[0] in proc.stdout, (
        proc.stdout
    )
    if "pip install" in expected:
        assert expected.split(": pip install")[-1].strip(")") in proc.stdout
    assert not (tmp_path / ".jupyter_automl").exists()


def test_local_storage_errors_do_not_talk_about_servers(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(
        ja.StorageError, match="cannot open the storage file .*afile/studies.db.*Check the path"
    ) as err:
        ja.search(data="sklearn:iris", n_trials=1, storage=str(tmp_path / "afile" / "studies.db"))
    assert "server" not in str(err.value)
    (tmp_path / "text.db").write_text("notes, not a database")
    with pytest.raises(
        ja.StorageError,
        match="'.*text.db' exists and is not an SQLite database; it was left untouched",
    ):
        ja.search(data="sklearn:iris", n_trials=1, storage=str(tmp_path / "text.db"))
    assert (tmp_path / "text.db").read_text() == "notes, not a database"


def test_boosting_libraries_are_imported_by_their_first_trial_not_before():
    code = textwrap.dedent("""
        import sys
        from jupyter_automl._search import Search
        from jupyter_automl.config import SearchConfig

        search = Search(SearchConfig(data="sklearn:wine", n_trials=2, cv=2, storage="memory", display=False))
        assert {"lightgbm", "xgboost"} <= set(search.space.families), search.space.families
        print(sorted(m for m in ("lightgbm", "xgboost", "catboost", "torch", "bokeh", "IPython") if m in sys.modules))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

"""Run a search in a real Python process with a fault injected into a scikit-learn ``fit``.

``inject/sitecustomize.py`` is put on ``PYTHONPATH``: the searching process and every worker
process it starts patch ``KNeighborsClassifier.fit`` (``JA_FAULT`` says how it fails).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

INJECT = Path(__file__).parent / "inject"

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import jupyter_automl as ja
    options = json.loads(sys.argv[1])
    if options.pop("warm", False):  # start the worker first, as an earlier search in a kernel would
        ja.search(data="sklearn:iris", models=["linear"], n_trials=1, storage="memory", display=False)
    result = ja.search(data="sklearn:breast_cancer", display=False, **options)
    board = result.leaderboard
    print("RESULT " + json.dumps({
        "elapsed_s": result.elapsed_s,
        "stop_reason": result.stop_reason,
        "best_model": type(result.best_model).__name__,
        "predicts": len(result.predict(result.dataset.X.head(3))),
        "rows": json.loads(board[["trial", "model", "state", "error", "worker"]].to_json(orient="records")),
    }))
    """
)


def fault_env(fault: str | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(INJECT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("JA_FAULT", None)
    if fault:
        env["JA_FAULT"] = fault
    env.update(extra)
    return env


def start_search(
    options: dict[str, Any], fault: str | None, cwd: Path, **extra: str
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, json.dumps(options)],
        cwd=cwd,
        env=fault_env(fault, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_search(
    options: dict[str, Any], fault: str | None, cwd: Path, timeout: float = 120, **extra: str
) -> dict[str, Any]:
    """Run the search in a fresh process; the process must exit 0 (it survived the fault)."""
    proc = start_search(options, fault, cwd, **extra)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"the searching process died ({proc.returncode}):\n{err[-3000:]}"
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy (the state lives in other processes)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def all_gone(pids: set[int]) -> bool:
    """No process of ``pids`` runs any more (zombies waiting for their parent count as gone)."""
    import psutil

    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    return not any(running(p) for p in pids)


def stored_trials(db: Path, name: str) -> list[Any]:
    import optuna

    from jupyter_automl.storage import _open_sqlite

    # the package's opener: a bare RDBStorage races the search creating a new file's schema
    storage = _open_sqlite(f"sqlite:///{db}")
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    finally:
        storage.engine.dispose()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def faulty():
    """The helpers above, for the tests (a conftest is not importable as a module)."""
    import types

    return types.SimpleNamespace(
        run=run_search, start=start_search, stored=stored_trials, env=fault_env, wait_for=wait_for,
        all_gone=all_gone,
    )

"""Progress outside notebooks, and no global trace left by a search."""

from __future__ import annotations

import subprocess
import sys
import warnings

import optuna
import pytest

import jupyter_automl as ja
from tests.conftest import run_in_terminal

SCRIPT = (
    "import jupyter_automl as ja, sys\n"
    "ja.search(data='sklearn:iris', n_trials=3, cv=2, models=['linear'], storage='memory', display={display})\n"
    "print('done', file=sys.stderr)\n"
)


def _run_in_terminal(display: str) -> str:
    """Run a search script with stderr on a real pseudo-terminal; return what the terminal showed."""
    return run_in_terminal([sys.executable, "-c", SCRIPT.format(display=display)], timeout=120)[1]


def test_auto_shows_a_bar_in_a_terminal():
    shown = _run_in_terminal("'auto'")
    assert "3/3" in shown and "trial" in shown
    assert "best accuracy" in shown and "0 failed" in shown


@pytest.mark.parametrize("display", ["'auto'", "False"])
def test_nothing_in_a_pipe_or_when_off(display):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(display=display)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "done"


def test_off_is_silent_in_a_terminal():
    assert "trial" not in _run_in_terminal("False")


IRIS = {
    "data": "sklearn:iris",
    "cv": 2,
    "models": ["linear"],
    "storage": "memory",
    "display": False,
}


def test_a_search_leaves_optuna_verbosity_and_warning_filters_as_they_were():
    ja.search(n_trials=1, **IRIS)  # the libraries' own import-time filters, once
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        filters = list(warnings.filters)
        result = ja.search(n_trials=2, **IRIS)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        assert warnings.filters == filters
        background = ja.search(n_trials=2, background=True, **IRIS).wait()
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        assert warnings.filters == filters
        assert result.n_trials == background.n_trials == 2
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)

"""``%%automl`` and ``%automl`` through a real IPython shell (no kernel needed)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conditions import wait_until
from IPython.core.error import UsageError

from jupyter_automl.result import SearchResult
from jupyter_automl.runner import Observer
from jupyter_automl.storage import list_studies

FAST = "data: sklearn:iris\nstrategy: random\nmodels: [linear, knn]\nn_trials: 2\nseed: 0\n"


def _nothing_started(ip, variable: str = "automl") -> None:
    assert variable not in ip.user_ns
    assert list_studies(None) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "data: sklearn:iris\nstrtegy: tpe\n",
            r"unknown option 'strtegy' \(line 3\) \(did you mean 'strategy'\?\)",  # the cell's line
        ),
        ("data: penguins\ntarget: species\n", r"data 'penguins' is not a variable of the notebook"),
        ("data: [sklearn:iris\n", r"malformed YAML, line 2: while parsing a flow sequence"),
        (
            "data: sklearn:iris\nmetric: acuracy\nn_trials: 0\n",
            r"2 problems in the options: option 'metric' \(line 3\).*did you mean 'accuracy'.*; option 'n_trials' \(line 4\)",
        ),
        (
            "data: sklearn:iris\nstorage: nowhere.xyz\n",
            r"option 'storage': cannot tell what 'nowhere.xyz' is",
        ),
        (
            "data: sklearn:iris\nstorage: postgresql://user:secret@127.0.0.1:9/none\n",
            r"cannot open storage 'postgresql://user:\*\*\*@127.0.0.1:9/none'",
        ),
    ],
    ids=[
        "unknown-key",
        "undefined-variable",
        "malformed-yaml",
        "collected-problems",
        "bad-storage",
        "unreachable-storage",
    ],
)
def test_bad_cell_is_one_line_and_starts_nothing(ip, body: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        ip.run_cell_magic("automl", "", body)
    assert "\n" not in str(info.value)
    _nothing_started(ip)


def test_bad_cell_shows_one_line_without_traceback(ip, capsys: pytest.CaptureFixture[str]) -> None:
    result = ip.run_cell("%%automl\ndata: sklearn:iris\nstrtegy: tpe\n")
    assert not result.success
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["UsageError: unknown option 'strtegy' (line 3) (did you mean 'strategy'?)"]
    _nothing_started(ip)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--backgrund", r"unknown option --backgrund \(did you mean '--background'\?\)"),
        ("two names", r"expected one variable name for the result, got 'two names'"),
        ("1x", r"expected one variable name"),
    ],
)
def test_bad_cell_line(ip, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ip.run_cell_magic("automl", line, FAST)
    _nothing_started(ip)


def test_cell_binds_result_and_shows_static_output(ip, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_cell_magic("automl", "res --no-display", FAST)
    result = ip.user_ns["res"]
    assert isinstance(result, SearchResult) and result.done
    assert result.n_trials == 2 and result.config.display is False
    assert "best accuracy" in capsys.readouterr().out  # the static result (text/plain here)
    assert [s["n_trials"] for s in list_studies(None)] == [2]


def test_cell_uses_notebook_variables(ip) -> None:
    from sklearn.datasets import load_iris

    ip.user_ns["flowers"] = load_iris(as_frame=True).frame
    ip.run_cell_magic(
        "automl", "--no-display", FAST.replace("sklearn:iris", "flowers") + "target: target\n"
    )
    assert ip.user_ns["automl"].best_score > 0.8
    assert ip.user_ns["automl"].config.data == "flowers"


def test_background_cell_returns_at_once_and_stops(ip, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_cell_magic(
        "automl",
        "bg --background --no-display",
        "data: sklearn:iris\nstrategy: random\nmodels: [linear]\ntime_budget: 60s\n",
    )
    bg = ip.user_ns["bg"]
    assert "runs in the background" in capsys.readouterr().out
    wait_until(lambda: bg.n_trials >= 1)  # the cell returned at once; trials go on in a thread
    ip.run_line_magic("automl", "stop")
    assert "stopping" in capsys.readouterr().out
    bg.wait(timeout=60)
    assert bg.stop_reason == "stopped" and bg.best_model is not None
    ip.run_line_magic("automl", "stop")
    assert capsys.readouterr().out.strip() == "no search is running"


def test_line_commands_on_a_stored_study(
    ip, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell_magic("automl", "first --no-display", FAST + "name: flowers\n")
    capsys.readouterr()

    listing = ip.run_line_magic("automl", "list")
    assert isinstance(listing, pd.DataFrame)
    assert listing.loc[0, "name"] == "flowers" and listing.loc[0, "n_trials"] == 2

    ip.run_line_magic("automl", "config flowers")
    text = capsys.readouterr().out
    assert text.startswith("%%automl\ndata: sklearn:iris\n") and "name: flowers" in text
    from jupyter_automl.config import SearchConfig

    assert SearchConfig.from_yaml(text.split("\n", 1)[1]) == ip.user_ns["first"].config.replace(
        display=False
    )

    ip.run_line_magic("automl", "show flowers")
    assert "SearchResult flowers" in capsys.readouterr().out

    ip.run_line_magic("automl", "resume flowers again --no-display --n-trials 3")
    again = ip.user_ns["again"]
    assert again.study.study_name == "flowers" and again.n_trials == 3

    ip.run_line_magic("automl", f"export flowers {workdir / 'model.py'}")
    assert "wrote" in capsys.readouterr().out
    assert (
        "def " in (workdir / "model.py").read_text()
        or "import" in (workdir / "model.py").read_text()
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("lst", r"unknown command 'lst' \(did you mean 'list'\?\)"),
        ("show", r"which study\? give its NAME"),
        ("show nope", r"no study 'nope' in sqlite:///"),
        ("config nope --storage x.db", r"no study 'nope'"),
        ("list --storage nowhere.xyz", r"cannot tell what 'nowhere.xyz' is"),
        ("stop now", r"%automl stop takes no arguments"),
        ("export", r"which study\?"),
        ("panel nowhere", r"'nowhere' is not a variable of the notebook"),
    ],
)
def test_bad_line_commands(ip, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ip.run_line_magic("automl", line)


def test_did_you_mean_a_stored_study(ip) -> None:
    ip.run_cell_magic("automl", "--no-display", FAST + "name: flowers\n")
    with pytest.raises(UsageError, match=r"no study 'flower' .* \(did you mean 'flowers'\?\)"):
        ip.run_line_magic("automl", "show flower")


def test_usage(ip, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("automl", "")
    out = capsys.readouterr().out
    for command in ("list", "show", "config", "resume", "stop", "export", "panel", "--background"):
        assert command in out


class _InterruptOnSecondTrial(Observer):
    """Presses the kernel's interrupt button: a real SIGINT while the second trial ends."""

    def on_trial(self, record: Any, trial: Any) -> None:
        if record.number == 1:
            signal.raise_signal(signal.SIGINT)


def test_interrupted_foreground_cell_still_binds_a_fitted_result(
    ip, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jupyter_automl.ui

    # the live view's slot carries the interrupting observer (there is no front end here)
    monkeypatch.setattr(jupyter_automl.ui, "live_view", lambda search: _InterruptOnSecondTrial())
    ip.run_cell_magic(
        "automl", "stopped", FAST.replace("n_trials: 2", "n_trials: 50") + "display: true\n"
    )
    result = ip.user_ns["stopped"]
    assert result.stop_reason == "interrupted" and result.done
    assert result.n_trials == 2 and result.best_model is not None


def test_list_reads_like_the_leaderboards(ip) -> None:
    ip.run_cell_magic("automl", "first --no-display", FAST + "name: listed\n")
    listing = ip.run_line_magic("automl", "list")
    from jupyter_automl.report import format_score

    row = listing.loc[0]
    assert row["best_score"] == format_score(ip.user_ns["first"].best_score)  # 4 decimals, not 6
    date, _, clock = row["started"].partition("\u00a0")  # date and time never wrap apart
    assert len(date) == 10 and len(clock) == 5


def test_config_of_an_array_search_is_a_cell_that_runs(ip, capsys: pytest.CaptureFixture[str]) -> None:
    from sklearn.datasets import load_iris

    import jupyter_automl as ja

    X, y = load_iris(return_X_y=True)
    result = ja.search(X=X, y=y, models=["linear"], n_trials=2, name="arrays", display=False)
    ip.run_line_magic("automl", "config arrays")
    text = capsys.readouterr().out
    assert text.startswith("%%automl\ndata: Xy  # the search ran on arrays: define Xy = (X, y)")
    assert result.payload()["config_text"].startswith("data: Xy")
    ip.user_ns["Xy"] = (X, y)
    body = text.split("\n", 1)[1].replace("name: arrays\n", "name: arrays-again\n")
    ip.run_cell_magic("automl", "again --no-display", body)  # the pasted cell runs as it is
    assert ip.user_ns["again"].n_trials == 2

"""The jupyter-automl command, run as a user would."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


def _cli(*args, cwd):
    exe = shutil.which("jupyter-automl") or None
    cmd = [exe, *args] if exe else [sys.executable, "-m", "jupyter_automl.cli", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=240)


def test_run_prints_leaderboard_and_studies_lists_it(tmp_path):
    (tmp_path / "search.yaml").write_text("data: sklearn:wine\nstrategy: evolution\nn_trials: 4\ncv: 3\nname: wine-cli\n")
    run = _cli("run", "search.yaml", "--export", "train.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "best accuracy" in run.stdout and "wine-cli" in run.stdout
    assert "trial" in run.stderr  # the progress bar
    assert (tmp_path / "train.py").exists()
    studies = _cli("studies", cwd=tmp_path)
    assert studies.returncode == 0
    line = next(row for row in studies.stdout.splitlines() if row.startswith("wine-cli"))
    assert "evolution" in line and " 4 " in line and "finished" in line


def test_run_with_a_bad_option_names_it(tmp_path):
    (tmp_path / "bad.yaml").write_text("data: sklearn:wine\nmetrik: accuracy\n")
    run = _cli("run", "bad.yaml", cwd=tmp_path)
    assert run.returncode == 2
    assert "unknown option 'metrik' (line 2) (did you mean 'metric'?)" in run.stderr
    assert not (tmp_path / ".jupyter_automl").exists()


def test_overrides_and_resume(tmp_path):
    (tmp_path / "s.yaml").write_text("data: sklearn:iris\ncv: 3\n")
    first = _cli("run", "s.yaml", "--name", "iris", "--n-trials", "2", "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = _cli("run", "s.yaml", "--name", "iris", "--n-trials", "4", "--resume", "--set", "strategy=random",
                 "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "4 trials" in again.stdout


@pytest.mark.parametrize("storage", ["memory"])
def test_demo(tmp_path, storage):
    demo = _cli("demo", "--time-budget", "5s", "--storage", storage, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "standalone training script" in demo.stdout and (tmp_path / "train_best.py").exists()


def test_version():
    import jupyter_automl

    out = _cli("--version", cwd=None)
    assert out.returncode == 0 and out.stdout.strip() == f"jupyter-automl {jupyter_automl.__version__}"


@pytest.mark.parametrize(
    ("write", "args", "code", "message"),
    [
        (None, ["run"], 2, "the following arguments are required: config"),
        (None, ["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        (None, ["run", "missing.yaml"], 2, "no config file 'missing.yaml'"),
        (bytes(range(256)), ["run", "c.yaml"], 2, "config file 'c.yaml' is not UTF-8 text"),
        ("data: sklearn:wine\nn_trials: 2\nn_trials: 3\n", ["run", "c.yaml"], 2, "duplicate option 'n_trials' \\(line 3"),
        ("data: nowhere.csv\nn_trials: 2\n", ["run", "c.yaml"], 1, "data file .*nowhere.csv.* does not exist"),
        ("data: sklearn:wine\nn_trials: 1\nstorage: not-a-db.db\n", ["run", "c.yaml"], 1, "not an Optuna study"),
    ],
    ids=["no config", "unknown command", "missing file", "binary file", "duplicate key", "missing data",
         "foreign sqlite"],
)
def test_exit_codes_and_one_line_errors(tmp_path, write, args, code, message):
    import re
    import sqlite3

    if write is not None:
        path = tmp_path / "c.yaml"
        path.write_bytes(write) if isinstance(write, bytes) else path.write_text(write)
    con = sqlite3.connect(tmp_path / "not-a-db.db")
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    before = (tmp_path / "not-a-db.db").read_bytes()
    out = _cli(*args, cwd=tmp_path)
    assert out.returncode == code, out.stderr
    assert re.search(message, out.stderr), out.stderr
    assert "Traceback" not in out.stderr
    if len(args) > 1:  # ours; argparse's own errors print the usage above their line
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert (tmp_path / "not-a-db.db").read_bytes() == before
    assert not (tmp_path / ".jupyter_automl").exists()

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

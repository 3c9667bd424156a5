"""The jupyter-automl command, run as a user would."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import run_in_terminal


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


def _cli_command(*args):
    exe = shutil.which("jupyter-automl") or None
    return [exe, *args] if exe else [sys.executable, "-m", "jupyter_automl.cli", *args]


def _read_until(stream, needle: bytes, timeout: float = 180.0) -> bytes:
    """What ``stream`` (a pipe) said up to and including ``needle``; fails the test after ``timeout`` s."""
    import os
    import select
    import time

    seen, end = b"", time.monotonic() + timeout
    while needle not in seen:
        ready, _, _ = select.select([stream], [], [], max(0.0, end - time.monotonic()))
        assert ready, f"no {needle!r} after {timeout} s: {seen.decode(errors='replace')}"
        chunk = os.read(stream.fileno(), 4096)
        assert chunk, f"the command ended before {needle!r}: {seen.decode(errors='replace')}"
        seen += chunk
    return seen


def _trials(tmp_path, name):
    import optuna

    from jupyter_automl.runner import trial_state

    study = optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / '.jupyter_automl' / 'studies.db'}")
    return [(trial_state(t), t.user_attrs.get("jupyter_automl", {})) for t in study.trials]


def test_ctrl_c_exits_130_and_the_cut_trial_is_stopped_not_failed(tmp_path):
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group (the CLI and its workers),
    while a trial's fit runs (tests/faults/inject logs each RandomForest fit as it begins)."""
    import os
    import signal
    import time
    from pathlib import Path

    inject = Path(__file__).parents[1] / "faults" / "inject"
    fits = tmp_path / "fits.log"
    env = dict(os.environ, JA_FAULT="tmpfile", JA_FAULT_MODEL="RandomForestClassifier", JA_FAULT_BYTES="0",
               JA_FAULT_LOG=str(fits), TMPDIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(inject), os.environ.get("PYTHONPATH")])))
    (tmp_path / "s.yaml").write_text("data: sklearn:breast_cancer\nmodels: [random_forest]\ntime_budget: 10m\nname: cut\n")
    proc = subprocess.Popen(_cli_command("run", "s.yaml"), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        seen = _read_until(proc.stderr, b"trial 1:")  # one trial told
        told = fits.read_text().count("\n")
        deadline = time.monotonic() + 120
        while fits.read_text().count("\n") == told:  # until a fit of the next trial has begun
            assert time.monotonic() < deadline and proc.poll() is None, "no second trial started"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = (seen + err).decode()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert b"stopped by: interrupted" in out
    states = _trials(tmp_path, "cut")
    assert [s for s, _ in states] == ["COMPLETE", "STOPPED"], states
    assert states[1][1]["stopped"] == "interrupted by the user"
    last = err.splitlines()[-2]  # the progress's last line, before the hint to resume
    assert "ended (interrupted)" in last and "0 failed, 1 stopped" in last, err


def test_progress_in_a_pipe_is_plain_lines(tmp_path):
    (tmp_path / "s.yaml").write_text("data: sklearn:iris\nmodels: [linear]\nn_trials: 3\ncv: 2\nname: piped\n")
    run = _cli("run", "s.yaml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and "\x1b" not in run.stderr  # no redraws, no terminal codes
    lines = run.stderr.splitlines()
    assert lines[0].startswith("data: 150 rows")
    assert lines[1] == "piped: [0 s] started, 3 trials" or lines[1].startswith("piped: [") and "started" in lines[1]
    trial_lines = [line for line in lines if " trial " in line and "#" in line]
    assert [line.split("trial ")[1].split(":")[0] for line in trial_lines] == ["1/3", "2/3", "3/3"], lines
    assert all("accuracy" in line and "0 failed" in line for line in trial_lines)
    assert "ended (all trials run)" in lines[-1]


def test_progress_in_a_terminal_ticks_while_a_trial_runs(tmp_path):
    """A real pseudo-terminal: the clock and the time left move between trials, and agree from the first draw."""
    import re

    (tmp_path / "s.yaml").write_text("data: sklearn:breast_cancer\nmodels: [random_forest]\ntime_budget: 20s\nname: tty\n")
    returncode, text = run_in_terminal(_cli_command("run", "s.yaml"), cwd=tmp_path, columns=140)
    assert returncode == 0
    draws = re.findall(r"(\d+)/20 s, (\d+) trials?, .*?(\d+) s left", text)
    assert draws, text
    first_spent, _, first_left = map(int, draws[0])
    assert abs(first_spent + first_left - 20) <= 1, draws[0]  # not "0/20 s … 2 s left"
    ticks = [(spent, n) for spent, n, _ in draws]
    # the clock moved while the trial count stood still: redraws between trials
    assert any(a[1] == b[1] and int(b[0]) > int(a[0]) for a, b in zip(ticks, ticks[1:], strict=False)), ticks
    final = text.rsplit("\r", 2)[-2]
    assert "20/20 s" in final and "time budget used" in final and "s left" not in final, final


def test_data_in_a_config_file_is_read_beside_it(tmp_path):
    import pandas as pd
    from sklearn.datasets import load_iris

    folder = tmp_path / "project"
    folder.mkdir()
    pd.concat([*load_iris(return_X_y=True, as_frame=True)], axis=1).to_csv(folder / "iris.csv", index=False)
    (folder / "s.yaml").write_text("data: iris.csv\ntarget: target\nmodels: [linear]\nn_trials: 1\ncv: 2\nname: beside\n")
    run = _cli("run", "project/s.yaml", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "beside" in run.stdout
    (folder / "bad.yaml").write_text("data: nowhere.csv\nn_trials: 1\n")
    bad = _cli("run", "project/bad.yaml", cwd=tmp_path)
    assert bad.returncode == 1
    assert f"data file 'nowhere.csv' does not exist in {str(folder)!r}" in bad.stderr, bad.stderr
    assert "relative to the config's folder" in bad.stderr

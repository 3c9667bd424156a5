"""A trial owns its processes and its temporary files: nothing it starts outlives it.

Real forks: ``inject/sitecustomize.py`` makes every ``KNeighborsClassifier.fit`` (in the
workers, where the final model is fitted too) fork a daemonised grandchild and start a
``sleep 600`` subprocess, or write a file under ``tempfile.gettempdir()``, and logs what it made.
The searching process stays alive after the search returns, so the test looks while it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jupyter_automl as ja
    options = json.loads(sys.argv[1])
    result = ja.search(data="sklearn:breast_cancer", display=False, **options)
    board = result.leaderboard
    print("RESULT " + json.dumps({
        "best_model": type(result.best_model).__name__,
        "rows": json.loads(board[["trial", "state", "error"]].to_json(orient="records")),
    }), flush=True)
    sys.stdin.readline()  # the test looks at the processes while this one still lives
    """
)


def _search_then_wait(faulty, options: dict, fault: str, workdir: Path, **extra: str):
    log = workdir / "made.log"
    env = faulty.env(fault, JA_FAULT_LOG=str(log), **extra)
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, json.dumps(options)],
        cwd=workdir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("RESULT "):
        proc.kill()
        raise AssertionError(f"the search failed:\n{line}{proc.communicate()[1][-3000:]}")
    made = [entry.split() for entry in log.read_text().splitlines()] if log.exists() else []
    return proc, json.loads(line[len("RESULT ") :]), made


def _finish(proc: subprocess.Popen) -> None:
    proc.communicate("\n", timeout=60)
    assert proc.returncode == 0


def test_processes_forked_by_trials_and_the_final_fit_are_gone_when_the_search_returns(
    faulty, workdir
):
    options = {"models": ["knn"], "n_trials": 3, "cv": 2, "seed": 0, "storage": "memory"}
    proc, result, made = _search_then_wait(faulty, options, "fork", workdir)
    try:
        assert result["best_model"] != "NoneType"
        assert all(row["state"] == "COMPLETE" for row in result["rows"])
        pids = {int(pid) for pid, _ in made}
        origins = {int(origin) for _, origin in made}
        # forks came from the worker processes only: the final model is fitted in one too
        assert proc.pid not in origins and origins, made
        assert len(pids) >= 2 * 4, made  # a grandchild and a subprocess per fit (3 x 2 folds + final)
        faulty.wait_for(lambda: faulty.all_gone(pids), 5, "the trials' processes to be gone")
    finally:
        _finish(proc)


def test_processes_of_a_trial_killed_for_its_time_are_gone(faulty, workdir):
    # every knn fit forks, then hangs: the trial is killed when the time is up
    options = {"models": ["knn"], "time_budget": 20, "cv": 2, "seed": 0, "storage": "memory"}
    proc, result, made = _search_then_wait(faulty, options, "forkhang", workdir)
    try:
        assert result["rows"] and all(row["state"] != "COMPLETE" for row in result["rows"])
        pids = {int(pid) for pid, _ in made}
        assert pids and proc.pid not in {int(origin) for _, origin in made}
        faulty.wait_for(lambda: faulty.all_gone(pids), 5, "the killed trial's processes to be gone")
    finally:
        _finish(proc)


def test_a_trials_temporary_files_are_removed_with_it(faulty, workdir):
    tmp = workdir / "tmp"
    tmp.mkdir()
    options = {"models": ["knn"], "n_trials": 2, "cv": 2, "seed": 0, "storage": "memory"}
    proc, result, made = _search_then_wait(
        faulty, options, "tmpfile", workdir, TMPDIR=str(tmp), JA_FAULT_BYTES=str(64 << 20)
    )
    try:
        assert all(row["state"] == "COMPLETE" for row in result["rows"])
        in_workers = [path for path, origin in made if int(origin) != proc.pid]
        assert len(in_workers) >= 2 * 2 + 1, made  # each fold of each trial wrote one, and the final fit
        assert all(Path(p).is_relative_to(tmp) for p in in_workers)
        assert not any(os.path.exists(p) for p in in_workers)
        # the final model's fit ran in a worker too: nothing is left in TMPDIR
        assert len(in_workers) == len(made), made
        assert not [p for p in tmp.rglob("*") if p.is_file()]
    finally:
        _finish(proc)


def test_killing_the_searching_process_ends_its_workers_and_what_their_trial_started(
    faulty, workdir
):
    import signal

    log = workdir / "made.log"
    options = {"models": ["knn"], "n_trials": 3, "cv": 2, "seed": 0, "storage": "memory"}
    proc = faulty.start(options, "forkhang", workdir, JA_FAULT_LOG=str(log))
    try:
        made = faulty.wait_for(
            lambda: log.exists() and len(log.read_text().split("\n")) > 2 and log.read_text(),
            120,
            "a trial to fork and hang",
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    pids = {int(line.split()[0]) for line in made.splitlines()}
    workers = {int(line.split()[1]) for line in made.splitlines()}
    faulty.wait_for(
        lambda: faulty.all_gone(pids | workers), 10, "the worker and its trial's processes to end"
    )

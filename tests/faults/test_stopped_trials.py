"""Stopped is not failed: a trial cut short by Stop or an interrupt is recorded as stopped.

The trial is made to hang for real (``JA_FAULT=hang`` patches ``KNeighborsClassifier.fit`` in the
worker processes), so it is certainly running when Stop is pressed.
"""

from __future__ import annotations

import json
import textwrap

from jupyter_automl.report import payload_html

STOP_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import jupyter_automl as ja
    db = sys.argv[1]
    result = ja.search(data="sklearn:breast_cancer", models=["linear", "knn"], strategy="random", seed=0,
                       cv=3, n_trials=8, storage=db, name="stops", display=False, background=True)
    end = time.monotonic() + 120
    def hanging():  # the knn trial has started (and hangs in its worker)
        return [t for t in result.study.get_trials(deepcopy=False)
                if t.state.name == "RUNNING" and t.params.get("model") == "knn"]
    while not hanging() and time.monotonic() < end:
        time.sleep(0.1)  # polling another thread's progress, as a user waits for a trial to start
    result.stop()  # the live view's and the panel's Stop button call this
    result.wait(timeout=120)
    payload = result.payload()
    print("RESULT " + json.dumps({"stop_reason": result.stop_reason, "study": payload["study"],
                                  "rows": payload["leaderboard"]["rows"], "payload": payload}))
    """
)


def _result(out: str) -> dict:
    return json.loads(
        next(x for x in out.splitlines() if x.startswith("RESULT "))[len("RESULT ") :]
    )


def test_stop_records_the_running_trial_as_stopped_not_failed(faulty, workdir):
    import subprocess
    import sys

    db = workdir / "s.db"
    proc = subprocess.run(
        [sys.executable, "-c", STOP_SCRIPT, str(db)],
        cwd=workdir,
        env=faulty.env("hang"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = _result(proc.stdout)
    assert result["stop_reason"] == "stopped"
    stopped = [r for r in result["rows"] if r["state"] == "STOPPED"]
    assert [(r["model"], r["error"], r["rank"]) for r in stopped] == [
        ("knn", "stopped by the user", None)
    ]
    study = result["study"]
    assert study["n_stopped"] == 1 and study["n_failed"] == 0
    assert (
        "1 stopped" in payload_html(result["payload"])
        and "failed" not in payload_html(result["payload"]).split("<br>")[0]
    )
    # in storage it is a FAIL for Optuna's samplers, marked stopped with its reason, never RUNNING
    trials = faulty.stored(db, "stops")
    stored = trials[stopped[0]["trial"]]
    assert (
        stored.state.name == "FAIL"
        and stored.user_attrs["jupyter_automl"]["stopped"] == "stopped by the user"
    )
    assert "error" not in stored.user_attrs["jupyter_automl"]
    assert all(t.state.is_finished() for t in trials)


# an interrupt (SIGINT) of a hanging trial: test_process_faults.py::test_ctrl_c_during_a_hanging_trial...

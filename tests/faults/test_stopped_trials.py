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
    import json, sys, threading
    import jupyter_automl as ja
    from jupyter_automl.runner import Observer
    db = sys.argv[1]
    knn_started = threading.Event()
    class Started(Observer):  # the knn trial goes to its worker (where its fit hangs)
        def on_progress(self, event):
            if event.get("event") == "trial" and event.get("model") == "knn":
                knn_started.set()
    result = ja.search(data="sklearn:breast_cancer", models=["linear", "knn"], strategy="random", seed=0,
                       cv=3, n_trials=8, storage=db, name="stops", display=False, background=True,
                       observers=[Started()])
    assert knn_started.wait(120), "no knn trial started"
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

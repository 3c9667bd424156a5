"""A model every time: when no trial completes in the time budget (every worker's fit hangs, as
on a machine too loaded for them), the searching process tries the space's cheapest candidate
itself, in the budget's tolerance, and the search returns a model that predicts and exports.

The hang is real: ``LogisticRegression.fit`` sleeps in every process but the searching one
(``JA_FAULT_SPARE_PID``), so the workers' trials are killed at the deadline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import optuna

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["JA_FAULT_SPARE_PID"] = str(os.getpid())  # the workers inherit it; their pids differ
    import jupyter_automl as ja
    result = ja.search(data="sklearn:breast_cancer", models=["linear"], time_budget=10,
                       storage=sys.argv[1], name="late", display=False)
    X = result.dataset.X.head(5)
    print("RESULT " + json.dumps({
        "elapsed_s": result.elapsed_s,
        "model": type(result.best_model).__name__,
        "predicts": len(result.predict(X)),
        "proba": [len(p) for p in result.predict_proba(X)],
        "best_score": result.best_score,
        "note": (result.final or {}).get("note"),
        "script": str(result.export("late.py")),
    }))
    """
)


def test_no_trial_done_in_the_budget_still_ends_with_a_model_on_time(faulty, workdir):
    db = workdir / "late.db"
    storage = f"sqlite:///{db}"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, storage], cwd=workdir, capture_output=True, text=True, timeout=180,
        env=faulty.env("hang", JA_FAULT_MODEL="LogisticRegression"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))[len("RESULT "):])
    assert out["elapsed_s"] <= 10 * 1.05 + 1, out["elapsed_s"]
    assert out["model"] != "NoneType" and out["predicts"] == 5 and out["proba"] == [2] * 5
    assert 0.8 < out["best_score"] <= 1.0
    assert "no trial completed in the time budget" in out["note"]
    trials = optuna.load_study(study_name="late", storage=storage).get_trials(deepcopy=False)
    states = [t.state.name for t in trials]
    # the workers' trials ran out of time (none left RUNNING); the last one, here, completed
    assert states[-1] == "COMPLETE" and "COMPLETE" not in states[:-1] and "RUNNING" not in states, states
    # the exported script trains the same candidate without the search
    run = subprocess.run([sys.executable, out["script"]], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]

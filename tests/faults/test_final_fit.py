"""The final model is fitted in a worker process too: its crash or hang cannot take the kernel down.

Real faults through ``inject/sitecustomize.py``, only in fits on at least ``JA_FAULT_ROWS`` rows:
the trials' folds (half of the searched rows with ``cv: 2``) fit normally, and the final model's
fit (every searched row) segfaults or hangs in whichever process runs it. The searching process
must live, return its trials, say why it has no model and leave its study finished.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import jupyter_automl as ja
    from jupyter_automl.studies import list_studies
    options = json.loads(sys.argv[1])
    started = time.monotonic()
    result = ja.search(data="sklearn:breast_cancer", display=False, **options)
    elapsed = time.monotonic() - started
    try:
        result.predict(result.dataset.X.head(3))
        said = None
    except Exception as exc:
        said = f"{type(exc).__name__}: {exc}"
    states = {s["name"]: s.get("state") for s in list_studies(options["storage"])}
    print("RESULT " + json.dumps({
        "elapsed_s": elapsed,
        "best_model": type(result.best_model).__name__,
        "final": result.final,
        "predict": said,
        "states": states,
        "trial_states": [t.state.name for t in result.study.trials],
    }), flush=True)
    """
)

#: With ``holdout: None`` the final fit is on all 569 rows of breast_cancer; a fold of ``cv: 2``
#: trains on about 285.
FINAL_ROWS = "400"


def _run(faulty, workdir, options: dict, fault: str, timeout: float = 150) -> dict:
    env = faulty.env(fault, JA_FAULT_ROWS=FINAL_ROWS)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(options)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"the searching process died ({proc.returncode}):\n{proc.stderr[-3000:]}"
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_a_final_fit_that_segfaults_leaves_the_kernel_its_trials_and_a_reason(faulty, workdir):
    options = {"models": ["knn"], "n_trials": 3, "cv": 2, "seed": 0, "holdout": None,
               "storage": f"sqlite:///{workdir / 's.db'}", "name": "crashing-final"}
    out = _run(faulty, workdir, options, "segfault")
    assert out["trial_states"] == ["COMPLETE"] * 3, out  # the trials' fits were spared
    assert out["best_model"] == "NoneType"
    assert "SIGSEGV" in out["final"]["error"], out["final"]
    assert out["predict"] and "final fit failed" in out["predict"] and "SIGSEGV" in out["predict"]
    assert out["states"]["crashing-final"] == "finished"


def test_a_final_fit_that_hangs_is_killed_and_the_search_returns_near_its_budget(faulty, workdir):
    budget = 12
    options = {"models": ["knn"], "time_budget": budget, "cv": 2, "seed": 0, "holdout": None,
               "storage": f"sqlite:///{workdir / 's.db'}", "name": "hanging-final"}
    started = time.monotonic()
    out = _run(faulty, workdir, options, "hang")
    assert time.monotonic() - started < 120
    assert "COMPLETE" in out["trial_states"], out
    assert out["best_model"] == "NoneType"
    assert "exceeded" in out["final"]["error"], out["final"]
    # killed at the time left plus a quarter of the budget (at least 5 s) and a grace
    assert out["elapsed_s"] <= budget + max(5.0, budget / 4) + 3.0, out["elapsed_s"]
    assert out["states"]["hanging-final"] == "finished"

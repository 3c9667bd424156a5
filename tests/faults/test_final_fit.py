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
        "notes": (result.insight or {}).get("notes") or [],
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


#: NAS: a trial trains on 455 of breast_cancer's 569 rows (``val_fraction`` 0.2); the final
#: training (``holdout: None``) and the refit on every row (with a holdout) on 569 and more.
NAS_FINAL_ROWS = "500"


def _run_nas(faulty, workdir, options: dict, fault: str) -> dict:
    env = faulty.env(fault, JA_FAULT_MODEL="torch.randperm", JA_FAULT_ROWS=NAS_FINAL_ROWS)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps({"space": "nas-mlp", "seed": 0, **options})],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=150,
    )
    assert proc.returncode == 0, f"the searching process died ({proc.returncode}):\n{proc.stderr[-3000:]}"
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_a_nas_final_training_that_segfaults_keeps_the_trials_network(faulty, workdir):
    options = {"time_budget": 15, "n_trials": 3, "holdout": None,
               "storage": f"sqlite:///{workdir / 's.db'}", "name": "nas-crashing-final"}
    out = _run_nas(faulty, workdir, options, "segfault")
    assert "COMPLETE" in out["trial_states"] and "FAIL" not in out["trial_states"], out  # trials unharmed
    assert out["best_model"] != "NoneType" and out["predict"] is None, out  # the trial's network predicts
    assert "SIGSEGV" in out["final"]["error"], out["final"]
    assert "final training failed" in out["final"]["note"], out["final"]
    assert out["final"]["trained_on"] == "the trial's training split"
    assert out["states"]["nas-crashing-final"] == "finished"


def test_a_nas_final_training_that_hangs_is_killed_and_the_search_returns_near_its_budget(faulty, workdir):
    budget = 12
    options = {"time_budget": budget, "n_trials": 3, "holdout": None,
               "storage": f"sqlite:///{workdir / 's.db'}", "name": "nas-hanging-final"}
    out = _run_nas(faulty, workdir, options, "hang")
    assert out["best_model"] != "NoneType" and out["predict"] is None, out
    assert "exceeded" in out["final"]["error"], out["final"]
    assert out["elapsed_s"] <= budget + max(5.0, budget / 4) + 3.0, out["elapsed_s"]
    assert out["states"]["nas-hanging-final"] == "finished"


def test_a_nas_refit_on_every_row_that_segfaults_keeps_the_searched_rows_network(faulty, workdir):
    options = {"time_budget": 15, "n_trials": 3, "holdout": 0.2,
               "storage": f"sqlite:///{workdir / 's.db'}", "name": "nas-crashing-refit"}
    out = _run_nas(faulty, workdir, options, "segfault")
    assert out["best_model"] != "NoneType" and out["predict"] is None, out
    said = " ".join(out["notes"])  # the result's insight says why, as it does for a skipped refit
    assert "not refit on all rows: the refit failed" in said and "SIGSEGV" in said, out["notes"]
    assert out["final"]["trained_on"] == "the searched rows (not the held-out ones)"  # its final training
    assert out["states"]["nas-crashing-refit"] == "finished"

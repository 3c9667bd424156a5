"""A trial that segfaults, exits, runs out of memory, hangs or is SIGKILLed fails alone.

Each search runs in its own real Python process (the stand-in for a kernel) with the fault
injected into ``KNeighborsClassifier.fit`` by ``inject/sitecustomize.py``. Asserted for each:
the process survives, the search ends with a fitted best model, the failed trial's reason
says what happened, every other trial is in storage, nothing is left RUNNING, the budget holds.
"""

from __future__ import annotations

import pytest

BASE = {"models": ["linear", "knn"], "strategy": "random", "seed": 0, "cv": 3, "name": "faults"}


def _check(faulty, result: dict, db, reason: str) -> list:
    failed = [r for r in result["rows"] if r["state"] == "FAIL"]
    assert failed, result["rows"]
    assert all(r["model"] == "knn" for r in failed)
    assert all(reason in (r["error"] or "") for r in failed), failed
    assert result["best_model"] != "NoneType" and result["predicts"] == 3
    assert all(r["worker"] for r in result["rows"])
    trials = faulty.stored(db, "faults")
    assert [t.state.name for t in trials if t.state.name == "RUNNING"] == []
    assert sum(t.state.name == "COMPLETE" for t in trials) >= 1
    assert len(trials) == len(result["rows"])
    return failed


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("segfault", "worker crashed: SIGSEGV"),
        ("exit", "worker exited with code 1"),
        ("kill", "worker crashed: SIGKILL"),
    ],
)
def test_a_crashing_fit_fails_only_its_trial(faulty, workdir, fault, reason):
    db = workdir / "s.db"
    result = faulty.run(dict(BASE, n_trials=5, storage=str(db)), fault, workdir)
    _check(faulty, result, db, reason)
    assert result["stop_reason"] == "n_trials"


def test_a_fit_past_the_memory_limit_fails_with_out_of_memory(faulty, workdir):
    db = workdir / "s.db"
    result = faulty.run(
        dict(BASE, n_trials=5, storage=str(db), trial_memory="512MB"), "memory", workdir
    )
    _check(faulty, result, db, "out of memory (limit 512 MB)")


def test_a_hanging_fit_is_killed_and_the_budget_holds(faulty, workdir):
    db = workdir / "s.db"
    budget = 10.0
    # trial 0 (linear) completes, trial 1 (knn) sleeps for 10 minutes in its first fit; the
    # worker is started by an earlier search of the process (its start-up is not the budget's)
    result = faulty.run(dict(BASE, time_budget=budget, storage=str(db), warm=True), "hang", workdir)
    failed = _check(faulty, result, db, "trial exceeded")
    assert len(failed) == 1  # the hang took the rest of the budget
    assert result["elapsed_s"] <= budget * 1.05 + 1, result["elapsed_s"]
    assert result["stop_reason"] == "time_budget"


def test_the_thread_executor_dies_with_a_segfault_that_process_survives(faulty, workdir):
    """Why ``process`` is the default: in-process, the same fault takes the whole process."""
    proc = faulty.start(
        dict(BASE, n_trials=5, storage=str(workdir / "t.db"), executor="thread"),
        "segfault",
        workdir,
    )
    proc.communicate(timeout=120)
    assert proc.returncode == -11

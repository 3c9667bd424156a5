"""The issue's "done when", in a real kernel: trials that segfault, exhaust memory and hang.

One Jupyter kernel (started with ``inject/sitecustomize.py`` on its ``PYTHONPATH``, so the
kernel and every worker it starts patch the faulty ``fit``s) runs two ``%%automl`` cells:
k-nearest neighbours segfaults and extra trees allocates past ``trial_memory``; then a random
forest sleeps for ten minutes under a 10 s budget. The kernel survives both, each search ends
with a fitted model, on time, and the leaderboard says which trials failed and why.
"""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

PLAN = "KNeighborsClassifier=segfault,ExtraTreesClassifier=memory,RandomForestClassifier=hang"


def _run(kc, code: str, timeout: float = 240) -> str:
    """Execute ``code``; return what it printed (the cell must succeed)."""
    out: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


def _board(kc, var: str) -> dict:
    code = (
        "import json, os\n"
        f"_b = {var}.leaderboard[['model', 'state', 'error', 'worker']]\n"
        f"print('BOARD ' + json.dumps({{'pid': os.getpid(), 'elapsed': {var}.elapsed_s, "
        f"'reason': {var}.stop_reason, 'best': type({var}.best_model).__name__, "
        f"'predicts': len({var}.predict({var}.dataset.X.head(3))), "
        "'rows': json.loads(_b.to_json(orient='records'))}))"
    )
    line = next(x for x in _run(kc, code).splitlines() if x.startswith("BOARD "))
    return json.loads(line[len("BOARD ") :])


def test_a_notebook_survives_trials_that_segfault_run_out_of_memory_and_hang(faulty, workdir):
    from jupyter_client import KernelManager

    db = workdir / "s.db"
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(workdir), env=faulty.env(None, JA_FAULT_PLAN=PLAN))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        pid = int(_run(kc, "import os; print(os.getpid())").strip())
        _run(kc, "%load_ext jupyter_automl")
        _run(kc, textwrap.dedent(f"""\
            %%automl crashes --no-display
            data: sklearn:breast_cancer
            models: [linear, knn, extra_trees]
            strategy: random
            cv: 3
            n_trials: 8
            trial_memory: 512MB
            storage: {db}
            name: crashes
            """))
        first = _board(kc, "crashes")
        errors = {r["model"]: r["error"] for r in first["rows"] if r["state"] == "FAIL"}
        assert "worker crashed: SIGSEGV" in errors.get("knn", ""), first["rows"]
        assert "out of memory (limit 512 MB)" in errors.get("extra_trees", ""), first["rows"]
        assert all(r["model"] == "linear" for r in first["rows"] if r["state"] == "COMPLETE")
        assert first["reason"] == "n_trials" and first["predicts"] == 3 and first["best"] != "NoneType"

        budget = 10.0
        _run(kc, textwrap.dedent(f"""\
            %%automl hangs --no-display
            data: sklearn:breast_cancer
            models: [linear, random_forest]
            strategy: random
            cv: 3
            time_budget: {budget}
            storage: {db}
            name: hangs
            """))
        second = _board(kc, "hangs")
        hung = [r for r in second["rows"] if r["state"] == "FAIL"]
        assert hung and all(r["model"] == "random_forest" for r in hung), second["rows"]
        assert all("trial exceeded" in r["error"] for r in hung), hung
        assert second["elapsed"] <= budget * 1.05 + 1, second["elapsed"]
        assert second["predicts"] == 3 and second["best"] != "NoneType"

        assert first["pid"] == second["pid"] == pid  # the same kernel, alive throughout
        for name in ("crashes", "hangs"):
            states = [t.state.name for t in faulty.stored(db, name)]
            assert "RUNNING" not in states and "COMPLETE" in states, (name, states)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

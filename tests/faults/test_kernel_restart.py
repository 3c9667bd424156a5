"""A kernel restarted during a ``%%automl --background`` search, then ``%automl resume``."""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")


def _execute(kc, code: str, timeout: float = 180) -> None:
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)
    assert reply["content"]["status"] == "ok", reply["content"]


def test_a_kernel_restart_during_a_background_search_then_resume_reaches_n_trials(faulty, workdir):
    from jupyter_client import KernelManager

    db, switch = workdir / "s.db", workdir / "no-more-faults"
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(workdir), env=faulty.env("hang", JA_FAULT_UNLESS=str(switch)))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        _execute(kc, "%load_ext jupyter_automl")
        body = textwrap.dedent(f"""\
            %%automl search --background --no-display
            data: sklearn:breast_cancer
            models: [linear, knn]
            strategy: random
            cv: 3
            n_trials: 8
            storage: {db}
            name: faults
            """)
        _execute(kc, body)  # returns at once; trial 1 (knn) hangs in its worker

        def finished():
            try:
                return [t for t in faulty.stored(db, "faults") if t.state.is_finished()]
            except Exception:
                return []

        done = faulty.wait_for(finished, 120, "a stored trial")
        workers = {int(t.user_attrs["jupyter_automl"]["worker"].split(":")[1]) for t in done}
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=120)
        faulty.wait_for(
            lambda: faulty.all_gone(workers),
            15,
            "the old kernel's workers to exit",
        )
        switch.touch()
        _execute(kc, "%load_ext jupyter_automl")
        _execute(kc, f"%automl resume faults again --no-display --storage {db}", timeout=300)
        _execute(kc, "assert again.n_trials == 8, again.leaderboard")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    trials = faulty.stored(db, "faults")
    assert len(trials) == 8 and all(t.state.is_finished() for t in trials)

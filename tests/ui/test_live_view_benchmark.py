"""The live-view benchmark still runs (a few hundred trials, not the full 2,000)."""

from __future__ import annotations

from benchmarks.live_view import one_run


def test_benchmark_runs_with_and_without_the_view() -> None:
    wall, cpu, flushes, spent, final = one_run(200, True, 0.05)
    assert wall > 0 and cpu > 0 and flushes >= 1 and spent >= 0 and final > 0
    assert one_run(200, False, 0.05)[2] == 0

"""What the live view costs a search: 2,000 one-millisecond trials with and without it.

Each trial busy-waits 1 ms while holding the GIL (the worst case for the view's flusher thread,
which then only runs between trials). The view is built exactly as in a notebook, with its
Bokeh document and widgets; outside a kernel its messages are serialised but not sent (the
kernel sends them from its IOPub thread). Runs alternate with and without the view.

Usage::

    python benchmarks/live_view.py [--trials 2000] [--repeats 3] [--interval 0.25]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from jupyter_automl._search import Search
from jupyter_automl.config import SearchConfig
from jupyter_automl.spaces._base import Evaluation, SearchSpace


class OneMillisecondSpace(SearchSpace):
    """A space whose trials take 1 ms of CPU and score a sampled number."""

    name = "one-millisecond"

    def __init__(self, base: SearchSpace) -> None:
        super().__init__(base.config, base.data)

    def sample(self, trial: Any) -> dict[str, Any]:
        return {"x": trial.suggest_float("x", 0.0, 1.0)}

    def evaluate(self, trial: Any, params: dict[str, Any], budget: Any) -> Evaluation:
        end = time.perf_counter() + 0.001
        while time.perf_counter() < end:  # hold the GIL, like a pure-Python objective
            pass
        return Evaluation(values=params["x"], score_std=0.0)

    def fit_final(self, params: dict[str, Any], budget: Any) -> Any:
        return params

    def key_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return params


def one_run(
    trials: int, with_view: bool, interval: float
) -> tuple[float, float, int, float, float]:
    """Wall and CPU seconds of the search's run (all threads), and the view's front-end updates."""
    config = SearchConfig.from_dict(
        {
            "data": "sklearn:iris",
            "strategy": "random",
            "n_trials": trials,
            "storage": "memory",
            "display": False,
            "seed": 0,
        }
    )
    search = Search(config)
    search.space = OneMillisecondSpace(search.space)
    view = None
    if with_view:
        from jupyter_automl.ui.live import LiveView

        view = LiveView(search, show=False, interval=interval)
        search.observers.append(view)
    t0, c0 = time.perf_counter(), time.process_time()
    result = search.run()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.n_trials == trials
    if view is None:
        return elapsed, cpu, 0, 0.0, 0.0
    return elapsed, cpu, view.flushes, view.flush_cpu_s, view.finish_cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between view updates")
    args = parser.parse_args()
    import jupyter_automl.ui.live  # noqa: F401  (imports are not part of the measure)

    one_run(50, True, args.interval)  # warm up both paths
    one_run(50, False, args.interval)
    runs: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
    for _ in range(args.repeats):
        for with_view in (False, True):
            runs[with_view].append(one_run(args.trials, with_view, args.interval))
    print(
        f"{args.trials} trials of 1 ms, {args.repeats} runs each (medians), view updates every {args.interval} s:"
    )
    summary = {}
    for with_view, label in ((False, "without the live view"), (True, "with the live view   ")):
        wall = statistics.median(r[0] for r in runs[with_view])
        cpu = statistics.median(r[1] for r in runs[with_view])
        summary[with_view] = (wall, cpu)
        updates = ""
        if with_view:
            n = statistics.median(r[2] for r in runs[with_view])
            spent = statistics.median(r[3] for r in runs[with_view])
            final = statistics.median(r[4] for r in runs[with_view])
            updates = (
                f", {n:.0f} front-end updates costing {1000 * spent:.0f} ms of CPU in all"
                f" + {1000 * final:.0f} ms for the final snapshot"
            )
        print(
            f"  {label}: wall {wall:.3f} s ({1000 * wall / args.trials:.3f} ms/trial), "
            f"CPU {cpu:.3f} s{updates}"
        )
    (pw, pc), (vw, vc) = summary[False], summary[True]
    print(f"  overhead: wall {100 * (vw - pw) / pw:+.1f} %, CPU {100 * (vc - pc) / pc:+.1f} %")
    print(
        "  wall per run: without "
        + ", ".join(f"{r[0]:.2f}" for r in runs[False])
        + "; with "
        + ", ".join(f"{r[0]:.2f}" for r in runs[True])
    )


if __name__ == "__main__":
    main()

"""What the held-out split and the insight cost: time, trials and the final model's score.

Each dataset is split once (seeded) into 75 % the search gets and 25 % it never sees (the
"outer" test). The search runs with ``holdout: 0.2`` and with ``holdout: none``; the table gives
the outer-test score of the returned model (refit on all the search's rows either way), the trials
run, the whole run's time against the budget, and the seconds of the insight and the refit.

    .venv/bin/python benchmarks/insight.py              # 15 s on three datasets, 60 s on one
    .venv/bin/python benchmarks/insight.py --budgets 15 --datasets breast_cancer
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

import jupyter_automl as ja
from jupyter_automl.data import load_dataset

_DEFAULT = {15: ["breast_cancer", "digits", "diabetes"], 60: ["digits"]}


def one_run(name: str, budget: float, holdout: float | None, seed: int) -> dict:
    data = load_dataset(f"sklearn:{name}")
    stratify = None if data.task == "regression" else data.y
    train, test = train_test_split(
        np.arange(data.n_samples), test_size=0.25, random_state=seed, stratify=stratify
    )
    X, y = data.X.iloc[train], data.y[train]
    t0 = time.monotonic()
    result = ja.search(
        X=X,
        y=y,
        time_budget=budget,
        holdout=holdout if holdout else "none",
        seed=seed,
        storage="memory",
        display=False,
    )
    wall = time.monotonic() - t0
    insight = result.insight or {}
    seconds = insight.get("seconds", {})
    return {
        "dataset": name,
        "budget": budget,
        "holdout": holdout or "none",
        "trials": result.n_trials,
        "cv": result.best_trial.values[0],
        "held_out": result.holdout_score,
        "outer": result.score(data.X.iloc[test], data.y[test]),
        "wall": wall,
        "insight_s": seconds.get("model", 0.0) + seconds.get("search", 0.0),
        "refit_s": seconds.get("refit", 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budgets", type=float, nargs="*")
    parser.add_argument("--datasets", nargs="*")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    plan = (
        {b: args.datasets or _DEFAULT.get(int(b), ["breast_cancer"]) for b in args.budgets}
        if args.budgets
        else _DEFAULT
    )
    print(
        "| dataset | budget | holdout | trials | CV | held-out | outer test | run (s) | insight (s) | insight % | refit (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for budget, names in plan.items():
        for name in names:
            for holdout in (0.2, None):
                r = one_run(name, budget, holdout, args.seed)
                held = "–" if r["held_out"] is None else f"{r['held_out']:.4f}"
                print(
                    f"| {name} | {budget:g} s | {r['holdout']} | {r['trials']} | {r['cv']:.4f} | {held} | "
                    f"{r['outer']:.4f} | {r['wall']:.1f} | {r['insight_s']:.2f} | {100 * r['insight_s'] / budget:.1f} | "
                    f"{r['refit_s']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""NAS strategies on digits, nas-cell space: best-so-far accuracy vs trained architectures.

Every strategy gets the same budget of trained architectures (``--budget``) per seed and runs
through the public entry point (``jupyter_automl.search``) with pruning off, so each trial is
one full training (a cell sampled again is not retrained and not counted). Reported: the best validation accuracy found after k trained architectures,
mean ± standard deviation over seeds, and the mean wall time of a run.

- ``random``, ``tpe``: Optuna's samplers.
- ``evolution``: regularized evolution (small population so it evolves within the budget).
- ``proxy+evo``: the same evolution warm-started with the ``proxy_keep`` best of
  ``proxy_candidates`` untrained random cells by SynFlow (screening costs no training).
- ``darts``: one first-order DARTS supernet search (DARTS- auxiliary skip, DARTS+ early stop,
  argmax without ``none``), its cell retrained as trial 1, random trials after. The supernet
  trains no architecture to completion, so it is not counted; its cost shows in the seconds.
- ``darts-pt``: the same supernet, the cell chosen by perturbation (DARTS-PT style) instead.

Run::

    PYTHONPATH=. python benchmarks/nas.py            # about 10-15 minutes on one core
    PYTHONPATH=. python benchmarks/nas.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import optuna
import torch
from sklearn.datasets import load_digits

import jupyter_automl as ja

STRATEGIES: dict[str, dict[str, Any]] = {
    "random": {"strategy": "random"},
    "tpe": {"strategy": "tpe", "strategy_options": {"n_startup_trials": 6}},
    "evolution": {"strategy": "evolution",
                  "strategy_options": {"population_size": 6, "tournament_size": 3}},
    "proxy+evo": {"strategy": "evolution", "proxy": "synflow",
                  "strategy_options": {"population_size": 6, "tournament_size": 3},
                  "space_options": {"proxy_candidates": 200, "proxy_keep": 6}},
    "darts": {"strategy": "darts", "space_options": {"darts_epochs": 10}},
    "darts-pt": {"strategy": "darts",
                 "space_options": {"darts_epochs": 10, "darts_selection": "perturbation"}},
}


def run_one(name: str, seed: int, budget: int, X: np.ndarray, y: np.ndarray,
            common: dict[str, Any]) -> tuple[list[float], float]:
    """One search; returns the best-so-far curve over trained architectures and seconds."""
    options = {**common, **STRATEGIES[name]}
    options["space_options"] = {**common["space_options"],
                                **STRATEGIES[name].get("space_options", {})}
    start = time.perf_counter()
    # revisited cells are not retrained (the space reuses their result), so a run gets extra
    # trials and the curve counts distinct trained architectures only
    result = ja.search(X=X, y=y, seed=seed, n_trials=budget * 3 // 2 + 2, **options)
    seconds = time.perf_counter() - start
    trials = sorted(result.study.get_trials(deepcopy=False), key=lambda t: t.number)
    curve, best = [], float("-inf")
    for trial in trials:
        if "duplicate_of" in trial.user_attrs.get("jupyter_automl", {}):
            continue
        if trial.state == optuna.trial.TrialState.COMPLETE:
            best = max(best, float(trial.value))
        curve.append(best)
    return curve[:budget], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=24, help="trained architectures per run")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=1000, help="digits used (of 1797)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--quick", action="store_true", help="budget 3, 1 seed, 200 samples")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.seeds, args.samples, args.epochs = 3, 1, 200, 1
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[: args.samples]
    X, y = X[order].reshape(-1, 1, 8, 8), y[order]
    common = {"space": "nas-cell", "epochs": args.epochs, "batch_size": 64, "lr": 0.01,
              "optimizer": "adam", "weight_decay": 0.0, "pruner": "none", "device": "cpu",
              "storage": "memory", "display": False,
              "space_options": {"channels": 8, "n_stages": 2}}
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    checkpoints = sorted({1, *range(4, args.budget + 1, 4), args.budget})
    curves: dict[str, list[list[float]]] = {}
    seconds: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        for name in names:
            curve, took = run_one(name, seed, args.budget, X, y, common)
            curves.setdefault(name, []).append(curve)
            seconds.setdefault(name, []).append(took)
            print(f"  seed {seed} {name:<10} best {curve[-1]:.4f} in {took:.0f}s", flush=True)

    header = ["strategy"] + [f"k={k}" for k in checkpoints] + ["vs random W/T/L", "seconds/run"]
    rows = []
    finals = {name: [c[-1] for c in curves[name]] for name in names}
    for name in names:
        arr = np.array([c + [c[-1]] * (args.budget - len(c)) for c in curves[name]])
        cells = [name]
        for k in checkpoints:
            column = arr[:, k - 1]
            cells.append(f"{column.mean():.4f} ± {column.std():.4f}")
        if "random" in finals and name != "random":
            # same seed, same validation split: compare each run with random's run
            pairs = list(zip(finals[name], finals["random"], strict=True))
            wins = sum(a > b for a, b in pairs)
            ties = sum(a == b for a, b in pairs)
            cells.append(f"{wins}/{ties}/{len(pairs) - wins - ties}")
        else:
            cells.append("")
        cells.append(f"{np.mean(seconds[name]):.0f}")
        rows.append(cells)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(f"digits ({args.samples} samples, 20% validation), nas-cell (channels 8, 2 stages), "
          f"{args.epochs} epochs per architecture, {args.seeds} seeds: best-so-far validation "
          "accuracy after k trained architectures (mean ± std); W/T/L: seeds where the final "
          "best beats / ties / loses to random's")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()

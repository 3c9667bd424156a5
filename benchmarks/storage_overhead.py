"""Per-trial overhead of the runner and storage, against raw Optuna on the same machine.

Trivial trials (one float parameter, no training) so only bookkeeping is measured:
raw Optuna ``study.optimize`` with each storage, and our ``Runner`` (ask, user attributes,
tell, observer events) with the same storages. Prints median ms per trial over repeats.

    python benchmarks/storage_overhead.py [--trials 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna

from jupyter_automl.config import SearchConfig
from jupyter_automl.runner import Runner
from jupyter_automl.spaces import Evaluation, SearchSpace
from jupyter_automl.storage import resolve_storage, storage_url, working_study

optuna.logging.set_verbosity(optuna.logging.WARNING)


class QuadraticSpace(SearchSpace):
    """One float, scored instantly: the cheapest possible trial."""

    name = "bench"

    def sample(self, trial: Any) -> dict[str, Any]:
        return {"x": trial.suggest_float("x", -5, 5)}

    def evaluate(self, trial: Any, params: dict[str, Any], budget: Any) -> Evaluation:
        return Evaluation(values=-(params["x"] - 1) ** 2)

    def fit_final(self, params: dict[str, Any], budget: Any) -> Any:
        return None


def _raw(storage: Any, sampler: str, n: int) -> float:
    s = optuna.samplers.RandomSampler(seed=0) if sampler == "random" else optuna.samplers.TPESampler(seed=0)
    study = optuna.create_study(storage=storage, sampler=s, direction="maximize")
    t0 = time.perf_counter()
    study.optimize(lambda t: -(t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=n)
    return (time.perf_counter() - t0) / n * 1000


def _ours(storage: Any, sampler: str, n: int, url: str) -> float:
    s = optuna.samplers.RandomSampler(seed=0) if sampler == "random" else optuna.samplers.TPESampler(seed=0)
    record = optuna.create_study(storage=storage, sampler=s, direction="maximize")
    config = SearchConfig(n_trials=n)
    # what Search does: trials in memory, each finished one copied to a local file
    runner = Runner(working_study(record, url), QuadraticSpace(config, None), config, stored_study=record)
    t0 = time.perf_counter()
    runner.run()
    return (time.perf_counter() - t0) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for kind in ("memory", "journal", "sqlite (optuna default)", "sqlite (WAL, as search uses it)"):
        for sampler in ("random", "tpe"):
            raw, ours = [], []
            for _ in range(args.repeat):
                tmp = Path(tempfile.mkdtemp())
                for who, out in (("raw", raw), ("ours", ours)):
                    url = "memory"
                    if kind == "memory":
                        storage: Any = optuna.storages.InMemoryStorage()
                    elif kind == "journal":
                        url = storage_url(str(tmp / f"{who}.log"))
                        storage = resolve_storage(url.split(":", 1)[1])
                    elif kind.startswith("sqlite (optuna"):
                        url = storage = f"sqlite:///{tmp / (who + '-plain.db')}"
                    else:
                        url = storage_url(str(tmp / f"{who}.db"))
                        storage = resolve_storage(str(tmp / f"{who}.db"))
                    out.append(_raw(storage, sampler, args.trials) if who == "raw" else _ours(storage, sampler, args.trials, url))
            rows.append((kind, sampler, statistics.median(raw), statistics.median(ours)))
    print(f"{args.trials} trivial trials, median of {args.repeat} runs, ms per trial")
    print(f"{'storage':<34}{'sampler':<8}{'raw optuna':>12}{'our runner':>12}{'ratio':>8}")
    for kind, sampler, raw, ours in rows:
        print(f"{kind:<34}{sampler:<8}{raw:>12.2f}{ours:>12.2f}{ours / raw:>8.2f}")


if __name__ == "__main__":
    main()

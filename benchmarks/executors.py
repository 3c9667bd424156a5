"""Per-trial overhead of the executors against raw Optuna, on trivial and small real trials.

* trivial: one float, scored instantly (only bookkeeping and the executor's round trip count);
* small real: the tabular space's logistic regression, 3-fold CV on iris (a real fit per fold,
  three ``report``/``should_prune`` round trips per trial).

Raw Optuna runs ``study.optimize`` in memory with the same objective; ours runs the ``Runner``
with each executor in memory, after the workers are up (start-up is timed on its own).
Prints median ms per trial over the repeats.

    python -m benchmarks.executors [--trials 200] [--real-trials 30] [--repeat 3] [--no-dask]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import optuna

from benchmarks.storage_overhead import QuadraticSpace
from jupyter_automl.config import SearchConfig
from jupyter_automl.data import load_dataset
from jupyter_automl.evaluate import TrialBudget
from jupyter_automl.runner import Runner
from jupyter_automl.spaces import make_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def quadratic_space(config: Any, data: Any, *, threads: int = 1) -> QuadraticSpace:
    return QuadraticSpace(config, data, threads=threads)


def _executor(kind: str, space: Any, config: Any, data: Any, factory: Any) -> Any:
    if kind == "thread":
        from jupyter_automl.executors.thread import ThreadExecutor

        return ThreadExecutor(space)
    if kind == "process":
        from jupyter_automl.executors.process import ProcessExecutor

        return ProcessExecutor(space, config, data, space_factory=factory)
    from jupyter_automl.executors.dask import DaskExecutor

    return DaskExecutor(space, config, data, space_factory=factory)


def _raw(space: Any, n: int) -> float:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    budget = TrialBudget(None)
    t0 = time.perf_counter()
    study.optimize(lambda t: space.evaluate(t, space.sample(t), budget).values, n_trials=n)
    return (time.perf_counter() - t0) / n * 1000


def _ours(
    kind: str, space: Any, config: Any, data: Any, factory: Any, n: int
) -> tuple[float, float]:
    """(ms per trial, seconds until the first trial could run)."""
    executor = _executor(kind, space, config, data, factory)
    t0 = time.perf_counter()
    executor.start()
    warm = optuna.create_study(direction="maximize")
    Runner(warm, space, config.model_copy(update={"n_trials": 1}), executor=executor).run()
    ready = time.perf_counter() - t0
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    runner = Runner(study, space, config.model_copy(update={"n_trials": n}), executor=executor)
    t0 = time.perf_counter()
    runner.run()
    per_trial = (time.perf_counter() - t0) / n * 1000
    executor.close()
    failed = [t.user_attrs for t in study.trials if t.state.name == "FAIL"]
    assert len(study.trials) == n and not failed, failed[
        :1
    ]  # pruned trials are fine: that is the pruner
    return per_trial, ready


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--real-trials", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    kinds = ["thread", "process"] + ([] if args.no_dask else ["dask"])
    config = SearchConfig(n_trials=1, models=["linear"], cv=3, executor="thread")
    iris = load_dataset("sklearn:iris", None)
    # the worker imports the factory by its module's name (benchmarks.executors, not __main__)
    from benchmarks.executors import quadratic_space as importable_factory

    cases = [
        ("trivial", QuadraticSpace(config, None), None, importable_factory, args.trials),
        (
            "small real (iris, linear, 3-fold)",
            make_space(config, iris),
            iris,
            None,
            args.real_trials,
        ),
    ]
    print(
        f"{'trial':<36} {'executor':<10} {'ms/trial':>9} {'overhead vs raw':>16} {'first trial after':>18}"
    )
    for label, space, data, factory, n in cases:
        raw = statistics.median(_raw(space, n) for _ in range(args.repeat))
        print(f"{label:<36} {'raw optuna':<10} {raw:9.2f} {'':>16} {'':>18}")
        for kind in kinds:
            runs = [_ours(kind, space, config, data, factory, n) for _ in range(args.repeat)]
            ms = statistics.median(r[0] for r in runs)
            first = max(
                r[1] for r in runs[:1]
            )  # the first repeat starts the workers; later ones reuse them
            print(f"{label:<36} {kind:<10} {ms:9.2f} {ms - raw:+15.2f}  {first:15.2f} s")


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    with threadpool_limits(
        limits=1
    ):  # as Search sets for its trials: no BLAS oversubscription in either
        main()

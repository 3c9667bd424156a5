"""NAS strategies on a tabulated nas-cell benchmark, and DARTS against random search on digits.

Part ``table`` (the defaults are chosen from it): every strategy searches the ``nas-cell``
space through the package's own samplers (:func:`jupyter_automl.strategies.make_sampler`,
so with the distinct-candidate wrapper), proxy screening (``NasCellSpace.portfolio``) and
:class:`jupyter_automl.runner.Runner`, but a trial looks its cell up in a table instead of
training it. The table is **synthetic** (no NAS-Bench-201 file can be downloaded here): a
seeded model of each canonical cell's accuracy after NAS-Bench-201's published pattern
(chance for a cell with no path from input to output; accuracy rises with the convolutions
on the deepest input-output path, 3x3 above 1x1; a skip path helps deep cells; pooling
edges cost; per-cell noise of 0.4 points), with a validation value that the search sees and
a test value that is reported (the best cell *by validation*, as NAS-Bench-201 papers do).
The proxy (SynFlow) is computed for real on the real networks. Reported: test accuracy of
the best-so-far cell after 10, 25 and 50 distinct architectures, mean ± standard error over
seeds, and paired wins/ties/losses against random search on the same seed.

Part ``trained``: the same searches, but a trial's cell is trained for real on digits the first
time any search asks for it (:class:`TrainedCellSpace`: validation accuracy for the search, test
accuracy on rows no search sees for the report), so the table is built as the searches go and
cached in a JSON file for the next run.

Part ``darts`` (real training, digits 8x8): one supernet search per seed (DARTS-, warm-up,
DARTS+ stop after a minimum of architecture epochs); each selection rule's cell is trained
like a trial; against the expected best of 10 random cells, computed exactly from a pool of
trained random distinct cells (the mean of the maximum of 10 drawn without replacement).

Run::

    PYTHONPATH=. python benchmarks/nas.py table --seeds 30          # ~35 min on a loaded 2-core machine (SynFlow screening is most of it)
    PYTHONPATH=. python benchmarks/nas.py darts --seeds 6 --method gdas --darts-epochs 12   # ~5 min
    PYTHONPATH=. python benchmarks/nas.py table --quick              # a smoke run
    PYTHONPATH=. python benchmarks/nas.py trained --seeds 10 --strategies random,tpe,synflow+tpe
        # the same searches on cells trained for real on digits (~15 min; trained cells cached)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from typing import Any

import numpy as np
import optuna
import torch
from sklearn.datasets import load_digits

from jupyter_automl.config import SearchConfig
from jupyter_automl.data import Dataset
from jupyter_automl.runner import Runner
from jupyter_automl.spaces._base import Evaluation
from jupyter_automl.spaces.nas.genotypes import CellGenotype
from jupyter_automl.spaces.nas.spaces import NasCellSpace
from jupyter_automl.strategies import make_sampler

CHECKPOINTS = (10, 25, 50)


def _evolution(population: int, tournament: int, proxy: str) -> dict[str, Any]:
    options = {"population_size": population, "tournament_size": tournament}
    return {"strategy": "evolution", "proxy": proxy, "strategy_options": options}


STRATEGIES: dict[str, dict[str, Any]] = {
    "random": {"strategy": "random", "proxy": "none"},
    "tpe": {"strategy": "tpe", "proxy": "none"},
    "evolution-20/5": _evolution(20, 5, "none"),
    "evolution-10/3": _evolution(10, 3, "none"),
    "synflow+random": {"strategy": "random", "proxy": "synflow"},
    "synflow+tpe": {"strategy": "tpe", "proxy": "synflow"},
    "synflow+evo-20/5": _evolution(20, 5, "synflow"),
    "synflow+evo-10/3": _evolution(10, 3, "synflow"),
}


# ------------------------------------------------------------------------------ the table
def _noise(text: str, salt: str) -> float:
    """A fixed standard normal draw for ``text`` (the same on every run and machine)."""
    digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    u1 = (int.from_bytes(digest[:8], "big") + 1) / (2**64 + 1)
    u2 = int.from_bytes(digest[8:16], "big") / 2**64
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


_CONV = {"nor_conv_3x3": 1.0, "nor_conv_1x1": 0.55}


def table_accuracy(genotype: CellGenotype) -> tuple[float, float]:
    """``(validation, test)`` accuracy of a cell in the synthetic NAS-Bench-201-style table."""
    cell = genotype.canonical()
    if cell.ops == ("none",) * 6:
        return 0.10, 0.10
    paths = _paths(cell)
    depth = max(sum(_CONV.get(op, 0.0) for op in path) for path in paths)
    width = sum(_CONV.get(op, 0.0) for op in cell.ops)
    residual = any(all(op == "skip_connect" for op in path) for path in paths)
    pools = cell.ops.count("avg_pool_3x3")
    quality = (
        1.25 * depth + 0.35 * width + (0.5 * depth if residual else -0.15 * depth) - 0.45 * pools
    )
    mean = 0.62 + 0.325 / (1.0 + math.exp(-(quality - 2.0)))
    text = cell.to_string()
    true = mean + 0.004 * _noise(text, "cell")
    return (
        min(0.999, true + 0.003 * _noise(text, "valid")),
        min(0.999, true + 0.003 * _noise(text, "test")),
    )


def _paths(cell: CellGenotype) -> list[list[str]]:
    """The op sequences of every input-to-output path through edges that are not ``none``."""
    out: list[list[str]] = []

    def walk(node: int, ops: list[str]) -> None:
        if node == cell.n_nodes - 1:
            out.append(ops)
            return
        for target in range(node + 1, cell.n_nodes):
            op = cell.edge_op(target, node)
            if op != "none":
                walk(target, [*ops, op])

    walk(0, [])
    return out


class TabulatedCellSpace(NasCellSpace):
    """``nas-cell`` whose trials look their cell up in :func:`table_accuracy`."""

    def evaluate(self, trial: Any, params: dict, budget: Any) -> Evaluation:
        genotype = self.genotype(self.resolve(params))
        valid, test = table_accuracy(genotype)
        return Evaluation(
            values=valid, user_attrs={"genotype": genotype.to_string(), "test_accuracy": test}
        )

    def key_params(self, params: dict) -> dict:
        return {}  # the leaderboard's parameter count would build every network


class TrainedCellSpace(NasCellSpace):
    """``nas-cell`` whose trials train their cell for real, once per canonical cell.

    A tabulated benchmark built as the searches ask for cells: the first time any search (any
    strategy, any seed) proposes a cell, it is trained with a fixed seed on the space's digits
    rows (validation accuracy: what the search sees) and scored on digits rows no search ever
    sees (test accuracy: what is reported); later requests look it up. ``cache`` can be saved
    to a JSON file and loaded again, so a rerun trains only the cells it has not met yet.
    """

    cache: dict[str, list[float]] = {}  # canonical cell -> [validation, test, training seconds]
    test_X: np.ndarray | None = None
    test_y: np.ndarray | None = None

    def evaluate(self, trial: Any, params: dict, budget: Any) -> Evaluation:
        genotype = self.genotype(self.resolve(params))
        key = genotype.canonical().to_string()
        if key not in self.cache:
            self.cache[key] = list(_train_cell(self, genotype.to_string()))
        valid, test, _ = self.cache[key]
        return Evaluation(
            values=valid, user_attrs={"genotype": genotype.to_string(), "test_accuracy": test}
        )

    def key_params(self, params: dict) -> dict:
        return {}


def _train_cell(space: NasCellSpace, text: str) -> tuple[float, float, float]:
    """(validation accuracy, test accuracy, seconds) of one real training of cell ``text``."""
    from jupyter_automl.evaluate.torch_training import split_indices, train_model

    assert TrainedCellSpace.test_X is not None and TrainedCellSpace.test_y is not None
    params = space.resolve({"genotype": text})
    X, y = space.prepared()
    train, val = split_indices(y, space.task, float(space.options["val_fraction"]), 0)
    torch.manual_seed(0)
    model = space.build(params)
    space._fit_scaling(model, X[train])
    start = time.perf_counter()
    outcome = train_model(
        model,
        X[train],
        y[train],
        X[val],
        y[val],
        task=space.task,
        settings=space.settings(params, None),
        metric=space.metric,
        trial=None,
        budget=None,
        report=False,
    )
    model.eval()
    with torch.no_grad():
        inputs = torch.from_numpy(space._inputs(TrainedCellSpace.test_X))
        predicted = model(inputs).argmax(dim=1).numpy()
    test = float((predicted == space._label_indices(TrainedCellSpace.test_y)).mean())
    return float(outcome.history[-1]), test, time.perf_counter() - start


def digits_images(n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:n]
    return X[order].reshape(-1, 1, 8, 8), y[order]


def _space(
    cls: type[NasCellSpace],
    options: dict[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    **extra: Any,
) -> NasCellSpace:
    config = SearchConfig(
        space="nas-cell",
        storage="memory",
        display=False,
        device="cpu",
        seed=seed,
        epochs=3,
        batch_size=64,
        lr=0.01,
        optimizer="adam",
        weight_decay=0.0,
        pruner="none",
        **{k: v for k, v in options.items() if k != "space_options"},
        space_options={"channels": 8, "n_stages": 2, **options.get("space_options", {})},
        **extra,
    )
    data = Dataset(
        X=X, y=y, task="multiclass", source="arrays", classes=np.unique(y), kind="images"
    )
    space = cls(config, data)
    space.check()
    return space


def run_table(
    name: str,
    seed: int,
    budget: int,
    X: np.ndarray,
    y: np.ndarray,
    space_class: type[NasCellSpace] = TabulatedCellSpace,
) -> tuple[list[float], int, float]:
    """One search: test accuracy of the best-by-validation cell after each trial."""
    options = STRATEGIES[name]
    space = _space(space_class, options, X, y, seed, n_trials=budget)
    start = time.perf_counter()
    sampler = make_sampler(
        options["strategy"], seed=seed, options=options.get("strategy_options"), space=space
    )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for params in space.portfolio()[:budget]:
        study.enqueue_trial(params, skip_if_exists=True)
    Runner(study, space, space.config).run()
    seconds = time.perf_counter() - start
    curve, best_valid, best_test = [], -1.0, 0.0
    keys = set()
    for trial in sorted(study.trials, key=lambda t: t.number):
        keys.add(space.candidate_key(trial.params))
        if trial.value is not None and trial.value > best_valid:
            best_valid, best_test = trial.value, trial.user_attrs["jupyter_automl"]["test_accuracy"]
        curve.append(best_test)
    return curve, len(keys), seconds


def table_part(args: argparse.Namespace) -> None:
    trained = args.part == "trained"
    space_class: type[NasCellSpace] = TabulatedCellSpace
    if trained:  # digits: 1,257 rows for the searches (20 % of them validation), 540 for test
        X_all, y_all = digits_images()
        X, y = X_all[:1257], y_all[:1257]
        TrainedCellSpace.test_X, TrainedCellSpace.test_y = X_all[1257:], y_all[1257:]
        space_class = TrainedCellSpace
        if args.cache and os.path.exists(args.cache):
            with open(args.cache) as handle:
                TrainedCellSpace.cache.update(json.load(handle))
        print(f"  {len(TrainedCellSpace.cache)} cells already trained ({args.cache})", flush=True)
    else:
        X, y = digits_images(400)  # the table needs no training: data only shapes the networks
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    budget = max(CHECKPOINTS) if not args.quick else 10
    curves: dict[str, list[list[float]]] = {n: [] for n in names}
    distinct: dict[str, list[int]] = {n: [] for n in names}
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for seed in range(args.seeds):
        for name in names:
            curve, n_distinct, took = run_table(name, seed, budget, X, y, space_class)
            curves[name].append(curve)
            distinct[name].append(n_distinct)
            seconds[name].append(took)
        print(
            f"  seed {seed}: " + ", ".join(f"{n} {curves[n][-1][-1]:.4f}" for n in names),
            flush=True,
        )
        if trained:
            print(f"    {len(TrainedCellSpace.cache)} distinct cells trained so far", flush=True)
            if args.cache:
                with open(args.cache, "w") as handle:
                    json.dump(TrainedCellSpace.cache, handle)
        if args.output:
            with open(args.output, "w") as handle:
                json.dump({"curves": curves, "distinct": distinct, "seconds": seconds}, handle)
    checkpoints = [k for k in CHECKPOINTS if k <= budget]
    header = [
        "strategy",
        *[f"k={k}" for k in checkpoints],
        *[f"W/T/L k={k}" for k in checkpoints],
        "distinct",
        "s/run",
    ]
    rows = []
    for name in names:
        arr = np.array(curves[name])
        cells = [name]
        for k in checkpoints:
            col = arr[:, k - 1]
            cells.append(
                f"{100 * col.mean():.2f} ± {100 * col.std(ddof=1) / math.sqrt(len(col)):.2f}"
            )
        for k in checkpoints:
            if name == "random":
                cells.append("")
                continue
            ours, theirs = arr[:, k - 1], np.array(curves["random"])[:, k - 1]
            wins, ties = int((ours > theirs).sum()), int((ours == theirs).sum())
            cells.append(f"{wins}/{ties}/{len(ours) - wins - ties}")
        cells.append(f"{np.mean(distinct[name]):.1f}/{budget}")
        cells.append(f"{np.mean(seconds[name]):.1f}")
        rows.append(cells)
    kind = "synthetic NAS-Bench-201-style table"
    if trained:
        cells = np.array(list(TrainedCellSpace.cache.values()))
        kind = (
            f"cells trained for real on digits ({len(cells)} distinct cells, test accuracy "
            f"{100 * cells[:, 1].min():.1f}-{100 * cells[:, 1].max():.1f} %, mean "
            f"{100 * cells[:, 1].mean():.1f}; {cells[:, 2].mean():.2f} s per training)"
        )
    print(
        f"\n{kind}, {args.seeds} seeds: test accuracy (%) of the "
        "best-by-validation cell after k distinct architectures, mean ± s.e.; W/T/L: "
        "seeds where it beats / ties / loses to random search's"
    )
    _print_table(header, rows)


# ------------------------------------------------------------------------------ DARTS part
def darts_part(args: argparse.Namespace) -> None:
    from jupyter_automl.strategies.darts import darts_search

    torch.set_num_threads(1)
    X, y = digits_images(args.samples)
    space = _space(NasCellSpace, {"strategy": "darts"}, X, y, 0)
    trained: dict[str, tuple[float, float]] = {}

    def train(text: str) -> float:
        key = CellGenotype.from_string(text).canonical().to_string()
        if key not in trained:
            start = time.perf_counter()
            evaluation = space.evaluate(None, {"genotype": text}, None)
            trained[key] = (float(evaluation.values), time.perf_counter() - start)
        return trained[key][0]

    rng = np.random.default_rng(12345)
    pool: dict[str, float] = {}
    while len(pool) < args.pool:
        cell = CellGenotype(tuple(rng.choice(space.options["ops"], size=6)))
        key = cell.canonical().to_string()
        if key not in pool:
            pool[key] = train(cell.to_string())
    pool_scores = np.array(sorted(pool.values()))
    expected_best = _expected_max(pool_scores, 10)
    train_seconds = float(np.mean([s for _, s in trained.values()]))
    print(
        f"  random pool: {len(pool)} cells, mean {pool_scores.mean():.4f}, "
        f"expected best of 10 {expected_best:.4f}; one training {train_seconds:.2f} s",
        flush=True,
    )
    rules: tuple[str, ...] = ("argmax", "argmax-none")
    if args.method == "gdas":
        rules += ("sampled",)
    if args.method == "darts":
        rules += ("perturbation" + ("-none" if args.none else ""),)
    scores: dict[str, list[float]] = {r: [] for r in rules}
    search_seconds: list[float] = []
    ratios: list[float] = []
    for seed in range(args.seeds):
        result = darts_search(
            space,
            seed=seed,
            epochs=args.darts_epochs,
            all_readouts=True,
            selection="argmax",
            allow_none=args.none,
            method=args.method,
            warmup_epochs=args.warmup,
            sample_uniform=args.sample_uniform,
        )
        search_seconds.append(result.seconds)
        # the machine's load changes: time two pool trainings right after the search
        cells = list(pool)[2 * seed : 2 * seed + 2]
        start = time.perf_counter()
        for text in cells:
            _retrain(space, text)
        ratios.append(result.seconds / ((time.perf_counter() - start) / len(cells)))
        for rule in rules:
            scores[rule].append(
                train(result.readouts[rule.replace("perturbation-none", "perturbation")])
            )
        print(
            f"  seed {seed}: search {result.seconds:.1f} s (= {ratios[-1]:.1f} trainings), "
            f"stopped early "
            f"{result.stopped_early}, "
            + ", ".join(
                f"{r} {scores[r][-1]:.4f} "
                f"({result.readouts[r.replace('perturbation-none', 'perturbation')]})"
                for r in rules
            ),
            flush=True,
        )
    header = ["selection", "mean ± s.e.", "> random best of 10", "percentile in pool"]
    rows = []
    for rule in rules:
        values = np.array(scores[rule])
        beats = int((values > expected_best).sum())
        percentile = np.mean([(pool_scores < v).mean() for v in values]) * 100
        rows.append(
            [
                rule,
                f"{values.mean():.4f} ± {values.std(ddof=1) / math.sqrt(len(values)):.4f}",
                f"{beats}/{len(values)}",
                f"{percentile:.0f}",
            ]
        )
    rows.append(["random, best of 10", f"{expected_best:.4f}", "", ""])
    print(
        f"\ndigits ({len(y)} samples, 20% validation), nas-cell channels 8, 2 stages, 3 epochs "
        f"per training; {args.method} {args.darts_epochs} epochs (warm-up {args.warmup or 'a third'}), {args.seeds} seeds. Search "
        f"{np.mean(search_seconds):.1f} s per seed, as long as {np.mean(ratios):.1f} ± "
        f"{np.std(ratios, ddof=1) / math.sqrt(len(ratios)):.1f} trainings timed right after it "
        f"(pool average {train_seconds:.2f} s per training)"
    )
    _print_table(header, rows)


def _retrain(space: NasCellSpace, text: str) -> Evaluation:
    """Train ``text`` again (the space reuses results: a fresh copy of its cache)."""
    space._evaluations.clear()
    return space.evaluate(None, {"genotype": text}, None)


def _expected_max(scores: np.ndarray, k: int) -> float:
    """E[max of k drawn without replacement from ``scores``] (exact, from order statistics)."""
    s = np.sort(scores)
    n = len(s)
    weights = np.array([math.comb(i, k - 1) for i in range(n)], dtype=float) / math.comb(n, k)
    return float((weights * s).sum())


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("table", "trained", "darts"))
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--samples", type=int, default=1000, help="digits used (darts part)")
    parser.add_argument("--pool", type=int, default=40, help="random cells trained (darts)")
    parser.add_argument("--darts-epochs", type=int, default=10)
    parser.add_argument("--method", choices=("darts", "gdas"), default="darts")
    parser.add_argument("--warmup", type=int, help="darts part: weights-only epochs")
    parser.add_argument(
        "--sample-uniform",
        type=float,
        default=0.0,
        help="darts part: uniform share when sampling cells (gdas)",
    )
    parser.add_argument(
        "--none", action="store_true", help="darts part: perturbation selection may choose `none`"
    )
    parser.add_argument("--quick", action="store_true", help="2 seeds, 10 architectures")
    parser.add_argument("--output", help="table part: write the curves as JSON after each seed")
    parser.add_argument(
        "--cache",
        default="benchmarks/results/nas-trained-digits.json",
        help="trained part: the cells trained so far (read first, written after each seed)",
    )
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    if args.quick:
        args.seeds, args.pool, args.samples, args.darts_epochs = 2, 12, 300, 3
    (darts_part if args.part == "darts" else table_part)(args)


if __name__ == "__main__":
    main()

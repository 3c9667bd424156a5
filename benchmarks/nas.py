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

Part ``trained``: the same searches, but a trial's cell is trained for real the first time any
search asks for it (:class:`TrainedCellSpace`: one training, seed 0, whoever asks; validation
accuracy for the search, test accuracy on rows no search sees for the report), so the table is
built as the searches go and cached in a JSON file for the next run. ``--task distorted`` (the
default) trains on shifted, rescaled, noisy copies of scikit-learn's digits
(:func:`distorted_digits`); ``--task digits`` on the plain digits, where most cells reach
96-99 % and the strategies cannot be told apart.

Part ``darts``: one supernet search per seed on the same task's searched rows; each selection
rule's cell is scored in the same table and compared, seed by seed, with the package's random
search of 10 distinct trials on that seed (its best-by-validation cell's test accuracy). The
search's wall time is compared with two trainings timed right after it.

Part ``report`` merges the ``--output`` files of runs over other seeds into one table.

Run::

    PYTHONPATH=. python benchmarks/nas.py table --seeds 30          # ~35 min on a loaded 2-core machine (SynFlow screening is most of it)
    PYTHONPATH=. python benchmarks/nas.py table --quick              # a smoke run
    # cells trained for real, 20 seeds in two processes (one per core), then one table:
    PYTHONPATH=. python benchmarks/nas.py trained --seeds 10 --first-seed 0 \
        --cache benchmarks/results/nas-trained-distorted-0.json --output run0.json
    PYTHONPATH=. python benchmarks/nas.py trained --seeds 10 --first-seed 10 \
        --cache benchmarks/results/nas-trained-distorted-1.json --output run1.json
    PYTHONPATH=. python benchmarks/nas.py report run0.json run1.json
    PYTHONPATH=. python benchmarks/nas.py darts --seeds 6 --method gdas --darts-epochs 12
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
    # trains every cell: seed 0 whichever search asks first, so two runs (or two processes
    # with caches of their own, merged later) give a cell the same entry
    trainer: NasCellSpace | None = None

    def evaluate(self, trial: Any, params: dict, budget: Any) -> Evaluation:
        genotype = self.genotype(self.resolve(params))
        key = genotype.canonical().to_string()
        if key not in self.cache:
            # the canonical encoding: encodings of one cell differ in their dead edges, whose
            # modules draw from the seeded initialisation and so change the training
            self.cache[key] = list(_train_cell(self.trainer or self, key))
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


def distorted_digits(
    images: np.ndarray, labels: np.ndarray, copies: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` distorted copies of each 8x8 digit: shifted by up to a pixel either way
    (zero padding), contrast scaled by 0.5-1.2, Gaussian noise of sd 2 (pixels are 0-16).

    A harder task made offline from scikit-learn's digits: on the plain images most cells of
    ``nas-cell`` reach 96-99 % and the strategies cannot be told apart; here the cells that
    train reach about 80-93 % (convolutions gain from the shifts) in 3 epochs.
    """
    rng = np.random.default_rng(seed)
    images = images.reshape(-1, 8, 8)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    out = []
    for _ in range(copies):
        dx = rng.integers(0, 3, len(images))
        dy = rng.integers(0, 3, len(images))
        crops = np.stack(
            [padded[i, dy[i] : dy[i] + 8, dx[i] : dx[i] + 8] for i in range(len(images))]
        )
        crops = crops * rng.uniform(0.5, 1.2, (len(images), 1, 1))
        out.append(crops + rng.normal(0.0, 2.0, crops.shape))
    X = np.concatenate(out).reshape(-1, 1, 8, 8).astype(np.float32)
    return X, np.tile(labels, copies)


def trained_task(task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """``(X, y, test_X, test_y, description)``: search rows and test rows no search sees.

    The digits are split before any distortion, so no test image is a copy of a searched one.
    """
    X_all, y_all = digits_images()
    X, y, test_X, test_y = X_all[:1257], y_all[:1257], X_all[1257:], y_all[1257:]
    if task == "digits":
        return X, y, test_X, test_y, "digits (1,257 images searched, 540 for test)"
    X, y = distorted_digits(X, y, 2, seed=1)
    test_X, test_y = distorted_digits(test_X, test_y, 4, seed=2)
    return (
        X,
        y,
        test_X,
        test_y,
        (
            f"distorted digits ({len(y):,} images searched, {len(test_y):,} for test: shifted, "
            "rescaled, noisy copies; the test copies are of digits no search sees)"
        ),
    )


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
    kind = "synthetic NAS-Bench-201-style table"
    if trained:  # 20 % of the searched rows are validation; the test rows no search sees
        X, y, kind = _load_table(args)
        space_class = TrainedCellSpace
    else:
        X, y = digits_images(400)  # the table needs no training: data only shapes the networks
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    budget = max(CHECKPOINTS) if not args.quick else 10
    record: dict[str, Any] = {
        "kind": kind,
        "budget": budget,
        "seeds": [],
        "curves": {n: [] for n in names},
        "distinct": {n: [] for n in names},
        "seconds": {n: [] for n in names},
    }
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name in names:
            curve, n_distinct, took = run_table(name, seed, budget, X, y, space_class)
            record["curves"][name].append(curve)
            record["distinct"][name].append(n_distinct)
            record["seconds"][name].append(took)
        record["seeds"].append(seed)
        print(
            f"  seed {seed}: " + ", ".join(f"{n} {record['curves'][n][-1][-1]:.4f}" for n in names),
            flush=True,
        )
        if trained:
            print(f"    {len(TrainedCellSpace.cache)} distinct cells trained so far", flush=True)
            with open(args.cache, "w") as handle:
                json.dump(TrainedCellSpace.cache, handle)
        if args.output:
            with open(args.output, "w") as handle:
                json.dump(record, handle)
    if trained:
        cells = np.array(list(TrainedCellSpace.cache.values()))
        record["kind"] = (
            f"cells trained for real on {kind}: {len(cells)} distinct cells, test accuracy "
            f"{100 * cells[:, 1].min():.1f}-{100 * cells[:, 1].max():.1f} %, mean "
            f"{100 * cells[:, 1].mean():.1f}; {cells[:, 2].mean():.2f} s per training"
        )
        if args.output:
            with open(args.output, "w") as handle:
                json.dump(record, handle)
    report(record)


def merge_records(
    records: list[dict[str, Any]], strategies: list[str] | None = None
) -> dict[str, Any]:
    """One record from the ``--output`` files of several runs, over the seeds that every one
    of ``strategies`` (default: those of the first record) has run in some record.

    A strategy's seed found in two records must have the same curve (the table is fixed, so
    a rerun repeats it exactly); anything else means the records come from different tables.
    """
    names = strategies or list(records[0]["curves"])
    runs: dict[str, dict[int, tuple[list[float], int, float]]] = {n: {} for n in names}
    for record in records:
        if record["budget"] != records[0]["budget"]:
            raise SystemExit("the records differ in budget; they cannot be merged")
        for name in names:
            for i, seed in enumerate(record["seeds"]):
                if name not in record["curves"]:
                    continue
                run = (
                    record["curves"][name][i],
                    record["distinct"][name][i],
                    record["seconds"][name][i],
                )
                if seed in runs[name] and runs[name][seed][0] != run[0]:
                    raise SystemExit(f"{name} seed {seed} differs between the records")
                runs[name].setdefault(seed, run)
    seeds = sorted(set.intersection(*(set(r) for r in runs.values())))
    if not seeds:
        raise SystemExit(f"no seed has run every one of {names}")
    return {
        "kind": records[0]["kind"],
        "budget": records[0]["budget"],
        "seeds": seeds,
        "curves": {n: [runs[n][s][0] for s in seeds] for n in names},
        "distinct": {n: [runs[n][s][1] for s in seeds] for n in names},
        "seconds": {n: [runs[n][s][2] for s in seeds] for n in names},
    }


def report(record: dict[str, Any]) -> None:
    """The table of a record: accuracy at each checkpoint, paired difference to random, W/T/L."""
    budget, curves = record["budget"], record["curves"]
    checkpoints = [k for k in CHECKPOINTS if k <= budget]
    header = [
        "strategy",
        *[f"k={k}" for k in checkpoints],
        *[f"Δ random k={k}" for k in checkpoints],
        *[f"W/T/L k={k}" for k in checkpoints],
        "distinct",
        "s/run",
    ]
    rows = []
    baseline = np.array(curves["random"]) if "random" in curves else None
    for name, values in curves.items():
        arr = np.array(values)
        cells = [name]
        for k in checkpoints:
            cells.append(_mean_se(arr[:, k - 1]))
        for part in ("delta", "wins"):
            for k in checkpoints:
                if baseline is None or name == "random":
                    cells.append("")
                    continue
                ours, theirs = arr[:, k - 1], baseline[:, k - 1]
                if part == "delta":  # paired: the same seed's random search
                    cells.append(_mean_se(ours - theirs, signed=True))
                    continue
                wins, ties = int((ours > theirs).sum()), int((ours == theirs).sum())
                cells.append(f"{wins}/{ties}/{len(ours) - wins - ties}")
        cells.append(f"{np.mean(record['distinct'][name]):.1f}/{budget}")
        cells.append(f"{np.mean(record['seconds'][name]):.1f}")
        rows.append(cells)
    print(
        f"\n{record['kind']}; {len(record['seeds'])} seeds: test accuracy (%) of the "
        "best-by-validation cell after k distinct architectures, mean ± s.e.; Δ random: the "
        "paired difference to random search on the same seed, mean ± s.e.; W/T/L: seeds where "
        "it beats / ties / loses to random search"
    )
    _print_table(header, rows)


def _mean_se(values: np.ndarray, signed: bool = False) -> str:
    values = 100 * np.asarray(values, dtype=float)
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return f"{values.mean():{'+' if signed else ''}.2f} ± {se:.2f}"


def report_part(args: argparse.Namespace) -> None:
    records = []
    for path in args.records:
        with open(path) as handle:
            records.append(json.load(handle))
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    report(merge_records(records, names if args.strategies_given else None))


# ------------------------------------------------------------------------------ DARTS part
def _load_table(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, str]:
    """Set :class:`TrainedCellSpace` up for ``args.task`` (its cache read); ``(X, y, kind)``."""
    X, y, test_X, test_y, kind = trained_task(args.task)
    TrainedCellSpace.test_X, TrainedCellSpace.test_y = test_X, test_y
    TrainedCellSpace.trainer = _space(NasCellSpace, STRATEGIES["random"], X, y, 0)
    args.cache = args.cache or f"benchmarks/results/nas-trained-{args.task}.json"
    if os.path.exists(args.cache):
        with open(args.cache) as handle:
            TrainedCellSpace.cache.update(json.load(handle))
    print(f"  {len(TrainedCellSpace.cache)} cells already trained ({args.cache})", flush=True)
    return X, y, kind


def darts_part(args: argparse.Namespace) -> None:
    """DARTS's derived cells against random search after 10 architectures, seed by seed.

    Both are scored in the ``trained`` part's table (each cell trained once, seed 0, on the
    searched rows; test accuracy on rows no search sees), so a derived cell and a random
    search's pick are measured alike; random search is the package's own (distinct) search
    of 10 trials with the same seed.
    """
    from jupyter_automl.strategies.darts import darts_search

    X, y, kind = _load_table(args)
    space = _space(NasCellSpace, {"strategy": "darts"}, X, y, 0)
    table = _space(TrainedCellSpace, STRATEGIES["random"], X, y, 0)

    def score(text: str) -> float:  # test accuracy of the cell, from (or into) the table
        evaluation = table.evaluate(None, {"genotype": text}, None)
        return float(evaluation.user_attrs["test_accuracy"])

    rules: tuple[str, ...] = ("argmax", "argmax-none")
    if args.method == "gdas":
        rules += ("sampled",)
    if args.method == "darts":
        rules += ("perturbation" + ("-none" if args.none else ""),)
    scores: dict[str, list[float]] = {r: [] for r in rules}
    random10: list[float] = []
    ratios: list[float] = []
    search_seconds: list[float] = []
    trainer = TrainedCellSpace.trainer
    assert trainer is not None
    for seed in range(args.first_seed, args.first_seed + args.seeds):
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
            **({"alpha_lr": args.alpha_lr} if args.alpha_lr else {}),
        )
        search_seconds.append(result.seconds)
        # the machine's load changes: time two trainings right after the search
        start = time.perf_counter()
        for text in (
            "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|"
            "avg_pool_3x3~1|nor_conv_3x3~2|",
            result.readouts["argmax"],
        ):
            _train_cell(trainer, text)
        ratios.append(result.seconds / ((time.perf_counter() - start) / 2))
        for rule in rules:
            scores[rule].append(
                score(
                    result.readouts[
                        rule.replace("-none", "") if rule == "perturbation-none" else rule
                    ]
                )
            )
        curve, _, _ = run_table("random", seed, 10, X, y, TrainedCellSpace)
        random10.append(curve[-1])
        print(
            f"  seed {seed}: search {result.seconds:.1f} s (= {ratios[-1]:.1f} trainings), "
            f"stopped early {result.stopped_early}, random best of 10 {random10[-1]:.4f}, "
            + ", ".join(f"{r} {scores[r][-1]:.4f}" for r in rules)
            + f"; argmax {result.readouts['argmax']}",
            flush=True,
        )
        with open(args.cache, "w") as handle:
            json.dump(TrainedCellSpace.cache, handle)
    header = ["selection", "test accuracy, mean ± s.e.", "Δ random best of 10", "W/T/L"]
    baseline = np.array(random10)
    rows = []
    for rule in rules:
        values = np.array(scores[rule])
        wins, ties = int((values > baseline).sum()), int((values == baseline).sum())
        rows.append(
            [
                rule,
                _mean_se(values),
                _mean_se(values - baseline, signed=True),
                f"{wins}/{ties}/{len(values) - wins - ties}",
            ]
        )
    rows.append(["random search, best of 10 by validation", _mean_se(baseline), "", ""])
    print(
        f"\n{kind}; nas-cell channels 8, 2 stages, 3 epochs per training; {args.method} "
        f"{args.darts_epochs} epochs (warm-up {args.warmup or 'a third'}), {args.seeds} seeds. "
        f"Search {np.mean(search_seconds):.1f} s per seed, as long as {np.mean(ratios):.1f} ± "
        f"{np.std(ratios, ddof=1) / math.sqrt(len(ratios)):.1f} trainings timed right after it"
    )
    _print_table(header, rows)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("table", "trained", "darts", "report"))
    parser.add_argument("records", nargs="*", help="report part: --output files to merge")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=0, help="table/trained: seeds from")
    parser.add_argument(
        "--task",
        choices=("distorted", "digits"),
        default="distorted",
        help="trained part: distorted digits (the default; harder) or the plain digits",
    )
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--darts-epochs", type=int, default=10)
    parser.add_argument("--method", choices=("darts", "gdas"), default="darts")
    parser.add_argument("--warmup", type=int, help="darts part: weights-only epochs")
    parser.add_argument("--alpha-lr", type=float, help="darts part: architecture learning rate")
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
        help="trained part: the cells trained so far (read first, written after each seed; "
        "default benchmarks/results/nas-trained-TASK.json)",
    )
    args = parser.parse_args()
    args.strategies_given = args.strategies != parser.get_default("strategies")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    if args.quick:
        args.seeds, args.darts_epochs = 2, 3
    if args.part == "report":
        report_part(args)
        return
    (darts_part if args.part == "darts" else table_part)(args)


if __name__ == "__main__":
    main()

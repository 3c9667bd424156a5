"""NAS at a notebook's budget on an offline image task: the default search against a
hand-designed CNN trained for the same time and against random search.

The task (:func:`shapes`) is made by code, no download: 32×32 colour images of ten shape
classes (disc, ring, square, frame, triangle, diamond, plus, cross, stripes, checker) drawn
at a random place, size and colour on a noisy background of a random dark colour, with two
distractor lines of random colours. Colour says nothing about the class. The search gets
``--rows`` images (600 by default, the issue's case); every model is tested on 2,000 images of
another seed that no search sees. ``--task hard`` draws the shapes smaller (6–10 px), fainter
(0.55 of their contrast against the background) among five distractor lines under more noise: a task with
room above a searched network at five minutes, where the strategies differ (the easy task has every
search at 99.8–100 %).

Each *variant* is a set of :func:`jupyter_automl.search` options, run with ``time_budget`` of
each ``--budgets`` second count, one run per seed, in this process one after the other (the
search's workers are processes, as a user's are). Reported: test accuracy (%) of the returned
model, mean ± standard error over seeds, the distinct architectures trained, and wall time.

``random`` is random sampling over the default successive halving (so at budgets under three
minutes, where the default strategy is random sampling, it *is* the default); ``random-plain``
is random search without early stopping, every network trained for its epochs.

``hand-cnn`` is the rule-based preset of ``nas-chain`` (two conv blocks of 32 and 64 channels,
max pooling, batch norm, a dense layer: ``strategy: rules``) with its epochs sized so its one
training fills the same budget (one epoch is timed first, on the same rows).

Run::

    PYTHONPATH=. python benchmarks/nas_shapes.py --budgets 60 --seeds 5
    PYTHONPATH=. python benchmarks/nas_shapes.py --budgets 300 --seeds 5 --variants default,random,hand-cnn
    PYTHONPATH=. python benchmarks/nas_shapes.py --task hard --budgets 60,300 --seeds 5 --output hard.json
    PYTHONPATH=. python benchmarks/nas_shapes.py report results/a.json results/b.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

CLASSES = ("disc", "ring", "square", "frame", "triangle", "diamond", "plus", "cross",
           "stripes", "checker")

#: The search options of each variant (what is not given is the package's default).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "random": {"strategy": "random", "proxy": "none"},
    # random search as the NAS literature runs it: every sampled network trained for its epochs,
    # none stopped early (``random`` above keeps the default successive halving)
    "random-plain": {"strategy": "random", "proxy": "none", "pruner": "none"},
    "hand-cnn": {"space": "nas-chain", "strategy": "rules"},
}


#: How each task draws its images: the shapes' extent (px, upper end excluded), the distractor
#: lines, the noise's standard deviation and the shape's contrast (1: its own colour; 0.55: a
#: little over halfway from the background's colour to it). ``hard`` leaves room above a searched network at five minutes: small
#: shapes (so a ring is a few pixels across, stripes and checkers a few cycles) under more noise
#: and more distractors.
TASKS: dict[str, dict[str, Any]] = {
    "shapes": {"extent": (12, 21), "lines": 2, "noise": 18.0, "contrast": 1.0},
    "hard": {"extent": (6, 11), "lines": 5, "noise": 40.0, "contrast": 0.55},
}


def shapes(n: int, seed: int, size: int = 32, task: str = "shapes") -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (N×3×size×size, uint8) of :data:`CLASSES` and their labels, balanced."""
    from PIL import Image, ImageDraw

    look = TASKS[task]
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASSES)
    rng.shuffle(labels)
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        background = tuple(int(v) for v in rng.integers(0, 90, 3))
        image = Image.new("RGB", (size, size), background)
        draw = ImageDraw.Draw(image)
        for _ in range(look["lines"]):  # distractors: thin lines of any colour
            points = [tuple(int(v) for v in rng.integers(0, size, 2)) for _ in range(2)]
            draw.line(points, fill=_colour(rng), width=1)
        _draw_shape(draw, CLASSES[label], rng, size, look["extent"], look["contrast"], background)
        array = np.asarray(image, dtype=np.float32)
        array += rng.normal(0.0, look["noise"], array.shape)
        images[i] = np.clip(array, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    return images, labels


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    colour = rng.integers(60, 256, 3)
    colour[rng.integers(0, 3)] = 255  # bright in at least one channel: visible on the background
    return tuple(int(v) for v in colour)


def _draw_shape(draw: Any, kind: str, rng: np.random.Generator, size: int,
                extent_range: tuple[int, int] = (12, 21), contrast: float = 1.0,
                background: tuple[int, ...] = (0, 0, 0)) -> None:
    extent = int(rng.integers(*extent_range))
    x0 = int(rng.integers(0, size - extent))
    y0 = int(rng.integers(0, size - extent))
    x1, y1 = x0 + extent, y0 + extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # the shape's colour, moved towards the background when contrast < 1 (fainter than the lines)
    colour = tuple(int(round(b + contrast * (c - b))) for c, b in zip(_colour(rng), background, strict=True))
    width = max(2, extent // 6)
    if kind == "disc":
        draw.ellipse([x0, y0, x1, y1], fill=colour)
    elif kind == "ring":
        draw.ellipse([x0, y0, x1, y1], outline=colour, width=width)
    elif kind == "square":
        draw.rectangle([x0, y0, x1, y1], fill=colour)
    elif kind == "frame":
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=width)
    elif kind == "triangle":
        draw.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=colour)
    elif kind == "diamond":
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=colour)
    elif kind == "plus":
        draw.line([(cx, y0), (cx, y1)], fill=colour, width=width)
        draw.line([(x0, cy), (x1, cy)], fill=colour, width=width)
    elif kind == "cross":
        draw.line([(x0, y0), (x1, y1)], fill=colour, width=width)
        draw.line([(x0, y1), (x1, y0)], fill=colour, width=width)
    elif kind == "stripes":
        for y in range(y0, y1, 4):
            draw.line([(x0, y), (x1, y)], fill=colour, width=2)
    elif kind == "checker":
        step = max(3, extent // 4)
        for i, x in enumerate(range(x0, x1, step)):
            for j, y in enumerate(range(y0, y1, step)):
                if (i + j) % 2 == 0:
                    draw.rectangle([x, y, x + step - 1, y + step - 1], fill=colour)
    else:  # pragma: no cover
        raise ValueError(kind)


def _hand_cnn_epochs(X: np.ndarray, y: np.ndarray, budget: float, seed: int) -> int:
    """Epochs of the hand CNN that fill about 75 % of ``budget``: its training on the trial's
    rows and its refit on all rows (the first of two one-epoch timings warms the worker up)."""
    import jupyter_automl as ja

    seconds = []
    for _ in range(2):
        result = ja.search(X=X, y=y, space="nas-chain", strategy="rules", epochs=1,
                           holdout="none", n_trials=1, storage="memory", display=False, seed=seed)
        attrs = result.study.best_trial.user_attrs["jupyter_automl"]
        seconds.append(float(attrs["fit_seconds_estimate"]))
    # per epoch on 80 % of 600 rows; the search trains on 80 % of 80 %, then refits on 100 %
    epoch_s = min(seconds) / 0.8
    return max(1, int(0.75 * budget / (epoch_s * (0.64 + 1.0))))


@contextlib.contextmanager
def _halving(settings: dict[str, int] | None) -> Iterator[None]:
    """``pruner: auto``'s successive halving with other settings, for one run."""
    from jupyter_automl import strategies

    names = {"min_epochs": "NAS_MIN_EPOCHS", "reduction": "NAS_REDUCTION",
             "warmup": "NAS_WARMUP"}
    saved = {name: getattr(strategies, name) for name in names.values()}
    try:
        for key, value in (settings or {}).items():
            setattr(strategies, names[key], value)
        yield
    finally:
        for name, value in saved.items():
            setattr(strategies, name, value)


def run_one(variant: str, options: dict[str, Any], budget: float, seed: int, rows: int,
            test: tuple[np.ndarray, np.ndarray], task: str = "shapes") -> dict[str, Any]:
    """One search of ``variant`` on ``rows`` images of ``seed``; its test accuracy and counts."""
    import jupyter_automl as ja

    X, y = shapes(rows, seed=1000 + seed, task=task)
    options = {"space": "nas-cell", **options}
    if variant == "hand-cnn" and "epochs" not in options:
        options["epochs"] = _hand_cnn_epochs(X, y, budget, seed)
    halving = options.pop("halving", None)  # {"min_epochs", "reduction", "warmup"}: pruner: auto
    load = os.getloadavg()[0]
    with _halving(halving):
        t0 = time.monotonic()
        result = ja.search(X=X, y=y, time_budget=budget, seed=seed, storage="memory",
                           display=False, **options)
        wall = time.monotonic() - t0
    if halving is not None:
        options["halving"] = halving
    trials = [t for t in result.study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
    trained = [t for t in trials if t.intermediate_values or t.state.name == "COMPLETE"]
    genotypes = {t.user_attrs.get("jupyter_automl", {}).get("model") for t in trained}
    accuracy = math.nan
    if result.best_model is not None:
        accuracy = float(np.mean(result.predict(test[0]) == test[1]))
    return {
        "variant": variant, "task": task, "options": options, "budget": budget, "seed": seed, "rows": rows,
        "accuracy": accuracy, "wall_s": round(wall, 2), "trials": len(trials),
        "architectures": len(genotypes), "complete": sum(t.state.name == "COMPLETE" for t in trials),
        "epochs_max": max((len(t.intermediate_values) for t in trials), default=0),
        "final": (result.final or {}).get("note") if isinstance(result.final, dict) else None,
        "notes": (result.insight or {}).get("notes"),
        "refit_s": ((result.insight or {}).get("seconds") or {}).get("refit"),
        "best": (result.best_params or {}).get("genotype") if result.best_model is not None else None,
        "load": round(load, 2),
    }


def _mean_se(values: list[float]) -> str:
    array = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(array) == 0:
        return "–"
    se = array.std(ddof=1) / math.sqrt(len(array)) if len(array) > 1 else float("nan")
    return f"{array.mean():.1f} ± {se:.1f}"


def report(records: list[dict[str, Any]]) -> None:
    """One table per budget: accuracy, architectures, wall time of each variant."""
    budgets = sorted({r["budget"] for r in records})
    for budget in budgets:
        rows = [r for r in records if r["budget"] == budget]
        variants = list(dict.fromkeys(r["variant"] for r in rows))
        print(f"\ntime_budget {budget:g} s")
        print("| variant | test accuracy % | architectures | wall s | seeds | no model |")
        print("| --- | --- | --- | --- | --- | --- |")
        for variant in variants:
            runs = [r for r in rows if r["variant"] == variant]
            acc = [100 * r["accuracy"] for r in runs]
            archs = [float(r["architectures"]) for r in runs]
            walls = [float(r["wall_s"]) for r in runs]
            print(f"| {variant} | {_mean_se(acc)} | {np.mean(archs):.1f} "
                  f"({min(archs):.0f}–{max(archs):.0f}) | {np.mean(walls):.1f} (max {max(walls):.1f}) "
                  f"| {len(runs)} | {sum(math.isnan(a) for a in acc)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", default="run", choices=("run", "report"))
    parser.add_argument("records", nargs="*", help="report: result files to merge")
    parser.add_argument("--budgets", default="60")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--task", default="shapes", choices=tuple(TASKS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--extra", default="{}",
                        help='JSON: more variants, e.g. \'{"sh": {"pruner": "hyperband"}}\'')
    parser.add_argument("--output", default=None, help="JSON lines, one per run (appended)")
    args = parser.parse_args()
    if args.part == "report":
        records = [json.loads(line) for path in args.records for line in open(path) if line.strip()]
        report(records)
        return
    variants = {**VARIANTS, **json.loads(args.extra)}
    names = [v for v in args.variants.split(",") if v]
    test = shapes(2000, seed=99, task=args.task)
    records = []
    for budget in (float(b) for b in args.budgets.split(",")):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for name in names:
                record = run_one(name, dict(variants[name]), budget, seed, args.rows, test, args.task)
                records.append(record)
                print(json.dumps(record), flush=True)
                if args.output:
                    with open(args.output, "a") as f:
                        f.write(json.dumps(record) + "\n")
    report(records)


if __name__ == "__main__":
    main()

"""What the search itself says: which hyperparameters mattered, how each model family scored,
per-epoch curves of the best NAS trials and the Pareto front of two objectives."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from jupyter_automl.report import plural as _plural
from jupyter_automl.storage import ATTR

__all__ = ["search_charts"]

_TOP_PARAMS = 12
_BEST_CURVES = 5
_MIN_TRIALS = 4  # importances from fewer trials are noise


def _complete(study: Any) -> list[Any]:
    import optuna

    return [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state == optuna.trial.TrialState.COMPLETE
        and t.values is not None
        and all(math.isfinite(v) for v in t.values)
    ]


def _importances(trials: list[Any], direction: str) -> dict[str, float]:
    """PED-ANOVA importances (``optuna.importance``) of the parameters every trial has."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

    study = optuna.create_study(direction=direction)
    study.add_trials(trials)
    return get_param_importances(study, evaluator=PedAnovaImportanceEvaluator())


def importance_chart(
    trials: list[Any], direction: str, *, name: str, title: str, note: str
) -> dict[str, Any] | None:
    if len(trials) < _MIN_TRIALS:
        return None
    try:
        found = _importances(trials, direction)
    except (
        ValueError,
        RuntimeError,
        ZeroDivisionError,
    ):  # constant scores, a single distinct param...
        return None
    found = {k: v for k, v in found.items() if math.isfinite(v)}
    # parameters of a family tried once or twice come out at ~0: they would only crowd the chart
    shown = {k: v for k, v in found.items() if v >= 0.005}
    if not shown:
        return None
    top = sorted(shown.items(), key=lambda kv: -kv[1])[:_TOP_PARAMS]
    left_out = len(found) - len(top)
    if left_out:
        note += f"; {left_out} more below 0.005 or past the top {_TOP_PARAMS}"
    return {
        "name": name,
        "kind": "bars",
        "title": title,
        "x_label": "importance (PED-ANOVA, sums to 1)",
        "labels": [k for k, _ in top],
        "values": [round(float(v), 5) for _, v in top],
        "note": f"{note}; {_plural(len(trials), 'complete trial')}",
    }


def family_chart(trials: list[Any], direction: str, metric: str) -> dict[str, Any] | None:
    """Every complete trial's score, one column of points per model family (best family first)."""
    by_family: dict[str, list[float]] = {}
    for t in trials:
        if "model" in t.params:  # tabular trials; a NAS trial's "model" is its architecture
            by_family.setdefault(str(t.params["model"]), []).append(float(t.values[0]))
    if len(by_family) < 2:
        return None
    sign = -1.0 if direction == "minimize" else 1.0
    order = sorted(by_family, key=lambda f: -sign * max(sign * v for v in by_family[f]))
    rng = np.random.default_rng(0)
    xs: list[float] = []
    ys: list[float] = []
    for i, family in enumerate(order):
        for v in by_family[family]:
            xs.append(round(i + float(rng.uniform(-0.18, 0.18)), 3))
            ys.append(round(v, 6))
    return {
        "name": "score_by_family",
        "kind": "xy",
        "title": f"Score by model family ({_plural(len(trials), 'trial')})",
        "x_label": "",  # the family names are the ticks (staggered when many)
        "y_label": metric,
        "x_ticks": [[i, f] for i, f in enumerate(order)],
        "x_range": [-0.6, len(order) - 0.4],
        "series": [{"label": "trials", "x": xs, "y": ys, "mode": "points"}],
    }


def epoch_chart(trials: list[Any], direction: str, metric: str) -> dict[str, Any] | None:
    """Per-epoch validation score of the best few NAS trials."""
    with_history = [t for t in trials if len(t.user_attrs.get(ATTR, {}).get("history") or []) > 1]
    if not with_history:
        return None
    sign = -1.0 if direction == "minimize" else 1.0
    best = sorted(with_history, key=lambda t: -sign * t.values[0])[:_BEST_CURVES]
    series = []
    for t in best:
        history = [float(v) for v in t.user_attrs[ATTR]["history"]]
        series.append(
            {
                "label": f"trial {t.number}",
                "x": list(range(1, len(history) + 1)),
                "y": [round(v, 6) for v in history],
                "mode": "line+points",
            }
        )
    return {
        "name": "epoch_curves",
        "kind": "xy",
        "title": "Validation score per epoch",
        "x_label": "epoch",
        "y_label": metric,
        "series": series,
        "note": "the best trial" if len(best) == 1 else f"best {len(best)} trials",
    }


def pareto_chart(study: Any, trials: list[Any], objectives: list[str]) -> dict[str, Any] | None:
    """All trials on the first two objectives, the Pareto front joined by a line."""
    if len(study.directions) != 2 or not trials:
        return None
    front_numbers = {t.number for t in study.best_trials}
    front = sorted((t for t in trials if t.number in front_numbers), key=lambda t: t.values[1])
    rest = [t for t in trials if t.number not in front_numbers]
    pts = lambda ts, k: [round(float(t.values[k]), 6) for t in ts]  # noqa: E731
    x_label = objectives[1] if len(objectives) > 1 else "objective 2"
    return {
        "name": "pareto_front",
        "kind": "xy",
        "title": "Pareto front",
        "x_label": x_label,
        "y_label": objectives[0] if objectives else "objective 1",
        "series": [
            {"label": "trials", "x": pts(rest, 1), "y": pts(rest, 0), "mode": "points"},
            {
                "label": "Pareto front",
                "x": pts(front, 1),
                "y": pts(front, 0),
                "mode": "line+points",
            },
        ],
        "note": f"{len(front)} of {_plural(len(trials), 'trial')} on the front",
    }


def search_charts(
    study: Any, *, metric: str, objectives: list[str] | None = None
) -> list[dict[str, Any]]:
    """The charts of the "search" section, each left out when the study cannot support it."""
    trials = _complete(study)
    charts: list[dict[str, Any] | None] = []
    if len(study.directions) == 1:
        direction = study.direction.name.lower()
        charts.append(
            importance_chart(
                trials,
                direction,
                name="param_importance",
                title="Hyperparameter importance",
                note="across all trials",
            )
        )
        families = {t.params.get("model") for t in trials}
        if len(families) > 1 and None not in families:
            best = max(trials, key=lambda t: (-1 if direction == "minimize" else 1) * t.values[0])
            family = best.params["model"]
            charts.append(
                importance_chart(
                    [t for t in trials if t.params.get("model") == family],
                    direction,
                    name="family_param_importance",
                    title=f"Hyperparameter importance within {family}",
                    note=f"trials of {family}",
                )
            )
        charts.append(family_chart(trials, direction, metric))
        charts.append(epoch_chart(trials, direction, metric))
    else:
        charts.append(pareto_chart(study, trials, objectives or []))
        charts.append(epoch_chart(trials, study.directions[0].name.lower(), metric))
    return [c for c in charts if c is not None]

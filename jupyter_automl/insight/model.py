"""What the best model does on rows it was not trained on: the charts of the "model" section.

Every number comes from ``sklearn.metrics``, ``sklearn.calibration`` or ``sklearn.inspection``;
this module only thins curves and samples points so the payload stays small. A chart is a plain
dict (see :mod:`jupyter_automl.insight`) that the static SVG, Bokeh and the lab renderer draw alike.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["classification_charts", "regression_charts", "permutation_chart", "sample_rows"]

MAX_ROWS = 2000  # rows scored for the charts and permuted for the importances
MAX_POINTS = 300  # points of a scatter kept in the payload
MAX_CURVE = 120  # points of a curve kept in the payload
MAX_CURVE_CLASSES = 6  # one-vs-rest curves beyond this many classes say little at a glance
MAX_MATRIX_CLASSES = 20
TOP_FEATURES = 15


def sample_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """All positions when ``n <= limit``, else a seeded sorted sample of ``limit``."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _thin(x: np.ndarray, y: np.ndarray, limit: int = MAX_CURVE) -> tuple[list[float], list[float]]:
    """At most ``limit`` points of a curve, the first and the last kept."""
    if len(x) > limit:
        keep = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
        x, y = x[keep], y[keep]
    return [round(float(v), 5) for v in x], [round(float(v), 5) for v in y]


def _label(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def confusion_chart(
    y: np.ndarray, labels: np.ndarray, classes: np.ndarray, note: str
) -> dict[str, Any]:
    """Counts (``counts``) and row-normalised shares (``values``) of ``confusion_matrix``."""
    from sklearn.metrics import confusion_matrix

    counts = confusion_matrix(y, labels, labels=classes)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    names = [_label(c) for c in classes]
    return {
        "name": "confusion_matrix",
        "kind": "heatmap",
        "title": "Confusion matrix",
        "x_label": "predicted",
        "y_label": "actual",
        "x_labels": names,
        "y_labels": names,
        "counts": counts.astype(int).tolist(),
        "values": np.round(shares, 4).tolist(),
        "note": f"{note}; rows sum to 100%",
    }


def _one_vs_rest(classes: np.ndarray) -> list[int]:
    """Which columns get a curve: the positive class for binary, each class for a few."""
    if len(classes) == 2:
        return [1]
    return list(range(len(classes))) if len(classes) <= MAX_CURVE_CLASSES else []


def _ovr_series(
    y: np.ndarray, proba: np.ndarray, classes: np.ndarray, curve: Any
) -> list[dict[str, Any]]:
    """One curve per class of :func:`_one_vs_rest`; ``curve(positive, scores) -> (x, y, summary)``."""
    series = []
    for k in _one_vs_rest(classes):
        positive = y == classes[k]
        if positive.all() or not positive.any():
            continue
        x, v, summary = curve(positive, proba[:, k])
        series.append(
            {"label": f"{_label(classes[k])} ({summary})", "x": x, "y": v, "mode": "line"}
        )
    return series


def _roc(positive: np.ndarray, scores: np.ndarray) -> tuple[list[float], list[float], str]:
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(positive, scores)
    return (*_thin(fpr, tpr), f"AUC {roc_auc_score(positive, scores):.3f}")


def _pr(positive: np.ndarray, scores: np.ndarray) -> tuple[list[float], list[float], str]:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(positive, scores)
    return (
        *_thin(recall[::-1], precision[::-1]),
        f"AP {average_precision_score(positive, scores):.3f}",
    )


def roc_chart(
    y: np.ndarray, proba: np.ndarray, classes: np.ndarray, note: str
) -> dict[str, Any] | None:
    """``roc_curve`` of the positive class (binary) or of each class against the rest."""
    series = _ovr_series(y, proba, classes, _roc)
    if not series:
        return None
    return {
        "name": "roc",
        "kind": "xy",
        "title": "ROC curve",
        "x_label": "false positive rate",
        "y_label": "true positive rate",
        "series": series,
        "diagonal": True,
        "x_range": [0, 1],
        "y_range": [0, 1],
        "note": note,
    }


def pr_chart(
    y: np.ndarray, proba: np.ndarray, classes: np.ndarray, note: str
) -> dict[str, Any] | None:
    """``precision_recall_curve``, as :func:`roc_chart`."""
    series = _ovr_series(y, proba, classes, _pr)
    if not series:
        return None
    return {
        "name": "precision_recall",
        "kind": "xy",
        "title": "Precision-recall curve",
        "x_label": "recall",
        "y_label": "precision",
        "series": series,
        "x_range": [0, 1],
        "y_range": [0, 1.02],
        "note": note,
    }


def calibration_chart(
    y: np.ndarray, proba: np.ndarray, classes: np.ndarray, note: str
) -> dict[str, Any]:
    """Binary: the positive class; more classes: the predicted class's probability (top-label)."""
    from sklearn.calibration import calibration_curve

    if len(classes) == 2:
        hit, confidence, what = y == classes[1], proba[:, 1], f"P({_label(classes[1])})"
    else:
        hit = classes[np.argmax(proba, axis=1)] == y
        confidence, what = proba.max(axis=1), "probability of the predicted class"
    observed, predicted = calibration_curve(hit, confidence, n_bins=10, strategy="uniform")
    x, v = _thin(predicted, observed)
    return {
        "name": "calibration",
        "kind": "xy",
        "title": "Calibration",
        "x_label": f"mean predicted {what}",
        "y_label": "observed frequency",
        "diagonal": True,
        "x_range": [0, 1],
        "y_range": [0, 1],
        "series": [{"label": "model", "x": x, "y": v, "mode": "line+points"}],
        "note": note,
    }


def classification_charts(
    y: np.ndarray, labels: np.ndarray, proba: np.ndarray | None, classes: np.ndarray, note: str
) -> list[dict[str, Any]]:
    """Confusion matrix, then (with probabilities) ROC, precision-recall and calibration."""
    charts = []
    if len(classes) <= MAX_MATRIX_CLASSES:
        charts.append(confusion_chart(y, labels, classes, note))
    if proba is not None:
        for make in (roc_chart, pr_chart):
            chart = make(y, proba, classes, note)
            if chart is not None:
                charts.append(chart)
        charts.append(calibration_chart(y, proba, classes, note))
    return charts


def regression_charts(
    y: np.ndarray, predicted: np.ndarray, note: str, seed: int
) -> list[dict[str, Any]]:
    """Predicted against actual (with the identity line) and residuals against predicted."""
    keep = sample_rows(len(y), MAX_POINTS, seed)
    actual, pred = np.asarray(y, float)[keep], np.asarray(predicted, float)[keep]
    shown = note if len(keep) == len(y) else f"{note}; {len(keep)} points drawn"
    r = lambda a: [round(float(v), 5) for v in a]  # noqa: E731
    return [
        {
            "name": "predicted_vs_actual",
            "kind": "xy",
            "title": "Predicted vs actual",
            "x_label": "actual",
            "y_label": "predicted",
            "diagonal": True,
            "note": shown,
            "series": [{"label": "rows", "x": r(actual), "y": r(pred), "mode": "points"}],
        },
        {
            "name": "residuals",
            "kind": "xy",
            "title": "Residuals vs predicted",
            "x_label": "predicted",
            "y_label": "actual − predicted",
            "zero_line": True,
            "note": shown,
            "series": [{"label": "rows", "x": r(pred), "y": r(actual - pred), "mode": "points"}],
        },
    ]


def importance_repeats(predict_seconds: float, n_features: int, allowance: float) -> int:
    """How many shuffles per feature fit in ``allowance`` seconds (0: not even one)."""
    if n_features == 0:
        return 0
    per_repeat = max(predict_seconds, 1e-4) * n_features
    return max(0, int(min(5, allowance // per_repeat)))  # an allowance already spent: none


def permutation_chart(
    model: Any,
    X: Any,
    y: np.ndarray,
    scorer: Any,
    *,
    seed: int,
    allowance: float,
    note: str,
    metric_name: str,
) -> tuple[dict[str, Any] | None, str | None]:
    """``permutation_importance`` of the top features, or ``(None, why it was skipped)``.

    The number of repeats is chosen so the whole computation fits in ``allowance`` seconds, from
    the time one scoring of ``X`` takes.
    """
    from sklearn.inspection import permutation_importance

    timings = []
    for _ in range(2):  # the slower of two: a first call can be quick by luck on a busy machine
        t0 = time.perf_counter()
        scorer(model, X, y)
        timings.append(time.perf_counter() - t0)
    one = max(timings)
    n_features = X.shape[1]
    repeats = importance_repeats(one, n_features, allowance - sum(timings))
    if repeats == 0:
        return None, (
            f"permutation importance skipped: {n_features} features × {one:.2f} s per scoring "
            f"would overrun the {allowance:.1f} s kept for insight"
        )
    found = permutation_importance(
        model, X, y, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1
    )
    order = np.argsort(-found.importances_mean)[:TOP_FEATURES]
    names = (
        [str(c) for c in X.columns]
        if hasattr(X, "columns")
        else [f"x{i}" for i in range(n_features)]
    )
    return {
        "name": "permutation_importance",
        "kind": "bars",
        "title": "Permutation feature importance",
        "x_label": f"drop in {metric_name} when shuffled",
        "labels": [names[i] for i in order],
        "values": [round(float(found.importances_mean[i]), 6) for i in order],
        "errors": [round(float(found.importances_std[i]), 6) for i in order],
        "n_repeats": repeats,
        "n_features": n_features,
        "note": f"{note}; {repeats} shuffles per feature, top {len(order)} of {n_features}",
    }, None

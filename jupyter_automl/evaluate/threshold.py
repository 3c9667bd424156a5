"""Tuning the decision threshold of a binary classifier on its out-of-fold probabilities.

The logic of scikit-learn's ``TunedThresholdClassifierCV``, applied to predictions the search
already made (no extra fits): the candidate thresholds are quantiles of the positive-class
probability, the one that scores best is kept when it beats 0.5, and the final model is a
``FixedThresholdClassifier`` with that value, which the exported script writes out too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jupyter_automl.evaluate.metrics import Metric

__all__ = ["THRESHOLD_METRICS", "tune_threshold"]

#: Metrics of hard labels that a moved threshold can improve.
THRESHOLD_METRICS = ("accuracy", "balanced_accuracy", "f1_macro")
#: A tuned threshold is kept only when it beats 0.5 by more than this on the out-of-fold rows.
MIN_GAIN = 1e-3


def tune_threshold(
    y: np.ndarray, proba: np.ndarray, classes: np.ndarray, metric: Metric, *, candidates: int = 200
) -> dict[str, Any] | None:
    """``{"threshold", "score", "untuned"}`` for the best threshold, or ``None`` when 0.5 is as good.

    Parameters
    ----------
    y : labels of the rows that have predictions
    proba : ``(n, 2)`` class probabilities (columns in ``classes`` order) for those rows
    classes : the two class labels
    metric : a label metric of :data:`THRESHOLD_METRICS`

    Examples
    --------
    >>> from jupyter_automl.evaluate import get_metric
    >>> y = np.array([0] * 90 + [1] * 10); p1 = np.r_[np.linspace(0, .3, 90), np.linspace(.25, .45, 10)]
    >>> tuned = tune_threshold(y, np.c_[1 - p1, p1], np.array([0, 1]), get_metric("balanced_accuracy", "binary"))
    >>> tuned["threshold"] < 0.5 and tuned["score"] > tuned["untuned"]
    True
    """
    if metric.name not in THRESHOLD_METRICS or len(classes) != 2:
        return None
    positive = np.asarray(proba, dtype=float)[:, 1]
    labels = np.asarray(classes)

    def score(t: float) -> float:
        return metric(y, np.where(positive >= t, labels[1], labels[0]), classes)

    untuned = score(0.5)
    grid = np.unique(np.quantile(positive, np.linspace(0.0, 1.0, candidates)))
    values = [score(float(t)) for t in grid]
    best = int(np.argmax(values))
    if values[best] <= untuned + MIN_GAIN:
        return None
    # the midpoint towards the next candidate generalises better than the edge value itself
    threshold = float(grid[best]) if best == 0 else float((grid[best] + grid[best - 1]) / 2)
    tuned = score(threshold)
    if tuned <= untuned + MIN_GAIN:
        threshold, tuned = float(grid[best]), float(values[best])
    return {"threshold": round(threshold, 6), "score": float(tuned), "untuned": float(untuned)}

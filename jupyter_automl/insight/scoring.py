"""``result.score`` / ``result.evaluate``: any labelled data, the search's metric and the task's others."""

from __future__ import annotations

from typing import Any

import numpy as np

from jupyter_automl.insight.holdout import score_predictions, task_metrics

__all__ = ["evaluate_result"]


def _search_metric(result: Any, task: str) -> Any:
    from jupyter_automl.evaluate.metrics import get_metric

    space_metric = getattr(getattr(result, "space", None), "metric", None)
    if space_metric is not None:
        return space_metric
    name = (result.payload().get("study") or {}).get("metric") or "auto"
    return get_metric(str(name).split(",")[0], task)


def evaluate_result(
    result: Any, X: Any, y: Any, *, only_search_metric: bool = False
) -> dict[str, float | None]:
    """``{metric: score}`` of ``result``'s model on ``(X, y)``, the search's metric first.

    A metric that cannot apply (probabilities of a model without ``predict_proba``, ROC AUC on
    one class) maps to ``None``.
    """
    from jupyter_automl._errors import DataError
    from jupyter_automl.data import _as_1d

    task = result._meta.get("task")
    if task is None:
        raise DataError(
            "this result does not know its task (a result of an older version): score it with scikit-learn"
        )
    y = _as_1d(y)
    if len(y) != len(X):
        raise DataError(
            f"X has {len(X)} rows but y has {len(y)} values: they must have the same length"
        )
    classes = result.classes_
    if task == "regression":
        y = y.astype(float)
    elif classes is not None:
        unknown = sorted({str(v) for v in np.unique(y)} - {str(c) for c in classes})
        if unknown:
            raise DataError(
                f"y has labels the model never saw: {unknown[:5]}; it knows {[str(c) for c in classes][:10]}"
            )
        y = _labels_like(y, classes)
    first = _search_metric(result, task)
    metrics = [first] if only_search_metric else task_metrics(task, first)
    labels = np.asarray(result.predict(X))
    proba = None
    if task != "regression" and any(m.needs != "label" for m in metrics):
        try:
            proba = np.asarray(result.predict_proba(X))
        except (AttributeError, NotImplementedError):
            proba = None
    scores = None
    if proba is None and task != "regression" and hasattr(result.best_model, "decision_function"):
        scores = np.asarray(
            result.best_model.decision_function(result._frame(X))
        )  # an SVC's ROC AUC
    return score_predictions(y, labels, proba, metrics, classes, scores)


def _labels_like(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``y`` in the classes' own type (``"1"`` read from a CSV matches the class ``1``)."""
    lookup = {str(c): c for c in classes}
    return np.asarray([lookup[str(v)] for v in y], dtype=np.asarray(classes).dtype)

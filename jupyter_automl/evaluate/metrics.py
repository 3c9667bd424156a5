"""The metrics a search can optimise, with their direction and what predictions they need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from jupyter_automl._errors import ConfigError

__all__ = ["Metric", "get_metric", "default_metric", "metric_bounds"]


@dataclass(frozen=True)
class Metric:
    """A named score: ``fn(y_true, prediction)`` where prediction is labels or scores."""

    name: str
    direction: str  # "maximize" | "minimize"
    needs: str  # "label" | "proba" | "score" (proba, or a decision function for binary)
    fn: Callable[..., float]
    tasks: tuple[str, ...]
    #: the values the metric can take (``None``: unbounded); charts never draw an axis beyond them
    bounds: tuple[float | None, float | None] = (None, None)

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "maximize"

    def __call__(self, y_true: np.ndarray, prediction: np.ndarray, classes: np.ndarray | None = None) -> float:
        return float(self.fn(y_true, prediction, classes))


def _accuracy(y, p, classes):
    from sklearn.metrics import accuracy_score

    return accuracy_score(y, p)


def _balanced(y, p, classes):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, p)


def _f1_macro(y, p, classes):
    from sklearn.metrics import f1_score

    return f1_score(y, p, average="macro")


def _roc_auc(y, p, classes):
    from sklearn.metrics import roc_auc_score

    p = np.asarray(p)
    if classes is not None and len(classes) == 2:
        scores = p[:, 1] if p.ndim == 2 else p
        return roc_auc_score(y == classes[1], scores)
    return roc_auc_score(y, p, multi_class="ovr", labels=classes)


def _log_loss(y, p, classes):
    from sklearn.metrics import log_loss

    return log_loss(y, np.clip(p, 1e-15, 1.0), labels=classes)


def _r2(y, p, classes):
    from sklearn.metrics import r2_score

    return r2_score(y, p)


def _rmse(y, p, classes):
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)))


def _mae(y, p, classes):
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(p, float))))


_CLS = ("binary", "multiclass")
_METRICS = {
    m.name: m
    for m in [
        Metric("accuracy", "maximize", "label", _accuracy, _CLS, (0.0, 1.0)),
        Metric("balanced_accuracy", "maximize", "label", _balanced, _CLS, (0.0, 1.0)),
        Metric("f1_macro", "maximize", "label", _f1_macro, _CLS, (0.0, 1.0)),
        Metric("roc_auc", "maximize", "score", _roc_auc, _CLS, (0.0, 1.0)),
        Metric("log_loss", "minimize", "proba", _log_loss, _CLS, (0.0, None)),
        Metric("r2", "maximize", "label", _r2, ("regression",), (None, 1.0)),
        Metric("rmse", "minimize", "label", _rmse, ("regression",), (0.0, None)),
        Metric("mae", "minimize", "label", _mae, ("regression",), (0.0, None)),
    ]
}


def metric_bounds(name: str | None) -> tuple[float | None, float | None]:
    """The range of the metric called ``name`` (``(None, None)`` for an unknown name or objectives).

    >>> metric_bounds("accuracy"), metric_bounds("rmse"), metric_bounds("latency")
    ((0.0, 1.0), (0.0, None), (None, None))
    """
    metric = _METRICS.get(str(name))
    return metric.bounds if metric is not None else (None, None)


def default_metric(task: str) -> str:
    """``auto``: ROC AUC for binary, accuracy for multiclass, R² for regression."""
    return {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}[task]


def get_metric(name: str, task: str) -> Metric:
    """The metric ``name`` (``"auto"`` resolved for ``task``); refuses one that does not fit the task."""
    if name == "auto":
        name = default_metric(task)
    metric = _METRICS[name]
    if task not in metric.tasks:
        fitting = [m for m, v in _METRICS.items() if task in v.tasks]
        raise ConfigError(
            f"option 'metric': {name!r} does not apply to a {task} task; use one of {', '.join(fitting)}"
        )
    return metric

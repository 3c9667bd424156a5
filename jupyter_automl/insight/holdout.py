"""The held-out split kept out of the search, and scoring any labelled data with every metric."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from jupyter_automl._errors import ConfigError
from jupyter_automl.evaluate.metrics import Metric, get_metric

__all__ = ["HoldoutSplit", "split_holdout", "score_predictions", "task_metrics"]

# below this many held-out rows (or per class) a held-out score says more noise than signal
_MIN_TEST_ROWS = 10
_MIN_PER_CLASS = 4


@dataclass
class HoldoutSplit:
    """Rows searched on (``train``) and rows kept out (``test``), with their positions in the data."""

    fraction: float
    train_index: np.ndarray
    test_index: np.ndarray
    train: Any  # Dataset
    test: Any  # Dataset


def _rows(dataset: Any, index: np.ndarray) -> Any:
    """The dataset restricted to ``index`` (a fresh 0..n-1 index, as the search expects)."""
    if dataset.kind == "table":
        X = dataset.X.iloc[index].reset_index(drop=True)
    else:
        X = dataset.X[index]
    validation = getattr(dataset, "validation", None)  # the user's own validation rows, when given
    extra = {} if validation is None else {"validation": validation[index]}
    return replace(dataset, X=X, y=dataset.y[index], _fingerprint=None, **extra)


def holdout_skip_reason(dataset: Any, fraction: float) -> str | None:
    """Why a held-out split of ``fraction`` would be too small to trust, or ``None``."""
    n_test = int(round(fraction * dataset.n_samples))
    if n_test < _MIN_TEST_ROWS:
        return f"only {dataset.n_samples} rows: {n_test} held out would not be a trustworthy score"
    if dataset.task != "regression":
        counts = np.unique(dataset.y, return_counts=True)[1]
        if counts.min() < _MIN_PER_CLASS or n_test < len(counts):
            return f"the rarest class has {int(counts.min())} rows: too few to hold some out"
    return None


def split_holdout(
    dataset: Any, fraction: float | None, seed: int
) -> tuple[HoldoutSplit | None, str | None]:
    """Seeded split (stratified for classification); ``(None, reason)`` when there is none."""
    from sklearn.model_selection import train_test_split

    if fraction is None:
        return None, "holdout: none"
    reason = holdout_skip_reason(dataset, fraction)
    if reason is not None:
        return None, reason
    positions = np.arange(dataset.n_samples)
    stratify = None if dataset.task == "regression" else dataset.y
    train, test = train_test_split(
        positions, test_size=fraction, random_state=seed, stratify=stratify
    )
    train, test = np.sort(train), np.sort(test)
    return HoldoutSplit(fraction, train, test, _rows(dataset, train), _rows(dataset, test)), None


def task_metrics(task: str, first: Metric | None = None) -> list[Metric]:
    """Every metric of ``task``, the search's own first."""
    from jupyter_automl.config import METRICS

    metrics = []
    for name in METRICS:
        if name == "auto":
            continue
        try:
            metrics.append(get_metric(name, task))
        except ConfigError:  # a metric of another task
            continue
    if first is not None:
        metrics = [first] + [m for m in metrics if m.name != first.name]
    return metrics


def score_predictions(
    y: np.ndarray,
    labels: np.ndarray,
    proba: np.ndarray | None,
    metrics: list[Metric],
    classes: np.ndarray | None,
    scores: np.ndarray | None = None,
) -> dict[str, float | None]:
    """``{metric: score}`` from labels (or values), class probabilities and, for a classifier without
    probabilities, its decision function (``scores``); ``None`` where a metric cannot apply."""
    out: dict[str, float | None] = {}
    for metric in metrics:
        prediction = {"label": labels, "proba": proba}.get(
            metric.needs, proba if proba is not None else scores
        )
        if prediction is None:
            out[metric.name] = None
            continue
        try:
            value = metric(y, prediction, classes)
        except ValueError:  # e.g. ROC AUC of a sample holding one class only
            value = float("nan")
        out[metric.name] = value if np.isfinite(value) else None
    return out

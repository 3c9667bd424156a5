"""Cross-validation of a scikit-learn pipeline, fold by fold, under the run's budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from jupyter_automl.evaluate.metrics import Metric
from jupyter_automl.spaces._base import Evaluation

__all__ = ["cross_validate", "fold_splits", "predict_for_metric"]

# keyed on id(y); the entry keeps y itself, so a new array reusing a freed id is not mistaken for it
_SPLIT_CACHE: dict[tuple[str, int, int, int], tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]] = {}


def fold_splits(y: np.ndarray, task: str, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds for classification, plain shuffled folds for regression; seeded."""
    from sklearn.model_selection import KFold, StratifiedKFold

    key = (task, folds, seed, id(y))
    if key not in _SPLIT_CACHE or _SPLIT_CACHE[key][0] is not y:
        if task == "regression":
            splitter: Any = KFold(folds, shuffle=True, random_state=seed)
        else:
            smallest = int(np.min(np.unique(y, return_counts=True)[1]))
            splitter = StratifiedKFold(min(folds, max(2, smallest)), shuffle=True, random_state=seed)
        _SPLIT_CACHE.clear() if len(_SPLIT_CACHE) > 16 else None
        _SPLIT_CACHE[key] = (y, list(splitter.split(np.zeros(len(y)), y)))
    return _SPLIT_CACHE[key][1]


def predict_for_metric(model: Any, X: Any, metric: Metric, classes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(what the metric scores, class probabilities or ``None``) for ``X``."""
    if classes is None:  # regression
        pred = model.predict(X)
        return pred, None
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X))
        if metric.needs == "label":
            return np.asarray(classes)[np.argmax(proba, axis=1)], proba
        return proba, proba
    if metric.needs == "label":
        return model.predict(X), None
    return np.asarray(model.decision_function(X)), None


def cross_validate(
    make_model: Callable[[], Any],
    data: Any,
    metric: Metric,
    *,
    folds: int,
    seed: int,
    trial: Any = None,
    budget: Any = None,
    first_fold_estimate: float = 0.0,
) -> Evaluation:
    """Score a fresh model per fold; report the running mean to ``trial`` so pruners can act.

    Before each fold ``budget.check`` is given the expected fold time, so a trial that would
    overrun the run's deadline is stopped instead of waited for.
    """
    import optuna

    X, y, classes = data.X, data.y, data.classes
    splits = fold_splits(y, data.task, folds, seed)
    scores: list[float] = []
    oof: np.ndarray | None = None
    oof_ok = True
    fold_times: list[float] = []
    for step, (train, test) in enumerate(splits):
        if budget is not None:
            budget.check(max(fold_times) if fold_times else first_fold_estimate)
        t0 = time.perf_counter()
        model = make_model()
        model.fit(X.iloc[train], y[train])
        scored, proba = predict_for_metric(model, X.iloc[test], metric, classes)
        fold_times.append(time.perf_counter() - t0)
        scores.append(metric(y[test], scored, classes))
        kept = proba if classes is not None else scored
        if kept is None:
            oof_ok = False
        elif oof_ok:
            if oof is None:
                oof = np.zeros((len(y),) + np.shape(kept)[1:], dtype=float)
            oof[test] = kept
        if not np.isfinite(scores[-1]):
            raise ValueError(f"fold {step} scored {scores[-1]} ({metric.name})")
        if trial is not None and step < len(splits) - 1:
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned(
                    f"pruned after fold {step + 1}/{len(splits)}: {metric.name} {np.mean(scores):.4f}"
                )
    return Evaluation(
        values=float(np.mean(scores)),
        score_std=float(np.std(scores)),
        oof=oof if oof_ok else None,
        fit_seconds=float(sum(fold_times)),
        user_attrs={"fold_seconds": float(np.mean(fold_times)), "fold_scores": [float(s) for s in scores]},
    )

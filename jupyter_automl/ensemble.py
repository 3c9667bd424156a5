"""Greedy ensemble selection (Caruana et al., 2004) over the out-of-fold predictions of trials."""

from __future__ import annotations

from typing import Any

import numpy as np

from jupyter_automl.evaluate.metrics import Metric

__all__ = ["greedy_ensemble", "score_oof"]


def score_oof(pred: np.ndarray, y: np.ndarray, metric: Metric, classes: np.ndarray | None) -> float:
    """Score out-of-fold probabilities (classification) or predictions (regression)."""
    if classes is not None and metric.needs == "label":
        return metric(y, np.asarray(classes)[np.argmax(pred, axis=1)], classes)
    return metric(y, pred, classes)


def greedy_ensemble(
    oofs: dict[int, np.ndarray],
    scores: dict[int, float],
    y: np.ndarray,
    metric: Metric,
    classes: np.ndarray | None,
    *,
    rounds: int = 30,
    candidates: int = 15,
    budget: Any = None,
) -> tuple[dict[int, int], float]:
    """Pick trials with replacement, each round the one that most improves the averaged prediction.

    Returns ``({trial number: times picked}, ensemble score)``; the best round is kept, so the
    result never scores below the best single candidate on these predictions. With ``budget``
    (anything with ``remaining()``), rounds stop when the time is up.
    """
    sign = 1.0 if metric.greater_is_better else -1.0
    pool = sorted(oofs, key=lambda n: sign * scores[n], reverse=True)[:candidates]
    picked: dict[int, int] = {}
    total = None
    best_weights: dict[int, int] = {}
    best_score = -np.inf
    for r in range(1, rounds + 1):
        if budget is not None and r > 1 and budget.remaining() <= 0:
            break
        round_best, round_score = None, -np.inf
        for n in pool:
            avg = oofs[n] if total is None else (total + oofs[n]) / r
            s = sign * score_oof(avg, y, metric, classes)
            if s > round_score:
                round_best, round_score = n, s
        assert round_best is not None
        total = oofs[round_best].copy() if total is None else total + oofs[round_best]
        picked[round_best] = picked.get(round_best, 0) + 1
        if round_score > best_score + 1e-12:
            best_score, best_weights = round_score, dict(picked)
    return best_weights, sign * best_score


def voting_model(members: list[tuple[int, Any]], weights: list[int], task: str) -> Any:
    """A scikit-learn soft-voting ensemble of the member pipelines (weighted by times picked)."""
    from sklearn.ensemble import VotingClassifier, VotingRegressor

    estimators = [(f"trial_{n}", pipe) for n, pipe in members]
    if task == "regression":
        return VotingRegressor(estimators, weights=weights)
    return VotingClassifier(estimators, voting="soft", weights=weights)

"""The tabular search's final model: the best pipeline, or a greedy ensemble, with a tuned threshold.

Runs once after the trials, inside the run's time budget (the runner keeps back
:meth:`TabularSpace.reserve_seconds`): the ensemble is only fitted when its expected fit time
fits in what is left, and kept only when it scores better than the best single pipeline on
the out-of-fold predictions; the decision threshold is tuned on those same predictions.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from jupyter_automl.ensemble import greedy_ensemble, voting_model
from jupyter_automl.evaluate.threshold import THRESHOLD_METRICS, tune_threshold
from jupyter_automl.spaces._base import FinalModel, FitFailed, fit_limit

__all__ = ["FitFailed", "fit_final_model", "fit_model"]

logger = logging.getLogger("jupyter_automl")

#: Ensemble weights are chosen on at most this many out-of-fold rows (each round scores every
#: candidate: on 16,000 rows ROC AUC alone took 45 s of a 60 s budget on a busy machine).
SELECTION_ROWS = 4000


def _refit_estimate(trial: Any) -> float:
    from jupyter_automl.storage import ATTR

    return float(trial.user_attrs.get(ATTR, {}).get("refit_seconds_estimate") or 0.0)


def _pick_ensemble(
    space: Any, best: Any, trials: dict[int, Any], oof: dict[int, np.ndarray], budget: Any
) -> tuple[dict[int, int], float, np.ndarray, dict[str, Any]] | None:
    """(weights by trial, score, combined out-of-fold predictions, record) or ``None``."""
    base = oof.get(best.number)
    if base is None:
        return None
    rows = np.isfinite(base).reshape(len(base), -1).all(axis=1)
    usable = {
        n: o[rows]
        for n, o in oof.items()
        if n in trials and trials[n].value is not None and np.isfinite(o[rows]).all()
    }
    if len(usable) < 2:
        return None
    values = {n: float(trials[n].value) for n in usable}
    y = space.data.y[rows]
    sign = 1.0 if space.metric.greater_is_better else -1.0
    chosen = _selection_rows(y, space.data.task, space.config.seed)
    selection = {n: o[chosen] for n, o in usable.items()}
    single = _score(
        usable, {best.number: 1}, y, space
    )  # scored as the ensemble is, on the same rows
    rounds_budget = _Leaving(
        budget, 1.3 * float(getattr(budget, "fits", 1.0)) * _refit_estimate(best)
    )
    while len(usable) >= 2:  # the best ensemble whose members can be refit in the time left
        weights, _ = greedy_ensemble(
            selection,
            values,
            y[chosen],
            space.metric,
            space.data.classes,
            rounds=20,
            candidates=10,
            budget=rounds_budget,
        )
        score = _score(usable, weights, y, space)
        if len(weights) < 2 or sign * score <= sign * single:
            logger.info(
                "ensemble not kept: %s %.5f against the best single %.5f",
                space.metric.name,
                score,
                single,
            )
            return None
        # every fit of the final model (twice with a held-out split) must end before the deadline
        fits = float(getattr(budget, "fits", 1.0))
        expected = 1.3 * fits * sum(_refit_estimate(trials[n]) for n in weights)
        if budget.remaining() >= expected:
            break
        dearest = max(
            (n for n in weights if n != best.number), key=lambda n: _refit_estimate(trials[n])
        )
        logger.info(
            "ensemble without trial %d: %.1f s left, %.1f s needed",
            dearest,
            budget.remaining(),
            expected,
        )
        usable = {n: o for n, o in usable.items() if n != dearest}
        selection = {n: o for n, o in selection.items() if n != dearest}
    else:
        return None
    combined = np.full(base.shape, np.nan)
    total = sum(weights.values())
    combined[rows] = sum(usable[n] * w for n, w in weights.items()) / total
    record = {
        "score": float(score),
        "members": {str(n): int(w) for n, w in weights.items()},
        "best_single": float(single),
    }
    return weights, float(score), combined, record


class _Leaving:
    """A budget that ends ``keep`` seconds before ``budget`` does (room for the refit after)."""

    def __init__(self, budget: Any, keep: float) -> None:
        self.budget, self.keep = budget, keep

    def remaining(self) -> float:
        return self.budget.remaining() - self.keep


def _selection_rows(y: np.ndarray, task: str, seed: int) -> np.ndarray:
    """At most :data:`SELECTION_ROWS` rows (stratified) on which the ensemble weights are chosen."""
    if len(y) <= SELECTION_ROWS:
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    rows, _ = train_test_split(
        np.arange(len(y)),
        train_size=SELECTION_ROWS,
        random_state=seed,
        stratify=None if task == "regression" else y,
    )
    return np.sort(rows)


def _score(
    usable: dict[int, np.ndarray], weights: dict[int, int], y: np.ndarray, space: Any
) -> float:
    """The weighted ensemble's score on all the rows that have predictions."""
    from jupyter_automl.ensemble import score_oof

    total = sum(weights.values())
    average = sum(usable[n] * w for n, w in weights.items()) / total
    return score_oof(average, y, space.metric, space.data.classes)


def _threshold(space: Any, predictions: np.ndarray | None) -> dict[str, Any] | None:
    data = space.data
    if data.task != "binary" or space.metric.name not in THRESHOLD_METRICS or predictions is None:
        return None
    rows = np.isfinite(predictions).reshape(len(predictions), -1).all(axis=1)
    return tune_threshold(data.y[rows], predictions[rows], data.classes, space.metric)


def fit_final_model(
    space: Any, best: Any, trials: list[Any], oof: dict[int, np.ndarray], budget: Any
) -> FinalModel:
    """Fit the final model of a tabular search on all the data; see the module docstring."""
    by_number = {t.number: t for t in trials}
    by_number[best.number] = best
    weights: dict[int, int] = {best.number: 1}
    score = float(best.value) if best.value is not None else None
    predictions = oof.get(best.number)
    ensemble = None
    if space.config.ensemble and len(space.directions) == 1:
        picked = _pick_ensemble(space, best, by_number, oof, budget)
        if picked is not None:
            weights, score, predictions, ensemble = picked
    threshold = _threshold(space, predictions)
    members = [(n, space.final_params(by_number[n])) for n in weights]
    if len(members) == 1:
        model = space._pipeline(members[0][1])
    else:
        model = voting_model(
            [(n, space._pipeline(p)) for n, p in members], list(weights.values()), space.data.task
        )
    if threshold is not None:
        from sklearn.model_selection import FixedThresholdClassifier

        model = FixedThresholdClassifier(
            model, threshold=threshold["threshold"], response_method="predict_proba"
        )
    expected = 1.3 * sum(_refit_estimate(by_number[n]) for n in weights)
    rows = final_rows(space, expected, budget, floor=_scored_rows(by_number[best.number]))
    n_rows = space.data.n_samples if rows is None else len(rows)
    if rows is not None:
        logger.info("final model fitted on %d of %d rows: the time budget", n_rows, space.data.n_samples)
    fidelity = space.fidelity
    description = {
        "trial": best.number,
        "members": [{"trial": n, "params": p, "weight": int(weights[n])} for n, p in members],
        "threshold": None if threshold is None else threshold["threshold"],
        "score": score,
        "folds": fidelity.folds if fidelity.method == "cv" else 3,
        "evaluation": "Cross-validated" if fidelity.method == "cv" else "Holdout",
        "fit_rows": int(n_rows),
    }
    started = time.perf_counter()
    try:
        model = fit_model(space, model, rows=rows, budget=budget)
    except FitFailed as exc:  # a crash, hang or error of the fit: the search still returns
        description["error"] = str(exc)
        description["note"] = (
            f"no model: the final fit failed ({exc}); the trials are kept in the study "
            "(result.leaderboard) and the best pipeline's parameters in result.best_params"
        )
        return FinalModel(None, description=description, ensemble=ensemble, threshold=threshold)
    description["fit_seconds"] = round(time.perf_counter() - started, 3)
    return FinalModel(model, description=description, ensemble=ensemble, threshold=threshold)


def fit_model(space: Any, model: Any, *, rows: Any = None, X: Any = None, y: Any = None,
              budget: Any = None, deadline: float | None = None) -> Any:
    """Fit ``model`` where the search's trials ran: in a worker process when they ran in one
    (``space.fitter``, set by the search while it fits the final model), else here.

    On the searched rows (``rows`` of them) unless ``X``, ``y`` are given. Raises
    :class:`FitFailed` when the worker crashed, hung past :func:`fit_limit` or the fit raised.
    """
    fitter = getattr(space, "fitter", None)
    if fitter is None:
        if X is None:
            X, y = space.data.X, space.data.y
            if rows is not None:
                X, y = X.iloc[rows], y[rows]
        return model.fit(X, y)
    from jupyter_automl.executors._base import TrialFailed

    if budget is not None:
        left = budget.remaining()
    else:
        left = float("inf") if deadline is None else deadline - time.monotonic()
    try:
        return fitter(model, rows=rows, X=X, y=y, seconds=fit_limit(space, left))
    except TrialFailed as exc:
        raise FitFailed(str(exc)) from exc


def _scored_rows(trial: Any) -> int:
    from jupyter_automl.storage import ATTR

    return int(trial.user_attrs.get(ATTR, {}).get("rows_per_fit") or 0)


def final_rows(space: Any, expected: float, budget: Any, *, floor: int = 0) -> np.ndarray | None:
    """The rows the final model is fitted on when all of them would overrun the time left.

    ``expected`` is the fit's estimated seconds on every searched row. ``None`` (all rows) when
    it fits in the time left; else a seeded, stratified sample whose share of the rows is the
    share of that time which is left (fit time grows about linearly with the rows), never
    fewer than ``floor`` (the rows the best trial was scored on) nor than 1,000 rows.
    """
    n = space.data.n_samples
    left = budget.remaining() if budget is not None else float("inf")
    if expected <= 0 or expected <= left or n <= 1000:
        return None
    share = max(0.0, left) / expected
    keep = min(n, max(int(n * share), floor, 1000))
    if keep >= n:
        return None
    from sklearn.model_selection import train_test_split

    y = space.data.y
    classify = space.data.task != "regression"
    try:  # every class keeps its share of the rows
        rows, _ = train_test_split(
            np.arange(n), train_size=keep, random_state=space.config.seed,
            stratify=y if classify else None,
        )
    except ValueError:  # a class too rare to split: a plain sample
        rows = np.random.default_rng(space.config.seed).permutation(n)[:keep]
    return np.sort(rows)

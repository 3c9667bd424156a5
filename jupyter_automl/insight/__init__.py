"""Insight of a finished search: the held-out score, what the best model does, what the search learnt.

:func:`conclude` runs once when the trials end, inside the run's budget: it scores the best
model (fitted on the searched rows) on the held-out rows with every metric of the task, computes
the charts of the "model" section (confusion matrix, ROC / precision-recall / calibration curves
or predicted-vs-actual and residuals, permutation importance) and of the "search" section
(hyperparameter importance, score by model family, NAS epoch curves, Pareto front), stores them
in the study (so ``%automl show`` needs no refit) and refits the model on every row.

A chart is a plain JSON dict drawn alike by the static SVG (:mod:`jupyter_automl.insight.svg`),
Bokeh (``result.plot(name)``) and the lab renderer::

    {"name", "kind": "xy" | "bars" | "heatmap", "title", "x_label", "y_label", "note", ...}
    xy:      "series": [{"label", "x", "y", "mode": "line" | "points" | "line+points"}],
             optional "diagonal", "zero_line", "x_range", "y_range", "x_ticks": [[x, label], ...]
    bars:    "labels", "values", optional "errors"
    heatmap: "x_labels", "y_labels", "values" (row-normalised), "counts"
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from jupyter_automl.insight.holdout import (
    HoldoutSplit,
    score_predictions,
    split_holdout,
    task_metrics,
)

__all__ = [
    "INSIGHT_VERSION",
    "HoldoutSplit",
    "split_holdout",
    "conclude",
    "insight_allowance",
    "chart_names",
]

logger = logging.getLogger("jupyter_automl")

INSIGHT_VERSION = 1


def insight_allowance(time_budget: float | None, elapsed: float = 0.0) -> float:
    """Seconds the insight may take: 3 % of the budget (at least 0.3 s); without one 5 % of the run, at least 5 s."""
    if time_budget is not None:
        return max(0.3, 0.03 * time_budget)
    return max(5.0, 0.05 * elapsed)


def chart_names(insight: dict[str, Any] | None) -> list[str]:
    """Names of the stored charts, model section first."""
    if not insight:
        return []
    return [
        c["name"]
        for section in ("model", "search")
        for c in (insight.get(section) or {}).get("charts", [])
    ]


def predictions(space: Any, model: Any, X: Any, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(labels or values, class probabilities or ``None``) of ``model`` on ``X``."""
    labels = np.asarray(space.predict(model, X))
    if task == "regression":
        return labels, None
    try:
        return labels, np.asarray(space.predict_proba(model, X))
    except (AttributeError, NotImplementedError):  # a classifier without probabilities
        return labels, None


def decision_scores(model: Any, X: Any, proba: np.ndarray | None) -> np.ndarray | None:
    """What ROC AUC scores when there are no probabilities: the decision function (an SVC's)."""
    if proba is not None or not hasattr(model, "decision_function"):
        return None
    return np.asarray(model.decision_function(X))


def _scorer(space: Any, metric: Any, classes: np.ndarray | None) -> Any:
    """``scorer(model, X, y)`` of the search's metric, greater is better (for permutation importance)."""
    sign = 1.0 if metric.greater_is_better else -1.0

    def score(scored: Any, X: Any, y: np.ndarray) -> float:
        model = scored.model  # a _Scored: NAS modules have no fit() for sklearn to find
        if metric.needs == "label" or classes is None:
            prediction = np.asarray(space.predict(model, X))
        else:
            try:
                prediction = np.asarray(space.predict_proba(model, X))
            except (
                AttributeError
            ):  # an SVC without probabilities: its decision function, as in the search
                prediction = np.asarray(model.decision_function(X))
        return sign * metric(y, prediction, classes)

    return score


class _Scored:
    """A fitted model as ``permutation_importance`` wants an estimator (with ``fit``); it only scores it."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def fit(self, *args: Any, **kwargs: Any) -> _Scored:
        return self


class _Conclusion:
    """The end-of-search steps of one :class:`~jupyter_automl._search.Search`, each a method."""

    def __init__(
        self,
        search: Any,
        best: Any,
        fitted: Any,
        *,
        deadline: float | None = None,
        fit_seconds: float | None = None,
    ) -> None:
        self.deadline = deadline
        self.fit_seconds = fit_seconds
        self.search = search
        self.best = best
        self.fitted = fitted
        self.full = search.dataset
        self.split: HoldoutSplit | None = getattr(search, "holdout", None)
        self.space = search.space
        self.metric = getattr(self.space, "metric", None)
        self.seed = int(search.config.seed)
        self.notes: list[str] = []

    # ------------------------------------------------------------------------ held-out score
    def holdout_record(self, labels: np.ndarray, proba: np.ndarray | None) -> dict[str, Any]:
        split = self.split
        assert split is not None and self.metric is not None
        task, classes = self.full.task, self.full.classes
        scores = score_predictions(
            split.test.y,
            labels,
            proba,
            task_metrics(task, self.metric),
            classes,
            decision_scores(self.fitted, split.test.X, proba),
        )
        ensemble = self.search.result.ensemble
        record: dict[str, Any] = {
            "fraction": split.fraction,
            "n_rows": int(len(split.test_index)),
            "n_search_rows": int(len(split.train_index)),
            "metric": self.metric.name,
            "direction": self.metric.direction,
            "cv_score": float(self.best.values[0]),
            "score": scores[self.metric.name],
            "scores": scores,
            "model": "best trial",
            "trial": int(self.best.number),
            # what the trial's own score is: cross-validated (tables) or on the search's
            # validation split (NAS: a few epochs, before the final training)
            "cv_kind": "validation" if str(self.search.config.space).startswith("nas-") else "CV",
        }
        final = self.search.result.final or {}
        if final.get("final_training"):
            # a NAS final training went on from the trial's weights: the held-out score is that
            # network's, not the trial's few epochs (named so in the header and the model line)
            record["model"] = "final network"
        if ensemble is not None:
            record.update(
                model="ensemble",
                ensemble_cv_score=ensemble["score"],
                ensemble_score=scores[self.metric.name],
            )
            single = getattr(self.fitted, "named_estimators_", {}).get(f"trial_{self.best.number}")
            record["score"] = None
            if (
                single is not None
            ):  # the best trial is a member, already fitted on the searched rows
                s_labels, s_proba = predictions(self.space, single, split.test.X, task)
                record["score"] = score_predictions(
                    split.test.y,
                    s_labels,
                    s_proba,
                    [self.metric],
                    classes,
                    decision_scores(single, split.test.X, s_proba),
                )[self.metric.name]
            ensemble["holdout_score"] = scores[self.metric.name]
        return record

    # ------------------------------------------------------------------------------- charts
    def model_charts(
        self, y: np.ndarray, labels: np.ndarray, proba: np.ndarray | None, note: str
    ) -> list[dict[str, Any]]:
        from jupyter_automl.insight.model import classification_charts, regression_charts

        if self.full.task == "regression":
            return regression_charts(y, labels, note, self.seed)
        return classification_charts(y, labels, proba, np.asarray(self.full.classes), note)

    def importance(
        self, model: Any, X: Any, y: np.ndarray, note: str, allowance: float
    ) -> dict[str, Any] | None:
        from jupyter_automl.insight.model import permutation_chart

        if self.metric is None or self.full.kind != "table":
            return None
        chart, why = permutation_chart(
            _Scored(model),
            X,
            y,
            _scorer(self.space, self.metric, self.full.classes),
            seed=self.seed,
            allowance=allowance,
            note=note,
            metric_name=self.metric.name,
        )
        if why:
            self.notes.append(why)
        return chart

    def oof_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """(y, labels, proba) of the best trial's out-of-fold predictions, when the runner kept them."""
        oof = getattr(getattr(self.search, "runner", None), "oof", {}).get(self.best.number)
        if oof is None:
            return None
        y = self.space.data.y
        oof = np.asarray(oof, dtype=float)
        # a holdout evaluation predicts its validation rows only: the others are NaN
        scored = np.isfinite(oof) if oof.ndim == 1 else np.isfinite(oof).all(axis=1)
        if not scored.any():
            return None
        y, oof = y[scored], oof[scored]
        if self.full.task == "regression":
            return y, oof, None
        return y, np.asarray(self.full.classes)[np.argmax(oof, axis=1)], oof

    def model_section(self, allowance: float) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The model section and, with a held-out split, the held-out record."""
        from jupyter_automl.insight.model import MAX_ROWS, sample_rows

        deadline = time.perf_counter() + allowance
        if self.split is not None:
            X, y = self.split.test.X, self.split.test.y
            labels, proba = predictions(self.space, self.fitted, X, self.full.task)
            holdout = self.holdout_record(labels, proba)
            keep = sample_rows(len(y), MAX_ROWS, self.seed)
            source = "held-out rows"
            note = f"{len(keep)} held-out rows" + (
                "" if len(keep) == len(y) else f" (sampled from {len(y)})"
            )
            charts = self.model_charts(
                y[keep], labels[keep], None if proba is None else proba[keep], note
            )
            X_imp = X.iloc[keep] if hasattr(X, "iloc") else X[keep]
            chart = self.importance(
                self.fitted, X_imp, y[keep], note, deadline - time.perf_counter()
            )
            charts += [chart] if chart else []
            return {
                "source": source,
                "n_rows": int(len(keep)),
                "n_total": int(len(y)),
                "charts": charts,
            }, holdout
        oof = self.oof_rows()
        charts = []
        n = 0
        if oof is not None:
            y, labels, proba = oof
            n = len(y)
            charts = self.model_charts(
                y, labels, proba, f"out-of-fold predictions of trial {self.best.number}, {n} rows"
            )
        else:
            self.notes.append(
                "no held-out rows (holdout: none) and no out-of-fold predictions: no model charts"
            )
        return {
            "source": "out-of-fold predictions" if oof is not None else None,
            "n_rows": n,
            "n_total": n,
            "charts": charts,
        }, None

    def search_section(self) -> dict[str, Any]:
        from jupyter_automl.insight.search import search_charts

        objectives = list(getattr(self.space, "objectives", None) or [])
        return {
            "charts": search_charts(
                self.search.study,
                metric=self.metric.name if self.metric else "score",
                objectives=objectives,
            )
        }

    # -------------------------------------------------------------------------------- refit
    def refit_on_all(self) -> Any:
        """The same model trained on every row (the held-out ones too), as the search promised."""
        from sklearn.base import BaseEstimator, clone

        if isinstance(self.fitted, BaseEstimator):  # pipelines, voting ensembles
            from jupyter_automl.spaces.tabular.final import FitFailed, fit_model

            try:  # in a worker process when the trials ran in one
                return fit_model(self.space, clone(self.fitted), X=self.full.X, y=self.full.y,
                                 deadline=self.deadline)
            except FitFailed as exc:
                self.notes.append(f"not refit on all rows: the refit failed ({exc}); the model is the "
                                  "one trained on the searched rows")
                return self.fitted
        from jupyter_automl.evaluate import TrialBudget, TrialTimeout
        from jupyter_automl.spaces._base import FitFailed

        try:  # NAS: in a worker when the trials ran in one
            return self.space.train_final(dict(self.best.params), TrialBudget(self.deadline), data=self.full)
        except TrialTimeout:  # the estimate was short: the model of the searched rows stays
            self.notes.append("not refit on all rows: the refit ran out of the time budget; the model is "
                              "the one trained on the searched rows")
            return self.fitted
        except FitFailed as exc:
            self.notes.append(f"not refit on all rows: the refit failed ({exc}); the model is the "
                              "one trained on the searched rows")
            return self.fitted

    def run(self, allowance: float) -> tuple[Any, dict[str, Any]]:
        t0 = time.perf_counter()
        model, holdout = self.model_section(allowance)
        t_model = time.perf_counter() - t0
        search = self.search_section()
        t_search = time.perf_counter() - t0 - t_model
        insight = {
            "version": INSIGHT_VERSION,
            "holdout": holdout,
            "holdout_skipped": getattr(self.search, "holdout_skipped", None)
            if self.split is None
            else None,
            "model": model,
            "search": search,
            "notes": self.notes,
            "seconds": {"model": round(t_model, 3), "search": round(t_search, 3)},
        }
        final = self.fitted
        if self.split is not None:
            needed = self.refit_seconds()
            left = float("inf") if self.deadline is None else self.deadline - time.monotonic()
            if needed > left:
                self.notes.append(
                    f"not refit on all rows: the refit would take about {needed:.1f} s and "
                    f"{max(0.0, left):.1f} s of the time budget were left; the model is the one "
                    "trained on the searched rows (resume with a longer budget, or holdout: none)"
                )
                insight["refit_skipped"] = {"needed_s": round(needed, 3), "left_s": round(left, 3)}
            else:
                t1 = time.perf_counter()
                final = self.refit_on_all()
                insight["seconds"]["refit"] = round(time.perf_counter() - t1, 3)
        return final, insight

    def refit_seconds(self) -> float:
        """Expected seconds of the refit on all rows: the fit on the searched rows, scaled by rows."""
        if self.fit_seconds is None or self.split is None:
            return 0.0
        searched = max(1, len(self.space.data.y))
        return 1.1 * float(self.fit_seconds) * len(self.full.y) / searched


def conclude(
    search: Any,
    best: Any,
    fitted: Any,
    *,
    deadline: float | None = None,
    fit_seconds: float | None = None,
    notes: list[str] | None = None,
) -> tuple[Any, dict[str, Any] | None]:
    """Held-out score and insight of ``fitted`` (trained on the searched rows), then the refit on all rows.

    Returns ``(model for the result, insight payload)``. A failure in the insight never costs the
    model: it is logged, and the model is still refit. The refit on all rows is skipped (and
    the insight says so) when, at ``fit_seconds`` for the fit on the searched rows, it would end
    after ``deadline`` (``time.monotonic`` seconds): the budget covers everything.
    """
    from jupyter_automl.storage import ATTR

    step = _Conclusion(search, best, fitted, deadline=deadline, fit_seconds=fit_seconds)
    step.notes.extend(notes or [])  # what the final step already had to say (a skipped refit)
    allowance = insight_allowance(search.config.time_budget, time.monotonic() - search.started)
    try:
        final, insight = step.run(allowance)
    except Exception:
        logger.exception("insight of the best model failed; the model is kept")
        return (step.refit_on_all() if step.split is not None else fitted), None
    try:
        search.stored_study.set_user_attr(f"{ATTR}:insight", insight)
    except Exception:  # a storage that refuses a large attribute still leaves the result's copy
        logger.exception("could not store the insight in the study")
    return final, insight

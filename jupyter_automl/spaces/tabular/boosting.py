"""Early stopping for LightGBM and XGBoost inside a scikit-learn pipeline.

HistGradientBoosting stops early by itself (``early_stopping=True`` carves its own validation
split). LightGBM and XGBoost need the validation rows handed to ``fit``, which a ``Pipeline``
cannot do: its preprocessing has to be fitted first and the validation rows transformed by it.
:func:`fit_pipeline` does that for a candidate whose number of rounds is not searched, and
returns how many rounds the validation split chose; the search keeps that count
(:func:`learned_params`), so the final refit on all rows and the exported script train a plain
LightGBM/XGBoost with a fixed number of rounds.
"""

from __future__ import annotations

import inspect
import statistics
from typing import Any

import numpy as np

__all__ = [
    "ROUNDS_KEY",
    "STOPPING_ROUNDS",
    "VALIDATION_FRACTION",
    "fit_pipeline",
    "learned_params",
    "stops_early",
]

#: The parameter holding a family's number of boosting rounds when it is searched.
ROUNDS_KEY = {"lightgbm": "lgbm_n_estimators", "xgboost": "xgb_n_estimators"}
#: Rounds without improvement on the validation split before the fit stops.
STOPPING_ROUNDS = 20
#: Share of the fitted rows kept for validation (HistGradientBoosting's default is the same).
VALIDATION_FRACTION = 0.1
#: The refit on all rows has 1 / (1 - VALIDATION_FRACTION) more rows: it gets this many more rounds.
REFIT_ROUNDS_FACTOR = 1.1


def stops_early(params: dict[str, Any]) -> bool:
    """Whether this candidate is a LightGBM/XGBoost whose rounds the validation split decides."""
    key = ROUNDS_KEY.get(str(params.get("model")))
    return key is not None and key not in params


def fit_pipeline(
    pipeline: Any, X: Any, y: np.ndarray, params: dict[str, Any], *, task: str, seed: int
) -> dict[str, Any]:
    """Fit ``pipeline`` on ``(X, y)``; ``{"rounds": k}`` when LightGBM/XGBoost stopped early.

    Any other candidate is fitted as it is and gets ``{}``.
    """
    if not stops_early(params):
        pipeline.fit(X, y)
        return {}
    from jupyter_automl.evaluate.cv import holdout_split

    y = np.asarray(y)
    fit_rows, val_rows = holdout_split(y, task, VALIDATION_FRACTION, seed)
    preprocess, model = pipeline[:-1], pipeline[-1]
    X_fit = preprocess.fit_transform(X.iloc[fit_rows], y[fit_rows])
    X_val = preprocess.transform(X.iloc[val_rows])
    if params["model"] == "lightgbm":
        import lightgbm

        stop = [lightgbm.early_stopping(STOPPING_ROUNDS, verbose=False)]
        if "eval_X" in inspect.signature(type(model).fit).parameters:  # LightGBM >= 4.7
            model.fit(X_fit, y[fit_rows], eval_X=X_val, eval_y=y[val_rows], callbacks=stop)
        else:
            model.fit(X_fit, y[fit_rows], eval_set=[(X_val, y[val_rows])], callbacks=stop)
        rounds = int(model.best_iteration_ or model.n_estimators)
    else:
        model.set_params(early_stopping_rounds=STOPPING_ROUNDS)
        model.fit(X_fit, y[fit_rows], eval_set=[(X_val, y[val_rows])], verbose=False)
        rounds = int(model.best_iteration) + 1
    return {"rounds": rounds}


def learned_params(params: dict[str, Any], rounds: list[int]) -> dict[str, Any]:
    """The searched parameters the fits decided: a fixed number of rounds for the refit."""
    if not stops_early(params) or not rounds:
        return {}
    chosen = max(1, round(statistics.median(rounds) * REFIT_ROUNDS_FACTOR))
    return {ROUNDS_KEY[params["model"]]: int(chosen)}

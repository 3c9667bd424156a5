"""scikit-learn estimators that search when fitted: ``AutoMLClassifier``, ``AutoMLRegressor``, ``AutoML``.

They follow scikit-learn's contract: ``__init__`` stores its keyword arguments unchanged (so
``get_params``/``set_params``/``clone`` are scikit-learn's own and unknown names are refused),
``fit`` validates them (raising :class:`~jupyter_automl.ConfigError`) and runs one search, and
what was learned ends in ``_``. They drop into a ``Pipeline``, ``cross_val_score`` or
``GridSearchCV`` like any other estimator.

Unlike :func:`jupyter_automl.search`, an estimator keeps its study in memory
(``storage="memory"``) and shows nothing (``display=False``) unless told otherwise: a
``cross_val_score`` fits it once per fold, and five studies in a file or five progress bars are
rarely what was wanted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["AutoML", "AutoMLClassifier", "AutoMLRegressor"]


class _AutoMLBase(BaseEstimator):
    """What the three estimators share: the options, ``fit`` and the learned attributes."""

    _task: str = "auto"

    def __init__(
        self,
        *,
        time_budget: float | str | None = None,
        n_trials: int | None = None,
        metric: str = "auto",
        models: list[str] | None = None,
        strategy: str = "auto",
        space: str = "tabular",
        cv: int = 5,
        seed: int = 0,
        n_jobs: int = 1,
        ensemble: bool = False,
        storage: str | None = "memory",
        name: str | None = None,
        resume: bool = False,
        display: bool | str = False,
    ) -> None:
        self.time_budget = time_budget
        self.n_trials = n_trials
        self.metric = metric
        self.models = models
        self.strategy = strategy
        self.space = space
        self.cv = cv
        self.seed = seed
        self.n_jobs = n_jobs
        self.ensemble = ensemble
        self.storage = storage
        self.name = name
        self.resume = resume
        self.display = display

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # the pipelines impute
        tags.input_tags.string = True  # DataFrames with text columns are encoded
        tags.input_tags.categorical = True
        tags.non_deterministic = self.time_budget is not None and self.n_trials is None
        return tags

    # ------------------------------------------------------------------------------ fit
    def search_config(self, task: str | None = None) -> Any:
        """The validated :class:`~jupyter_automl.SearchConfig` that ``fit`` runs.

        Raises
        ------
        ConfigError
            Naming every option that is wrong, with a "did you mean" hint.
        """
        from jupyter_automl.config import SearchConfig

        options = self.get_params(deep=False)  # the signature's keywords: SearchConfig options
        options["task"] = task or self._task
        return SearchConfig.from_dict(options)

    def fit(self, X: Any, y: Any) -> _AutoMLBase:
        """Search for the best model of ``X`` → ``y`` and refit it on all of them.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            DataFrames keep their column types (text columns are encoded, missing values imputed).
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        from jupyter_automl._entry import run_search

        X, y = self._check_input(X, y)
        config = self.search_config(self._task_of(y))
        self.result_ = run_search(config, X=X, y=y)
        if self.result_.best_model is None:
            from jupyter_automl._errors import AutoMLError

            raise AutoMLError(
                f"no trial of the search completed (stopped by {self.result_.stop_reason}); "
                "see result_.leaderboard for the errors, or give a longer time_budget"
            )
        self.best_model_ = self.result_.best_model
        self.best_score_ = self.result_.best_score
        self.best_params_ = self.result_.best_params
        self.task_ = self.result_.dataset.task
        if self.task_ != "regression":
            self.classes_ = np.asarray(self.result_.classes_)
        return self

    def _check_input(self, X: Any, y: Any) -> tuple[Any, Any]:
        """scikit-learn's checks and attributes (``n_features_in_``, ``feature_names_in_``)."""
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            # keep the column types: validate_data would turn text columns into one object array
            _, y = validate_data(self, X, y, skip_check_array=True)
            y = _column(y)
            if len(y) != len(X):
                from sklearn.utils.validation import check_consistent_length

                check_consistent_length(X, y)
            return X, y
        y_numeric = self._task == "regression"
        X, y = validate_data(
            self,
            X,
            y,
            dtype=None,
            ensure_all_finite="allow-nan",
            y_numeric=y_numeric,
            ensure_min_samples=2,
        )
        if X.dtype == object:
            X = _numeric_or_raise(X)
        return X, y

    def _task_of(self, y: Any) -> str:
        return "auto"

    # -------------------------------------------------------------------------- predict
    def _fitted(self) -> Any:
        check_is_fitted(self, "result_")
        return self.result_

    def _check_predict_input(self, X: Any) -> Any:
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=False, skip_check_array=True)
            return X
        X = validate_data(self, X, reset=False, dtype=None, ensure_all_finite="allow-nan")
        return _numeric_or_raise(X) if X.dtype == object else X

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the best model (labels, or values for a regression)."""
        result = self._fitted()
        return result.predict(self._check_predict_input(X))


class AutoMLClassifier(ClassifierMixin, _AutoMLBase):
    """A classifier that searches model families and hyperparameters when fitted.

    Parameters
    ----------
    time_budget : float or str, optional
        Seconds for the whole fit including the final refit (``"90s"``, ``"5m"``); 60 s when
        neither it nor ``n_trials`` is given.
    n_trials : int, optional
        Trials to run.
    metric : str
        ``"auto"`` (accuracy), ``"balanced_accuracy"``, ``"f1_macro"``, ``"roc_auc"``, ``"log_loss"``.
    models : list of str, optional
        Model families to search, e.g. ``["linear", "random_forest"]`` (default: all that apply).
    strategy, space, cv, seed, n_jobs, ensemble
        As in :func:`jupyter_automl.search`.
    storage : str, optional
        ``"memory"`` (the default here), an SQLite file or an Optuna URL to keep the study.
    name, resume
        Study name, and whether to continue a stored study of that name.
    display : bool or "auto"
        ``False`` (the default here): silent; ``"auto"``: a live view in a notebook, a progress
        bar in a terminal.

    Attributes
    ----------
    best_model_ : Pipeline
        The best candidate, refit on all of ``X``.
    best_score_ : float
        Its cross-validated score.
    best_params_ : dict
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when ``X`` was a DataFrame.
    result_ : SearchResult
        The whole search: leaderboard, trials, export.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import cross_val_score
    >>> X, y = load_iris(return_X_y=True)
    >>> scores = cross_val_score(AutoMLClassifier(n_trials=2, models=["linear"]), X, y, cv=3)
    >>> bool(scores.mean() > 0.9)
    True
    """

    def _task_of(self, y: Any) -> str:
        check_classification_targets(y)
        return "binary" if np.unique(y).size <= 2 else "multiclass"

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the best model, columns in the order of ``classes_``."""
        result = self._fitted()
        return result.predict_proba(self._check_predict_input(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # a tiny budget may keep a weak candidate
        return tags


class AutoMLRegressor(RegressorMixin, _AutoMLBase):
    """A regressor that searches model families and hyperparameters when fitted.

    Takes the same parameters as :class:`AutoMLClassifier`; ``metric`` is one of ``"auto"``
    (R²), ``"r2"``, ``"rmse"``, ``"mae"``. ``score`` is R², as every scikit-learn regressor's.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = AutoMLRegressor(n_trials=2, models=["linear"]).fit(X, y)
    >>> bool(model.score(X, y) > 0.4)
    True
    """

    _task = "regression"

    def _task_of(self, y: Any) -> str:
        return "regression"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class AutoML(_AutoMLBase):
    """An estimator that detects the task from ``y``: a classification or a regression.

    Prefer :class:`AutoMLClassifier` or :class:`AutoMLRegressor` where the task is known:
    scikit-learn's tools (``cross_val_score``'s default scoring, stratified folds) ask the
    estimator what it is before it has seen ``y``. ``score`` is accuracy for a classification
    and R² for a regression.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = AutoML(n_trials=3, models=["linear"]).fit(X, y)
    >>> model.predict(X[:2]).tolist()
    [0, 0]
    """

    def _task_of(self, y: Any) -> str:
        from sklearn.utils.multiclass import type_of_target

        type_of_target(y, raise_unknown=True)  # scikit-learn's "Unknown label type" for odd targets
        return "auto"

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the best model (classification only)."""
        result = self._fitted()
        return result.predict_proba(self._check_predict_input(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression) on ``X``, ``y``."""
        from sklearn.metrics import accuracy_score, r2_score

        pred = self.predict(X)
        if self._fitted().dataset.task == "regression":
            return float(r2_score(y, pred, sample_weight=sample_weight))
        return float(accuracy_score(y, pred, sample_weight=sample_weight))


def _column(y: Any) -> np.ndarray:
    from sklearn.utils.validation import column_or_1d

    return column_or_1d(y, warn=True)


def _numeric_or_raise(X: np.ndarray) -> np.ndarray:
    """Object arrays that hold numbers become floats; anything else is refused by scikit-learn's rule."""
    try:
        return X.astype(float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"X holds values that are not numbers ({exc}); pass a DataFrame to have text columns encoded"
        ) from None

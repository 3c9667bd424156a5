"""The tabular space: preprocessing, feature selection, model family and its hyperparameters."""

from __future__ import annotations

import statistics
import threading
from typing import Any

import numpy as np

from jupyter_automl._errors import ConfigError
from jupyter_automl._imports import install_hint, is_installed
from jupyter_automl.evaluate.cv import choose_fidelity, cross_validate, holdout_validate
from jupyter_automl.evaluate.evaluation import Evaluation
from jupyter_automl.evaluate.metrics import get_metric
from jupyter_automl.spaces._base import FinalModel, SearchSpace
from jupyter_automl.spaces.tabular.boosting import fit_pipeline, learned_params
from jupyter_automl.spaces.tabular.pipeline import (
    NATIVE_MAX_CATEGORIES,
    SPARSE_TEXT_FAMILIES,
    build_pipeline,
    canonical_params,
)

__all__ = ["TabularSpace"]

_OPTIONAL = {"lightgbm": "lightgbm", "xgboost": "xgboost", "catboost": "catboost"}
#: Metrics that average over classes: classifiers start class-weighted for them.
BALANCED_METRICS = ("balanced_accuracy", "f1_macro")
#: The families that take category codes as categories, and the parameter choosing that.
_NATIVE_CATEGORICALS = {
    "hist_gradient_boosting": "hgb_cat_encoding",
    "lightgbm": "lgbm_cat_encoding",
    "xgboost": "xgb_cat_encoding",
}
SVM_MAX_SAMPLES = 5000
#: Families that, unless ``models`` names them, a large table (from :data:`LARGE_ROWS` rows)
#: tries by their defaults in the portfolio and samples only while one of their trials leads the
#: study (:class:`~jupyter_automl.strategies.proven.ProvenSampler`); smaller tables leave them out.
#: Measured on the benchmark's large tier (3 seeds, 60 s, AutoGluon in the same runs) with
#: CatBoost sampled like any family from 10,000 rows: diamonds R² 0.9813 → 0.9824 (AutoGluon's
#: 0.9824), but doctor_contacts 0.365 → 0.317: its deep, long samples took the budget of the
#: families that win there. Its default alone costs 2–9 s on one core on those tables.
PROVEN_FAMILIES = ("catboost",)
KNN_MAX_SAMPLES = 50000
#: From this many rows the boosting families stop early on a validation split instead of
#: searching their iteration count (HistGradientBoosting's own "auto" switches at 10,000).
EARLY_STOPPING_ROWS = 2000
#: From this many rows the portfolio leads with gradient boosting and leaves costly families late.
LARGE_ROWS = 10_000
#: Up to this many rows a large table's portfolio holds the random forest's default (100 trees,
#: 2–7 s on one core at 15,000–45,000 rows): where forests win (doctor_contacts: its default
#: 0.327 held-out R² against HistGradientBoosting's 0.224), the sampler starts from it instead of
#: finding forests by chance among its random first trials.
FOREST_DEFAULT_MAX_ROWS = 60_000
#: A worker's first trial on a big table ends by this share of the time budget (counted from
#: the search's start): its rungs stop growing there, so a model is scored early at any size.
FIRST_TRIAL_SHARE = 0.2
#: Each later trial may take this share of the time left to the trials' deadline.
TRIAL_SHARE = 1 / 3
#: The first trial on a big table fits this many rows first: its time sizes the rungs that follow.
PILOT_ROWS = 2_000
#: Relative seconds per row of one fit, per family, before a family has been timed here.
_COST_PRIOR = {
    "linear": 0.3,
    "hist_gradient_boosting": 1.0,
    "lightgbm": 0.8,
    "xgboost": 1.5,
    "catboost": 2.0,
    "random_forest": 4.0,
    "extra_trees": 2.0,
    "knn": 0.5,
    "svm": 3.0,
}

#: The parameter sizing each family's fit, and its size in one default-sized fit.
_DEFAULT_SIZE = {
    "rf_n_estimators": 100,
    "et_n_estimators": 100,
    "lgbm_n_estimators": 100,
    "xgb_n_estimators": 100,
    "cb_iterations": 1000,  # CatBoost's trees are symmetric and cheap: its default is 1,000
    "hgb_max_iter": 100,
}


class TabularSpace(SearchSpace):
    """scikit-learn pipelines over a DataFrame: imputation, scaling, encoding, selection, model.

    Model families: linear (logistic / ridge), random forest, extra trees, histogram gradient
    boosting, k-nearest neighbours, SVM (small data only), LightGBM and XGBoost when installed.
    """

    name = "tabular"
    final_share = 0.5  # a big table's final model fits on the rows the time left allows

    def __init__(self, config: Any, data: Any, *, threads: int = 1) -> None:
        super().__init__(config, data, threads=threads)
        from jupyter_automl.spaces.tabular._binning import speed_up_weighted_binning

        speed_up_weighted_binning()  # class-weighted HistGradientBoosting: seconds less per fit
        self.metric = get_metric(config.metric, data.task)
        self.numeric = data.numeric_columns
        self.categorical = data.categorical_columns
        self.dates = dict(data.dates)
        self.text = list(data.text)
        #: categorical columns beyond one-hot's 30 levels: target encoding is searched for them,
        #: and is the default where a column also has more levels than the native 254
        self.many_levels = data.many_level_columns()
        self.target_default = any(n > NATIVE_MAX_CATEGORIES for n in self.many_levels.values())
        self.has_missing = bool(data.X[self.numeric].isna().any().any()) if self.numeric else False
        self.n_features = data.X.shape[1]
        self.fidelity = choose_fidelity(
            data.n_samples,
            folds=config.cv,
            method=getattr(config, "evaluation", "auto"),
            n_columns=self.n_features,
            n_classes=0 if data.classes is None else len(data.classes),
        )
        self.early_stopping = data.n_samples >= EARLY_STOPPING_ROWS
        self._fold_seconds: dict[str, list[float]] = {}
        #: per family, (training rows, seconds per size unit) of each timed fit
        self._cost: dict[str, list[tuple[int, float]]] = {}
        self._predict_seconds: dict[str, list[float]] = {}  # a holdout's validation rows, per family
        self._lock = threading.Lock()
        self.families = self._families()
        #: the families sampled only while one of their trials leads (see PROVEN_FAMILIES)
        self.proven_families = (
            [] if config.models else [f for f in PROVEN_FAMILIES if f in self.families]
        )

    @property
    def directions(self) -> list[str]:
        return [self.metric.direction]

    # ---------------------------------------------------------------------------- checks
    def _families(self) -> list[str]:
        task, n = self.data.task, self.data.n_samples
        wanted = list(self.config.models) if self.config.models else None
        out = []
        for family in (
            "hist_gradient_boosting",
            "random_forest",
            "extra_trees",
            "linear",
            "lightgbm",
            "xgboost",
            "catboost",
            "knn",
            "svm",
        ):
            if wanted is not None and family not in wanted:
                continue
            if family in PROVEN_FAMILIES and wanted is None and n < LARGE_ROWS:
                continue
            if family in _OPTIONAL and not is_installed(_OPTIONAL[family]):
                continue
            if family == "svm" and n > SVM_MAX_SAMPLES:
                continue
            if family == "knn" and n > KNN_MAX_SAMPLES:
                continue
            if (
                family == "xgboost"
                and task != "regression"
                and not _zero_based_codes(self.data.classes)
            ):
                continue  # XGBoost wants labels 0..K-1; the other families take any labels
            out.append(family)
        return out

    def check(self) -> None:
        if self.data.kind != "table":
            raise ConfigError(
                "option 'space': 'tabular' needs a table; for images use space: nas-cell or nas-chain"
            )
        if self.config.models:
            missing = [m for m in self.config.models if m not in self.families]
            reasons = []
            for m in missing:
                if m in _OPTIONAL and not is_installed(_OPTIONAL[m]):
                    reasons.append(f"{m} is not installed ({install_hint('boosting')})")
                elif m == "svm":
                    reasons.append(
                        f"svm is only searched up to {SVM_MAX_SAMPLES} rows"
                    )
                elif m == "knn":
                    reasons.append(f"knn is only searched up to {KNN_MAX_SAMPLES} rows")
                else:
                    reasons.append(f"{m} needs class labels 0..K-1")
            if reasons and not self.families:
                raise ConfigError("option 'models': nothing left to search: " + "; ".join(reasons))
        if not self.families:
            raise ConfigError("option 'models': no model family applies to this data")

    # --------------------------------------------------------------------------- sampling
    def sample(self, trial: Any) -> dict[str, Any]:
        p: dict[str, Any] = {}
        family = p["model"] = trial.suggest_categorical("model", self.families)
        needs_scaling = family in ("linear", "knn", "svm")
        if self.numeric:
            p["num_impute"] = trial.suggest_categorical("num_impute", ["median", "mean"])
        if (self.numeric or self.dates) and needs_scaling:
            p["scaler"] = trial.suggest_categorical("scaler", ["standard", "robust", "quantile"])
        native = _NATIVE_CATEGORICALS.get(family)
        target = ["target"] if self.many_levels else []
        if self.categorical and native:  # the boosting families read category codes natively
            p[native] = trial.suggest_categorical(native, ["native", "ordinal", "onehot", *target])
        elif self.categorical and not needs_scaling:
            p["cat_encoding"] = trial.suggest_categorical("cat_encoding", ["onehot", "ordinal", *target])
        elif self.categorical and target:  # linear, knn, svm: one-hot, or target encoding of many levels
            p["scaled_cat_encoding"] = trial.suggest_categorical("scaled_cat_encoding", ["onehot", "target"])
        if self.text and family not in SPARSE_TEXT_FAMILIES:
            p["text_svd"] = trial.suggest_categorical("text_svd", [32, 64, 128])
        if self.n_features >= 10 and p.get(str(native)) != "native":
            p["feature_selection"] = trial.suggest_categorical(
                "feature_selection", ["none", "percentile"]
            )
            if p["feature_selection"] == "percentile":
                p["fs_percentile"] = trial.suggest_int("fs_percentile", 20, 90, step=10)
        p.update(self._sample_model(trial, family))
        return p

    def _sample_model(self, trial: Any, family: str) -> dict[str, Any]:
        classify = self.data.task != "regression"
        p: dict[str, Any] = {}
        if family == "linear":
            if classify:
                p["lr_C"] = trial.suggest_float("lr_C", 1e-3, 1e3, log=True)
                p["lr_class_weight"] = trial.suggest_categorical(
                    "lr_class_weight", ["none", "balanced"]
                )
            else:
                p["ridge_alpha"] = trial.suggest_float("ridge_alpha", 1e-3, 1e3, log=True)
        elif family in ("random_forest", "extra_trees"):
            pre = "rf" if family == "random_forest" else "et"
            most = (
                400 if self.data.n_samples < LARGE_ROWS else 200
            )  # a forest's cost grows with rows
            p[f"{pre}_n_estimators"] = trial.suggest_int(f"{pre}_n_estimators", 50, most, log=True)
            p[f"{pre}_max_features"] = trial.suggest_float(f"{pre}_max_features", 0.1, 1.0)
            p[f"{pre}_min_samples_leaf"] = trial.suggest_int(
                f"{pre}_min_samples_leaf", 1, 20, log=True
            )
            if classify:
                p[f"{pre}_class_weight"] = trial.suggest_categorical(
                    f"{pre}_class_weight", ["none", "balanced"]
                )
        elif family == "hist_gradient_boosting":
            p["hgb_learning_rate"] = trial.suggest_float("hgb_learning_rate", 0.01, 0.3, log=True)
            p["hgb_max_leaf_nodes"] = trial.suggest_int("hgb_max_leaf_nodes", 8, 128, log=True)
            p["hgb_min_samples_leaf"] = trial.suggest_int("hgb_min_samples_leaf", 2, 100, log=True)
            p["hgb_l2_regularization"] = trial.suggest_float(
                "hgb_l2_regularization", 1e-6, 10.0, log=True
            )
            if (
                not self.early_stopping
            ):  # small data: no validation split to spare, search the length
                p["hgb_max_iter"] = trial.suggest_int("hgb_max_iter", 50, 500, log=True)
            p["hgb_max_features"] = trial.suggest_float("hgb_max_features", 0.3, 1.0)
            if classify:
                p["hgb_class_weight"] = trial.suggest_categorical(
                    "hgb_class_weight", ["none", "balanced"]
                )
        elif family == "knn":
            p["knn_n_neighbors"] = trial.suggest_int("knn_n_neighbors", 1, 50, log=True)
            p["knn_weights"] = trial.suggest_categorical("knn_weights", ["uniform", "distance"])
        elif family == "svm":
            p["svm_C"] = trial.suggest_float("svm_C", 1e-2, 1e3, log=True)
            p["svm_gamma"] = trial.suggest_float("svm_gamma", 1e-4, 1.0, log=True)
        elif family == "lightgbm":
            if not self.early_stopping:  # else a validation split decides the rounds
                p["lgbm_n_estimators"] = trial.suggest_int("lgbm_n_estimators", 50, 500, log=True)
            p["lgbm_learning_rate"] = trial.suggest_float("lgbm_learning_rate", 0.01, 0.3, log=True)
            p["lgbm_num_leaves"] = trial.suggest_int("lgbm_num_leaves", 4, 128, log=True)
            p["lgbm_min_child_samples"] = trial.suggest_int(
                "lgbm_min_child_samples", 2, 100, log=True
            )
            p["lgbm_subsample"] = trial.suggest_float("lgbm_subsample", 0.5, 1.0)
            p["lgbm_colsample_bytree"] = trial.suggest_float("lgbm_colsample_bytree", 0.3, 1.0)
            p["lgbm_reg_lambda"] = trial.suggest_float("lgbm_reg_lambda", 1e-6, 10.0, log=True)
            if classify:
                p["lgbm_class_weight"] = trial.suggest_categorical(
                    "lgbm_class_weight", ["none", "balanced"]
                )
        elif family == "catboost":
            p["cb_iterations"] = trial.suggest_int("cb_iterations", 100, 1000, log=True)
            p["cb_learning_rate"] = trial.suggest_float("cb_learning_rate", 0.02, 0.3, log=True)
            p["cb_depth"] = trial.suggest_int("cb_depth", 4, 10)
            p["cb_l2_leaf_reg"] = trial.suggest_float("cb_l2_leaf_reg", 1.0, 10.0, log=True)
            if classify:
                p["cb_class_weight"] = trial.suggest_categorical("cb_class_weight", ["none", "balanced"])
        elif family == "xgboost":
            if not self.early_stopping:
                p["xgb_n_estimators"] = trial.suggest_int("xgb_n_estimators", 50, 500, log=True)
            p["xgb_learning_rate"] = trial.suggest_float("xgb_learning_rate", 0.01, 0.3, log=True)
            p["xgb_max_depth"] = trial.suggest_int("xgb_max_depth", 2, 10)
            p["xgb_min_child_weight"] = trial.suggest_float(
                "xgb_min_child_weight", 0.5, 20.0, log=True
            )
            p["xgb_subsample"] = trial.suggest_float("xgb_subsample", 0.5, 1.0)
            p["xgb_colsample_bytree"] = trial.suggest_float("xgb_colsample_bytree", 0.3, 1.0)
            p["xgb_reg_lambda"] = trial.suggest_float("xgb_reg_lambda", 1e-6, 10.0, log=True)
        return p

    def _defaults(
        self,
        family: str,
        *,
        learning_rate: float = 0.1,
        leaves: int = 31,
        min_leaf: int = 20,
        l2: float = 1e-6,
        weight: str | None = None,
    ) -> dict[str, Any]:
        """Known-good parameters of one family (scikit-learn's defaults for gradient boosting).

        ``weight`` is the class weighting of a classifier: by default ``balanced`` when the
        metric averages over classes (balanced accuracy, macro F1), else ``none``.
        """
        classify = self.data.task != "regression"
        if weight is None:
            weight = "balanced" if self.metric.name in BALANCED_METRICS else "none"
        base: dict[str, Any] = {"model": family}
        if self.numeric:
            base["num_impute"] = "median"
        native = _NATIVE_CATEGORICALS.get(family) if self.categorical else None
        if self.n_features >= 10 and not native:
            base["feature_selection"] = "none"
        if family in ("linear", "svm"):
            if self.numeric or self.dates:
                base["scaler"] = "standard"
            if self.categorical and self.many_levels:
                base["scaled_cat_encoding"] = "target"
            if family == "svm":  # scikit-learn's gamma="scale" on standardised columns, a firmer C
                base.update(svm_C=10.0, svm_gamma=1.0 / max(1, self.n_features))
                return base
            base.update(
                {"lr_C": 1.0, "lr_class_weight": weight} if classify else {"ridge_alpha": 1.0}
            )
            return base
        if self.text:
            base["text_svd"] = 64
        if native:
            base[native] = "target" if self.target_default else "native"
        elif self.categorical:
            base["cat_encoding"] = "target" if self.many_levels else "ordinal"
        if family == "hist_gradient_boosting":
            base.update(
                hgb_learning_rate=learning_rate,
                hgb_max_leaf_nodes=leaves,
                hgb_min_samples_leaf=min_leaf,
                hgb_l2_regularization=l2,
                hgb_max_features=1.0,
                **({"hgb_class_weight": weight} if classify else {}),
            )
            if not self.early_stopping:
                base["hgb_max_iter"] = 100
        elif family == "random_forest":
            base.update(
                rf_n_estimators=200 if self.data.n_samples < LARGE_ROWS else 100,
                rf_max_features=0.5 if not classify else 0.3,
                rf_min_samples_leaf=1 if self.data.n_samples < LARGE_ROWS else 3,
                **({"rf_class_weight": weight} if classify else {}),
            )
        elif family == "extra_trees":
            base.update(
                et_n_estimators=200 if self.data.n_samples < LARGE_ROWS else 100,
                et_max_features=0.5,
                et_min_samples_leaf=1 if self.data.n_samples < LARGE_ROWS else 3,
                **({"et_class_weight": weight} if classify else {}),
            )
        elif family == "lightgbm":
            if not self.early_stopping:
                base["lgbm_n_estimators"] = 200
            base.update(
                lgbm_learning_rate=0.05,
                lgbm_num_leaves=31,
                lgbm_min_child_samples=20,
                lgbm_subsample=1.0,
                lgbm_colsample_bytree=0.8,
                lgbm_reg_lambda=1e-6,
                **({"lgbm_class_weight": weight} if classify else {}),
            )
        elif family == "catboost":  # CatBoost's own defaults: 1,000 symmetric trees of depth 6
            base.update(
                cb_iterations=1000,
                cb_learning_rate=0.08,
                cb_depth=6,
                cb_l2_leaf_reg=3.0,
                **({"cb_class_weight": weight} if classify else {}),
            )
        return base

    def portfolio(self) -> list[dict[str, Any]]:
        """Known-good configurations, chosen by the table's size: cheap and strong first.

        Small tables start with a linear model (and for a regression an RBF SVR, up to 5,000
        rows), then the boosting and forest defaults. From
        :data:`LARGE_ROWS` rows the untuned HistGradientBoosting comes first (so a search never
        ends below it), then LightGBM, CatBoost (sampled only while it leads: :data:`PROVEN_FAMILIES`),
        the random forest (up to :data:`FOREST_DEFAULT_MAX_ROWS`), two more boosting shapes and the
        linear model; extra trees and bigger forests,
        ten times dearer there, are left to the sampler. A metric that averages over classes
        gets class-weighted defaults, and the unweighted HistGradientBoosting default last.
        """
        unweighted = []
        if (
            self.data.task != "regression"
            and self.metric.name in BALANCED_METRICS
            and "hist_gradient_boosting" in self.families
        ):
            unweighted = [self._defaults("hist_gradient_boosting", weight="none")]
        if self.data.n_samples < LARGE_ROWS:
            # a classifying SVC is calibrated on 3 folds (its probabilities), dear for a
            # default: only a regression gets the SVM default early
            svm = ["svm"] if self.data.task == "regression" else []
            order = [
                "linear",
                *svm,
                "hist_gradient_boosting",
                "lightgbm",
                "random_forest",
                "extra_trees",
            ]
            return [self._defaults(f) for f in order if f in self.families] + unweighted
        configs: list[dict[str, Any]] = []
        if "hist_gradient_boosting" in self.families:
            configs.append(self._defaults("hist_gradient_boosting"))
        if "lightgbm" in self.families:
            configs.append(self._defaults("lightgbm"))
        if "catboost" in self.families:
            configs.append(self._defaults("catboost"))
        if "random_forest" in self.families and self.data.n_samples <= FOREST_DEFAULT_MAX_ROWS:
            configs.append(self._defaults("random_forest"))
        if "hist_gradient_boosting" in self.families:
            configs.append(
                self._defaults(
                    "hist_gradient_boosting", learning_rate=0.05, leaves=63, min_leaf=40, l2=1.0
                )
            )
            configs.append(
                self._defaults("hist_gradient_boosting", learning_rate=0.2, leaves=15, min_leaf=10)
            )
        if "linear" in self.families:
            configs.append(self._defaults("linear"))
        return configs + unweighted

    def last_chance(self) -> dict[str, Any] | None:
        """The untuned linear model (the cheapest family), else the portfolio's first candidate."""
        if "linear" in self.families:
            return self._defaults("linear")
        portfolio = self.portfolio()
        return portfolio[0] if portfolio else None

    def preset(self) -> dict[str, Any]:
        """Rule-based choice from the data's shape: gradient boosting, or a forest on small data."""
        configs = {c["model"]: c for c in self.portfolio()}
        if self.data.n_samples < 1000 and "random_forest" in configs:
            return configs["random_forest"]
        for family in (
            "hist_gradient_boosting",
            "lightgbm",
            "random_forest",
            "linear",
            "extra_trees",
        ):
            if family in configs:
                return configs[family]
        return self.portfolio()[0]

    # -------------------------------------------------------------------------- scoring
    def _pipeline(self, params: dict[str, Any], threads: int | None = None) -> Any:
        # columns by position: scikit-learn looks names up one list.index at a time (quadratic)
        position = {c: i for i, c in enumerate(self.data.X.columns)}
        return build_pipeline(
            canonical_params(params),
            [position[c] for c in self.numeric],
            [position[c] for c in self.categorical],
            self.data.task,
            seed=self.config.seed,
            threads=threads or self.threads,
            dates=[position[c] for c in self.dates],
            date_formats=list(self.dates.values()),
            text=[position[c] for c in self.text],
        )

    def _size(self, params: dict[str, Any]) -> float:
        """How many times one default-sized fit of the family this candidate costs."""
        for key, default in _DEFAULT_SIZE.items():
            if key in params:
                return max(0.1, float(params[key]) / default)
        return 1.0

    def fit_seconds_estimate(self, params: dict[str, Any], rows: int) -> float:
        """Expected seconds of one fit on ``rows`` rows: timed fits of the family, else of any
        family scaled by a prior of relative costs; 0 before anything was timed."""
        family = params["model"]
        with self._lock:
            timed = {f: list(c) for f, c in self._cost.items() if c}
        if family in timed:
            unit = statistics.median(_grown(t, n, rows) for n, t in timed[family])
        elif timed:
            unit = self._prior(family) * max(
                statistics.median(_grown(t, n, rows) for n, t in c) / self._prior(f)
                for f, c in timed.items()
            )
        else:
            return 0.0
        return unit * self._size(params)

    def _prior(self, family: str) -> float:
        """Relative cost of one fit of ``family``; boosting fits one tree per class and round."""
        classes = 0 if self.data.classes is None else len(self.data.classes)
        per_class = family in ("hist_gradient_boosting", "lightgbm", "xgboost") and classes > 2
        return _COST_PRIOR.get(family, 1.0) * (classes if per_class else 1)

    def trial_seconds(self, budget: Any) -> float | None:
        """How long a holdout trial may climb its rungs (``None``: to the top).

        A worker's first trial ends by :data:`FIRST_TRIAL_SHARE` of the time budget from the
        search's start (the deadline minus the budget is that start); each later one may take
        :data:`TRIAL_SHARE` of the time left. Small tables (cross-validation) are not limited.
        """
        total = self.config.time_budget
        remaining = float("inf") if budget is None else float(budget.remaining())
        if self.fidelity.method != "holdout" or total is None or not np.isfinite(remaining):
            return None
        with self._lock:
            first = not self._cost
        if first:
            return max(0.0, remaining - (1.0 - FIRST_TRIAL_SHARE) * float(total))
        return TRIAL_SHARE * remaining

    def evaluate(self, trial: Any, params: dict[str, Any], budget: Any) -> Evaluation:
        fidelity = self.fidelity
        rows = int(self.data.n_samples * fidelity.train_fraction)
        estimate = self.fit_seconds_estimate(params, rows)
        task, seed = self.data.task, self.config.seed
        max_seconds = self.trial_seconds(budget)
        with self._lock:  # a holdout's validation rows are predicted at every rung, whatever its size
            predicted = self._predict_seconds.get(params["model"]) or [
                s for family in self._predict_seconds.values() for s in family
            ]
        predict_estimate = max(predicted) if predicted else 0.0

        def fit(model: Any, X: Any, y: np.ndarray) -> dict[str, Any]:
            return fit_pipeline(model, X, y, params, task=task, seed=seed)

        pilot = 0
        with self._lock:
            if (
                not self._cost
            ):  # until one candidate is scored, only a stop ends it: a late model beats none
                budget = _StopOnly(budget)
                pilot = PILOT_ROWS if max_seconds is not None else 0
        if fidelity.method == "holdout":
            result = holdout_validate(
                lambda: self._pipeline(params),
                self.data,
                self.metric,
                fidelity,
                seed=self.config.seed,
                trial=trial,
                budget=budget,
                full_fit_estimate=estimate,
                fit=fit,
                max_seconds=max_seconds,
                pilot_rows=pilot,
                predict_estimate=predict_estimate,
            )
        else:
            result = cross_validate(
                lambda: self._pipeline(params),
                self.data,
                self.metric,
                folds=fidelity.folds,
                seed=self.config.seed,
                trial=trial,
                budget=budget,
                first_fold_estimate=estimate,
                fit=fit,
            )
        rounds = [i["rounds"] for i in result.user_attrs.pop("fit_info", []) if "rounds" in i]
        learned = learned_params(params, rounds)
        if learned:  # e.g. the rounds LightGBM stopped at: the refit and the export train as many
            result.user_attrs["learned_params"] = learned
        seconds = float(result.user_attrs["fold_seconds"])
        # the refit trains on every searched row: the time of the fit scored, scaled by rows
        fitted = result.user_attrs.get("rows_per_fit") or rows
        result.user_attrs["refit_seconds_estimate"] = (
            seconds / max(1e-9, fidelity.train_fraction)
            if fidelity.method == "cv"
            else _grown(
                float(result.user_attrs.get("fit_only_seconds", seconds)), fitted, self.data.n_samples
            )
        )
        self.observe(params, result)
        return result

    def observe(self, params: dict[str, Any], evaluation: Evaluation) -> None:
        """Learn fold timings and the cost per row (also from evaluations run in worker processes)."""
        seconds = evaluation.user_attrs.get("fold_seconds")
        if seconds is None:
            return
        rows = evaluation.user_attrs.get("rows_per_fit") or int(
            self.data.n_samples * self.fidelity.train_fraction
        )
        # a holdout's cost per row is its fit's alone: every rung predicts the same validation rows
        fitting = evaluation.user_attrs.get("fit_only_seconds", seconds)
        predict = evaluation.user_attrs.get("predict_seconds")
        with self._lock:
            self._fold_seconds.setdefault(params["model"], []).append(float(seconds))
            self._cost.setdefault(params["model"], []).append(
                (int(rows), float(fitting) / self._size(params))
            )
            if predict is not None:
                self._predict_seconds.setdefault(params["model"], []).append(float(predict))

    def fold_seconds_estimate(self, params: dict[str, Any]) -> float:
        with self._lock:
            history = self._fold_seconds.get(params["model"], [])
            return statistics.median(history) if history else 0.0

    def reserve_seconds(self, best: Any) -> float | None:
        """Seconds to keep back for the final model: the best one's refit, and an ensemble when on."""
        from jupyter_automl.storage import ATTR

        refit = best.user_attrs.get(ATTR, {}).get("refit_seconds_estimate")
        if refit is None:
            return None
        reserve = 1.3 * float(refit) + 0.3
        budget = self.config.time_budget
        if self.config.ensemble and (budget is None or 3.0 * reserve < 0.25 * budget):
            reserve *= 3.0  # room for the refit of about two more ensemble members
        return reserve

    def fit_final(self, params: dict[str, Any], budget: Any) -> Any:
        model = self._pipeline(params)
        fit_pipeline(
            model, self.data.X, self.data.y, params, task=self.data.task, seed=self.config.seed
        )
        return model

    @staticmethod
    def final_params(trial: Any) -> dict[str, Any]:
        """A trial's parameters with what its fits decided (the rounds a boosting model stopped at)."""
        from jupyter_automl.storage import ATTR

        learned = trial.user_attrs.get(ATTR, {}).get("learned_params") or {}
        return canonical_params({**dict(trial.params), **learned})

    def final_model(
        self, best: Any, trials: list[Any], oof: dict[int, np.ndarray], budget: Any
    ) -> FinalModel:
        from jupyter_automl.spaces.tabular.final import fit_final_model

        return fit_final_model(self, best, trials, oof, budget)

    def export_final(
        self,
        final: dict[str, Any],
        *,
        study: str = "",
        holdout: float | None = None,
        script: str = "train_best.py",
    ) -> str:
        from jupyter_automl.spaces.tabular.script import tabular_script

        return tabular_script(self, final, study=study, holdout=holdout, script=script)

    def describe(self, params: dict[str, Any]) -> str:
        return str(params.get("model"))

    def key_params(self, params: dict[str, Any]) -> dict[str, Any]:
        family = params.get("model")
        prefix = {
            "linear": ("lr_", "ridge_"),
            "random_forest": ("rf_",),
            "extra_trees": ("et_",),
            "hist_gradient_boosting": ("hgb_",),
            "knn": ("knn_",),
            "svm": ("svm_",),
            "lightgbm": ("lgbm_",),
            "xgboost": ("xgb_",),
            "catboost": ("cb_",),
        }.get(str(family), ())
        return {k.split("_", 1)[1]: v for k, v in params.items() if k.startswith(prefix)}

    def export_source(self, params: dict[str, Any], model: Any) -> str:
        from jupyter_automl.spaces.tabular.script import tabular_script

        final = {
            "members": [{"trial": -1, "params": canonical_params(params), "weight": 1}],
            "threshold": None,
        }
        return tabular_script(self, final)


def _grown(seconds: float, rows: int, target: int) -> float:
    """A fit's ``seconds`` on ``rows`` rows, carried to ``target`` rows.

    Fewer rows: in proportion. More: half of the time grows with the rows and half does not
    (binning, early-stopping set-up, thread start), so a fit timed on a small sample does not
    promise an absurd time for the whole table; a fit timed near the target is carried almost
    in proportion.

    >>> _grown(2.0, 1000, 500), _grown(2.0, 1000, 9000)
    (1.0, 10.0)
    """
    ratio = target / max(1, rows)
    return seconds * (ratio if ratio <= 1 else 0.5 + 0.5 * ratio)


class _StopOnly:
    """A trial budget that answers the stop button but not the deadline."""

    def __init__(self, budget: Any) -> None:
        self.budget = budget

    @property
    def stop(self) -> Any:
        return self.budget.stop if self.budget is not None else threading.Event()

    def remaining(self) -> float:
        return float("inf")

    def check(self, expected_seconds: float = 0.0) -> None:
        if self.budget is not None and self.budget.stop.is_set():
            self.budget.check()  # raises "stopped by the user"


def _zero_based_codes(classes: np.ndarray | None) -> bool:
    if classes is None or not np.issubdtype(np.asarray(classes).dtype, np.integer):
        return False
    return list(classes) == list(range(len(classes)))

"""The tabular space: preprocessing, feature selection, model family and its hyperparameters."""

from __future__ import annotations

import importlib.util
import statistics
import threading
from typing import Any

import numpy as np

from jupyter_automl._errors import ConfigError
from jupyter_automl.evaluate.cv import cross_validate
from jupyter_automl.evaluate.metrics import get_metric
from jupyter_automl.spaces._base import Evaluation, SearchSpace

__all__ = ["TabularSpace", "build_pipeline", "pipeline_source"]

_OPTIONAL = {"lightgbm": "lightgbm", "xgboost": "xgboost"}
SVM_MAX_SAMPLES = 5000
KNN_MAX_SAMPLES = 50000


class TabularSpace(SearchSpace):
    """scikit-learn pipelines over a DataFrame: imputation, scaling, encoding, selection, model.

    Model families: linear (logistic / ridge), random forest, extra trees, histogram gradient
    boosting, k-nearest neighbours, SVM (small data only), LightGBM and XGBoost when installed.
    """

    name = "tabular"

    def __init__(self, config: Any, data: Any, *, threads: int = 1) -> None:
        super().__init__(config, data, threads=threads)
        self.metric = get_metric(config.metric, data.task)
        self.numeric = data.numeric_columns
        self.categorical = data.categorical_columns
        self.has_missing = bool(data.X[self.numeric].isna().any().any()) if self.numeric else False
        self.n_features = data.X.shape[1]
        self._fold_seconds: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.families = self._families()

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
            "knn",
            "svm",
        ):
            if wanted is not None and family not in wanted:
                continue
            if family in _OPTIONAL and importlib.util.find_spec(_OPTIONAL[family]) is None:
                continue
            if family == "svm" and (n > SVM_MAX_SAMPLES or self.metric.needs == "proba"):
                continue
            if family == "knn" and n > KNN_MAX_SAMPLES:
                continue
            if family == "xgboost" and task != "regression" and not _zero_based_codes(self.data.classes):
                continue  # XGBoost wants labels 0..K-1; the other families take any labels
            out.append(family)
        return out

    def check(self) -> None:
        if self.data.kind != "table":
            raise ConfigError("option 'space': 'tabular' needs a table; for images use space: nas-cell or nas-chain")
        if self.config.models:
            missing = [m for m in self.config.models if m not in self.families]
            reasons = []
            for m in missing:
                if m in _OPTIONAL and importlib.util.find_spec(_OPTIONAL[m]) is None:
                    reasons.append(f"{m} is not installed (pip install {m})")
                elif m == "svm":
                    reasons.append(f"svm is only searched up to {SVM_MAX_SAMPLES} rows and without log_loss")
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
        classify = self.data.task != "regression"
        needs_scaling = family in ("linear", "knn", "svm")
        if self.numeric:
            p["num_impute"] = trial.suggest_categorical("num_impute", ["median", "mean"])
            if needs_scaling:
                p["scaler"] = trial.suggest_categorical("scaler", ["standard", "robust", "quantile"])
        if self.categorical and not needs_scaling:
            p["cat_encoding"] = trial.suggest_categorical("cat_encoding", ["onehot", "ordinal"])
        if self.n_features >= 10:
            p["feature_selection"] = trial.suggest_categorical("feature_selection", ["none", "percentile"])
            if p["feature_selection"] == "percentile":
                p["fs_percentile"] = trial.suggest_int("fs_percentile", 20, 90, step=10)
        if family == "linear":
            if classify:
                p["lr_C"] = trial.suggest_float("lr_C", 1e-3, 1e3, log=True)
                p["lr_class_weight"] = trial.suggest_categorical("lr_class_weight", ["none", "balanced"])
            else:
                p["ridge_alpha"] = trial.suggest_float("ridge_alpha", 1e-3, 1e3, log=True)
        elif family in ("random_forest", "extra_trees"):
            pre = "rf" if family == "random_forest" else "et"
            p[f"{pre}_n_estimators"] = trial.suggest_int(f"{pre}_n_estimators", 50, 400, log=True)
            p[f"{pre}_max_features"] = trial.suggest_float(f"{pre}_max_features", 0.1, 1.0)
            p[f"{pre}_min_samples_leaf"] = trial.suggest_int(f"{pre}_min_samples_leaf", 1, 20, log=True)
            if classify:
                p[f"{pre}_class_weight"] = trial.suggest_categorical(f"{pre}_class_weight", ["none", "balanced"])
        elif family == "hist_gradient_boosting":
            p["hgb_learning_rate"] = trial.suggest_float("hgb_learning_rate", 0.01, 0.3, log=True)
            p["hgb_max_leaf_nodes"] = trial.suggest_int("hgb_max_leaf_nodes", 8, 128, log=True)
            p["hgb_min_samples_leaf"] = trial.suggest_int("hgb_min_samples_leaf", 2, 100, log=True)
            p["hgb_l2_regularization"] = trial.suggest_float("hgb_l2_regularization", 1e-6, 10.0, log=True)
            p["hgb_max_iter"] = trial.suggest_int("hgb_max_iter", 50, 500, log=True)
            p["hgb_max_features"] = trial.suggest_float("hgb_max_features", 0.3, 1.0)
        elif family == "knn":
            p["knn_n_neighbors"] = trial.suggest_int("knn_n_neighbors", 1, 50, log=True)
            p["knn_weights"] = trial.suggest_categorical("knn_weights", ["uniform", "distance"])
        elif family == "svm":
            p["svm_C"] = trial.suggest_float("svm_C", 1e-2, 1e3, log=True)
            p["svm_gamma"] = trial.suggest_float("svm_gamma", 1e-4, 1.0, log=True)
        elif family == "lightgbm":
            p["lgbm_n_estimators"] = trial.suggest_int("lgbm_n_estimators", 50, 500, log=True)
            p["lgbm_learning_rate"] = trial.suggest_float("lgbm_learning_rate", 0.01, 0.3, log=True)
            p["lgbm_num_leaves"] = trial.suggest_int("lgbm_num_leaves", 4, 128, log=True)
            p["lgbm_min_child_samples"] = trial.suggest_int("lgbm_min_child_samples", 2, 100, log=True)
            p["lgbm_subsample"] = trial.suggest_float("lgbm_subsample", 0.5, 1.0)
            p["lgbm_colsample_bytree"] = trial.suggest_float("lgbm_colsample_bytree", 0.3, 1.0)
            p["lgbm_reg_lambda"] = trial.suggest_float("lgbm_reg_lambda", 1e-6, 10.0, log=True)
        elif family == "xgboost":
            p["xgb_n_estimators"] = trial.suggest_int("xgb_n_estimators", 50, 500, log=True)
            p["xgb_learning_rate"] = trial.suggest_float("xgb_learning_rate", 0.01, 0.3, log=True)
            p["xgb_max_depth"] = trial.suggest_int("xgb_max_depth", 2, 10)
            p["xgb_min_child_weight"] = trial.suggest_float("xgb_min_child_weight", 0.5, 20.0, log=True)
            p["xgb_subsample"] = trial.suggest_float("xgb_subsample", 0.5, 1.0)
            p["xgb_colsample_bytree"] = trial.suggest_float("xgb_colsample_bytree", 0.3, 1.0)
            p["xgb_reg_lambda"] = trial.suggest_float("xgb_reg_lambda", 1e-6, 10.0, log=True)
        return p

    def portfolio(self) -> list[dict[str, Any]]:
        """Known-good defaults, cheapest first so a tight budget still ends with a model."""
        classify = self.data.task != "regression"
        base: dict[str, Any] = {}
        if self.numeric:
            base["num_impute"] = "median"
        if self.n_features >= 10:
            base["feature_selection"] = "none"
        tree_base = dict(base, **({"cat_encoding": "ordinal"} if self.categorical else {}))
        configs: list[dict[str, Any]] = []
        order = ["linear", "hist_gradient_boosting", "lightgbm", "random_forest", "extra_trees"]
        for family in sorted(self.families, key=lambda f: order.index(f) if f in order else len(order)):
            if family == "hist_gradient_boosting":
                configs.append(dict(tree_base, model=family, hgb_learning_rate=0.1, hgb_max_leaf_nodes=31,
                                    hgb_min_samples_leaf=20, hgb_l2_regularization=1e-6, hgb_max_iter=100,
                                    hgb_max_features=1.0))
            elif family == "random_forest":
                configs.append(dict(tree_base, model=family, rf_n_estimators=200,
                                    rf_max_features=0.5 if not classify else 0.3, rf_min_samples_leaf=1,
                                    **({"rf_class_weight": "none"} if classify else {})))
            elif family == "linear":
                lin = dict(base, model=family, **({"scaler": "standard"} if self.numeric else {}))
                lin.update({"lr_C": 1.0, "lr_class_weight": "none"} if classify else {"ridge_alpha": 1.0})
                configs.append(lin)
            elif family == "lightgbm":
                configs.append(dict(tree_base, model=family, lgbm_n_estimators=200, lgbm_learning_rate=0.05,
                                    lgbm_num_leaves=31, lgbm_min_child_samples=20, lgbm_subsample=1.0,
                                    lgbm_colsample_bytree=0.8, lgbm_reg_lambda=1e-6))
            elif family == "extra_trees":
                configs.append(dict(tree_base, model=family, et_n_estimators=200, et_max_features=0.5,
                                    et_min_samples_leaf=1, **({"et_class_weight": "none"} if classify else {})))
        return configs

    def preset(self) -> dict[str, Any]:
        """Rule-based choice from the data's shape: gradient boosting, or a forest on small data."""
        configs = {c["model"]: c for c in self.portfolio()}
        if self.data.n_samples < 1000 and "random_forest" in configs:
            return configs["random_forest"]
        for family in ("hist_gradient_boosting", "lightgbm", "random_forest", "linear", "extra_trees"):
            if family in configs:
                return configs[family]
        return self.portfolio()[0]

    # -------------------------------------------------------------------------- scoring
    def _pipeline(self, params: dict[str, Any], threads: int | None = None) -> Any:
        return build_pipeline(
            _canonical(params), self.numeric, self.categorical, self.data.task,
            seed=self.config.seed, threads=threads or self.threads,
        )

    def evaluate(self, trial: Any, params: dict[str, Any], budget: Any) -> Evaluation:
        family = params["model"]
        with self._lock:
            history = list(self._fold_seconds.get(family, []))
        estimate = statistics.median(history) if history else 0.0
        result = cross_validate(
            lambda: self._pipeline(params), self.data, self.metric, folds=self.config.cv,
            seed=self.config.seed, trial=trial, budget=budget, first_fold_estimate=estimate,
        )
        self.observe(params, result)
        return result

    def observe(self, params: dict[str, Any], evaluation: Evaluation) -> None:
        seconds = evaluation.user_attrs.get("fold_seconds")
        if seconds is not None:
            with self._lock:
                self._fold_seconds.setdefault(params["model"], []).append(float(seconds))

    def fold_seconds_estimate(self, params: dict[str, Any]) -> float:
        with self._lock:
            history = self._fold_seconds.get(params["model"], [])
            return statistics.median(history) if history else 0.0

    def fit_final(self, params: dict[str, Any], budget: Any) -> Any:
        model = self._pipeline(params)
        model.fit(self.data.X, self.data.y)
        return model

    def describe(self, params: dict[str, Any]) -> str:
        return str(params.get("model"))

    def key_params(self, params: dict[str, Any]) -> dict[str, Any]:
        family = params.get("model")
        prefix = {"linear": ("lr_", "ridge_"), "random_forest": ("rf_",), "extra_trees": ("et_",),
                  "hist_gradient_boosting": ("hgb_",), "knn": ("knn_",), "svm": ("svm_",),
                  "lightgbm": ("lgbm_",), "xgboost": ("xgb_",)}.get(str(family), ())
        return {k.split("_", 1)[1]: v for k, v in params.items() if k.startswith(prefix)}

    def export_source(self, params: dict[str, Any], model: Any) -> str:
        from jupyter_automl.export import tabular_script

        return tabular_script(self, _canonical(params))


def _zero_based_codes(classes: np.ndarray | None) -> bool:
    if classes is None or not np.issubdtype(np.asarray(classes).dtype, np.integer):
        return False
    return list(classes) == list(range(len(classes)))


def _canonical(params: dict[str, Any]) -> dict[str, Any]:
    """Trial parameter names → the names the pipeline builder reads."""
    out = dict(params)
    for pre in ("lr", "rf", "et"):
        if f"{pre}_class_weight" in out:
            out["class_weight"] = out.pop(f"{pre}_class_weight")
    return out


# ------------------------------------------------------------------------ pipeline code
# One description of each pipeline drives both the live object and the exported source, so
# the exported script trains exactly the model the search found.

def _steps(params: dict[str, Any], task: str, seed: int, threads: int) -> dict[str, Any]:
    """``{"num": [...], "cat": [...], "select": ..., "model": ...}`` as (class path, kwargs) pairs."""
    family = params["model"]
    classify = task != "regression"
    cw = None if params.get("class_weight", "none") == "none" else params.get("class_weight")
    num: list[tuple[str, dict[str, Any]]] = [
        ("sklearn.impute.SimpleImputer", {"strategy": params.get("num_impute", "median")})
    ]
    scaler = params.get("scaler")
    if scaler == "standard":
        num.append(("sklearn.preprocessing.StandardScaler", {}))
    elif scaler == "robust":
        num.append(("sklearn.preprocessing.RobustScaler", {}))
    elif scaler == "quantile":
        num.append(("sklearn.preprocessing.QuantileTransformer",
                    {"n_quantiles": 100, "output_distribution": "normal", "random_state": seed}))
    encoding = params.get("cat_encoding", "onehot")
    cat: list[tuple[str, dict[str, Any]]] = [
        ("sklearn.impute.SimpleImputer", {"strategy": "constant", "fill_value": "missing"})
    ]
    if encoding == "onehot":
        cat.append(("sklearn.preprocessing.OneHotEncoder",
                    {"handle_unknown": "infrequent_if_exist", "max_categories": 30, "sparse_output": False}))
    else:
        cat.append(("sklearn.preprocessing.OrdinalEncoder",
                    {"handle_unknown": "use_encoded_value", "unknown_value": -1}))
    select = None
    if params.get("feature_selection") == "percentile":
        score = "f_classif" if classify else "f_regression"
        select = ("sklearn.feature_selection.SelectPercentile",
                  {"score_func": ("sklearn.feature_selection", score), "percentile": params["fs_percentile"]})
    model: tuple[str, dict[str, Any]]
    if family == "linear":
        model = (("sklearn.linear_model.LogisticRegression",
                  {"C": params["lr_C"], "class_weight": cw, "max_iter": 2000})
                 if classify else ("sklearn.linear_model.Ridge", {"alpha": params["ridge_alpha"]}))
    elif family in ("random_forest", "extra_trees"):
        pre = "rf" if family == "random_forest" else "et"
        name = "RandomForest" if pre == "rf" else "ExtraTrees"
        kind = "Classifier" if classify else "Regressor"
        kwargs = {"n_estimators": params[f"{pre}_n_estimators"], "max_features": params[f"{pre}_max_features"],
                  "min_samples_leaf": params[f"{pre}_min_samples_leaf"], "n_jobs": threads, "random_state": seed}
        if classify:
            kwargs["class_weight"] = cw
        model = (f"sklearn.ensemble.{name}{kind}", kwargs)
    elif family == "hist_gradient_boosting":
        kind = "Classifier" if classify else "Regressor"
        model = (f"sklearn.ensemble.HistGradientBoosting{kind}", {
            "learning_rate": params["hgb_learning_rate"], "max_leaf_nodes": params["hgb_max_leaf_nodes"],
            "min_samples_leaf": params["hgb_min_samples_leaf"],
            "l2_regularization": params["hgb_l2_regularization"], "max_iter": params["hgb_max_iter"],
            "max_features": params["hgb_max_features"], "random_state": seed})
    elif family == "knn":
        kind = "Classifier" if classify else "Regressor"
        model = (f"sklearn.neighbors.KNeighbors{kind}",
                 {"n_neighbors": params["knn_n_neighbors"], "weights": params["knn_weights"]})
    elif family == "svm":
        model = (("sklearn.svm.SVC", {"C": params["svm_C"], "gamma": params["svm_gamma"],
                                      "class_weight": cw, "random_state": seed})
                 if classify else ("sklearn.svm.SVR", {"C": params["svm_C"], "gamma": params["svm_gamma"]}))
    elif family == "lightgbm":
        kind = "Classifier" if classify else "Regressor"
        model = (f"lightgbm.LGBM{kind}", {
            "n_estimators": params["lgbm_n_estimators"], "learning_rate": params["lgbm_learning_rate"],
            "num_leaves": params["lgbm_num_leaves"], "min_child_samples": params["lgbm_min_child_samples"],
            "subsample": params["lgbm_subsample"], "subsample_freq": 1,
            "colsample_bytree": params["lgbm_colsample_bytree"], "reg_lambda": params["lgbm_reg_lambda"],
            "n_jobs": threads, "random_state": seed, "verbose": -1})
    elif family == "xgboost":
        kind = "Classifier" if classify else "Regressor"
        model = (f"xgboost.XGB{kind}", {
            "n_estimators": params["xgb_n_estimators"], "learning_rate": params["xgb_learning_rate"],
            "max_depth": params["xgb_max_depth"], "min_child_weight": params["xgb_min_child_weight"],
            "subsample": params["xgb_subsample"], "colsample_bytree": params["xgb_colsample_bytree"],
            "reg_lambda": params["xgb_reg_lambda"], "tree_method": "hist", "n_jobs": threads,
            "random_state": seed})
    else:
        raise ConfigError(f"unknown model family {family!r}")
    return {"num": num, "cat": cat, "select": select, "model": model}


def _resolve(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: (_resolve(".".join(v)) if isinstance(v, tuple) else v) for k, v in kwargs.items()}


def build_pipeline(params: dict[str, Any], numeric: list[str], categorical: list[str], task: str,
                   *, seed: int = 0, threads: int = 1) -> Any:
    """The scikit-learn ``Pipeline`` described by ``params``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    steps = _steps(params, task, seed, threads)
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline([(p.rsplit(".", 1)[1].lower(), _resolve(p)(**_kwargs(k)))
                                              for p, k in steps["num"]]), list(numeric)))
    if categorical:
        transformers.append(("cat", Pipeline([(p.rsplit(".", 1)[1].lower(), _resolve(p)(**_kwargs(k)))
                                              for p, k in steps["cat"]]), list(categorical)))
    pipe = [("preprocess", ColumnTransformer(transformers, remainder="drop"))]
    if steps["select"] is not None:
        path, kwargs = steps["select"]
        pipe.append(("select", _resolve(path)(**_kwargs(kwargs))))
    path, kwargs = steps["model"]
    pipe.append(("model", _resolve(path)(**_kwargs(kwargs))))
    return Pipeline(pipe)


def pipeline_source(params: dict[str, Any], numeric: Any, categorical: Any, task: str,
                    *, seed: int = 0, threads: int = 1, indent: str = "    ") -> tuple[list[str], str]:
    """Import lines and the Python expression that builds the same pipeline as :func:`build_pipeline`."""
    steps = _steps(params, task, seed, threads)
    imports = {"from sklearn.compose import ColumnTransformer", "from sklearn.pipeline import Pipeline"}

    def call(path: str, kwargs: dict[str, Any]) -> str:
        module, _, name = path.rpartition(".")
        imports.add(f"from {module} import {name}")
        args = []
        for k, v in kwargs.items():
            if isinstance(v, tuple):
                imports.add(f"from {v[0]} import {v[1]}")
                args.append(f"{k}={v[1]}")
            else:
                args.append(f"{k}={v!r}")
        return f"{name}({', '.join(args)})"

    def sub(parts: list[tuple[str, dict[str, Any]]]) -> str:
        inner = ", ".join(f"({p.rsplit('.', 1)[1].lower()!r}, {call(p, k)})" for p, k in parts)
        return f"Pipeline([{inner}])"

    transformers = []
    if len(numeric):
        transformers.append(f"{indent * 2}('num', {sub(steps['num'])}, {list(numeric)!r}),")
    if len(categorical):
        transformers.append(f"{indent * 2}('cat', {sub(steps['cat'])}, {list(categorical)!r}),")
    lines = ["Pipeline([", f"{indent}('preprocess', ColumnTransformer(["] + transformers + [
        f"{indent}], remainder='drop')),"]
    if steps["select"] is not None:
        lines.append(f"{indent}('select', {call(*steps['select'])}),")
    lines.append(f"{indent}('model', {call(*steps['model'])}),")
    lines.append("])")
    return sorted(imports), "\n".join(lines)

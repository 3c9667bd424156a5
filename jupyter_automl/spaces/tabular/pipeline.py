"""One description of each tabular pipeline, driving both the live object and the exported source.

:func:`pipeline_steps` turns a candidate's parameters into ``(class path, kwargs)`` pairs;
:func:`build_pipeline` instantiates them and :func:`pipeline_source` writes the same thing as
Python text, so the exported script trains exactly the model the search found.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from jupyter_automl._errors import ConfigError

__all__ = [
    "build_pipeline",
    "canonical_params",
    "pipeline_source",
    "pipeline_steps",
    "EARLY_STOPPING",
    "MAX_BOOSTING_ROUNDS",
]

#: Gradient boosting without a searched iteration count stops on a validation split instead.
EARLY_STOPPING = {
    "max_iter": 300,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "n_iter_no_change": 10,
}
#: LightGBM and XGBoost without a searched number of rounds get this many at most and stop
#: early on a validation split (:mod:`jupyter_automl.spaces.tabular.boosting`).
MAX_BOOSTING_ROUNDS = 2000
#: HistGradientBoosting's native categorical support takes at most this many categories.
NATIVE_MAX_CATEGORIES = 254


def canonical_params(params: dict[str, Any]) -> dict[str, Any]:
    """Trial parameter names → the names the pipeline builder reads."""
    out = dict(params)
    for pre in ("hgb", "lgbm", "xgb", "scaled"):
        if f"{pre}_cat_encoding" in out:
            out["cat_encoding"] = out.pop(f"{pre}_cat_encoding")
    for pre in ("lr", "rf", "et", "hgb", "lgbm", "cb"):
        if f"{pre}_class_weight" in out:
            out["class_weight"] = out.pop(f"{pre}_class_weight")
    return out


Step = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Estimator:
    """An estimator given to another as a keyword argument (``CalibratedClassifierCV(SVC(...))``)."""

    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)


#: Folds of the sigmoid calibration that gives an SVC its probabilities (scikit-learn's
#: ``SVC(probability=True)`` is deprecated in favour of ``CalibratedClassifierCV``).
SVC_CALIBRATION_FOLDS = 3


def _forest_classifier(path: str, kwargs: dict[str, Any]) -> Step:
    """A forest classifier; with class weights, one that is handed the labels as codes 0..K-1.

    scikit-learn's forests (1.9) key their "balanced" weights on the labels, then look each
    label up as ``int(label)``: labels such as ``'0'``..``'9'`` fail ("The classes, [0, 1, ...],
    are not in class_weight"). A soft ``VotingClassifier`` of this one forest encodes the labels
    before the forest sees them and predicts exactly what the forest does (the class of
    highest probability), in the search and in the exported script alike.
    """
    if kwargs.get("class_weight") is None:
        return path, kwargs
    return "sklearn.ensemble.VotingClassifier", {
        "estimators": [("forest", Estimator(path, kwargs))],
        "voting": "soft",
    }


def _numeric_steps(params: dict[str, Any], seed: int) -> list[Step]:
    num: list[Step] = [
        ("sklearn.impute.SimpleImputer", {"strategy": params.get("num_impute", "median")})
    ]
    scaler = params.get("scaler")
    if scaler == "standard":
        num.append(("sklearn.preprocessing.StandardScaler", {}))
    elif scaler == "robust":
        num.append(("sklearn.preprocessing.RobustScaler", {}))
    elif scaler == "quantile":
        num.append(
            (
                "sklearn.preprocessing.QuantileTransformer",
                {"n_quantiles": 100, "output_distribution": "normal", "random_state": seed},
            )
        )
    return num


def _categorical_steps(params: dict[str, Any]) -> list[Step]:
    encoding = params.get("cat_encoding", "onehot")
    # HistGradientBoosting and LightGBM read a negative code as missing; XGBoost refuses one
    unknown = float("nan") if params.get("model") == "xgboost" else -1
    cat: list[Step] = [
        ("sklearn.impute.SimpleImputer", {"strategy": "constant", "fill_value": "missing"})
    ]
    if encoding == "onehot":
        cat.append(
            (
                "sklearn.preprocessing.OneHotEncoder",
                {
                    "handle_unknown": "infrequent_if_exist",
                    "max_categories": 30,
                    "sparse_output": False,
                },
            )
        )
    elif (
        encoding == "native"
    ):  # codes 0..253 that the model treats as categories; unknown → missing
        cat.append(
            (
                "sklearn.preprocessing.OrdinalEncoder",
                {
                    "handle_unknown": "use_encoded_value",
                    "unknown_value": unknown,
                    "max_categories": NATIVE_MAX_CATEGORIES,
                },
            )
        )
    elif encoding == "target":  # many levels: each level's mean target, fitted out of fold
        cat.append(("sklearn.preprocessing.TargetEncoder", {}))
    else:
        cat.append(
            (
                "sklearn.preprocessing.OrdinalEncoder",
                {"handle_unknown": "use_encoded_value", "unknown_value": -1},
            )
        )
    return cat


#: Free text: word 1-2-grams and character 2-4-grams (within words), each capped at this many terms.
TEXT_MAX_TERMS = 20000
#: Families that take the sparse TF-IDF matrix itself; the others get its truncated SVD.
SPARSE_TEXT_FAMILIES = ("linear", "svm")
#: SVD components of one text column for the families that need dense features.
TEXT_SVD_COMPONENTS = 64
#: Numbers made from one date column (:data:`jupyter_automl.spaces.tabular.features.DATE_FEATURES`).
DATE_FEATURE_COUNT = 15


def text_svd_components(params: dict[str, Any]) -> int | None:
    """SVD components of each text column for this candidate, or ``None`` for sparse TF-IDF."""
    if params.get("model") in SPARSE_TEXT_FAMILIES:
        return None
    return int(params.get("text_svd", TEXT_SVD_COMPONENTS))


def _text_steps(params: dict[str, Any], seed: int) -> list[Step]:
    """One free-text column: missing → empty text, TF-IDF of words and characters, SVD for trees."""
    tfidf = {"sublinear_tf": True, "max_features": TEXT_MAX_TERMS, "dtype": ("numpy", "float32")}
    steps: list[Step] = [
        ("sklearn.impute.SimpleImputer", {"strategy": "constant", "fill_value": ""}),
        ("sklearn.preprocessing.FunctionTransformer", {"func": ("numpy", "ravel")}),
        ("sklearn.pipeline.FeatureUnion", {"transformer_list": [
            ("words", Estimator("sklearn.feature_extraction.text.TfidfVectorizer",
                                {"ngram_range": (1, 2), **tfidf})),
            ("chars", Estimator("sklearn.feature_extraction.text.TfidfVectorizer",
                                {"analyzer": "char_wb", "ngram_range": (2, 4), **tfidf})),
        ]}),
    ]
    components = text_svd_components(params)
    if components is not None:
        steps.append(("sklearn.decomposition.TruncatedSVD", {"n_components": components, "random_state": seed}))
    return steps


def _date_steps(params: dict[str, Any], seed: int, formats: list[str | None]) -> list[Step]:
    """Date columns → their calendar features (then imputed and scaled as numbers are)."""
    return [("jupyter_automl.spaces.tabular.features.DateFeatures", {"formats": list(formats)}),
            *_numeric_steps({**params, "num_impute": "median"}, seed)]


def _boosting_model(
    family: str,
    params: dict[str, Any],
    kind: str,
    seed: int,
    threads: int,
    categorical_at: list[int],
    class_weight: str | None = None,
    n_after: int = 0,
) -> Step:
    if family == "hist_gradient_boosting":
        kwargs: dict[str, Any] = {
            "learning_rate": params["hgb_learning_rate"],
            "max_leaf_nodes": params["hgb_max_leaf_nodes"],
            "min_samples_leaf": params["hgb_min_samples_leaf"],
            "l2_regularization": params["hgb_l2_regularization"],
            "max_features": params["hgb_max_features"],
        }
        if "hgb_max_iter" in params:
            kwargs.update(max_iter=params["hgb_max_iter"], early_stopping=False)
        else:
            kwargs.update(EARLY_STOPPING)
        if categorical_at and params.get("cat_encoding") == "native":
            kwargs["categorical_features"] = categorical_at
        if class_weight is not None:
            kwargs["class_weight"] = class_weight
        kwargs["random_state"] = seed
        return f"sklearn.ensemble.HistGradientBoosting{kind}", kwargs
    native = bool(categorical_at) and params.get("cat_encoding") == "native"
    if family == "lightgbm":
        lgbm: dict[str, Any] = {
            "n_estimators": params.get("lgbm_n_estimators", MAX_BOOSTING_ROUNDS),
            "learning_rate": params["lgbm_learning_rate"],
            "num_leaves": params["lgbm_num_leaves"],
            "min_child_samples": params["lgbm_min_child_samples"],
            "subsample": params["lgbm_subsample"],
            "subsample_freq": 1,
            "colsample_bytree": params["lgbm_colsample_bytree"],
            "reg_lambda": params["lgbm_reg_lambda"],
            "n_jobs": threads,
            "random_state": seed,
            "verbose": -1,
        }
        if native:  # LightGBM's alias of categorical_feature (that name warns it is ignored)
            lgbm["cat_feature"] = categorical_at
        if class_weight is not None:
            lgbm["class_weight"] = class_weight
        return f"lightgbm.LGBM{kind}", lgbm
    xgb: dict[str, Any] = {
        "n_estimators": params.get("xgb_n_estimators", MAX_BOOSTING_ROUNDS),
        "learning_rate": params["xgb_learning_rate"],
        "max_depth": params["xgb_max_depth"],
        "min_child_weight": params["xgb_min_child_weight"],
        "subsample": params["xgb_subsample"],
        "colsample_bytree": params["xgb_colsample_bytree"],
        "reg_lambda": params["xgb_reg_lambda"],
        "tree_method": "hist",
        "n_jobs": threads,
        "random_state": seed,
    }
    if native:
        xgb.update(
            enable_categorical=True,
            feature_types=["q"] * categorical_at[0] + ["c"] * len(categorical_at) + ["q"] * n_after,
        )
    return f"xgboost.XGB{kind}", xgb


def _catboost(params: dict[str, Any], kind: str, seed: int, threads: int, class_weight: str | None) -> Step:
    """CatBoost on the encoded columns (category codes or target means, as the forests get them).

    A CatBoost classifier predicts a column of labels for more than two classes, not a vector:
    as the class-weighted forests, it is the one member of a soft ``VotingClassifier``, which
    predicts the class of highest probability, in the search and in the exported script alike.
    """
    kwargs: dict[str, Any] = {
        "iterations": params["cb_iterations"],
        "learning_rate": params["cb_learning_rate"],
        "depth": params["cb_depth"],
        "l2_leaf_reg": params["cb_l2_leaf_reg"],
        "thread_count": threads,
        "random_seed": seed,
        "verbose": 0,
        "allow_writing_files": False,  # no catboost_info/ folder beside the notebook
    }
    if kind == "Regressor":
        return "catboost.CatBoostRegressor", kwargs
    if class_weight is not None:
        kwargs["auto_class_weights"] = "Balanced"
    return "sklearn.ensemble.VotingClassifier", {
        "estimators": [("catboost", Estimator("catboost.CatBoostClassifier", kwargs))],
        "voting": "soft",
    }


def _model(
    params: dict[str, Any], classify: bool, seed: int, threads: int, categorical_at: list[int],
    n_after: int = 0,
) -> Step:
    family = params["model"]
    kind = "Classifier" if classify else "Regressor"
    cw = None if params.get("class_weight", "none") == "none" else params.get("class_weight")
    if family == "linear":
        if classify:
            return "sklearn.linear_model.LogisticRegression", {
                "C": params["lr_C"],
                "class_weight": cw,
                "max_iter": 2000,
            }
        return "sklearn.linear_model.Ridge", {"alpha": params["ridge_alpha"]}
    if family in ("random_forest", "extra_trees"):
        pre = "rf" if family == "random_forest" else "et"
        name = "RandomForest" if pre == "rf" else "ExtraTrees"
        kwargs = {
            "n_estimators": params[f"{pre}_n_estimators"],
            "max_features": params[f"{pre}_max_features"],
            "min_samples_leaf": params[f"{pre}_min_samples_leaf"],
            "n_jobs": threads,
            "random_state": seed,
        }
        if classify:
            kwargs["class_weight"] = cw
            return _forest_classifier(f"sklearn.ensemble.{name}{kind}", kwargs)
        return f"sklearn.ensemble.{name}{kind}", kwargs
    if family in ("hist_gradient_boosting", "lightgbm", "xgboost"):
        return _boosting_model(
            family, params, kind, seed, threads, categorical_at, cw if classify else None, n_after
        )
    if family == "catboost":
        return _catboost(params, kind, seed, threads, cw if classify else None)
    if family == "knn":
        return f"sklearn.neighbors.KNeighbors{kind}", {
            "n_neighbors": params["knn_n_neighbors"],
            "weights": params["knn_weights"],
        }
    if family == "svm":
        if classify:  # a classifier gives probabilities: an SVC has none of its own
            svc = {"C": params["svm_C"], "gamma": params["svm_gamma"], "class_weight": cw}
            return "sklearn.calibration.CalibratedClassifierCV", {
                "estimator": Estimator("sklearn.svm.SVC", svc),
                "method": "sigmoid",
                "cv": SVC_CALIBRATION_FOLDS,
            }
        return "sklearn.svm.SVR", {"C": params["svm_C"], "gamma": params["svm_gamma"]}
    raise ConfigError(f"unknown model family {family!r}")


def pipeline_steps(
    params: dict[str, Any],
    task: str,
    seed: int,
    threads: int,
    *,
    n_numeric: int = 0,
    n_categorical: int = 0,
    date_formats: list[str | None] | None = None,
    n_text: int = 0,
) -> dict[str, Any]:
    """``{"num": [...], "cat": [...], "date": [...], "text": [...], "select": ..., "model": ...}``
    as (class path, kwargs) pairs.

    The preprocessor puts the numeric columns first, so the categorical ones are the columns
    ``n_numeric .. n_numeric + n_categorical - 1`` that a native-categorical model is told about;
    the date features and each text column's features come after them.
    """
    date_formats = list(date_formats or [])
    components = text_svd_components(params) or 0
    n_after = DATE_FEATURE_COUNT * len(date_formats) + components * n_text
    classify = task != "regression"
    select = None
    if params.get("feature_selection") == "percentile":
        score = "f_classif" if classify else "f_regression"
        select = (
            "sklearn.feature_selection.SelectPercentile",
            {
                "score_func": ("sklearn.feature_selection", score),
                "percentile": params["fs_percentile"],
            },
        )
    categorical_at = list(range(n_numeric, n_numeric + n_categorical)) if select is None else []
    return {
        "num": _numeric_steps(params, seed),
        "cat": _categorical_steps(params),
        "date": _date_steps(params, seed, date_formats) if date_formats else [],
        "text": _text_steps(params, seed) if n_text else [],
        "select": select,
        "model": _model(params, classify, seed, threads, categorical_at, n_after),
    }


def _resolve(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _is_reference(value: Any) -> bool:
    """``("module", "name")``: a function or class passed by reference (a score function)."""
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)


def _value(value: Any) -> Any:
    if _is_reference(value):
        return _resolve(".".join(value))
    if isinstance(value, Estimator):
        return _resolve(value.path)(**_kwargs(value.kwargs))
    if isinstance(value, (list, tuple)):
        return type(value)(_value(v) for v in value)
    return value


def _kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in kwargs.items()}


def _make(parts: list[Step]) -> Any:
    from sklearn.pipeline import Pipeline

    return Pipeline([(p.rsplit(".", 1)[1].lower(), _resolve(p)(**_kwargs(k))) for p, k in parts])


def build_pipeline(
    params: dict[str, Any],
    numeric: list[Any],
    categorical: list[Any],
    task: str,
    *,
    seed: int = 0,
    threads: int = 1,
    dates: list[Any] | None = None,
    date_formats: list[str | None] | None = None,
    text: list[Any] | None = None,
) -> Any:
    """The scikit-learn ``Pipeline`` described by ``params``; columns by name or by position."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    dates, text = list(dates or []), list(text or [])
    steps = pipeline_steps(
        params, task, seed, threads, n_numeric=len(numeric), n_categorical=len(categorical),
        date_formats=list(date_formats or [None] * len(dates)), n_text=len(text),
    )
    transformers = []
    if numeric:
        transformers.append(("num", _make(steps["num"]), list(numeric)))
    if categorical:
        transformers.append(("cat", _make(steps["cat"]), list(categorical)))
    if dates:
        transformers.append(("date", _make(steps["date"]), dates))
    for i, column in enumerate(text):
        transformers.append((f"text{i}", _make(steps["text"]), [column]))
    pipe = [("preprocess", ColumnTransformer(transformers, remainder="drop"))]
    if steps["select"] is not None:
        path, kwargs = steps["select"]
        pipe.append(("select", _resolve(path)(**_kwargs(kwargs))))
    path, kwargs = steps["model"]
    pipe.append(("model", _resolve(path)(**_kwargs(kwargs))))
    return Pipeline(pipe)


def pipeline_source(
    params: dict[str, Any],
    numeric: Any,
    categorical: Any,
    task: str,
    *,
    seed: int = 0,
    threads: int = 1,
    indent: str = "    ",
    dates: list[Any] | None = None,
    date_formats: list[str | None] | None = None,
    text: list[Any] | None = None,
) -> tuple[list[str], str]:
    """Import lines and the Python expression that builds the same pipeline as :func:`build_pipeline`.

    ``DateFeatures`` is named without an import: the script defines it (see ``script.py``).
    """
    dates, text = list(dates or []), list(text or [])
    steps = pipeline_steps(
        params, task, seed, threads, n_numeric=len(numeric), n_categorical=len(categorical),
        date_formats=list(date_formats or [None] * len(dates)), n_text=len(text),
    )
    imports = {
        "from sklearn.compose import ColumnTransformer",
        "from sklearn.pipeline import Pipeline",
    }

    def value(v: Any) -> str:
        if _is_reference(v):
            imports.add(f"from {v[0]} import {v[1]}")
            return str(v[1])
        if isinstance(v, Estimator):
            return call(v.path, v.kwargs)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, tuple):
            return "(" + ", ".join(value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, float) and v != v:
            return "float('nan')"
        return repr(v)

    def call(path: str, kwargs: dict[str, Any]) -> str:
        module, _, name = path.rpartition(".")
        if not module.startswith("jupyter_automl."):
            imports.add(f"from {module} import {name}")
        return f"{name}({', '.join(f'{k}={value(v)}' for k, v in kwargs.items())})"

    def sub(parts: list[Step]) -> str:
        inner = ", ".join(f"({p.rsplit('.', 1)[1].lower()!r}, {call(p, k)})" for p, k in parts)
        return f"Pipeline([{inner}])"

    transformers = []
    if len(numeric):
        transformers.append(f"{indent * 2}('num', {sub(steps['num'])}, {list(numeric)!r}),")
    if len(categorical):
        transformers.append(f"{indent * 2}('cat', {sub(steps['cat'])}, {list(categorical)!r}),")
    if dates:
        transformers.append(f"{indent * 2}('date', {sub(steps['date'])}, {dates!r}),")
    for i, column in enumerate(text):
        transformers.append(f"{indent * 2}('text{i}', {sub(steps['text'])}, {[column]!r}),")
    lines = (
        ["Pipeline([", f"{indent}('preprocess', ColumnTransformer(["]
        + transformers
        + [f"{indent}], remainder='drop')),"]
    )
    if steps["select"] is not None:
        lines.append(f"{indent}('select', {call(*steps['select'])}),")
    lines.append(f"{indent}('model', {call(*steps['model'])}),")
    lines.append("])")
    return sorted(imports), "\n".join(lines)

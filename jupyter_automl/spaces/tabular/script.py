"""The standalone training script of a tabular search's final model (no jupyter-automl import)."""

from __future__ import annotations

from typing import Any

__all__ = ["tabular_script"]

_SCORING = {
    "accuracy": ("accuracy", 1),
    "balanced_accuracy": ("balanced_accuracy", 1),
    "f1_macro": ("f1_macro", 1),
    "roc_auc": ("roc_auc", 1),
    "log_loss": ("neg_log_loss", -1),
    "r2": ("r2", 1),
    "rmse": ("neg_root_mean_squared_error", -1),
    "mae": ("neg_mean_absolute_error", -1),
}


def tabular_script(space: Any, final: dict[str, Any], *, study: str = "", holdout: float | None = None,
                   script: str = "train_best.py") -> str:
    """The text of a script that loads the data, re-scores and fits the final model, and pickles it.

    ``final`` is the description the space wrote when it fitted the final model: its members
    (trial, canonical parameters, weight), the decision threshold (or ``None``) and the score.
    """
    from jupyter_automl.spaces.tabular.pipeline import pipeline_source

    members = [(int(m["trial"]), dict(m["params"]), int(m["weight"])) for m in final["members"]]
    params = members[0][1] if len(members) == 1 else None
    trial = final.get("trial")
    score = final.get("score")
    threshold = final.get("threshold")
    data, config = space.data, space.config
    source = data.source
    bundled = source.startswith("sklearn:")
    numeric, categorical = space.numeric, space.categorical
    dates, text = dict(getattr(space, "dates", {})), list(getattr(space, "text", []))
    columns = {"dates": list(dates), "date_formats": list(dates.values()), "text": text}
    if bundled:  # arrays from the loader: select columns by position, no pandas needed
        cols = list(data.X.columns)
        numeric_sel = [cols.index(c) for c in numeric]
        categorical_sel = [cols.index(c) for c in categorical]
    else:
        numeric_sel, categorical_sel = numeric, categorical
    imports: set[str] = set()
    if params is not None:
        imp, expr = pipeline_source(
            params, numeric_sel, categorical_sel, data.task, seed=config.seed, threads=1, **columns
        )
        imports.update(imp)
        body = "    return " + expr.replace("\n", "\n    ")
        models = [str(params.get("model"))]
    else:
        parts = []
        models = []
        for number, p, _ in members:
            imp, expr = pipeline_source(
                p,
                numeric_sel,
                categorical_sel,
                data.task,
                seed=config.seed,
                threads=1,
                indent="    ",
                **columns,
            )
            imports.update(imp)
            parts.append(f"        ('trial_{number}', " + expr.replace("\n", "\n        ") + "),")
            models.append(str(p.get("model")))
        kind = "VotingRegressor" if data.task == "regression" else "VotingClassifier"
        imports.add(f"from sklearn.ensemble import {kind}")
        weights = [w for _, _, w in members]
        voting = "" if data.task == "regression" else "voting='soft', "
        body = (
            f"    return {kind}([\n" + "\n".join(parts) + f"\n    ], {voting}weights={weights!r})"
        )
    if threshold is not None:
        imports.add("from sklearn.model_selection import FixedThresholdClassifier")
        body = (
            "    # the decision threshold tuned on out-of-fold predictions for "
            f"{space.metric.name}\n    return FixedThresholdClassifier(\n"
            + body.replace("    return ", "        ", 1).replace("\n", "\n    ")
            + f",\n        threshold={threshold!r}, response_method='predict_proba')"
        )
    needs = ["scikit-learn"]
    if any(m == "lightgbm" for m in models):
        needs.append("lightgbm")
    if any(m == "xgboost" for m in models):
        needs.append("xgboost")
    if any(m == "catboost" for m in models):
        needs.append("catboost")
    scoring, sign = _SCORING[space.metric.name]
    if scoring == "roc_auc" and data.task == "multiclass":
        scoring = "roc_auc_ovr"
    classify = data.task != "regression"
    smallest = 0
    if classify:
        import numpy as np

        smallest = int(np.min(np.unique(data.y, return_counts=True)[1]))
    planned = final.get("folds") or config.cv
    folds = min(planned, max(2, smallest)) if classify else planned
    splitter = "StratifiedKFold" if classify else "KFold"
    if bundled:
        loader = source.split(":", 1)[1]
        load = (
            f"def load_data(path=None):\n"
            f'    """The data the search used: scikit-learn\'s bundled {loader!r} dataset."""\n'
            f"    from sklearn.datasets import load_{loader}\n\n"
            f"    return load_{loader}(return_X_y=True)\n"
        )
    else:
        needs.append("pandas")
        target = data.target or "y"
        hint = (
            f"{source!r}"
            if source not in ("DataFrame", "arrays")
            else "a CSV of your data: df.to_csv('data.csv', index=False)"
        )
        raw = ""
        if dates:
            raw += f"DATES = {list(dates)!r}  # raw dates: DateFeatures (below) makes their features\n"
        if text:
            raw += f"TEXT = {text!r}  # free text: TF-IDF of words and characters\n"
        load = (
            f"NUMERIC = {list(numeric)!r}\nCATEGORICAL = {list(categorical)!r}\n{raw}TARGET = {target!r}\n"
            f"DATA = {source!r}\n\n\n"
            "def load_data(path=None):\n"
            f'    """Read the data ({hint}); pass another path as the first argument."""\n'
            "    import pandas as pd\n\n"
            "    path = path or DATA\n"
            "    if not str(path).endswith(('.csv', '.tsv', '.parquet', '.pq')):\n"
            "        raise SystemExit(f'usage: python {sys.argv[0]} DATA.csv  (columns: features and {TARGET!r})')\n"
            "    frame = pd.read_parquet(path) if str(path).endswith(('.parquet', '.pq')) else pd.read_csv(path, sep='\\t' if str(path).endswith('.tsv') else ',')\n"
            "    y = frame[TARGET].to_numpy()\n"
            "    X = pd.DataFrame({c: pd.to_numeric(frame[c], errors='coerce').astype(float) for c in NUMERIC})\n"
            "    for c in CATEGORICAL:\n"
            "        X[c] = frame[c].map(lambda v: v if pd.isna(v) else str(v)).astype(object)\n"
            + ("    for c in DATES:  # datetime columns as they are, text dates as text\n"
               "        X[c] = frame[c] if str(frame[c].dtype).startswith('datetime') else "
               "frame[c].map(lambda v: v if pd.isna(v) else str(v)).astype(object)\n" if dates else "")
            + ("    for c in TEXT:\n"
               "        X[c] = frame[c].map(lambda v: v if pd.isna(v) else str(v)).astype(object)\n" if text else "")
            + "    return X, y\n"
        )
    header = (
        f'"""Train the best model found by jupyter-automl{f" (study {study!r}, trial {trial})" if study else ""}.\n\n'
        f"Model: {' + '.join(models)}. {final.get('evaluation', 'Cross-validated')} {space.metric.name} in the search: "
        f"{'' if score is None else f'{score:.6f}'} (result.best_score; seed {config.seed})"
        f"{'' if threshold is None else f'; decision threshold {threshold:.4f}'}.\n"
        + ("Run, this script re-scores the same pipeline on the same folds and prints that score.\n"
           if params is not None else
           "Run, this script re-scores the ensemble fold by fold and prints that score; the search's\n"
           "score above is of its members' averaged out-of-fold predictions, so the two differ a little.\n")
        + f"Needs only {', '.join(needs)}; jupyter-automl is not imported.\n\n"
        f"    python {script} [DATA]   # re-scores, fits on all data, pickles to best_model.pkl\n"
        '"""\n'
    )
    imports.add(f"from sklearn.model_selection import {splitter}, cross_val_score")
    if holdout is not None:
        imports.update({"import numpy as np", "from sklearn.metrics import get_scorer",
                        "from sklearn.model_selection import train_test_split"})
    date_class: list[str] = []
    if dates:
        import inspect

        from jupyter_automl.spaces.tabular import features

        imports.add("from sklearn.base import BaseEstimator, TransformerMixin")
        date_class = ["", "", inspect.getsource(features.DateFeatures).rstrip(), ""]
    lines = [header, "import pickle", "import sys", ""]
    lines += sorted(imports)
    lines += [
        *date_class,
        "",
        "",
        load,
        "",
        "def make_model():",
        '    """The pipeline, with the hyperparameters the search found."""',
        body,
        "",
        "",
        "def main():",
        "    X, y = load_data(sys.argv[1] if len(sys.argv) > 1 else None)",
        "    model = make_model()",
        *_holdout_lines(holdout, classify, config.seed),
        f"    folds = {splitter}({folds}, shuffle=True, random_state={config.seed})",
        f"    scores = {sign} * cross_val_score(model, X_search, y_search, cv=folds, scoring={scoring!r})",
        f"    print(f'cross-validated {space.metric.name}: {{scores.mean():.6f}} +- {{scores.std():.6f}}')",
        *_held_out_score_lines(holdout, scoring, sign, space.metric.name),
        "    model.fit(X, y)",
        *(["    # the pickle names DateFeatures as this file's: keep it importable (beside your code) to unpickle",
           "    import os",
           "    module = os.path.splitext(os.path.basename(__file__))[0]",
           "    sys.modules.setdefault(module, sys.modules[__name__])",
           "    DateFeatures.__module__ = module"] if dates else []),
        "    with open('best_model.pkl', 'wb') as f:",
        "        pickle.dump(model, f)",
        "    print('fitted model written to best_model.pkl')",
        "",
        "",
        "if __name__ == '__main__':",
        "    main()",
        "",
    ]
    return "\n".join(lines)


def _holdout_lines(holdout: float | None, classify: bool, seed: int) -> list[str]:
    """The script's copy of the search's held-out split (the same rows, in the same order)."""
    if holdout is None:
        return ["    X_search, y_search = X, y"]
    return ["    # the rows the search kept out (holdout), split as it did; the search scored the rest",
            f"    search, held = train_test_split(np.arange(len(y)), test_size={holdout!r}, random_state={seed}, "
            f"stratify={'y' if classify else 'None'})",
            "    search, held = np.sort(search), np.sort(held)",
            "    rows = lambda a, i: a.iloc[i] if hasattr(a, 'iloc') else a[i]  # noqa: E731",
            "    X_search, y_search, X_held, y_held = rows(X, search), y[search], rows(X, held), y[held]"]


def _held_out_score_lines(holdout: float | None, scoring: str, sign: int, metric: str) -> list[str]:
    if holdout is None:
        return []
    return ["    model.fit(X_search, y_search)",
            f"    held_out = {sign} * get_scorer({scoring!r})(model, X_held, y_held)",
            f"    print(f'held-out {metric}: {{held_out:.6f}} on {{len(y_held)}} rows')"]

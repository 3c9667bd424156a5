"""Tabular benchmark: jupyter_automl against AutoGluon, FLAML and a hand-written Optuna TPE search.

Every tool gets the same training rows, the same time budget, the same number of CPU threads
and is scored by this script, with the same metric, on the same held-out rows
(see ``benchmarks/datasets.py`` for the datasets and the split). Each run of one tool on one
dataset is a separate Python process, so memory, threads and imports never leak from one run to
the next, and a tool that crashes or hangs costs only its own cell of the table.

Run it from the repository root::

    python -m benchmarks.tabular                       # all datasets, all tools, 30 s each
    python -m benchmarks.tabular --budget 5 --datasets titanic,penguins
    python -m benchmarks.tabular --tools jupyter_automl,flaml --repeat 3
    AUTOGLUON_PYTHON=ag/bin/python python -m benchmarks.tabular --tools jupyter_automl,autogluon

The raw results go to ``benchmarks/results/tabular-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "METRICS",
    "METRIC_SETS",
    "TOOLS",
    "main",
    "normalised_scores",
    "ranks_of",
    "run_benchmark",
]

#: The metric each task is scored with, on the held-out rows, by this script (``--scoring``):
#: ``balanced`` (the default) scores labels, so a tool's decision threshold counts; ``auc``
#: scores the ranking of binary probabilities and plain accuracy for several classes.
METRIC_SETS: dict[str, dict[str, str]] = {
    "balanced": {
        "binary": "balanced_accuracy",
        "multiclass": "balanced_accuracy",
        "regression": "r2",
    },
    "auc": {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"},
}
METRICS: dict[str, str] = METRIC_SETS["balanced"]

#: Environment variables that cap the threads of every numeric library a tool may use.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "BLIS_NUM_THREADS",
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent


# -- the tools -----------------------------------------------------------------------------------
# Each runner gets the training part, the task, the metric name, the budget (seconds), a seed and
# a thread count, and returns (model, info). The model must have predict (and predict_proba for
# classification); info is a dict of JSON-able extras (number of trials, best configuration).


def _run_jupyter_automl(
    X_train: Any, y_train: Any, task: str, metric: str, budget: float, seed: int, n_jobs: int
) -> tuple[Any, dict[str, Any]]:
    """Search with ``jupyter_automl.search``: the tool under test."""
    import jupyter_automl as ja

    called = time.time()
    result = ja.search(
        X=X_train,
        y=y_train,
        task=task,
        metric=metric,
        time_budget=budget,
        seed=seed,
        n_jobs=n_jobs,
        storage="memory",
        display=False,
    )
    info: dict[str, Any] = {"n_trials": getattr(result, "n_trials", None)}
    finished = [t.datetime_complete.timestamp() for t in result.study.trials if t.state.name == "COMPLETE"]
    if finished:  # seconds from the call to the first scored trial
        info["first_trial_s"] = round(min(finished) - called, 2)
    info["final"] = {k: _jsonable(v) for k, v in (result.final or {}).items() if k in ("fit_rows", "fit_seconds", "note")}
    best_params = getattr(result, "best_params", None)
    if best_params is not None:
        info["best"] = {k: _jsonable(v) for k, v in dict(best_params).items()}
    info["cv_score"] = _jsonable(getattr(result, "best_score", None))
    info["module"] = ja.__file__
    return result, info


def _run_flaml(
    X_train: Any, y_train: Any, task: str, metric: str, budget: float, seed: int, n_jobs: int
) -> tuple[Any, dict[str, Any]]:
    """Search with FLAML's ``AutoML`` on its defaults, told the same metric."""
    import flaml

    automl = flaml.AutoML()
    automl.fit(
        X_train,
        y_train,
        task="regression" if task == "regression" else "classification",
        metric=_flaml_balanced_accuracy if metric == "balanced_accuracy" else metric,
        time_budget=budget,
        seed=seed,
        n_jobs=n_jobs,
        verbose=0,
    )
    # FLAML keeps no public trial count; its per-learner iteration counter is the closest.
    per_learner = dict(getattr(automl, "_iter_per_learner", None) or {})
    info = {
        "n_trials": sum(per_learner.values()) if per_learner else None,
        "trials_per_learner": _jsonable(per_learner),
        "best": {"estimator": automl.best_estimator, **_jsonable(automl.best_config or {})},
        # FLAML minimises 1 - metric (our balanced-accuracy metric returns that loss too).
        "cv_score": _jsonable(1.0 - automl.best_loss) if automl.best_loss is not None else None,
    }
    return automl, info


def _flaml_balanced_accuracy(
    X_val: Any,
    y_val: Any,
    estimator: Any,
    labels: Any,
    X_train: Any,
    y_train: Any,
    *args: Any,
    **kwargs: Any,
) -> tuple[float, dict[str, float]]:
    """Balanced accuracy as a FLAML custom metric (FLAML has none built in): (loss, extras)."""
    from sklearn.metrics import balanced_accuracy_score

    score = balanced_accuracy_score(y_val, estimator.predict(X_val))
    return 1.0 - score, {"balanced_accuracy": score}


def _run_optuna_tpe(
    X_train: Any, y_train: Any, task: str, metric: str, budget: float, seed: int, n_jobs: int
) -> tuple[Any, dict[str, Any]]:
    """What a user would write by hand: Optuna TPE over three scikit-learn models, 5-fold CV."""
    import optuna
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    classification = task != "regression"
    preprocess = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )

    def build(trial: optuna.trial.BaseTrial) -> Pipeline:
        model_name = trial.suggest_categorical("model", ["linear", "random_forest", "hist_gb"])
        model: Any
        if model_name == "linear":
            c = trial.suggest_float("C", 1e-3, 1e3, log=True)
            model = (
                LogisticRegression(C=c, max_iter=2000) if classification else Ridge(alpha=1.0 / c)
            )
        elif model_name == "random_forest":
            cls = RandomForestClassifier if classification else RandomForestRegressor
            model = cls(
                n_estimators=trial.suggest_int("rf_n_estimators", 50, 400, log=True),
                max_features=trial.suggest_float("rf_max_features", 0.1, 1.0),
                min_samples_leaf=trial.suggest_int("rf_min_samples_leaf", 1, 20, log=True),
                n_jobs=n_jobs,
                random_state=seed,
            )
        else:
            cls = (
                HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
            )
            model = cls(
                learning_rate=trial.suggest_float("hgb_learning_rate", 0.01, 0.3, log=True),
                max_leaf_nodes=trial.suggest_int("hgb_max_leaf_nodes", 8, 128, log=True),
                min_samples_leaf=trial.suggest_int("hgb_min_samples_leaf", 5, 100, log=True),
                l2_regularization=trial.suggest_float("hgb_l2", 1e-6, 10.0, log=True),
                random_state=seed,
            )
        return Pipeline([("preprocess", preprocess), ("model", model)])

    folds = (
        StratifiedKFold(5, shuffle=True, random_state=seed)
        if classification
        else KFold(5, shuffle=True, random_state=seed)
    )

    def objective(trial: optuna.trial.Trial) -> float:
        scores = cross_val_score(build(trial), X_train, y_train, cv=folds, scoring=metric)
        return float(scores.mean())

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, timeout=budget, catch=(Exception,))
    model = build(study.best_trial).fit(X_train, y_train)
    info = {
        "n_trials": len(study.trials),
        "best": _jsonable(study.best_params),
        "cv_score": study.best_value,
    }
    return model, info


def _run_untuned_hgb(
    X_train: Any, y_train: Any, task: str, metric: str, budget: float, seed: int, n_jobs: int
) -> tuple[Any, dict[str, Any]]:
    """The floor: scikit-learn's HistGradientBoosting on its defaults, fitted once, no search.

    Text columns are ordinal-encoded and passed as native categorical features (the 254 most
    frequent categories each, the rarer ones in one group); numbers go in as they are, missing values too.
    """
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    text = make_column_selector(dtype_exclude="number")(X_train)
    numeric = [c for c in X_train.columns if c not in text]
    encode = ColumnTransformer(
        [
            ("num", "passthrough", numeric),
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=-1,
                    encoded_missing_value=-1,
                    max_categories=254,  # and the infrequent group: 255 codes, HGB's limit
                ),
                text,
            ),
        ]
    )
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    categorical = list(range(len(numeric), len(numeric) + len(text))) or None
    model = Pipeline(
        [("encode", encode), ("model", cls(categorical_features=categorical, random_state=seed))]
    )
    model.fit(X_train, y_train)
    return model, {"n_trials": 1, "best": {"estimator": cls.__name__}}


class _AutoGluonModel:
    """A fitted ``TabularPredictor`` with the ``predict`` / ``predict_proba`` / ``classes_`` the
    scoring reads (its models stay in the predictor's folder until the worker exits)."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor
        self.classes_ = getattr(predictor, "class_labels", None)

    def predict(self, X: Any) -> Any:
        return self.predictor.predict(X).to_numpy()

    def predict_proba(self, X: Any) -> Any:
        return self.predictor.predict_proba(X)


def _run_autogluon(
    X_train: Any, y_train: Any, task: str, metric: str, budget: float, seed: int, n_jobs: int
) -> tuple[Any, dict[str, Any]]:
    """AutoGluon's ``TabularPredictor`` on its default preset, ``time_limit`` = the budget, told the
    same metric. It runs in the interpreter named by ``AUTOGLUON_PYTHON`` (its own environment:
    AutoGluon pins its own scikit-learn and numpy), see :func:`_interpreter`."""
    import atexit
    import shutil

    import numpy as np
    from autogluon.tabular import TabularPredictor

    label = "__target__"
    frame = X_train.copy()
    frame[label] = np.asarray(y_train)
    if task == "regression":
        problem = "regression"
    else:
        problem = "binary" if frame[label].nunique() == 2 else "multiclass"
    folder = tempfile.mkdtemp(prefix="ja-bench-autogluon-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    predictor = TabularPredictor(
        label=label, problem_type=problem, eval_metric=metric, path=folder, verbosity=0
    ).fit(frame, time_limit=budget, num_cpus=n_jobs)  # its fit takes no seed
    board = predictor.leaderboard(silent=True)
    best = predictor.model_best
    return _AutoGluonModel(predictor), {
        "n_trials": int(len(board)),
        "best": {"model": best},
        "cv_score": _jsonable(float(board.loc[board["model"] == best, "score_val"].iloc[0])),
    }


TOOLS: dict[str, Callable[..., tuple[Any, dict[str, Any]]]] = {
    "jupyter_automl": _run_jupyter_automl,
    "flaml": _run_flaml,
    "optuna_tpe": _run_optuna_tpe,
    "untuned_hgb": _run_untuned_hgb,
    "autogluon": _run_autogluon,
}


def _autogluon_available() -> bool:
    import importlib.util

    return bool(os.environ.get("AUTOGLUON_PYTHON")) or importlib.util.find_spec("autogluon") is not None


def _interpreter(tool: str) -> str:
    """The Python that runs ``tool``: AutoGluon's own environment when ``AUTOGLUON_PYTHON`` names one
    (``python3 -m venv ag && ag/bin/pip install autogluon.tabular``), else this one."""
    if tool == "autogluon":
        return os.environ.get("AUTOGLUON_PYTHON") or sys.executable
    return sys.executable


# -- scoring -------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars and containers into plain JSON values (repr as a last resort)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


def _classes_of(model: Any) -> list[Any] | None:
    """The class labels in the column order of ``model.predict_proba``, when the model says."""
    for candidate in (model, getattr(model, "best_model", None)):
        classes = getattr(candidate, "classes_", None)
        if classes is not None:
            return list(classes)
    return None


def _positive_probability(model: Any, X_test: Any, positive: Any) -> Any:
    """Probability of the ``positive`` class for each held-out row."""
    import numpy as np
    import pandas as pd

    proba = model.predict_proba(X_test)
    if isinstance(proba, pd.DataFrame):
        if positive in proba.columns:
            return proba[positive].to_numpy()
        proba = proba.to_numpy()
    proba = np.asarray(proba)
    if proba.ndim == 1:
        return proba
    classes = _classes_of(model)
    column = classes.index(positive) if classes is not None and positive in classes else 1
    return proba[:, column]


def score_model(
    model: Any, X_test: Any, y_test: Any, task: str, y_train: Any, metric: str | None = None
) -> float:
    """Score a fitted model on the held-out rows with ``metric`` (default: the task's in METRICS)."""
    import numpy as np
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, r2_score, roc_auc_score

    metric = metric or METRICS[task]
    if metric == "balanced_accuracy":
        predicted = np.asarray(model.predict(X_test)).ravel()
        return float(balanced_accuracy_score(np.asarray(y_test).astype(str), predicted.astype(str)))
    if metric == "roc_auc":
        positive = sorted(set(y_train.tolist()))[-1]
        p = _positive_probability(model, X_test, positive)
        return float(roc_auc_score(np.asarray(y_test) == positive, p))
    predicted = np.asarray(model.predict(X_test)).ravel()
    if metric == "accuracy":
        return float(accuracy_score(np.asarray(y_test).astype(str), predicted.astype(str)))
    return float(r2_score(np.asarray(y_test, dtype=float), predicted.astype(float)))


def normalised_scores(scores: dict[str, float | None], metric: str) -> dict[str, float]:
    """Each tool's score on one dataset divided by the best tool's score there.

    For ``roc_auc`` and ``accuracy`` (never negative) this is ``score / best``. For ``r2``,
    which is negative for a model worse than predicting the mean, it is
    ``max(score, 0) / best``: a negative R² counts as 0 ("no better than the mean"). If no
    tool beats the mean (best <= 0) the best tool gets 1 and the others 0. A failed run gets 0.
    """
    done = {tool: s for tool, s in scores.items() if s is not None}
    if not done:
        return {tool: 0.0 for tool in scores}
    best = max(done.values())
    out: dict[str, float] = {}
    for tool, s in scores.items():
        if s is None:
            out[tool] = 0.0
        elif metric == "r2" and best <= 0:
            out[tool] = 1.0 if s == best else 0.0
        elif metric == "r2":
            out[tool] = max(s, 0.0) / best
        else:
            out[tool] = s / best if best > 0 else 0.0
    return out


def ranks_of(scores: dict[str, float | None]) -> dict[str, float]:
    """Rank of each tool on one dataset (1 = best; ties share the mean rank; a failure is last)."""
    ordered = sorted(scores, key=lambda t: -(scores[t] if scores[t] is not None else -math.inf))
    out: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and scores[ordered[j + 1]] == scores[ordered[i]]:
            j += 1
        for tool in ordered[i : j + 1]:
            out[tool] = (i + j) / 2 + 1
        i = j + 1
    return out


# -- one run, in its own process -----------------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    """Run one tool on one dataset and write a JSON record to ``args.result_file``."""
    if args.ja_path:
        sys.path.insert(0, args.ja_path)
    from benchmarks.datasets import DATASETS

    record: dict[str, Any] = {"dataset": args.dataset, "tool": args.tool, "seed": args.seed}
    try:
        if args.data_dir:  # another environment (AutoGluon's): the split as the parent made it
            X_train, X_test, y_train, y_test, task = _read_split(Path(args.data_dir))
        else:
            dataset = DATASETS[args.dataset]
            X_train, X_test, y_train, y_test = dataset.split()
            task = dataset.task
        metric = METRIC_SETS[args.scoring][task]
        record.update(task=task, metric=metric, n_train=len(X_train), n_test=len(X_test))
        runner = TOOLS[args.tool]
        start = time.perf_counter()
        model, info = runner(X_train, y_train, task, metric, args.budget, args.seed, args.threads)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        score = score_model(model, X_test, y_test, task, y_train, metric)
        record.update(score=score, fit_s=fit_s, predict_s=time.perf_counter() - start, **info)
    except BaseException as exc:  # noqa: B036 -- a tool's crash is a result, reported as such
        record["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        record["traceback"] = traceback.format_exc()[-4000:]
    Path(args.result_file).write_text(json.dumps(_jsonable(record)))
    return 0


def _write_split(dataset: str, folder: Path) -> None:
    """The dataset's split as Parquet files, for a worker in another environment (whose pandas
    may read no pickle of ours, and which may lack the dataset's own package)."""
    import pandas as pd

    from benchmarks.datasets import DATASETS

    data = DATASETS[dataset]
    X_train, X_test, y_train, y_test = data.split()
    X_train.to_parquet(folder / "X_train.parquet")
    X_test.to_parquet(folder / "X_test.parquet")
    pd.DataFrame({"y": y_train}).to_parquet(folder / "y_train.parquet")
    pd.DataFrame({"y": y_test}).to_parquet(folder / "y_test.parquet")
    (folder / "task").write_text(data.task)


def _read_split(folder: Path) -> tuple[Any, Any, Any, Any, str]:
    import pandas as pd

    return (
        pd.read_parquet(folder / "X_train.parquet"),
        pd.read_parquet(folder / "X_test.parquet"),
        pd.read_parquet(folder / "y_train.parquet")["y"],
        pd.read_parquet(folder / "y_test.parquet")["y"],
        (folder / "task").read_text(),
    )


def _children_cpu_s() -> float:
    """User plus system CPU seconds of all waited-for child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _thread_env(threads: int) -> dict[str, str]:
    """The environment of a worker: this one with every thread pool capped at ``threads``."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def run_one(
    dataset: str,
    tool: str,
    budget: float,
    seed: int,
    threads: int,
    ja_path: str | None,
    hard_timeout: float,
    scoring: str = "balanced",
) -> dict[str, Any]:
    """Run ``tool`` on ``dataset`` in a fresh Python process and return its record."""
    with tempfile.TemporaryDirectory(prefix="ja-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        command = [
            _interpreter(tool),
            "-m",
            "benchmarks.tabular",
            "--worker",
            "--dataset-name",
            dataset,
            "--tool-name",
            tool,
            "--budget",
            str(budget),
            "--seed",
            str(seed),
            "--threads",
            str(threads),
            "--result-file",
            str(result_file),
            "--scoring",
            scoring,
        ]
        if ja_path:
            command += ["--ja-path", ja_path]
        if _interpreter(tool) != sys.executable:
            _write_split(dataset, Path(tmp))
            command += ["--data-dir", tmp]
        load_before = os.getloadavg()[0]
        cpu_before = _children_cpu_s()
        start = time.perf_counter()
        from benchmarks.scale import TreeMemory

        process = subprocess.Popen(command, cwd=REPO_ROOT, env=_thread_env(threads),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        completed: Any = process
        with TreeMemory(process.pid) as memory:  # the run's process and all its workers
            try:
                _, stderr = process.communicate(timeout=hard_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
                completed = None
        process_s = time.perf_counter() - start
        cpu_s = _children_cpu_s() - cpu_before
        if result_file.exists():
            record: dict[str, Any] = json.loads(result_file.read_text())
        elif completed is None:
            record = {"error": f"killed after the hard limit of {hard_timeout:.0f} s"}
        else:
            record = {"error": f"worker exited {completed.returncode} without a result"}
        if "error" in record and stderr:
            record["stderr_tail"] = stderr[-2000:]
    record.update(
        dataset=dataset,
        tool=tool,
        seed=seed,
        process_s=process_s,
        # CPU seconds of the worker and its children; cpu_s / process_s near 1 means the run
        # kept to one core. The load average shows how busy the machine was when it started.
        cpu_s=cpu_s,
        load_avg_1m=load_before,
        peak_memory_mb=round(memory.peak / 2**20, 1),
    )
    record.setdefault("score", None)
    return record


# -- the whole benchmark -------------------------------------------------------------------------


def _versions() -> dict[str, str | None]:
    """Versions of the packages that decide the result (None where one is missing)."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in [
        "jupyter-automl",
        "flaml",
        "optuna",
        "scikit-learn",
        "lightgbm",
        "xgboost",
        "catboost",
        "numpy",
        "pandas",
    ]:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git_commit(path: Path) -> str | None:
    """The commit checked out at ``path`` (with ``+dirty`` if it has changes), if it is git."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("+dirty" if dirty else "")


def run_benchmark(
    datasets: Sequence[str],
    tools: Sequence[str],
    budget: float,
    repeat: int,
    threads: int,
    ja_path: str | None,
    log: Callable[[str], None] = print,
    scoring: str = "balanced",
) -> dict[str, Any]:
    """Run every tool on every dataset ``repeat`` times and return the raw results.

    Runs are sequential, so tools never compete for the cores. The order of the tools rotates
    from one dataset to the next so that a slow spell of the machine does not always hit the
    same tool. Repeat ``r`` gives every tool ``seed=r``; the held-out split never changes.
    """
    hard_timeout = max(3.0 * budget, budget + 120.0)
    ja_root = Path(ja_path) if ja_path else REPO_ROOT
    meta = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "budget_s": budget,
        "repeat": repeat,
        "threads_per_run": threads,
        "hard_timeout_s": hard_timeout,
        "datasets": list(datasets),
        "tools": list(tools),
        "scoring": scoring,
        "metrics": METRIC_SETS[scoring],
        "jupyter_automl_path": str(ja_root),
        "jupyter_automl_commit": _git_commit(ja_root),
        "benchmark_commit": _git_commit(REPO_ROOT),
        "versions": _versions(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    runs: list[dict[str, Any]] = []
    for i, dataset in enumerate(datasets):
        order = list(tools[i % len(tools) :]) + list(tools[: i % len(tools)])
        for r in range(repeat):
            for tool in order:
                record = run_one(dataset, tool, budget, r, threads, ja_path, hard_timeout, scoring)
                record["repeat"] = r
                runs.append(record)
                shown = (
                    "FAILED " + record["error"]
                    if "error" in record
                    else (
                        f"{record.get('metric')}={record['score']:.4f} "
                        f"fit {record.get('fit_s', float('nan')):.1f}s "
                        f"trials {record.get('n_trials')}"
                    )
                )
                log(f"  {dataset:<18} {tool:<15} seed {r}  {shown}")
    meta["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return {"meta": meta, "runs": runs}


def _mean(values: Sequence[float]) -> float:
    """Arithmetic mean (NaN for an empty sequence)."""
    return sum(values) / len(values) if values else float("nan")


def _cell_stats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean score, fit time, trial count and cores used of one tool's runs on one dataset.

    A failed run (an error, or killed past the hard limit) scores 0 in the mean, as the summary's
    normalised score promises; only a tool whose every run failed has no score (``FAILED``).
    """
    ok = [r for r in runs if r.get("score") is not None]
    trials = [r["n_trials"] for r in ok if r.get("n_trials") is not None]
    cores = [r["cpu_s"] / r["process_s"] for r in runs if r.get("cpu_s") and r.get("process_s")]
    return {
        "score": _mean([r["score"] if r.get("score") is not None else 0.0 for r in runs]) if ok else None,
        "fit_s": [r["fit_s"] for r in ok if r.get("fit_s") is not None],
        "trials": _mean(trials) if trials else None,
        "cores": cores,
        "failures": len(runs) - len(ok),
        "rows": next((r["n_train"] + r["n_test"] for r in runs if "n_train" in r), 0),
    }


def summarise(results: dict[str, Any]) -> str:
    """Render the per-dataset scores, fit times and the per-tool summary as plain-text tables."""
    from benchmarks.datasets import DATASETS

    meta, runs = results["meta"], results["runs"]
    tools: list[str] = meta["tools"]
    threads = meta["threads_per_run"]
    stats = {
        (d, t): _cell_stats([r for r in runs if r["dataset"] == d and r["tool"] == t])
        for d in meta["datasets"]
        for t in tools
    }
    lines = [
        f"budget {meta['budget_s']:g} s per tool and dataset; every run in its own process, one "
        f"at a time, limited to {threads} thread(s): n_jobs={threads} and "
        f"{', '.join(THREAD_VARS)}={threads}; repeat {meta['repeat']}",
        "scores on the held-out 25 % (split seed 0, stratified for classification), computed "
        "by the benchmark; mean over repeats, a failed run counting 0; * = best on the dataset",
    ]
    width = max(14, *(len(t) for t in tools))
    header = f"{'dataset':<18} {'task':<10} {'metric':<8} {'rows':>6} " + " ".join(
        f"{t:>{width}}" for t in tools
    )
    lines += ["", header, "-" * len(header)]
    normalised: dict[str, list[float]] = {t: [] for t in tools}
    wins: dict[str, int] = {t: 0 for t in tools}
    ranking: dict[str, list[float]] = {t: [] for t in tools}
    for dataset in meta["datasets"]:
        task = DATASETS[dataset].task
        metric = meta.get("metrics", METRICS)[task]
        scores = {t: stats[dataset, t]["score"] for t in tools}
        norm = normalised_scores(scores, metric)
        best = max((s for s in scores.values() if s is not None), default=None)
        for tool, rank in ranks_of(scores).items():
            ranking[tool].append(rank)
        cells = []
        for tool in tools:
            normalised[tool].append(norm[tool])
            score = scores[tool]
            if score is None:
                cells.append(f"{'FAILED':>{width}}")
                continue
            wins[tool] += score == best
            cells.append(f"{score:>{width - 1}.4f}{'*' if score == best else ' '}")
        rows = max(stats[dataset, t]["rows"] for t in tools)
        shown = {"balanced_accuracy": "bal_acc"}.get(metric, metric)
        lines.append(f"{dataset:<18} {task:<10} {shown:<8} {rows:>6} " + " ".join(cells))

    lines += ["", "fit seconds (search + final refit) / trials, mean per run:"]
    header = f"{'dataset':<18} " + " ".join(f"{t:>{width}}" for t in tools)
    lines += [header, "-" * len(header)]
    for dataset in meta["datasets"]:
        cells = []
        for tool in tools:
            cell = stats[dataset, tool]
            fit = f"{_mean(cell['fit_s']):.1f}" if cell["fit_s"] else "-"
            trials = f"{cell['trials']:.0f}" if cell["trials"] is not None else "-"
            cells.append(f"{fit + ' / ' + trials:>{width}}")
        lines.append(f"{dataset:<18} " + " ".join(cells))

    lines += ["", "peak memory of the run's process tree (MB, PSS) / seconds to jupyter_automl's first "
              "scored trial, mean per run:"]
    header = f"{'dataset':<18} " + " ".join(f"{t:>{width}}" for t in tools)
    lines += [header, "-" * len(header)]
    for dataset in meta["datasets"]:
        cells = []
        for tool in tools:
            done = [r for r in runs if r["dataset"] == dataset and r["tool"] == tool]
            peaks = [r["peak_memory_mb"] for r in done if r.get("peak_memory_mb")]
            firsts = [r["first_trial_s"] for r in done if r.get("first_trial_s") is not None]
            text = f"{_mean(peaks):.0f}" if peaks else "-"
            if firsts:
                text += f" / {_mean(firsts):.1f} s"
            cells.append(f"{text:>{width}}")
        lines.append(f"{dataset:<18} " + " ".join(cells))
    lines += [
        "",
        "normalised score: score / best tool's score on the dataset (bal_acc = balanced accuracy,",
        "roc_auc, accuracy); for r2",
        "max(r2, 0) / best r2, so a model worse than predicting the mean counts 0; a failure 0.",
        "cores = CPU time / wall time of the run's process (imports and data loading included).",
        "over = runs whose fit took longer than budget x 1.05 + 1 s.",
        "",
    ]
    header = (
        f"{'tool':<16} {'mean normalised':>15} {'mean rank':>9} {'wins':>5} {'failures':>8} "
        f"{'mean fit s':>10} {'max fit s':>9} {'over':>4} {'cores':>5}"
    )
    allowed = 1.05 * meta["budget_s"] + 1.0  # the wall-time target: budget x 1.05 + 1 s
    lines += [header, "-" * len(header)]
    for tool in sorted(tools, key=lambda t: -_mean(normalised[t])):
        cells = [stats[d, tool] for d in meta["datasets"]]
        times = [x for c in cells for x in c["fit_s"]]
        cores = [x for c in cells for x in c["cores"]]
        failures = sum(c["failures"] for c in cells)
        lines.append(
            f"{tool:<16} {_mean(normalised[tool]):>15.4f} {_mean(ranking[tool]):>9.2f} "
            f"{wins[tool]:>5} {failures:>8} "
            f"{_mean(times):>10.1f} {max(times, default=float('nan')):>9.1f} "
            f"{sum(t > allowed for t in times):>4} {_mean(cores):>5.2f}"
        )
    errors = [r for r in runs if "error" in r]
    if errors:
        lines += ["", "failures:"]
        lines += [
            f"  {r['dataset']} / {r['tool']} (seed {r['seed']}): {r['error'][:300]}" for r in errors
        ]
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line (the ``--worker`` options are internal)."""
    from benchmarks.datasets import DATASETS

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tabular",
        description="Compare jupyter_automl, FLAML and a plain Optuna TPE search on real "
        "tabular datasets, same budget, same split, same metric.",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="seconds of search per tool and dataset (default 30)",
    )
    parser.add_argument(
        "--datasets",
        default=None,
        help=f"comma-separated names (default: those of --tier; known: {','.join(DATASETS)})",
    )
    parser.add_argument(
        "--tier",
        default="small",
        choices=("small", "large", "scale", "all"),
        help="datasets when --datasets is not given: small (up to 10k rows), large (20k+), all "
        "(both); scale: synthetic tables of 100k and 1M rows (use --budget 120)",
    )
    parser.add_argument(
        "--scoring",
        default="balanced",
        choices=tuple(METRIC_SETS),
        help="balanced: balanced accuracy for classification (default); auc: ROC AUC for "
        "binary, accuracy for multiclass; R² for regression either way",
    )
    parser.add_argument(
        "--tools",
        default=None,
        help=f"comma-separated tools (default all: {','.join(TOOLS)}; autogluon only where "
        "AUTOGLUON_PYTHON names its environment or this Python has it)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per tool and dataset, with seeds 0..N-1 (default 1)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads (n_jobs and BLAS/OpenMP) given to every run (default 1)",
    )
    parser.add_argument(
        "--ja-path",
        default=None,
        help="a checkout whose jupyter_automl package to benchmark "
        "(default: the one this repository imports)",
    )
    parser.add_argument(
        "--output", default=None, help="where to write the raw JSON (default benchmarks/results/)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dataset-name", help=argparse.SUPPRESS)
    parser.add_argument("--tool-name", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.dataset, args.tool = args.dataset_name, args.tool_name
        return args
    problems = []
    from benchmarks.datasets import names

    chosen = args.datasets if args.datasets is not None else ",".join(names(args.tier))
    args.dataset_list = [d.strip() for d in chosen.split(",") if d.strip()]
    if args.tools is None:
        args.tools = ",".join(t for t in TOOLS if t != "autogluon" or _autogluon_available())
    args.tool_list = [t.strip() for t in args.tools.split(",") if t.strip()]
    problems += [
        f"unknown dataset {d!r} (known: {', '.join(DATASETS)})"
        for d in args.dataset_list
        if d not in DATASETS
    ]
    problems += [
        f"unknown tool {t!r} (known: {', '.join(TOOLS)})" for t in args.tool_list if t not in TOOLS
    ]
    if args.budget <= 0:
        problems.append(f"--budget must be positive, got {args.budget:g}")
    if args.repeat < 1:
        problems.append(f"--repeat must be at least 1, got {args.repeat}")
    if args.threads < 1:
        problems.append(f"--threads must be at least 1, got {args.threads}")
    if problems:
        parser.error("; ".join(problems))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: run the benchmark, print the tables, write the JSON."""
    args = _parse(argv)
    if args.worker:
        return _worker(args)
    if args.ja_path:
        args.ja_path = str(Path(args.ja_path).resolve())
    print(
        f"benchmark: {len(args.dataset_list)} datasets x {len(args.tool_list)} tools x "
        f"{args.repeat} repeat(s), {args.budget:g} s each, {args.threads} thread(s) per run",
        flush=True,
    )
    results = run_benchmark(
        args.dataset_list,
        args.tool_list,
        args.budget,
        args.repeat,
        args.threads,
        args.ja_path,
        log=lambda line: print(line, flush=True),
        scoring=args.scoring,
    )
    if args.output:
        output = Path(args.output)
    else:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        output = RESULTS_DIR / f"tabular-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(_jsonable(results), indent=1))
    print()
    print(summarise(results))
    print(f"\nraw results: {output}")
    return 0


if __name__ == "__main__":
    # Run as a script (python benchmarks/tabular.py), the folder above must be importable too.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())

"""Scoring a scikit-learn pipeline at a chosen fidelity, step by step, under the run's budget.

Small tables get k-fold cross-validation; as rows grow, fewer folds, then one holdout split
whose training part is used in rungs (1/9, 1/3, all of it: successive halving over the
sample size, as in ASHA/Hyperband and FLAML's sample-size resource). Each fold or rung is
reported to the trial so the pruner drops weak candidates after a cheap look.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from jupyter_automl.evaluate.evaluation import Evaluation
from jupyter_automl.evaluate.metrics import Metric

__all__ = [
    "Fidelity",
    "choose_fidelity",
    "cross_validate",
    "fold_splits",
    "holdout_split",
    "holdout_validate",
    "predict_for_metric",
    "checked_shape",
]

#: Rows from which 3-fold replaces the configured k-fold, and from which one holdout split
#: replaces cross-validation (measured: benchmarks/README.md, "Choosing the fidelity").
FEWER_FOLDS_ROWS = 5_000
HOLDOUT_ROWS = 20_000
#: ... or from this many rows × columns × classes (digits' 1,078 searched rows × 64 × 10: its
#: ten-class boosting default took 7.9 s of a 15 s budget with 5 folds). Not tied to the time
#: budget, so a study resumed with another budget keeps scoring its trials the same way.
FEWER_FOLDS_CELLS = 300_000
HOLDOUT_FRACTION = 0.2
#: The validation part of a holdout has at most this many rows (a 1M-row table keeps 5 %): on
#: 50,000 rows a score's standard error is under 0.003, and every rung predicts all of them.
MAX_VALIDATION_ROWS = 50_000
#: Training fractions of the holdout rungs (each a third of the next: 1/81, 1/27, 1/9, 1/3, all),
#: and the fewest rows a rung below the top may have.
RUNGS = (1 / 81, 1 / 27, 1 / 9, 1 / 3, 1.0)
MIN_RUNG_ROWS = 5_000


@dataclass(frozen=True)
class Fidelity:
    """How a trial is scored: ``k``-fold CV, or a holdout with successive-halving rungs."""

    method: str  # "cv" | "holdout"
    folds: int = 5
    rungs: tuple[float, ...] = (1.0,)
    fraction: float = HOLDOUT_FRACTION

    @property
    def train_fraction(self) -> float:
        """Share of the rows one scored fit trains on (for the refit's time estimate)."""
        return 1.0 - self.fraction if self.method == "holdout" else (self.folds - 1) / self.folds

    def describe(self) -> str:
        if self.method == "cv":
            return f"{self.folds}-fold cross-validation"
        rungs = ", ".join(f"{r:.2g}" for r in self.rungs)
        return f"holdout of {self.fraction:.0%} (training-fraction rungs {rungs})"


def choose_fidelity(
    n_rows: int,
    *,
    folds: int = 5,
    method: str = "auto",
    n_columns: int = 1,
    n_classes: int = 0,
) -> Fidelity:
    """The fidelity for a table of ``n_rows``: ``method`` is ``auto``, ``cv`` or ``holdout``.

    Fewer folds also from :data:`FEWER_FOLDS_CELLS` rows × columns × classes (multiclass
    models fit one tree or coefficient set per class): digits, 1,797 × 64 × 10, gets 3 folds.

    Examples
    --------
    >>> choose_fidelity(500).method, choose_fidelity(8000).folds, choose_fidelity(50_000).method
    ('cv', 3, 'holdout')
    >>> choose_fidelity(1797, n_columns=64, n_classes=10).folds
    3
    >>> choose_fidelity(1078, n_columns=64, n_classes=10).folds, choose_fidelity(455, n_columns=30).folds
    (3, 5)
    """
    if method == "cv" or (method == "auto" and n_rows < HOLDOUT_ROWS):
        cells = n_rows * max(1, n_columns) * (n_classes if n_classes > 2 else 1)
        if method == "auto" and (n_rows >= FEWER_FOLDS_ROWS or cells >= FEWER_FOLDS_CELLS):
            folds = min(folds, 3)
        return Fidelity("cv", folds=folds)
    fraction = min(HOLDOUT_FRACTION, MAX_VALIDATION_ROWS / n_rows)
    n_train = n_rows * (1 - fraction)
    rungs = tuple(r for r in RUNGS if r == 1.0 or r * n_train >= MIN_RUNG_ROWS)
    return Fidelity("holdout", folds=folds, rungs=rungs, fraction=fraction)


#: ``fit(model, X, y) -> dict``: fits ``model`` in place and says what the fit decided.
FitFunction = Callable[[Any, Any, np.ndarray], dict[str, Any]]


def _fit(fit: FitFunction | None, model: Any, X: Any, y: np.ndarray) -> dict[str, Any]:
    if fit is None:
        model.fit(X, y)
        return {}
    return dict(fit(model, X, y) or {})


# keyed on id(y); the entry keeps y itself, so a new array reusing a freed id is not mistaken for it
_SPLIT_CACHE: dict[
    tuple[str, int, int, int], tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]
] = {}


def fold_splits(
    y: np.ndarray, task: str, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds for classification, plain shuffled folds for regression; seeded."""
    from sklearn.model_selection import KFold, StratifiedKFold

    key = (task, folds, seed, id(y))
    if key not in _SPLIT_CACHE or _SPLIT_CACHE[key][0] is not y:
        if task == "regression":
            splitter: Any = KFold(folds, shuffle=True, random_state=seed)
        else:
            smallest = int(np.min(np.unique(y, return_counts=True)[1]))
            splitter = StratifiedKFold(
                min(folds, max(2, smallest)), shuffle=True, random_state=seed
            )
        _SPLIT_CACHE.clear() if len(_SPLIT_CACHE) > 16 else None
        _SPLIT_CACHE[key] = (y, list(splitter.split(np.zeros(len(y)), y)))
    return _SPLIT_CACHE[key][1]


def predict_for_metric(
    model: Any, X: Any, metric: Metric, classes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(what the metric scores, class probabilities or ``None``) for ``X``, their shapes checked."""
    rows = len(X)
    if classes is None:  # regression
        return checked_shape(model.predict(X), model, "predict", rows), None
    if hasattr(model, "predict_proba"):
        proba = checked_shape(model.predict_proba(X), model, "predict_proba", rows, len(classes))
        if metric.needs == "label":
            return np.asarray(classes)[np.argmax(proba, axis=1)], proba
        return proba, proba
    if metric.needs == "label":
        return checked_shape(model.predict(X), model, "predict", rows), None
    return checked_shape(model.decision_function(X), model, "decision_function", rows, len(classes)), None


def checked_shape(
    values: Any, model: Any, method: str, rows: int, n_classes: int | None = None
) -> np.ndarray:
    """``values`` as an array when it has the shape the task says, else a ``ValueError`` naming the model.

    Predictions and decision values of a binary task: one per row; probabilities (and a
    multiclass decision function): one row per row and a column per class the model was fitted
    on (a training fold may lack a rare class, never add one).
    """
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1 and method in ("predict", "decision_function"):
        array = array.ravel()
    if method == "predict_proba" or (method == "decision_function" and array.ndim == 2):
        fitted = getattr(model, "classes_", None)
        width = len(fitted) if fitted is not None else n_classes
        expected: tuple[Any, ...] = (rows, width)
        ok = array.ndim == 2 and array.shape[0] == rows and array.shape[1] == width
        ok = ok and width is not None and 1 <= width <= (n_classes or width)
    else:
        expected = (rows,)
        ok = array.shape == expected
    if not ok:
        name = type(model.steps[-1][1] if hasattr(model, "steps") else model).__name__
        what = f" of {n_classes} classes" if n_classes else ""
        raise ValueError(
            f"{name}.{method} returned shape {array.shape} for {rows} rows{what}; expected {expected}"
        )
    return array


def cross_validate(
    make_model: Callable[[], Any],
    data: Any,
    metric: Metric,
    *,
    folds: int,
    seed: int,
    trial: Any = None,
    budget: Any = None,
    first_fold_estimate: float = 0.0,
    fit: FitFunction | None = None,
) -> Evaluation:
    """Score a fresh model per fold; report the running mean to ``trial`` so pruners can act.

    Before each fold ``budget.check`` is given the expected fold time, so a trial that would
    overrun the run's deadline is stopped instead of waited for. ``fit(model, X, y)`` replaces
    ``model.fit(X, y)`` (a boosting model that stops early on its own validation split); what
    it returns per fold is kept in ``user_attrs["fit_info"]``.
    """
    import optuna

    X, y, classes = data.X, data.y, data.classes
    splits = fold_splits(y, data.task, folds, seed)
    scores: list[float] = []
    oof: np.ndarray | None = None
    oof_ok = True
    n_classes = 0 if classes is None else len(classes)
    fold_times: list[float] = []
    fit_info: list[dict[str, Any]] = []
    for step, (train, test) in enumerate(splits):
        if budget is not None:
            budget.check(max(fold_times) if fold_times else first_fold_estimate)
        t0 = time.perf_counter()
        model = make_model()
        fit_info.append(_fit(fit, model, X.iloc[train], y[train]))
        scored, proba = predict_for_metric(model, X.iloc[test], metric, classes)
        fold_times.append(time.perf_counter() - t0)
        scores.append(metric(y[test], scored, classes))
        kept = proba if classes is not None else scored
        if kept is None or (n_classes and np.shape(kept)[-1] != n_classes):  # a fold lacked a class
            oof_ok = False
        elif oof_ok:
            if oof is None:
                oof = np.zeros((len(y),) + np.shape(kept)[1:], dtype=float)
            oof[test] = kept
        if not np.isfinite(scores[-1]):
            raise ValueError(f"fold {step} scored {scores[-1]} ({metric.name})")
        if trial is not None and step < len(splits) - 1:
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned(
                    f"pruned after fold {step + 1}/{len(splits)}: {metric.name} {np.mean(scores):.4f}"
                )
    return Evaluation(
        values=float(np.mean(scores)),
        score_std=float(np.std(scores)),
        oof=oof if oof_ok else None,
        fit_seconds=float(sum(fold_times)),
        user_attrs={
            "fold_seconds": float(np.mean(fold_times)),
            "fold_scores": [float(s) for s in scores],
            "fidelity": f"{len(splits)}-fold cross-validation",
            "fit_info": fit_info,
        },
    )


_HOLDOUT_CACHE: dict[tuple[str, float, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def holdout_split(
    y: np.ndarray, task: str, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows): seeded, stratified for classification (unless a class
    has a single row, which a stratified split cannot place)."""
    from sklearn.model_selection import train_test_split

    key = (task, float(fraction), seed, id(y))
    cached = _HOLDOUT_CACHE.get(key)
    if cached is not None and cached[0] is y:  # a trial's rungs, and the next trial, reuse it
        return cached[1], cached[2]
    rows = np.arange(len(y))
    stratify = None
    if task != "regression" and np.min(np.unique(y, return_counts=True)[1]) >= 2:
        stratify = y
    train, test = train_test_split(rows, test_size=fraction, random_state=seed, stratify=stratify)
    train, test = np.sort(train), np.sort(test)
    _HOLDOUT_CACHE.clear() if len(_HOLDOUT_CACHE) > 8 else None
    _HOLDOUT_CACHE[key] = (y, train, test)
    return train, test


def _rung_rows(train: np.ndarray, y: np.ndarray, task: str, share: float, seed: int) -> np.ndarray:
    """The first ``share`` of the training rows in a seeded order; nested across rungs, every class kept."""
    order = np.random.default_rng(seed).permutation(train)
    if share >= 1.0:
        return train
    if task == "regression":
        return np.sort(order[: max(2, int(len(order) * share))])
    picked = [
        members[: max(2, int(np.ceil(len(members) * share)))]
        for members in (order[y[order] == c] for c in np.unique(y[order]))
    ]
    return np.sort(np.concatenate(picked))


def holdout_validate(
    make_model: Callable[[], Any],
    data: Any,
    metric: Metric,
    fidelity: Fidelity,
    *,
    seed: int,
    trial: Any = None,
    budget: Any = None,
    full_fit_estimate: float = 0.0,
    fit: FitFunction | None = None,
    max_seconds: float | None = None,
    pilot_rows: int = 0,
    predict_estimate: float = 0.0,
) -> Evaluation:
    """Score on one holdout split, training on growing fractions of the training part (rungs).

    Each rung's score is reported to ``trial`` (step = rung index) so the pruner can drop the
    candidate before the expensive full-size fit; ``budget.check`` gets each rung's expected
    time. The trial climbs while the next rung, at the time the last one took scaled by its
    rows, keeps it within ``max_seconds`` and the run's deadline; where it stops, the score of
    the last rung it finished is its score (``rows_per_fit`` says on how many rows), so a big
    table yields a scored model in a small budget. A fit's time is taken to grow with its rows,
    the prediction of the validation rows (``predict_estimate`` before the first) not.
    ``pilot_rows`` (fewer than the first rung's)
    adds a first fit on that many rows, not reported to the pruner, whose time sizes the climb:
    the first trial of a search knows no fit's cost yet. Predictions of the last rung fitted
    fill ``oof`` on the validation rows (NaN elsewhere).
    """
    import optuna

    from jupyter_automl.evaluate._budget import TrialTimeout

    until = None if max_seconds is None else time.perf_counter() + max_seconds
    X, y, classes = data.X, data.y, data.classes
    train, test = holdout_split(y, data.task, fidelity.fraction, seed)
    X_test = X.iloc[test]
    score = float("nan")
    info: dict[str, Any] = {}
    kept: np.ndarray | None = None
    seconds = fit_seconds = predict_seconds = 0.0
    fitted_rows = 0
    previous: tuple[int, float, float] = (len(train), full_fit_estimate, predict_estimate)
    last = len(fidelity.rungs) - 1
    ladder: list[tuple[int | None, np.ndarray]] = []
    first = _rung_rows(train, y, data.task, fidelity.rungs[0], seed)
    if 0 < pilot_rows < len(first):
        ladder.append((None, _rung_rows(train, y, data.task, pilot_rows / len(train), seed)))
    ladder += [
        (step, first if step == 0 else _rung_rows(train, y, data.task, share, seed))
        for step, share in enumerate(fidelity.rungs)
    ]
    for position, (step, rows) in enumerate(ladder):
        n, t, p = previous
        expected = 1.2 * (t * len(rows) / max(1, n) + p)
        if position > 0 and until is not None and time.perf_counter() + expected > until:
            break  # the trial's time is up: it keeps the score of the rung it finished
        if budget is not None:
            try:
                budget.check(expected)
            except TrialTimeout:
                if position == 0 or budget.stop.is_set():
                    raise
                break  # the run's deadline: the finished rung is this trial's score
        t0 = time.perf_counter()
        model = make_model()
        info = _fit(fit, model, X.iloc[rows], y[rows])
        fit_seconds = time.perf_counter() - t0
        scored, proba = predict_for_metric(model, X_test, metric, classes)
        seconds = time.perf_counter() - t0
        predict_seconds = seconds - fit_seconds
        previous = (len(rows), fit_seconds, predict_seconds)
        fitted_rows = len(rows)
        score = metric(y[test], scored, classes)
        if not np.isfinite(score):
            raise ValueError(f"rung {step} scored {score} ({metric.name})")
        kept = proba if classes is not None else scored
        if trial is not None and step is not None and step < last:
            trial.report(float(score), step)
            if trial.should_prune():
                raise optuna.TrialPruned(
                    f"pruned after rung {step + 1}/{len(fidelity.rungs)} ({len(rows)} rows): "
                    f"{metric.name} {score:.4f}"
                )
    oof = None
    if kept is not None:
        oof = np.full((len(y),) + np.shape(kept)[1:], np.nan)
        oof[test] = kept
    attrs: dict[str, Any] = {
        "fold_seconds": seconds,
        "fidelity": fidelity.describe(),
        "rows_per_fit": int(fitted_rows),
        "fit_only_seconds": fit_seconds,  # of fold_seconds: the fit (grows with the rows)...
        "predict_seconds": predict_seconds,  # ...and the validation rows' prediction (does not)
        "fit_info": [info],  # of the last rung, the one the score is from
    }
    if fitted_rows < len(train):
        attrs["rows_note"] = f"scored on {fitted_rows} of {len(train)} training rows (time)"
    return Evaluation(
        values=float(score),
        score_std=None,
        oof=oof,
        fit_seconds=seconds,
        user_attrs=attrs,
    )

"""Turning what the user names into X / y, detecting the task and refusing bad data early."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from jupyter_automl._errors import DataError, did_you_mean
from jupyter_automl.inputs import (
    ACCEPTED,
    ImageStream,
    Inputs,
    image_layout,
    is_torch_data,
    read_image_folder,
    read_torch_data,
)

__all__ = ["Dataset", "load_dataset", "bundled_datasets", "detect_task"]

logger = logging.getLogger("jupyter_automl")

#: A categorical column with more levels than this is "many-level": one-hot encoding keeps the
#: most frequent 30, so the search also tries out-of-fold target encoding for it.
MANY_LEVELS = 30
#: Roles a user can give a column in ``column_types`` (``date:FORMAT`` names a strptime format).
COLUMN_TYPES = ("numeric", "categorical", "text", "date")

#: Fewer rows than this cannot be learned from and cross-validated (two folds of two rows).
MIN_ROWS = 4

Task = Literal["binary", "multiclass", "regression"]

# scikit-learn's loaders that ship their data (no download)
_BUNDLED = {
    "breast_cancer": "load_breast_cancer",
    "iris": "load_iris",
    "wine": "load_wine",
    "digits": "load_digits",
    "diabetes": "load_diabetes",
}


def bundled_datasets() -> list[str]:
    """Names accepted as ``data: sklearn:NAME``."""
    return sorted(_BUNDLED)


@dataclass
class Dataset:
    """Features and target ready to search, plus what is known about them.

    ``X`` is a DataFrame for tables and an ``(n, C, H, W)`` array for images; ``y`` a 1-d array
    of the original labels (classification) or floats (regression).
    """

    X: Any
    y: np.ndarray
    task: Task
    source: str
    target: str | None = None
    classes: np.ndarray | None = None
    kind: Literal["table", "images"] = "table"
    task_reason: str = ""
    #: rows of the validation split the user gave (an image folder's ``valid/``), as a boolean mask
    validation: np.ndarray | None = None
    #: the batch size of a DataLoader the user gave (the default batch size of NAS training)
    batch_size: int | None = None
    #: what the first progress line says after the shape (the split used, streaming)
    detail: str = ""
    #: a table's columns read as dates (name → strptime format, ``None`` for datetime columns)
    #: and as free text; the others are numeric or categorical by their dtype
    dates: dict[str, str | None] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    _columns: tuple[list[str], list[str]] | None = field(default=None, repr=False)
    _many: dict[str, int] | None = field(default=None, repr=False)
    _fingerprint: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(len(self.y))

    @property
    def numeric_columns(self) -> list[str]:
        return self._column_types()[0]

    @property
    def categorical_columns(self) -> list[str]:
        return self._column_types()[1]

    def summary(self) -> str:
        """One line on what the search learns from, e.g. ``data: 600 images 3×32×32 (C×H×W), 10 classes``."""
        if self.kind == "images":
            c, h, w, _ = image_layout(np.shape(self.X))
            what = f"{self.n_samples} images {c}×{h}×{w} (C×H×W)"
        else:
            what = f"{self.n_samples} rows × {np.shape(self.X)[1]} columns"
        task = "regression" if self.task == "regression" else f"{len(self.classes) if self.classes is not None else 0} classes"
        return f"data: {what}, {task}" + "".join(f"; {part}" for part in (self.column_roles(), self.detail) if part)

    def column_roles(self) -> str:
        """What the search makes of a table's columns beyond numbers and few-level categories."""
        if self.kind != "table":
            return ""
        parts = []
        if self.dates:
            parts.append(f"dates: {', '.join(self.dates)}")
        if self.text:
            parts.append(f"text: {', '.join(self.text)}")
        many = self.many_level_columns()
        if many:
            parts.append("many-level categories: " + ", ".join(f"{c} ({n} levels)" for c, n in many.items()))
        return "; ".join(parts)

    def many_level_columns(self) -> dict[str, int]:
        """Categorical columns with more levels than one-hot encoding keeps (target-encoded instead)."""
        if self.kind != "table":
            return {}
        if self._many is None:  # counted once (a million rows: a tenth of a second a column)
            levels = {c: int(self.X[c].nunique()) for c in self.categorical_columns}
            self._many = {c: n for c, n in levels.items() if n > MANY_LEVELS}
        return dict(self._many)

    def _column_types(self) -> tuple[list[str], list[str]]:
        """(numeric, categorical) column names, typed once: linear in the number of columns."""
        if self.kind != "table":
            return [], []
        if self._columns is None:
            flags = [_is_categorical_dtype(t) for t in self.X.dtypes]  # no column is sliced out
            other = set(self.dates) | set(self.text)
            self._columns = ([c for c, f in zip(self.X.columns, flags, strict=True) if not f and c not in other],
                             [c for c, f in zip(self.X.columns, flags, strict=True) if f and c not in other])
        return self._columns

    def fingerprint(self) -> dict[str, Any]:
        """Shape, columns and a content hash: enough to tell whether a resumed study sees the same data."""
        if self._fingerprint is None:
            digest = hashlib.sha256()
            if self.kind == "table":
                hashed = pd.util.hash_pandas_object(self.X, index=False).to_numpy()
                digest.update(hashed.tobytes())
                columns = [str(c) for c in self.X.columns]
            elif hasattr(self.X, "fingerprint_bytes"):  # an ImageStream: a sample, never a full copy
                digest.update(self.X.fingerprint_bytes())
                columns = []
            else:
                digest.update(np.ascontiguousarray(self.X).tobytes())
                columns = []
            digest.update(pd.util.hash_array(np.asarray(self.y, dtype=object)).tobytes())
            self._fingerprint = {
                "shape": [int(s) for s in np.shape(self.X)],
                "columns": columns,
                "target": self.target,
                "task": self.task,
                "hash": digest.hexdigest()[:16],
                "source": self.source,
            }
        return self._fingerprint


def _is_categorical_dtype(dtype: Any) -> bool:
    return bool(
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def load_dataset(
    data: Any = None,
    target: str | int | None = None,
    *,
    X: Any = None,
    y: Any = None,
    task: str = "auto",
    namespace: dict[str, Any] | None = None,
    metric: str = "auto",
    column_types: dict[str, str] | None = None,
) -> Dataset:
    """Resolve ``data``/``target`` or ``X``/``y`` into a checked :class:`Dataset`.

    ``data`` may be a DataFrame, a CSV or Parquet path, ``"sklearn:NAME"`` or, with
    ``namespace`` (a notebook's variables), the name of a variable holding any of those.
    With ``task="auto"`` the metric decides first (``r2``/``rmse``/``mae`` mean regression,
    the others classification), then the target's values; ``Dataset.task_reason`` says why.
    """
    if data is not None and (X is not None or y is not None):
        raise DataError("pass either data= (with target=) or X= and y=, not both")
    source = "arrays"
    default_target: str | None = None
    if data is None and X is None:
        raise DataError(
            "no data given: pass data=DataFrame with target='column', X= and y=, "
            "a CSV/Parquet path or a bundled dataset such as 'sklearn:breast_cancer'"
        )
    if isinstance(data, os.PathLike):
        data = os.fspath(data)
    if isinstance(data, str):
        data, source, default_target = _resolve_named(data, namespace)
    elif data is not None:
        source = type(data).__name__
    if is_torch_data(data) or is_torch_data(X):  # a torch Dataset or DataLoader
        data = read_torch_data(data if data is not None else X, y)
    if isinstance(data, Inputs):  # an image folder, a Dataset or a DataLoader, read
        dataset = _finish(data.X, data.y, task, data.source, None, metric)
        return replace(dataset, validation=data.validation, batch_size=data.batch_size, detail=data.detail)
    if isinstance(data, tuple) and len(data) == 2:  # a variable holding (X, y)
        X, y = data
        data = None
    if data is not None:
        if isinstance(data, np.ndarray):
            raise DataError("an array was given as data=; pass it as X= with y= instead")
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"data must be a DataFrame, a path, 'sklearn:NAME' or, for NAS, {ACCEPTED}; "
                            f"got {type(data).__name__}")
        if data.empty:
            raise DataError(
                f"the data is empty (shape {data.shape}): nothing to learn from; check how it was read or filtered"
            )
        check_column_names(data.columns, what="data")
        target = default_target if target is None else target
        if target is None:
            raise DataError(
                f"no target column named: pass target='...' (one of {_preview(data.columns)})"
            )
        if target not in data.columns:
            raise DataError(
                f"target column {target!r} is not in the data{did_you_mean(str(target), map(str, data.columns))}; "
                f"columns are {_preview(data.columns)}"
            )
        y_series = data[target]
        features = data.drop(columns=[target])
        return _finish(features, y_series, task, source, str(target), metric, column_types)
    if y is None:
        raise DataError("X= was given without y=: pass the target values as y=")
    return _finish(X, y, task, source, target if isinstance(target, str) else None, metric, column_types)


def _preview(columns: Any, n: int = 8) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(repr(c) for c in names[:n])
    return shown + (f", … ({len(names)} in all)" if len(names) > n else "")


def _resolve_named(name: str, namespace: dict[str, Any] | None) -> tuple[Any, str, str | None]:
    if name.startswith("sklearn:"):
        key = name.split(":", 1)[1]
        if key not in _BUNDLED:
            raise DataError(
                f"unknown bundled dataset {name!r}{did_you_mean(key, _BUNDLED)}; "
                f"choose one of {', '.join('sklearn:' + k for k in bundled_datasets())}"
            )
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, _BUNDLED[key])(as_frame=True)
        frame = bunch.frame
        target_name = bunch.target.name if hasattr(bunch.target, "name") else "target"
        return frame, name, str(target_name)
    if namespace is not None and name.isidentifier() and name in namespace:
        return namespace[name], name, None
    path = Path(name).expanduser()
    if path.is_dir():  # an image folder: one sub-folder per class
        return read_image_folder(path), str(path), None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt", ".parquet", ".pq"):
        if not path.exists():
            raise DataError(f"data file {str(path)!r} does not exist (relative to {Path.cwd()})")
        if suffix in (".parquet", ".pq"):
            try:
                return pd.read_parquet(path), str(path), None
            except ImportError as exc:
                from jupyter_automl._imports import missing

                raise missing(exc, what=f"reading the Parquet file {str(path)!r}", extra="parquet") from None
        return read_text_table(path, sep="\t" if suffix == ".tsv" else ","), str(path), None
    if name.isidentifier():
        hint = ""
        if namespace is not None:
            frames = [k for k, v in namespace.items() if isinstance(v, pd.DataFrame) and not k.startswith("_")]
            hint = did_you_mean(name, frames) or (f"; DataFrames defined: {', '.join(frames[:8])}" if frames else "")
        raise DataError(f"data {name!r} is not a variable of the notebook{hint}; define it first, or give a path or 'sklearn:NAME'")
    raise DataError(
        f"cannot read data {name!r}: expected a .csv/.tsv/.parquet path, an image folder, 'sklearn:NAME' "
        "or a variable name"
    )


def _finish(X: Any, y: Any, task: str, source: str, target: str | None, metric: str = "auto",
            column_types: dict[str, str] | None = None) -> Dataset:
    y_arr = _as_1d(y)
    kind: Literal["table", "images"] = "table"
    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(X, ImageStream):  # images left where they are (too large to copy)
        kind, frame = "images", X
    else:
        if hasattr(X, "detach") and hasattr(X, "numpy"):  # a torch tensor
            X = X.detach().cpu().numpy()
        try:
            arr = np.asarray(X)
        except ValueError:  # numpy's "inhomogeneous shape": items of different sizes
            raise DataError(f"X holds items of different shapes (a ragged {type(X).__name__}): every sample must "
                            f"have the same shape; accepted: {ACCEPTED}") from None
        if arr.dtype == object and arr.ndim > 1:
            raise DataError(f"X holds Python objects (dtype object, shape {arr.shape}), not numbers; accepted: {ACCEPTED}")
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim > 4:
            raise DataError(f"X has {arr.ndim} dimensions (shape {arr.shape}); accepted: {ACCEPTED}")
        if arr.ndim >= 3:
            image_layout(arr.shape)  # an unreadable channel axis is refused now
            if arr.dtype.kind not in "biuf":
                raise DataError(f"images must be numbers, got dtype {arr.dtype}; accepted: {ACCEPTED}")
            kind = "images"
            frame = arr
        elif arr.ndim == 2:
            frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        else:
            raise DataError(f"X must be 2-d (samples × features) or image-shaped, got shape {arr.shape}; "
                            f"accepted: {ACCEPTED}")
    n = len(frame)
    if n == 0 or (kind == "table" and frame.shape[1] == 0):
        raise DataError(f"the data is empty (shape {tuple(np.shape(frame))}): nothing to learn from")
    if len(y_arr) != n:
        raise DataError(f"X has {n} rows but y has {len(y_arr)} values: they must have the same length")
    missing = pd.isna(pd.Series(y_arr)).to_numpy()
    if missing.any():
        name = f"target {target!r}" if target else "y"
        fix = f"df.dropna(subset=[{target!r}])" if target else "X, y = X[~pd.isna(y)], y[~pd.isna(y)]"
        raise DataError(f"{name} has {int(missing.sum())} missing values (NaN); drop those rows first: {fix}")
    if n < MIN_ROWS:
        raise DataError(f"the data has {n} row{'s' if n != 1 else ''}: too few to learn from and cross-validate; "
                        f"give at least {MIN_ROWS} rows (two folds of two), and many more for a useful model")
    detail = ""
    dates: dict[str, str | None] = {}
    text: list[str] = []
    if column_types and kind != "table":
        raise DataError("option 'column_types' applies to tables; this data is images")
    if kind == "table":
        check_column_names(frame.columns, what="X")
        forced = _check_column_types(column_types or {}, frame.columns, target)
        check_cell_types(frame, dates=[c for c, t in forced.items() if t.startswith("date")])
        empty = frame.isna().all(axis=0).to_numpy()
        if empty.all():
            raise DataError(f"every feature column is empty (all values missing): {_preview(frame.columns)}; "
                            "nothing to learn from: check how the data was read or joined")
        if empty.any():  # nothing to learn from an empty column: dropped, and said
            dropped = [str(c) for c in frame.columns[empty]]
            frame = frame.loc[:, ~empty]
            detail = f"dropped {len(dropped)} empty column{'s' if len(dropped) > 1 else ''} (all values missing): {dropped[:5]}"
            logger.warning("%s", detail)
        dates, text, notes = read_column_roles(frame, forced)
        detail = "; ".join(p for p in [detail, *notes] if p)
        frame = tidy_columns(frame, dates=dates, forced=forced)
        check_finite(frame)
    detected, reason = detect_task(y_arr, metric)
    if task == "auto" and metric != "auto":
        check_metric_fits_target(y_arr, metric)
    if task == "auto":
        task = detected
    else:
        reason = f"task={task!r} was given"
    if task in ("binary", "multiclass") and detected == "regression" and _looks_continuous(y_arr):
        raise DataError(f"task={task!r} but the target looks continuous ({len(np.unique(y_arr))} distinct floats); use task='regression'")
    if task == "regression":
        try:
            y_arr = y_arr.astype(float)
        except (TypeError, ValueError):
            raise DataError("task='regression' needs a numeric target") from None
        if np.unique(y_arr).size < 2:
            raise DataError("the target has a single value: there is nothing to predict")
        classes = None
    else:
        classes = np.unique(y_arr)
        if classes.size < 2:
            raise DataError(
                f"the target has only one class ({classes[0]!r}): a classifier needs at least two"
            )
        if task == "binary" and classes.size > 2:
            raise DataError(f"task='binary' but the target has {classes.size} classes; use task='multiclass'")
        counts = pd.Series(y_arr).value_counts()
        if counts.max() < 2:
            name = f"target {target!r}" if target else "y"
            raise DataError(
                f"{name} has one row per class ({classes.size} classes in {len(y_arr)} rows): it looks like an "
                "identifier, not a label; choose another target column, or pass task='regression' if it is a number"
            )
        if counts.min() < 2:
            rare = counts[counts < 2].index.tolist()[:5]
            raise DataError(f"classes {rare} have a single example; cross-validation needs at least 2 per class (drop or merge them)")
    return Dataset(X=frame, y=y_arr, task=task, source=source, target=target, classes=classes, kind=kind,  # type: ignore[arg-type]
                   task_reason=reason, detail=detail, dates=dates, text=text)


def _as_1d(y: Any) -> np.ndarray:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"y must be one column, got {y.shape[1]} columns")
        y = y.iloc[:, 0]
    if hasattr(y, "detach") and hasattr(y, "numpy"):
        y = y.detach().cpu().numpy()
    arr = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise DataError(f"y must be 1-d, got shape {arr.shape}")
    if arr.dtype == object or pd.api.types.is_string_dtype(arr.dtype):
        non_missing = [v for v in arr if not pd.isna(v)]
        if non_missing and all(isinstance(v, (bool, np.bool_)) for v in non_missing):
            return arr
        if non_missing and all(isinstance(v, str) for v in non_missing):
            return arr.astype(object)
    return arr


def _looks_continuous(y: np.ndarray) -> bool:
    if not np.issubdtype(y.dtype, np.floating):
        return False
    return bool(np.any(np.mod(y, 1) != 0))


#: Metrics that only score a regression, and those that only score a classification.
REGRESSION_METRICS = ("r2", "rmse", "mae")
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss")
#: An integer-valued numeric target with more distinct values than this is a regression.
MAX_INTEGER_CLASSES = 20


def detect_task(y: np.ndarray, metric: str = "auto") -> tuple[Task, str]:
    """The task of target ``y`` and why: the metric decides first, then the values.

    Examples
    --------
    >>> detect_task(np.arange(100) % 57, "auto")[0]
    'regression'
    >>> detect_task(np.arange(100) % 3, "r2")
    ('regression', "metric 'r2' scores a regression")
    """
    numeric = y.dtype != object and y.dtype != bool and np.issubdtype(y.dtype, np.number)
    n_unique = int(pd.Series(y).nunique())
    if metric in REGRESSION_METRICS:
        if not numeric:
            raise DataError(f"metric {metric!r} scores a regression but the target is not numeric "
                            f"(dtype {y.dtype}); use a classification metric such as 'accuracy'")
        return "regression", f"metric {metric!r} scores a regression"
    kind = "binary" if n_unique <= 2 else "multiclass"
    if metric in CLASSIFICATION_METRICS:
        return kind, f"metric {metric!r} scores a classification; the target has {n_unique} classes"
    if not numeric:
        return kind, f"the target is not numeric ({n_unique} distinct labels)"
    if _looks_continuous(y):
        return "regression", "the target has non-integer values"
    if n_unique <= 2:
        return "binary", "the target has 2 distinct values"
    if n_unique <= MAX_INTEGER_CLASSES and n_unique < 0.5 * y.size:
        return "multiclass", (f"the target has {n_unique} distinct integer values "
                              f"(at most {MAX_INTEGER_CLASSES}: classes); pass task='regression' for a count")
    return "regression", (f"the target has {n_unique} distinct integer values "
                          f"(more than {MAX_INTEGER_CLASSES}: a regression); pass task='multiclass' for classes")


def check_metric_fits_target(y: np.ndarray, metric: str) -> None:
    """Refuse a metric of one task on a target whose values say the other (``task`` not given).

    A classification metric on a continuous target, or ``r2`` on a few integer classes, is
    almost always a slip; the message says how to force the task when it is not.
    """
    by_values, why = detect_task(y, "auto")
    if metric in CLASSIFICATION_METRICS and by_values == "regression":
        force = "" if _looks_continuous(y) else ", or pass task='multiclass' if these values are classes"
        raise DataError(f"metric {metric!r} scores a classification but the target looks like a regression "
                        f"({why.split(';')[0]}): use a regression metric (r2, rmse, mae){force}")
    if metric in REGRESSION_METRICS and by_values != "regression":
        raise DataError(f"metric {metric!r} scores a regression but the target looks like a {by_values} "
                        f"classification ({why.split(';')[0]}): use a classification metric such as "
                        f"'accuracy' or 'roc_auc', or pass task='regression' if the values are numbers to predict")


def read_text_table(path: Path, sep: str = ",") -> pd.DataFrame:
    """``pd.read_csv`` with one clear :class:`DataError` naming the file when it is not a text table."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"PAR1", b"\x89HDF", b"\x80")):
        raise DataError(f"data file {str(path)!r} is not a text CSV file (it holds binary data): "
                        "give a CSV/TSV text file, a .parquet file or a DataFrame")
    try:
        return pd.read_csv(path, sep=sep)
    except UnicodeDecodeError as exc:
        raise DataError(f"data file {str(path)!r} is not UTF-8 text (byte {exc.start}): "
                        "pass encoding-converted CSV or read it with pd.read_csv(..., encoding=...)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"data file {str(path)!r} cannot be read as CSV: {first}") from None


def check_column_names(columns: Any, *, what: str) -> None:
    """Refuse duplicated column names (after turning them into strings, as the search does)."""
    names = pd.Series([str(c) for c in columns])
    repeated = sorted(set(names[names.duplicated()]))
    if repeated:
        raise DataError(
            f"{what} has duplicated column names {repeated[:5]}: give every column its own name, "
            "e.g. df.columns = [...] or df.loc[:, ~df.columns.duplicated()]"
        )


def check_cell_types(frame: pd.DataFrame, dates: Any = ()) -> None:
    """Refuse columns no model takes: lists, dicts, sets, arrays; durations and times of day.

    Dates (datetime columns, ``datetime.date`` values) are taken: the pipeline makes features of them.
    """
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_timedelta64_dtype(col.dtype):
            raise DataError(_duration_message(c))
        if not pd.api.types.is_object_dtype(col.dtype):
            continue
        sample = col.dropna().head(1000)
        odd = sample.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
        if odd.any():
            kind = type(sample[odd].iloc[0]).__name__
            raise DataError(
                f"column {c!r} holds {kind} values (row {sample[odd].index[0]!r}): a model needs one number "
                "or one category per cell; expand it into columns (pd.json_normalize, df[c].apply(pd.Series)) or drop it"
            )
        import datetime

        if c not in dates and sample.map(lambda v: isinstance(v, (datetime.time, datetime.timedelta))).any():
            raise DataError(_duration_message(c))


def _duration_message(column: str) -> str:
    return (
        f"column {column!r} holds durations or times of day without a date, which the search does not "
        f"turn into numbers itself: convert it, e.g. df[{column!r}] = pd.to_timedelta(df[{column!r}].astype(str))"
        ".dt.total_seconds(), or drop it (whole dates and datetimes are taken as they are)"
    )


def _check_column_types(column_types: dict[str, str], columns: Any, target: str | None) -> dict[str, str]:
    """``column_types`` checked against the columns: every name exists, every type is known."""
    names = [str(c) for c in columns]
    out: dict[str, str] = {}
    for name, kind in column_types.items():
        name = str(name)
        if name not in names:
            what = "the target" if target is not None and name == str(target) else "not a feature column"
            raise DataError(f"option 'column_types' names column {name!r}, which is {what}"
                            f"{did_you_mean(name, names)}; columns are {_preview(names)}")
        text = str(kind).strip()
        if text.split(":", 1)[0] not in COLUMN_TYPES or (text.startswith("date:") and not text[5:].strip()):
            raise DataError(f"option 'column_types': {name!r} is {kind!r}; give one of {', '.join(COLUMN_TYPES)} "
                            "or date:FORMAT (a strptime format such as date:%d/%m/%Y)")
        out[name] = text
    return out


#: A text column is free text when its values have at least this many words (median)...
TEXT_MIN_WORDS = 3
#: ...and at least this many distinct values (or a twentieth of the rows, when more).
TEXT_MIN_DISTINCT = 30


def read_column_roles(frame: pd.DataFrame, forced: dict[str, str]) -> tuple[dict[str, str | None], list[str], list[str]]:
    """The table's date columns (name → format), free-text columns, and notes for the first line.

    A datetime column (naive or time-zone aware) is a date; so is a text column whose values
    all parse with one format that has a year, a month and a day. A text column that parses
    both day-first and month-first stays text, and a note says how to force either. Text with
    many distinct values of several words is free text; ``forced`` (``column_types``) decides first.
    """
    import datetime

    dates: dict[str, str | None] = {}
    text: list[str] = []
    notes: list[str] = []
    for c in frame.columns:
        col = frame[c]
        kind = forced.get(c)
        if kind is not None:
            if kind.startswith("date"):
                fmt = kind[5:].strip() if kind.startswith("date:") else None
                if not pd.api.types.is_datetime64_any_dtype(col.dtype):
                    sample = col.dropna().astype(str).head(1000)
                    parsed = _parses(sample, fmt) if fmt else _guess_date_format(sample)[0]
                    if fmt and not parsed:
                        raise DataError(f"option 'column_types': column {c!r} does not parse as dates with "
                                        f"format {fmt!r} (first value {sample.iloc[0]!r}); give its format, "
                                        "e.g. date:%Y-%m-%d or date:%d/%m/%Y")
                    fmt = fmt or parsed
                dates[c] = fmt
            elif kind == "text":
                text.append(c)
            continue
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            dates[c] = None
            continue
        if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
            continue
        values = col.dropna()
        if values.empty:
            continue
        sample = values.head(1000)
        if sample.map(lambda v: isinstance(v, (datetime.date, pd.Timestamp))).all():
            dates[c] = None
            continue
        if not sample.map(lambda v: isinstance(v, str)).all():
            continue
        if pd.to_numeric(sample, errors="coerce").notna().all():
            continue  # numbers stored as text
        fmt, ambiguous = _guess_date_format(sample)
        if fmt is not None and _parses(values.astype(str), fmt):
            dates[c] = fmt
            continue
        if ambiguous:
            notes.append(f"column {c!r} looks like dates but day and month cannot be told apart "
                         f"({sample.iloc[0]!r}): read as text; to read it as dates give column_types: "
                         f"{{{c}: 'date:{ambiguous[0]}'}} (or 'date:{ambiguous[1]}')")
        words = sample.str.split().str.len()
        if words.median() >= TEXT_MIN_WORDS and values.nunique() >= max(TEXT_MIN_DISTINCT, len(values) // 20):
            text.append(c)
    if notes:
        for note in notes:
            logger.warning("%s", note)
    return dates, text, notes


def _guess_date_format(sample: pd.Series) -> tuple[str | None, tuple[str, str] | None]:
    """(the one format all values parse with, or None; the two formats when day/month is ambiguous)."""
    try:
        from pandas.tseries.api import guess_datetime_format
    except ImportError:  # pandas < 2.2
        from pandas._libs.tslibs.parsing import guess_datetime_format

    first = str(sample.iloc[0]).strip()
    if len(first) < 6 or len(first) > 40:
        return None, None
    candidates = []
    for dayfirst in (False, True):
        try:
            fmt = guess_datetime_format(first, dayfirst=dayfirst)
        except (ValueError, TypeError):
            fmt = None
        if fmt and any(y in fmt for y in ("%Y", "%y")) and any(m in fmt for m in ("%m", "%b", "%B")) \
                and "%d" in fmt and fmt not in candidates:
            candidates.append(fmt)
    if not candidates:
        return None, None
    if candidates[0].startswith("%Y-%m-%d"):  # ISO 8601: year, month, day, never the other order
        return (candidates[0] if _parses(sample, candidates[0]) else None), None
    parsing = [f for f in candidates if _parses(sample, f)]
    if len(parsing) == 1:
        return parsing[0], None
    if len(parsing) == 2:
        return None, (parsing[0], parsing[1])
    return None, None


def _parses(values: pd.Series, fmt: str) -> bool:
    """Every value parses with ``fmt`` (text with mixed UTC offsets is read at its wall clock)."""
    import warnings

    from jupyter_automl.spaces.tabular.features import DateFeatures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = DateFeatures._parse(values.astype(object), fmt)
        except (ValueError, TypeError, OverflowError):
            return False
    return bool(parsed.notna().all())


def check_finite(frame: pd.DataFrame) -> None:
    """Refuse ±inf in a feature (NaN is fine: it is imputed); name the columns."""
    numeric = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c].dtype)]
    if not numeric:
        return
    bad = [c for c in numeric if np.isinf(frame[c].to_numpy()).any()]
    if bad:
        count = int(np.isinf(frame[bad[0]].to_numpy()).sum())
        raise DataError(
            f"column(s) {bad[:5]} hold infinite values ({count} in {bad[0]!r}): replace them, e.g. "
            "df.replace([np.inf, -np.inf], np.nan) to have them imputed"
        )


def _as_text(col: pd.Series) -> pd.Series:
    """``col`` as Python strings (missing cells kept as they are), each distinct value once."""
    codes, levels = pd.factorize(col)
    texts = np.array([str(v) for v in levels] + [None], dtype=object)[codes]
    missing = codes < 0
    if missing.any():  # as a row-by-row map leaves them (None in an object column becomes NaN)
        texts[missing] = col[missing].map(lambda v: v).astype(object).to_numpy()
    return pd.Series(texts, index=col.index, dtype=object)


def tidy_columns(frame: pd.DataFrame, dates: Any = (), forced: dict[str, str] | None = None) -> pd.DataFrame:
    """Make dtypes explicit: strings/bools become categories so every model sees the same types.

    Numeric columns are converted in one block, so a table of 10,000 columns is typed in
    milliseconds; only text-like columns are looked at one by one. Date columns keep a datetime
    dtype, or become text (``DateFeatures`` parses it); ``forced`` (``column_types``) makes a
    column numeric or categorical whatever its dtype.
    """
    frame = frame.reset_index(drop=True)
    forced = forced or {}
    is_number = np.array([pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
                          and c not in dates and forced.get(c) not in ("categorical", "text")
                          for c, t in zip(frame.columns, frame.dtypes, strict=True)])
    numbers = frame.loc[:, is_number].astype(float) if is_number.any() else None
    out: dict[Any, pd.Series] = {}
    for c in frame.columns[~is_number]:
        col = frame[c]
        if c in dates:
            out[c] = col if pd.api.types.is_datetime64_any_dtype(col.dtype) else _as_text(col)
        elif forced.get(c) == "numeric":
            out[c] = pd.to_numeric(col, errors="coerce").astype(float)
        elif forced.get(c) in ("categorical", "text"):
            out[c] = _as_text(col)
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):  # a date column of a model's training
            out[c] = col
        elif isinstance(col.dtype, pd.CategoricalDtype):
            out[c] = _as_text(col)
        elif pd.api.types.is_bool_dtype(col.dtype):
            out[c] = col.map(str).astype(object)
        elif pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype):
            codes, levels = pd.factorize(col)  # each distinct value converted once, not each row
            converted = pd.to_numeric(pd.Series(np.asarray(levels, dtype=object)), errors="coerce")
            if converted.notna().all():  # numbers stored as text
                out[c] = pd.Series(
                    np.append(converted.to_numpy(float), np.nan)[codes], index=col.index
                )
            else:  # one type per column: mixed str/int objects would not sort in the encoders
                out[c] = _as_text(col)
        else:
            out[c] = pd.to_numeric(col, errors="coerce").astype(float)
    if not out:
        return numbers if numbers is not None else frame
    others = pd.DataFrame(out, index=frame.index)
    if numbers is None:
        return others[list(frame.columns)]
    return pd.concat([numbers, others], axis=1)[list(frame.columns)]

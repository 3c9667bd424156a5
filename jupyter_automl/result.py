"""`SearchResult`: the best model, the leaderboard, predictions, export and the notebook display."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from jupyter_automl._errors import AutoMLError, StorageError
from jupyter_automl.report import (
    MIME_TYPE,
    add_score_order,
    payload_html,
    payload_text,
    study_payload,
)

__all__ = ["SearchResult", "load", "SAVED_MAGIC", "SAVED_FORMAT", "read_saved", "write_saved"]

SAVED_MAGIC = b"JUPYTER-AUTOML SAVED MODEL\n"
SAVED_FORMAT = 2  # 1: a bare joblib pickle (before headers)
SAVED_KIND = "search-result"
_HEADER_MAX = 4096

_LEADERBOARD_COLUMNS = ["rank", "trial", "model", "score", "score_std", "duration_s", "state", "params", "error"]


class SearchResult:
    """What a search leaves: the fitted best model, its score and parameters, every trial.

    Attributes
    ----------
    best_model : the fitted scikit-learn ``Pipeline`` (or ``nn.Module`` for NAS), refit on all data
    best_score, best_params, n_trials, leaderboard, study, stop_reason

    Examples
    --------
    >>> import jupyter_automl as ja
    >>> result = ja.search(data="sklearn:iris", n_trials=3, storage="memory", display=False)
    >>> result.leaderboard.columns.tolist()[:4]
    ['rank', 'trial', 'model', 'score']
    """

    def __init__(self, study: Any, config: Any, *, space: Any = None, dataset: Any = None,
                 storage_url: str | None = None, stop_event: threading.Event | None = None) -> None:
        self.study = study
        self.config = config
        self.space = space
        self.dataset = dataset
        self.storage_url = storage_url
        self.best_model: Any = None
        self.stop_reason: str | None = None
        self.ensemble: dict[str, Any] | None = None
        self.threshold: dict[str, Any] | None = None  # tuned decision threshold of a binary model
        self.final: dict[str, Any] | None = None  # the space's description of the final model
        self.elapsed_s: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = stop_event
        self._error: BaseException | None = None
        self._meta: dict[str, Any] = {}
        self._shown_in_cell: int | None = None  # the execution count of the cell its view ended in
        self.insight: dict[str, Any] | None = None  # held-out score and charts (jupyter_automl.insight)
        self.holdout_index: np.ndarray | None = None  # rows of `dataset` kept out of the search
        if dataset is not None:
            self._meta = {"task": dataset.task, "classes": dataset.classes,
                          "task_reason": getattr(dataset, "task_reason", "")}

    # ------------------------------------------------------------------ state of the run
    def run_in(self, thread: threading.Thread) -> None:
        """Record the background thread the search runs in (for :meth:`wait` and the messages)."""
        self._thread = thread

    def mark_done(self, error: BaseException | None = None) -> None:
        """The search has ended (with ``error``, re-raised by :meth:`wait`): wake the waiters."""
        if error is not None:
            self._error = error
        self._done.set()

    def __getstate__(self) -> dict[str, Any]:
        """Everything but the run's thread and events (a finished result pickles whole)."""
        if not self.done and self._thread is not None:
            raise AutoMLError("the search is still running: call result.wait() before pickling the result")
        state = self.__dict__.copy()
        state["_done"] = self._done.is_set()
        for key in ("_thread", "_stop"):
            state[key] = None
        if not isinstance(self.study, _LoadedStudy):
            state["study"] = _study_snapshot(self.study)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        done = state.pop("_done", True)
        if isinstance(state.get("study"), dict):
            state["study"] = _study_from_snapshot(state["study"])
        self.__dict__.update(state)
        self._done = threading.Event()
        if done:
            self._done.set()

    @property
    def done(self) -> bool:
        """``True`` once the search has ended and the best model is fitted."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> SearchResult:
        """Block until a background search ends; re-raise its error, if any."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"the search is still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Ask a running search to stop after the current step; the best model is still fitted."""
        if self._stop is not None:
            self._stop.set()

    # --------------------------------------------------------------------- the answer
    def _best_trial(self) -> Any:
        return best_trial_of(self.study)

    @property
    def best_score(self) -> float | None:
        """The cross-validated score of the final model: what the result's header, ``ja.list_studies()``
        and the exported script's docstring call "best".

        It is the ensemble's score when an ensemble was kept (the header then shows the best single
        trial's score beside it, named as such), otherwise the best trial's. ``None`` before any
        trial completed.
        """
        if self.ensemble is not None:
            return self.ensemble["score"]
        best = self._best_trial()
        return None if best is None else best.values[0]

    @property
    def best_params(self) -> dict[str, Any]:
        best = self._best_trial()
        if best is None:
            return {}
        params = dict(best.params)
        # NAS trials sample edges/ops as Optuna params; the genotype string is stored beside them
        from jupyter_automl.storage import ATTR

        genotype = best.user_attrs.get(ATTR, {}).get("genotype")
        if genotype is not None:
            params["genotype"] = genotype
        # what the fits decided, e.g. the rounds at which LightGBM stopped early
        params.update(best.user_attrs.get(ATTR, {}).get("learned_params") or {})
        return params

    @property
    def best_trial(self) -> Any:
        """The Optuna ``FrozenTrial`` of the best candidate."""
        return self._best_trial()

    @property
    def n_trials(self) -> int:
        """Finished trials in the study (complete, pruned or failed)."""
        return sum(1 for t in self.study.get_trials(deepcopy=False) if t.state.is_finished())

    @property
    def leaderboard(self) -> Any:
        """A DataFrame, best first: rank, trial, model, score, score_std, duration_s, state, params, error
        (then ``epochs_run``, ``pareto`` and ``worker`` (host:pid or Dask address) where known)."""
        import pandas as pd

        rows = self.payload(max_rows=1_000_000)["leaderboard"]["rows"]
        optional = [c for c in ("epochs_run", "pareto", "worker") if any(c in r for r in rows)]
        frame = pd.DataFrame(rows, columns=_LEADERBOARD_COLUMNS + optional)
        frame["rank"] = frame["rank"].astype("Int64")
        return frame

    def _need_model(self) -> Any:
        if self.best_model is None:
            if not self.done and self._thread is not None:
                raise AutoMLError("the search is still running: call result.wait() first")
            if (self.final or {}).get("error"):  # the trials completed; the final fit failed
                raise AutoMLError(str(self.final.get("note") or f"no model: {self.final['error']}"))
            raise AutoMLError("no model: no trial completed (see result.leaderboard for the errors)")
        return self.best_model

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the best model."""
        model = self._need_model()
        X = self._frame(X)
        return self.space.predict(model, X) if self.space is not None else model.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the best model (classification only)."""
        model = self._need_model()
        if self._meta.get("task") == "regression":
            raise AutoMLError("predict_proba is for classification; this search is a regression")
        X = self._frame(X)
        return self.space.predict_proba(model, X) if self.space is not None else model.predict_proba(X)

    @property
    def task(self) -> str | None:
        """The task searched: ``binary``, ``multiclass`` or ``regression``."""
        return self._meta.get("task")

    @property
    def task_reason(self) -> str:
        """Why that task: the option given, the metric, or what the target looks like."""
        return str(self._meta.get("task_reason") or "")

    @property
    def classes_(self) -> np.ndarray | None:
        return self._meta.get("classes")

    def _frame(self, X: Any) -> Any:
        """Give ``X`` the columns and types the pipeline was trained with."""
        if self.dataset is None or self.dataset.kind != "table":
            return X
        return _training_frame(X, list(self.dataset.X.columns), self.dataset.X.dtypes.to_dict())

    # ---------------------------------------------------------------- records and export
    def payload(self, max_rows: int = 200) -> dict[str, Any]:
        """The versioned JSON record (``application/vnd.jupyter-automl.result.v1+json``)."""
        payload = study_payload(self.study, storage=self.storage_url, max_rows=max_rows)
        if self.ensemble is not None or self.done:  # a finished run's own answer, even None
            payload["ensemble"] = self.ensemble
        if self.insight is not None and not payload.get("insight"):
            payload["insight"] = self.insight
            add_score_order(payload)
        if self.threshold is not None:
            payload["threshold"] = self.threshold
        if self._meta.get("task_reason"):
            payload["task_reason"] = self._meta["task_reason"]
        return payload

    # ------------------------------------------------------------------ scores and insight
    @property
    def holdout_score(self) -> float | None:
        """The final model's score on the rows kept out of the search (``holdout``), or ``None``."""
        holdout = (self.payload().get("insight") or {}).get("holdout") or {}
        return holdout.get("ensemble_score") if holdout.get("model") == "ensemble" else holdout.get("score")

    def evaluate(self, X: Any, y: Any) -> dict[str, float | None]:
        """Score labelled data with the search's metric (first) and every other metric of the task.

        Examples
        --------
        >>> import jupyter_automl as ja
        >>> r = ja.search(data="sklearn:iris", n_trials=2, storage="memory", display=False)
        >>> sorted(r.evaluate(r.dataset.X, r.dataset.y))
        ['accuracy', 'balanced_accuracy', 'f1_macro', 'log_loss', 'roc_auc']
        """
        from jupyter_automl.insight.scoring import evaluate_result

        return evaluate_result(self, X, y)

    def score(self, X: Any, y: Any) -> float | None:
        """The search's metric on labelled data (as in the leaderboard: higher or lower is better)."""
        from jupyter_automl.insight.scoring import evaluate_result

        return next(iter(evaluate_result(self, X, y, only_search_metric=True).values()))

    def plot(self, name: str) -> Any:
        """The Bokeh figure of one stored insight chart (``result.plot("confusion_matrix")``).

        The names are those of ``jupyter_automl.insight.chart_names(result.insight)``; the charts
        were computed at the end of the search, so nothing is refit here. Needs bokeh.
        """
        from jupyter_automl.insight import chart_names

        insight = self.payload().get("insight")
        names = chart_names(insight)
        if name not in names:
            from jupyter_automl._errors import did_you_mean

            raise AutoMLError(f"no chart {name!r} in this result{did_you_mean(name, names)}; "
                              f"charts: {', '.join(names) or 'none (a result of an older version, or no trial)'}")
        from jupyter_automl.ui.insight_figures import chart_figure  # bokeh lives in ui

        chart = next(c for s in ("model", "search") for c in insight[s]["charts"] if c["name"] == name)
        return chart_figure(chart)

    def export(self, path: str | Path) -> Path:
        """Write a standalone script that trains the best model without jupyter-automl."""
        if self.space is None:
            raise AutoMLError("export needs the search's data description: re-run or resume the search")
        best = self._best_trial()
        if best is None:
            raise AutoMLError("nothing to export: no trial completed")
        from jupyter_automl.export import write_export

        return write_export(self, Path(path))

    def save(self, path: str | Path) -> Path:
        """Write the fitted model with its metadata; read it back with :func:`load`.

        The file is a one-line header (what it is, the format and package versions, the size and
        SHA-256 of what follows) and a joblib pickle. :func:`load` checks the header before it
        unpickles anything. Loading runs the pickle's code, as every pickle does: load only files
        you trust.
        """
        import joblib

        self._need_model()
        path = Path(path)
        table = self.dataset is not None and self.dataset.kind == "table"
        state = {
            "model": self.best_model,
            "config": self.config.to_dict(),
            "meta": self._meta,
            "columns": list(self.dataset.X.columns) if table else None,
            "dtypes": {str(k): str(v) for k, v in self.dataset.X.dtypes.items()} if table else None,
            "study_name": self.study.study_name,
            "storage": self.storage_url,
            "payload": self.payload(),
            "ensemble": self.ensemble,
            "threshold": self.threshold,
            "stop_reason": self.stop_reason,
        }
        buffer = io.BytesIO()
        joblib.dump(state, buffer)
        write_saved(path, buffer.getvalue(), kind=SAVED_KIND)
        return path

    # ------------------------------------------------------------------------ display
    def __repr__(self) -> str:
        best = self.best_score
        score = "none" if best is None else f"{best:.4f}"
        return (f"SearchResult(study={self.study.study_name!r}, best_score={score}, "
                f"n_trials={self.n_trials}, state={'done' if self.done else 'running'})")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        payload = self.payload()
        diagram_svg = None
        if payload.get("diagram"):
            from jupyter_automl.spaces.nas.diagram import diagram_svg as draw

            genotype = (payload.get("best") or {}).get("genotype")
            diagram_svg = draw(payload["diagram"], layout=payload.get("diagram_layout"),
                               title=str(genotype) if genotype else None)
        return {
            MIME_TYPE: payload,
            "text/html": payload_html(payload, diagram_svg=diagram_svg),
            "text/plain": payload_text(payload),
        }

    @property
    def _ipython_display_(self) -> Any:
        """IPython's display hook, present only when this result's live view already shows it in
        the running cell (``ja.search(...)`` as the last expression): then it displays nothing.
        Otherwise it does not exist, and IPython shows ``_repr_mimebundle_`` as usual."""
        import sys

        shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
        if self._shown_in_cell is None or shell is None or shell.execution_count != self._shown_in_cell:
            raise AttributeError("_ipython_display_")
        return lambda: None


def _training_frame(X: Any, columns: list[str], dtypes: dict[str, Any] | None) -> Any:
    """Arrays get the training column names; DataFrames are checked, tidied and typed alike."""
    import pandas as pd

    from jupyter_automl._errors import DataError
    from jupyter_automl.data import _as_text, tidy_columns

    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        return pd.DataFrame(arr.reshape(1, -1) if arr.ndim == 1 else arr, columns=columns)
    frame = X.copy()
    frame.columns = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"X lacks the column(s) {missing[:5]} the model was trained on")
    tidy = tidy_columns(frame[columns])
    if dtypes:  # a number column the search read as categories (column_types): text as in training
        for c in columns:
            if str(dtypes.get(c)) == "object" and pd.api.types.is_float_dtype(tidy[c].dtype):
                tidy[c] = _as_text(frame[c])
    return tidy.astype(dtypes, errors="ignore") if dtypes else tidy


def best_trial_of(study: Any) -> Any:
    """The best trial, or ``None``; on a Pareto front, the member best on the first objective."""
    import optuna

    try:
        if len(study.directions) == 1:
            return study.best_trial
        front = study.best_trials
    except (ValueError, RuntimeError):
        return None
    if not front:
        return None
    sign = 1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1.0
    return max(front, key=lambda t: (sign * t.values[0], -t.number))


def _study_snapshot(study: Any) -> dict[str, Any]:
    """A study as plain picklable parts: its name, directions, attributes and frozen trials."""
    return {
        "name": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "user_attrs": dict(study.user_attrs),
        "trials": [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()],
    }


def _study_from_snapshot(snapshot: dict[str, Any]) -> Any:
    """An in-memory Optuna study holding a snapshot's trials (unpickled results keep their leaderboard)."""
    import optuna

    from jupyter_automl.quiet import quiet_optuna

    with quiet_optuna():
        study = optuna.create_study(study_name=snapshot["name"], directions=snapshot["directions"],
                                    storage=optuna.storages.InMemoryStorage())
        study.add_trials(snapshot["trials"])
    for key, value in snapshot["user_attrs"].items():
        study.set_user_attr(key, value)
    return study


class _LoadedStudy:
    """Stand-in for an Optuna study when a saved result's storage is gone: serves the saved payload."""

    def __init__(self, name: str) -> None:
        self.study_name = name


class LoadedResult(SearchResult):
    """A result read back by :func:`load`: predicts and displays without the original storage."""

    def __init__(self, state: dict[str, Any]) -> None:
        from jupyter_automl.config import SearchConfig

        self._state = state
        super().__init__(_LoadedStudy(state["study_name"]), SearchConfig.from_dict(state["config"]),
                         storage_url=state.get("storage"))
        self.best_model = state["model"]
        self._meta = state["meta"]
        self.ensemble = state.get("ensemble")
        self.threshold = state.get("threshold")
        self.stop_reason = state.get("stop_reason")
        self.insight = state["payload"].get("insight")
        self._done.set()

    def payload(self, max_rows: int = 200) -> dict[str, Any]:
        return self._state["payload"]

    @property
    def best_score(self) -> float | None:
        best = self._state["payload"].get("best") or {}
        return self.ensemble["score"] if self.ensemble else best.get("score")

    @property
    def best_params(self) -> dict[str, Any]:
        return dict((self._state["payload"].get("best") or {}).get("params") or {})

    @property
    def n_trials(self) -> int:
        return int(self._state["payload"]["study"]["n_trials"])

    def _frame(self, X: Any) -> Any:
        cols = self._state.get("columns")
        return X if cols is None else _training_frame(X, cols, self._state.get("dtypes"))

    def predict(self, X: Any) -> np.ndarray:
        return self.best_model.predict(self._frame(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        if self._meta.get("task") == "regression":
            raise AutoMLError("predict_proba is for classification; this search is a regression")
        return self.best_model.predict_proba(self._frame(X))

    def export(self, path: str | Path) -> Path:
        raise AutoMLError("export from a loaded result needs the study: resume it with ja.search(name=..., resume=True)")


def write_saved(path: Path, body: bytes, *, kind: str) -> None:
    """Write ``SAVED_MAGIC``, a JSON header line (kind, versions, size, SHA-256) and ``body``."""
    from jupyter_automl import __version__

    header = {"format": SAVED_FORMAT, "kind": kind, "package": "jupyter-automl", "version": __version__,
              "pickle": "joblib", "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    with open(path, "wb") as out:
        out.write(SAVED_MAGIC)
        out.write(json.dumps(header).encode() + b"\n")
        out.write(body)


def read_saved(path: Path, *, kind: str) -> tuple[dict[str, Any], bytes]:
    """The header and the body of a file :func:`write_saved` wrote; :class:`StorageError` for anything else.

    Nothing is unpickled here: the magic, the header, the size and the checksum are checked first.
    """
    shown = str(path)
    not_ours = (f"{shown!r} is not a model file saved by jupyter-automl (SearchResult.save writes a "
                "header this file lacks); nothing was loaded from it")
    with open(path, "rb") as handle:
        if handle.read(len(SAVED_MAGIC)) != SAVED_MAGIC:
            raise StorageError(not_ours)
        line = handle.readline(_HEADER_MAX)
        body = handle.read()
    try:
        header = json.loads(line.decode())
    except (UnicodeDecodeError, ValueError):
        raise StorageError(f"{shown!r}: the header of the saved model is damaged; nothing was loaded from it") from None
    if not isinstance(header, dict) or header.get("kind") != kind:
        raise StorageError(f"{shown!r} holds a {header.get('kind') if isinstance(header, dict) else '?'!r}, "
                           f"not a {kind!r}; nothing was loaded from it")
    if header.get("format") != SAVED_FORMAT:
        raise StorageError(f"{shown!r} is in saved-model format {header.get('format')!r} (jupyter-automl "
                           f"{header.get('version')}); this version reads format {SAVED_FORMAT}: "
                           "save it again with the version that wrote it")
    if len(body) != header.get("size") or hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise StorageError(f"{shown!r} is truncated or damaged ({len(body)} of {header.get('size')} bytes "
                           "after the header, or a different checksum); nothing was loaded from it")
    return header, body


def load(path: str | Path) -> SearchResult:
    """Read a result written by :meth:`SearchResult.save`.

    The file's header is checked before anything is unpickled; then the model is unpickled,
    which runs code as every pickle does: load only files you trust.

    Raises
    ------
    StorageError
        The file does not exist, is not a saved model, is truncated or damaged.

    Examples
    --------
    >>> import jupyter_automl as ja, tempfile, os
    >>> r = ja.search(data="sklearn:iris", n_trials=2, storage="memory", display=False)
    >>> p = r.save(os.path.join(tempfile.mkdtemp(), "best.joblib"))
    >>> (ja.load(p).predict(r.dataset.X) == r.predict(r.dataset.X)).all()
    True
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise StorageError(f"no saved result at {str(path)!r}")
    _, body = read_saved(path, kind=SAVED_KIND)
    state = joblib.load(io.BytesIO(body))
    return LoadedResult(state)

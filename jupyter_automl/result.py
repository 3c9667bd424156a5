"""`SearchResult`: the best model, the leaderboard, predictions, export and the notebook display."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from jupyter_automl._errors import AutoMLError, StorageError
from jupyter_automl.report import MIME_TYPE, payload_html, payload_text, study_payload

__all__ = ["SearchResult", "load"]

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
                 storage_url: str | None = None) -> None:
        self.study = study
        self.config = config
        self.space = space
        self.dataset = dataset
        self.storage_url = storage_url
        self.best_model: Any = None
        self.stop_reason: str | None = None
        self.ensemble: dict[str, Any] | None = None
        self.elapsed_s: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        self._error: BaseException | None = None
        self._meta: dict[str, Any] = {}
        if dataset is not None:
            self._meta = {"task": dataset.task, "classes": dataset.classes}

    # ------------------------------------------------------------------ state of the run
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
        """Cross-validated score of the best trial (of the ensemble when one was kept)."""
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
        if self.ensemble is not None:
            payload["ensemble"] = self.ensemble
        return payload

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
        """Pickle the fitted model with its metadata (joblib); read it back with :func:`load`."""
        import joblib

        self._need_model()
        path = Path(path)
        state = {
            "format": "jupyter-automl/1",
            "model": self.best_model,
            "config": self.config.to_dict(),
            "meta": self._meta,
            "columns": list(self.dataset.X.columns) if self.dataset is not None and self.dataset.kind == "table" else None,
            "dtypes": {str(k): str(v) for k, v in self.dataset.X.dtypes.items()} if self.dataset is not None and self.dataset.kind == "table" else None,
            "study_name": self.study.study_name,
            "storage": self.storage_url,
            "payload": self.payload(),
            "ensemble": self.ensemble,
            "stop_reason": self.stop_reason,
        }
        joblib.dump(state, path)
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
            try:
                from jupyter_automl.spaces.nas.diagram import diagram_svg as draw

                diagram_svg = draw(payload["diagram"])
            except ImportError:
                diagram_svg = None
        return {
            MIME_TYPE: payload,
            "text/html": payload_html(payload, diagram_svg=diagram_svg),
            "text/plain": payload_text(payload),
        }


def _training_frame(X: Any, columns: list[str], dtypes: dict[str, Any] | None) -> Any:
    """Arrays get the training column names; DataFrames are checked, tidied and typed alike."""
    import pandas as pd

    from jupyter_automl._errors import DataError
    from jupyter_automl.data import _tidy_columns

    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        return pd.DataFrame(arr.reshape(1, -1) if arr.ndim == 1 else arr, columns=columns)
    frame = X.copy()
    frame.columns = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"X lacks the column(s) {missing[:5]} the model was trained on")
    tidy = _tidy_columns(frame[columns])
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
        self.stop_reason = state.get("stop_reason")
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


def load(path: str | Path) -> SearchResult:
    """Read a result written by :meth:`SearchResult.save`.

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
    if not path.exists():
        raise StorageError(f"no saved result at {str(path)!r}")
    state = joblib.load(path)
    if not isinstance(state, dict) or state.get("format") != "jupyter-automl/1":
        raise StorageError(f"{str(path)!r} was not written by SearchResult.save()")
    return LoadedResult(state)

"""What every search space provides to the runner."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from jupyter_automl.evaluate.evaluation import Evaluation  # re-exported: spaces build it

if TYPE_CHECKING:
    import optuna

    from jupyter_automl.config import SearchConfig
    from jupyter_automl.data import Dataset
    from jupyter_automl.evaluate import TrialBudget

__all__ = ["SearchSpace", "Evaluation", "FinalModel", "FitFailed", "fit_limit"]


@dataclass
class FinalModel:
    """The model a search returns, and what the space wants kept about it.

    ``description`` (JSON-able) is what ``export_final`` writes a script from; ``ensemble``
    and ``threshold`` are shown with the result when the space made one.
    """

    model: Any
    description: dict[str, Any] | None = None
    ensemble: dict[str, Any] | None = None
    threshold: dict[str, Any] | None = None


class FitFailed(Exception):
    """The final model's fit crashed, hung past its limit or raised in its worker."""


def fit_limit(space: Any, seconds_left: float) -> float | None:
    """Seconds a final fit may run in its worker before it is killed (``None``: no time budget).

    The time left, and a quarter of the budget (at least 5 s) more: a fit a little slower than
    estimated still returns a model, late; a hung or runaway fit is killed.
    """
    budget = getattr(space.config, "time_budget", None)
    if budget is None or seconds_left == float("inf"):
        return None
    return max(0.0, seconds_left) + max(5.0, 0.25 * float(budget))


class SearchSpace(ABC):
    """A family of candidates: how to sample one, score it and train the chosen one.

    ``sample`` is a define-by-run function of an Optuna trial; ``evaluate`` reports
    intermediate values (``trial.report``) so pruners can stop weak candidates and calls
    ``budget.check`` before each expensive step so the run's deadline holds.
    """

    name: ClassVar[str]
    #: The most of the time budget the runner keeps back for :meth:`final_model`, for a space
    #: whose final model fits on fewer rows when all of them would overrun (``None``: no cap).
    final_share: ClassVar[float | None] = None

    def __init__(self, config: SearchConfig, data: Dataset, *, threads: int = 1) -> None:
        self.config = config
        self.data = data
        self.threads = threads

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a saved or pickled result keeps its space): locks are left out, made anew."""
        return {k: v for k, v in self.__dict__.items() if not _is_lock(v)} | {
            "_locks": [k for k, v in self.__dict__.items() if _is_lock(v)]
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        locks = state.pop("_locks", [])
        self.__dict__.update(state)
        for key in locks:
            setattr(self, key, threading.Lock())

    def check(self) -> None:
        """Raise ``ConfigError``/``DataError`` for combinations this space refuses (before any trial)."""

    @property
    def directions(self) -> list[str]:
        """One Optuna direction per objective."""
        return ["maximize"]

    @abstractmethod
    def sample(self, trial: optuna.Trial) -> dict[str, Any]:
        """Suggest one candidate's parameters."""

    @abstractmethod
    def evaluate(self, trial: optuna.Trial, params: dict[str, Any], budget: TrialBudget) -> Evaluation:
        """Score the candidate (raise ``optuna.TrialPruned`` to prune, ``TrialTimeout`` is the budget's)."""

    @abstractmethod
    def fit_final(self, params: dict[str, Any], budget: TrialBudget) -> Any:
        """Train the candidate on all the data and return the model."""

    def train_final(self, params: dict[str, Any], budget: TrialBudget | None, *, data: Dataset | None = None) -> Any:
        """:meth:`fit_final` on ``data`` instead of the searched rows (the refit on every row).

        After a fit on ``data`` the space describes ``data``, as a refit leaves it; when the fit
        raises (the budget's ``TrialTimeout``, a failure) it describes the searched rows again,
        whose model stays. A space that trains elsewhere (NAS: in the trials' worker) overrides it.
        """
        if data is None:
            return self.fit_final(params, budget)
        searched = self.data
        self.use_data(data)
        try:
            return self.fit_final(params, budget)
        except BaseException:
            self.use_data(searched)
            raise

    def use_data(self, data: Dataset) -> None:
        """Describe ``data`` from now on (a space with data prepared from the rows drops it)."""
        self.data = data

    def final_model(self, best: Any, trials: list[Any], oof: dict[int, np.ndarray], budget: TrialBudget) -> FinalModel:
        """The model to return after the search: by default ``best`` refit on all the data.

        ``trials`` are the finished trials, ``oof`` the out-of-fold predictions the runner kept
        by trial number, ``budget`` the run's deadline (a space may skip optional steps past it).
        """
        return FinalModel(self.fit_final(dict(best.params), budget))

    def reserve_seconds(self, best: Any) -> float | None:
        """Seconds the runner keeps back for :meth:`final_model` (``None``: its own estimate)."""
        return None

    def observe(self, params: dict[str, Any], evaluation: Evaluation) -> None:
        """An evaluation of ``params`` that ran in another process came back (learn timings from it)."""

    def portfolio(self) -> list[dict[str, Any]]:
        """Parameters tried before the sampler takes over (cheap, strong defaults)."""
        return []

    def last_chance(self) -> dict[str, Any] | None:
        """The cheapest sure candidate, tried in the searching process when the time budget ended
        before any trial completed (``None``: the space has none; it then ends with no model)."""
        return None

    def preset(self) -> dict[str, Any]:
        """The single candidate of the ``rules`` strategy (first of the portfolio by default)."""
        portfolio = self.portfolio()
        if not portfolio:
            raise NotImplementedError(f"space {self.name!r} has no preset for strategy 'rules'")
        return portfolio[0]

    def describe(self, params: dict[str, Any]) -> str:
        """Short name of the candidate for the leaderboard's ``model`` column."""
        return str(params.get("model", self.name))

    def key_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters worth a leaderboard column (default: all but the model name)."""
        return {k: v for k, v in params.items() if k != "model"}

    def export_source(self, params: dict[str, Any], model: Any) -> str:
        """Standalone source text that rebuilds and trains the candidate."""
        raise NotImplementedError(f"space {self.name!r} cannot export code yet")

    def export_final(self, final: dict[str, Any], *, study: str = "", holdout: float | None = None,
                     script: str = "train_best.py") -> str:
        """Source text of the final model that :meth:`final_model` described (``holdout``: the
        fraction of rows the search kept out, which the script splits off the same way; ``script``:
        the file name its usage line gives)."""
        raise NotImplementedError(f"space {self.name!r} cannot export a final model description")

    def diagram(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """``{"nodes": [...], "edges": [...]}`` of an architecture, or ``None``."""
        return None

    def predict(self, model: Any, X: Any) -> np.ndarray:
        return model.predict(X)

    def predict_proba(self, model: Any, X: Any) -> np.ndarray:
        if not hasattr(model, "predict_proba"):
            raise AttributeError(f"{type(model).__name__} has no predict_proba")
        return model.predict_proba(X)


def _is_lock(value: Any) -> bool:
    return isinstance(value, (type(threading.Lock()), type(threading.RLock())))

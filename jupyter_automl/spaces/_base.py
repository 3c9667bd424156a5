"""What every search space provides to the runner."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import optuna

    from jupyter_automl.config import SearchConfig
    from jupyter_automl.data import Dataset
    from jupyter_automl.evaluate import TrialBudget

__all__ = ["SearchSpace", "Evaluation"]


@dataclass
class Evaluation:
    """One candidate's score(s) and what to store with it."""

    values: float | tuple[float, ...]
    score_std: float | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    oof: np.ndarray | None = None  # out-of-fold predictions, for ensembles
    fit_seconds: float = 0.0


class SearchSpace(ABC):
    """A family of candidates: how to sample one, score it and train the chosen one.

    ``sample`` is a define-by-run function of an Optuna trial; ``evaluate`` reports
    intermediate values (``trial.report``) so pruners can stop weak candidates and calls
    ``budget.check`` before each expensive step so the run's deadline holds.
    """

    name: ClassVar[str]

    def __init__(self, config: SearchConfig, data: Dataset, *, threads: int = 1) -> None:
        self.config = config
        self.data = data
        self.threads = threads

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

    def observe(self, params: dict[str, Any], evaluation: Evaluation) -> None:
        """An evaluation of ``params`` that ran in another process came back (learn timings from it)."""

    def portfolio(self) -> list[dict[str, Any]]:
        """Parameters tried before the sampler takes over (cheap, strong defaults)."""
        return []

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

    def diagram(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """``{"nodes": [...], "edges": [...]}`` of an architecture, or ``None``."""
        return None

    def predict(self, model: Any, X: Any) -> np.ndarray:
        return model.predict(X)

    def predict_proba(self, model: Any, X: Any) -> np.ndarray:
        if not hasattr(model, "predict_proba"):
            raise AttributeError(f"{type(model).__name__} has no predict_proba")
        return model.predict_proba(X)

"""Search-space contract (stand-in written from the lead's spec: take main's version on merge)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import optuna

__all__ = ["Evaluation", "SearchSpace"]


@dataclass
class Evaluation:
    """One trial's outcome."""

    values: float | tuple[float, ...]
    score_std: float | None = None
    user_attrs: dict = field(default_factory=dict)
    oof: np.ndarray | None = None
    fit_seconds: float = 0.0


class SearchSpace(ABC):
    """A define-by-run search space over candidates of one kind."""

    name: ClassVar[str]

    def __init__(self, config: Any, data: Any) -> None:
        self.config = config
        self.data = data

    def check(self) -> None:
        """Raise ConfigError/DataError before any trial runs."""

    @abstractmethod
    def sample(self, trial: optuna.Trial) -> dict:
        """Draw one candidate's params."""

    @abstractmethod
    def evaluate(self, trial: optuna.Trial, params: dict, budget: Any) -> Evaluation:
        """Train and score one candidate."""

    @abstractmethod
    def fit_final(self, params: dict, budget: Any) -> Any:
        """Fit the model returned in the result."""

    def portfolio(self) -> list[dict]:
        """Params to enqueue before sampling."""
        return []

    def describe(self, params: dict) -> str:
        return str(params)

    def export_source(self, params: dict, model: Any) -> str:
        raise NotImplementedError

    def diagram(self, params: dict) -> dict | None:
        return None

    def predict(self, model: Any, X: Any) -> Any:
        return model.predict(X)

    def predict_proba(self, model: Any, X: Any) -> Any:
        return model.predict_proba(X)

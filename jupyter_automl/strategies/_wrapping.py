"""The part every sampler wrapper of ours shares: what it does not change goes to the sampler it wraps."""

from __future__ import annotations

from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler

__all__ = ["WrappingSampler"]


class WrappingSampler(BaseSampler):
    """A sampler around ``base`` (the strategy's), with a seeded ``_rng`` of its own.

    Subclasses override the proposals they change; trial hooks, reseeding and anything not
    overridden go to ``base``.
    """

    def __init__(self, base: BaseSampler, *, seed: int | None = None) -> None:
        self.base = base
        self._rng = np.random.RandomState(seed)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, BaseDistribution]:
        return self.base.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self.base.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self.base.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Any, trial: Any) -> None:
        self.base.before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self.base.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.base.reseed_rng()
        self._rng.seed()

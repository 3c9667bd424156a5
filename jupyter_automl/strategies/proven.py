"""Families a search tries by their default first and samples only where that default leads.

A family that is strong on some tables and dear on others (CatBoost on tables of tens of
thousands of rows: the best default on diamonds, but its deep, long samples take the budget of
the families that win elsewhere) gets one trial of its own defaults from the space's portfolio.
:class:`ProvenSampler` keeps the wrapped sampler from proposing it except while a trial of
the family (its default first) is the best completed trial of the study; then it is sampled
like any other family. Enqueued trials (the portfolio's, the user's) keep their parameters:
Optuna hands them their fixed values without asking a sampler.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler

from jupyter_automl.strategies._wrapping import WrappingSampler

__all__ = ["ProvenSampler"]


class ProvenSampler(WrappingSampler):
    """Wrap ``base`` so that the ``gated`` values of ``param`` are proposed only while a trial
    with that value is the study's best completed trial.

    Parameters
    ----------
    base : optuna.samplers.BaseSampler
        The strategy's sampler; it decides every other proposal.
    param : str
        The categorical parameter naming the family (``"model"`` on tables).
    gated : iterable of values
        The families sampled only while one of their trials leads.
    seed : int, optional
        Seeds the choice among the other families when ``base`` keeps proposing gated ones.

    Examples
    --------
    >>> import optuna
    >>> sampler = ProvenSampler(optuna.samplers.RandomSampler(seed=0), "model", {"b"}, seed=0)
    >>> study = optuna.create_study(sampler=sampler, direction="maximize")
    >>> study.enqueue_trial({"model": "a"})
    >>> study.enqueue_trial({"model": "b"})  # its default, tried once: it does not lead
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study.optimize(lambda t: {"a": 1.0, "b": 0.5}[t.suggest_categorical("model", ["a", "b"])], n_trials=8)
    >>> [t.params["model"] for t in study.trials]
    ['a', 'b', 'a', 'a', 'a', 'a', 'a', 'a']
    """

    def __init__(self, base: BaseSampler, param: str, gated: Iterable[Any], *,
                 seed: int | None = None, max_tries: int = 8) -> None:
        super().__init__(base, seed=seed)
        self.param = param
        self.gated = frozenset(gated)
        self.max_tries = max_tries

    # ------------------------------------------------------------------ proposals
    def sample_relative(self, study: Any, trial: Any,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        params = dict(self.base.sample_relative(study, trial, search_space))
        value = params.get(self.param)
        if value in self.gated and value not in self.proven(study):
            del params[self.param]  # drawn again, among the allowed, by sample_independent
        return params

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        value = self.base.sample_independent(study, trial, param_name, param_distribution)
        if param_name != self.param or value not in self.gated:
            return value
        proven = self.proven(study)
        if value in proven:
            return value
        choices = getattr(param_distribution, "choices", ())
        allowed = [c for c in choices if c not in self.gated or c in proven]
        if not allowed:
            return value
        for _ in range(self.max_tries):
            value = self.base.sample_independent(study, trial, param_name, param_distribution)
            if value in allowed:
                return value
        return allowed[self._rng.randint(len(allowed))]

    # ------------------------------------------------------------------ the study
    def proven(self, study: Any) -> set[Any]:
        """The gated values whose trial is the best completed one (by the first objective)."""
        trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        scored = [t for t in trials if t.values and np.isfinite(t.values[0])]
        if not scored:
            return set()
        maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
        best = (max if maximize else min)(scored, key=lambda t: t.values[0])
        value = best.params.get(self.param)
        return {value} if value in self.gated else set()

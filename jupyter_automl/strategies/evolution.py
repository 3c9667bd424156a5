"""Regularized evolution (Real et al., 2019) as an Optuna sampler.

Each new trial copies a parent chosen by tournament among the most recent ``population_size``
finished trials (the oldest leave the population: "ageing") and changes one of its parameters.
Parameters the parent lacks (a conditional branch newly taken) are sampled at random.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
from optuna.samplers import BaseSampler

__all__ = ["RegularizedEvolutionSampler"]

_PARENT = "evolution:parent"
_MUTATED = "evolution:mutated"


class RegularizedEvolutionSampler(BaseSampler):
    """Tournament selection + single mutation over any define-by-run space.

    Parameters
    ----------
    population_size : int
        How many of the latest finished trials form the population (default 10: on ``nas-cell``
        the zero-cost screening's 10 best are then the whole first population).
    tournament_size : int
        How many population members are drawn to pick the parent (the best of them wins).
        The defaults, 10 and 3, were measured against 20 and 5 in ``benchmarks/nas.py``.
    mutation_rate : float
        Probability of mutating each further parameter besides the one always mutated.
    seed : int, optional

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(sampler=RegularizedEvolutionSampler(population_size=8, seed=0))
    >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=40)
    >>> study.best_value < 0.5
    True
    """

    def __init__(self, population_size: int = 10, tournament_size: int = 3, mutation_rate: float = 0.0,
                 seed: int | None = None) -> None:
        import optuna

        if population_size < 2:
            raise ValueError(f"population_size must be at least 2, got {population_size}")
        if not 1 <= tournament_size <= population_size:
            raise ValueError(f"tournament_size must be between 1 and population_size, got {tournament_size}")
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.mutation_rate = mutation_rate
        self._rng = np.random.RandomState(seed)
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._lock = threading.Lock()
        self._plans: dict[int, tuple[Any, set[str]]] = {}  # trial id -> (parent FrozenTrial, mutated names)

    # the three methods of optuna's BaseSampler, plus the hooks it calls
    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Any, trial: Any) -> None:
        import optuna

        self._random.before_trial(study, trial)
        finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if len(finished) < self.population_size:
            return  # still building the first population: random sampling
        population = sorted(finished, key=lambda t: t.number)[-self.population_size :]
        with self._lock:
            picks = self._rng.choice(len(population), size=self.tournament_size, replace=False)
            contenders = [population[i] for i in picks]
            sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
            parent = max(contenders, key=lambda t: sign * t.value)
            names = sorted(parent.params)
            mutated = {names[self._rng.randint(len(names))]}
            for name in names:
                if self.mutation_rate and self._rng.rand() < self.mutation_rate:
                    mutated.add(name)
            self._plans[trial._trial_id] = (parent, mutated)
        study._storage.set_trial_system_attr(trial._trial_id, _PARENT, parent.number)
        study._storage.set_trial_system_attr(trial._trial_id, _MUTATED, sorted(mutated))

    def sample_independent(self, study: Any, trial: Any, name: str, distribution: Any) -> Any:
        with self._lock:
            plan = self._plans.get(trial._trial_id)
        if plan is not None:
            parent, mutated = plan
            if name in parent.params and name not in mutated:
                value = parent.params[name]
                if distribution._contains(distribution.to_internal_repr(value)):
                    return value
            elif name in parent.params:
                return self._mutate(parent.params[name], distribution)
        return self._random.sample_independent(study, trial, name, distribution)

    def _mutate(self, value: Any, distribution: Any) -> Any:
        import optuna.distributions as d

        with self._lock:
            if isinstance(distribution, d.CategoricalDistribution):
                others = [c for c in distribution.choices if c != value]
                return others[self._rng.randint(len(others))] if others else value
            low, high = distribution.low, distribution.high
            if high <= low:
                return low
            if distribution.log:
                lo, hi, x = math.log(low), math.log(high), math.log(value)
            else:
                lo, hi, x = float(low), float(high), float(value)
            x = float(np.clip(x + self._rng.normal(0.0, 0.25 * (hi - lo)), lo, hi))
            out = math.exp(x) if distribution.log else x
        if isinstance(distribution, d.IntDistribution):
            step = distribution.step
            out = int(round((out - low) / step) * step + low)
            out = min(max(out, low), high)
            if out == value:  # a mutation must change something
                out = min(high, value + step) if value + step <= high else max(low, value - step)
            return out
        if isinstance(distribution, d.FloatDistribution) and distribution.step is not None:
            out = round((out - low) / distribution.step) * distribution.step + low
        return float(min(max(out, low), high))

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        with self._lock:
            self._plans.pop(trial._trial_id, None)
        self._random.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._random.reseed_rng()

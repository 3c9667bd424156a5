"""Every trial a new candidate: a sampler wrapper that turns repeats into unseen candidates.

Samplers re-propose what a search has already tried (TPE concentrates, evolution's mutations
of a converged population land on old cells); in a NAS search each repeat would cost a trial
of ``n_trials`` and add a copy to the strategy's history. :class:`DistinctSampler` samples
the whole parameter set of a trial at once (in ``sample_relative``, asking the wrapped
sampler first and filling what it leaves with the wrapped sampler's own independent draws),
compares the candidate's key with the keys of the study's trials (complete, running, pruned
or failed), and on a repeat asks again; after ``max_tries`` it mutates the proposal (one,
then more parameters changed at random) and finally draws random candidates. Only when the
space has nothing unseen left does a repeat go through, marked ``distinct:repeat``.

A trial the user enqueued (``study.enqueue_trial``, the space's portfolio, the DARTS cell)
keeps its parameters, repeat or not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler

from jupyter_automl.strategies._wrapping import WrappingSampler

__all__ = ["DistinctSampler"]

logger = logging.getLogger("jupyter_automl")

KEY = "distinct:key"
TRIES = "distinct:tries"
REPEAT = "distinct:repeat"
_SEEN_STATES = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.RUNNING,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)


class DistinctSampler(WrappingSampler):
    """Wrap ``base`` so that no sampled trial repeats a candidate the study already has.

    Parameters
    ----------
    base : optuna.samplers.BaseSampler
        The strategy's sampler; it still decides every proposal.
    distributions : mapping of str to BaseDistribution
        Every parameter a trial may draw (a space's ``distributions()``), conditional
        branches included; unused ones are simply not suggested.
    key : callable
        Candidate parameters → a hashable key, equal for candidates that are the same
        (a space's ``candidate_key``); ``None`` for parameters that are not a candidate.
    seed : int, optional
        Seeds the mutations and random fallbacks.
    max_tries : int
        Proposals asked of ``base`` before mutating.

    Examples
    --------
    >>> from optuna.distributions import CategoricalDistribution
    >>> dists = {"x": CategoricalDistribution([0, 1, 2, 3])}
    >>> sampler = DistinctSampler(optuna.samplers.RandomSampler(seed=0), dists,
    ...                           key=lambda p: p.get("x"), seed=0)
    >>> study = optuna.create_study(sampler=sampler)
    >>> study.optimize(lambda t: t.suggest_categorical("x", [0, 1, 2, 3]), n_trials=4)
    >>> sorted(t.params["x"] for t in study.trials)
    [0, 1, 2, 3]
    """

    def __init__(
        self,
        base: BaseSampler,
        distributions: Mapping[str, BaseDistribution],
        key: Callable[[Mapping[str, Any]], Any],
        *,
        seed: int | None = None,
        max_tries: int = 16,
    ) -> None:
        super().__init__(base, seed=seed)
        self.distributions = dict(distributions)
        self.key = key
        self.max_tries = max_tries
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._lock = threading.Lock()
        self._keys: dict[int, Any] = {}  # finished trial number -> key (params are final)

    # ------------------------------------------------------------------ BaseSampler
    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, BaseDistribution]:
        return dict(self.distributions)

    def sample_relative(
        self, study: Any, trial: Any, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if trial.system_attrs.get("fixed_params"):
            return {}  # enqueued: the user's (or the portfolio's) choice, repeat or not
        with self._lock:  # parallel trials must not pick the same new candidate
            seen = self._seen(study, trial)
            params, key, tries = self._propose_unseen(study, trial, seen)
            storage = study._storage
            storage.set_trial_system_attr(trial._trial_id, KEY, _jsonable_key(key))
            storage.set_trial_system_attr(trial._trial_id, TRIES, tries)
            if key in seen:
                storage.set_trial_system_attr(trial._trial_id, REPEAT, True)
                logger.info("trial %d repeats a candidate: none unseen was found", trial.number)
        return {name: params[name] for name in search_space if name in params}

    def reseed_rng(self) -> None:
        super().reseed_rng()
        self._random.reseed_rng()

    # ------------------------------------------------------------------ proposals
    def _propose_unseen(
        self, study: Any, trial: Any, seen: set[Any]
    ) -> tuple[dict[str, Any], Any, int]:
        """Ask ``base``, then mutate, then draw at random; the first unseen candidate wins."""
        params = self._propose(study, trial)
        key = self.key(params)
        tries = 1
        while key in seen and tries < self.max_tries:
            params, tries = self._propose(study, trial), tries + 1
            key = self.key(params)
        if key not in seen:
            return params, key, tries
        for candidate in self._fallbacks(study, trial, params):
            tries += 1
            candidate_key = self.key(candidate)
            if candidate_key not in seen:
                return candidate, candidate_key, tries
        return params, key, tries

    def _propose(self, study: Any, trial: Any) -> dict[str, Any]:
        """The whole parameter set: ``base``'s relative proposal, then its independent draws."""
        space = self.base.infer_relative_search_space(study, trial)
        relative = self.base.sample_relative(study, trial, space) if space else {}
        params = {}
        for name, distribution in self.distributions.items():
            if name in relative:
                params[name] = relative[name]
            else:
                params[name] = self.base.sample_independent(study, trial, name, distribution)
        return params

    def _fallbacks(self, study: Any, trial: Any, params: dict[str, Any]) -> Any:
        """Mutations of ``params`` (1, 2, 3 parameters changed), then random candidates."""
        names = list(self.distributions)
        for n_changes in (1, 2, 3):
            for _ in range(8 * n_changes):
                changed = dict(params)
                picks = self._rng.choice(len(names), size=min(n_changes, len(names)), replace=False)
                for i in picks:
                    name = names[int(i)]
                    changed[name] = self._other_value(study, trial, name, params[name])
                yield changed
        for _ in range(64):
            yield {
                name: self._random.sample_independent(study, trial, name, dist)
                for name, dist in self.distributions.items()
            }

    def _other_value(self, study: Any, trial: Any, name: str, value: Any) -> Any:
        """A value of parameter ``name`` other than ``value`` where there is one."""
        distribution = self.distributions[name]
        if isinstance(distribution, CategoricalDistribution):
            others = [c for c in distribution.choices if c != value]
            return others[self._rng.randint(len(others))] if others else value
        return self._random.sample_independent(study, trial, name, distribution)

    # ------------------------------------------------------------------ the study's keys
    def _seen(self, study: Any, trial: Any) -> set[Any]:
        """Keys of every other trial that is finished or running."""
        seen = set()
        for other in study.get_trials(deepcopy=False, states=_SEEN_STATES):
            if other.number == trial.number:
                continue
            key = self._keys.get(other.number)
            if key is None:
                key = self._trial_key(other)
                if key is not None and other.state.is_finished():
                    self._keys[other.number] = key
            if key is not None:
                seen.add(key)
        return seen

    def _trial_key(self, trial: Any) -> Any:
        stored = trial.system_attrs.get(KEY)
        if stored is not None:
            return _hashable(stored)
        params = (
            trial.params if trial.state.is_finished() else trial.system_attrs.get("fixed_params")
        )
        return self.key(params) if params else None


def _jsonable_key(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _hashable(stored: Any) -> Any:
    return tuple(stored) if isinstance(stored, list) else stored

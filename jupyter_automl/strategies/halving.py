"""Successive halving over epochs, as ``pruner: auto`` does it on the NAS spaces."""

from __future__ import annotations

import math

import optuna
from optuna.pruners import BasePruner

__all__ = ["EpochHalvingPruner"]


class EpochHalvingPruner(BasePruner):
    """Asynchronous successive halving (ASHA) over epochs, with a first rung that looks first.

    A trial reports its validation score after each epoch (the step is the epochs trained).
    At each rung (``min_epochs``, ``min_epochs * reduction``, ...) it goes on only when its
    score is among the best ``1 / reduction`` of the scores every trial had at that rung, so
    most candidates cost one cheap epoch and a few train to the end.

    Unlike Optuna's ``SuccessiveHalvingPruner``, the first rung promotes nobody until
    ``warmup`` candidates have reached it: otherwise the first candidate, alone at every
    rung, trains to the end before anything is known, which on a one-minute budget is most
    of the budget. The search's first candidate is the exception: it trains to the end, so a
    model exists early whatever ends the search (a Stop, an interrupt, the budget). Later rungs
    promote their first arrival (it beat the first rung).

    Parameters
    ----------
    min_epochs : int
        Epochs of the first rung.
    reduction : int
        The share kept at each rung is ``1 / reduction``; rungs are ``reduction`` times apart.
    warmup : int
        Candidates that must reach the first rung before any is promoted past it.

    Examples
    --------
    >>> pruner = EpochHalvingPruner(min_epochs=1, reduction=3, warmup=4)
    >>> pruner.rungs(9)
    [1, 3]
    """

    def __init__(self, min_epochs: int = 1, reduction: int = 3, warmup: int = 4) -> None:
        if min_epochs < 1 or reduction < 2 or warmup < 1:
            raise ValueError("min_epochs >= 1, reduction >= 2 and warmup >= 1 are needed, got "
                             f"{min_epochs}, {reduction}, {warmup}")
        self.min_epochs = min_epochs
        self.reduction = reduction
        self.warmup = warmup

    def rungs(self, max_epochs: float = math.inf) -> list[int]:
        """The epochs at which a trial is compared, below ``max_epochs``."""
        rungs, epochs = [], self.min_epochs
        while epochs < max_epochs:
            rungs.append(epochs)
            epochs *= self.reduction
        return rungs

    def _someone_promoted(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        """Whether another trial finished, or went on past the first rung (it was promoted)."""
        for other in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                              optuna.trial.TrialState.RUNNING)):
            if other.number == trial.number:
                continue
            if other.state == optuna.trial.TrialState.COMPLETE:
                return True
            if other.last_step is not None and other.last_step >= self.min_epochs:
                return True
        return False

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step not in self.rungs(step + 1):
            return False
        value = trial.intermediate_values[step]
        if math.isnan(value):
            return True
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
                  optuna.trial.TrialState.RUNNING)
        others = [t.intermediate_values[step]
                  for t in study.get_trials(deepcopy=False, states=states)
                  if t.number != trial.number and step in t.intermediate_values]
        others = [v for v in others if not math.isnan(v)]
        if step == self.min_epochs and len(others) + 1 < self.warmup:
            # looked at: the first rung promotes once enough candidates are known, but the
            # search's first candidate trains on, so a model exists early whatever ends the search
            return self._someone_promoted(study, trial)
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        better = sum(1 for v in others if sign * v > sign * value)
        keep = max(1, (len(others) + 1) // self.reduction)
        return better >= keep


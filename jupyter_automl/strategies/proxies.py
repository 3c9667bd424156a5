"""Zero-cost proxies: rank untrained architectures so only the most promising get trained.

``synflow`` (Tanaka et al., 2020; used for NAS by Abdelfattah et al., 2021) is the summed
``|theta * dR/dtheta|`` of a network whose weights are made positive, fed an all-ones input,
with ``R`` the sum of its outputs: it needs one forward and one backward pass and no data.
``params`` is the trainable parameter count, a surprisingly strong baseline on
NAS-Bench-201. Screening samples many candidates at random, scores them and returns the
best as a warm start (Abdelfattah et al.'s "zero-cost warmup"), which the runner enqueues
before the strategy's own trials.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import optuna
import torch
from torch import nn

from jupyter_automl._errors import ConfigError

if TYPE_CHECKING:
    from jupyter_automl.spaces.nas.spaces import TorchSpace

__all__ = ["PROXIES", "params_score", "screen", "synflow_score"]

PROXIES = ("synflow", "params")


def params_score(model: nn.Module, input_shape: Sequence[int] | None = None) -> float:
    """Trainable parameter count."""
    return float(sum(p.numel() for p in model.parameters() if p.requires_grad))


def synflow_score(model: nn.Module, input_shape: Sequence[int]) -> float:
    """SynFlow: data-free saliency summed over all parameters (higher is better).

    The model is copied (its weights are not changed), put in float64 to avoid overflow in
    deep products, and in eval mode so batch norm acts as a fixed affine map.
    """
    import copy

    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    net.zero_grad()
    output = net(torch.ones(1, *input_shape, dtype=torch.float64))
    output.sum().backward()
    score = 0.0
    for p in net.parameters():
        if p.grad is not None:
            score += float((p.detach() * p.grad).abs().sum())
    return score


_SCORERS = {"synflow": synflow_score, "params": params_score}


def screen(space: TorchSpace, proxy: str, n_candidates: int = 200,
           keep: int = 10, seed: int | None = None, *, budget: Any = None,
           progress: Callable[[str, int, int], None] | None = None) -> list[dict[str, Any]]:
    """Sample ``n_candidates`` architectures at random and return the ``keep`` best by proxy.

    Candidates that are the same architecture (the space's ``candidate_key``) are scored
    once.

    Parameters
    ----------
    space : TorchSpace
    proxy : {"synflow", "params"}
    n_candidates, keep : int
    seed : int, optional
        Defaults to the config's seed.
    budget : TrialBudget, optional
        Screening stops early (keeping the best scored so far) at its deadline (the caller
        gives it a share of the run's time, see :mod:`jupyter_automl.strategies.portfolio`)
        or when the run is stopped.
    progress : callable, optional
        Called as ``progress("screening 200 cells", done, total)`` about every 2 % of the
        candidates and at the end.

    Returns
    -------
    list of dict
        Optuna params of the best candidates (genotype parameters only), best first.
    """
    if proxy not in _SCORERS:
        raise ConfigError(f"proxy: expected 'none', 'synflow' or 'params', got {proxy!r}")
    if seed is None:
        seed = int(getattr(space.config, "seed", 0) or 0)
    X, _ = space.prepared()
    scorer = _SCORERS[proxy]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    seen: dict[Any, tuple[float, dict[str, Any]]] = {}
    stage = f"screening {n_candidates} {_UNIT.get(space.name, 'architectures')}"
    limit = None if budget is None else getattr(budget, "deadline", None)
    step = max(1, n_candidates // 50)
    state = torch.get_rng_state()
    done = 0
    try:
        for done in range(1, n_candidates + 1):
            if _out_of_time(budget, limit):
                done -= 1
                break
            trial = study.ask()
            genotype = space.genotype_cls.suggest(trial, space.options)
            key = genotype.canonical().to_string()
            study.tell(trial, 0.0)
            if key not in seen:
                model = space.build({"genotype": genotype.to_string()})
                seen[key] = (scorer(model, X.shape[1:]), dict(trial.params))
            if progress is not None and (done % step == 0 or done == n_candidates):
                progress(stage, done, n_candidates)
    finally:
        torch.set_rng_state(state)
    if progress is not None and done < n_candidates:
        progress(f"{stage} (stopped by the time budget)", done, n_candidates)
    ranked = sorted(seen.values(), key=lambda item: -item[0])
    return [params for _, params in ranked[:keep]]


_UNIT = {"nas-cell": "cells", "nas-dag": "cells", "nas-chain": "networks", "nas-mlp": "MLPs"}


def _out_of_time(budget: Any, limit: float | None) -> bool:
    stopped = budget is not None and getattr(budget, "stop", None) is not None and budget.stop.is_set()
    return stopped or (limit is not None and time.monotonic() >= limit)

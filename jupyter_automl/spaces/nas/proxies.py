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

from collections.abc import Sequence
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
           keep: int = 10, seed: int | None = None) -> list[dict[str, Any]]:
    """Sample ``n_candidates`` architectures at random and return the ``keep`` best by proxy.

    Parameters
    ----------
    space : TorchSpace
    proxy : {"synflow", "params"}
    n_candidates, keep : int
    seed : int, optional
        Defaults to the config's seed.

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
    seen: dict[str, tuple[float, dict[str, Any]]] = {}
    state = torch.get_rng_state()
    try:
        for _ in range(n_candidates):
            trial = study.ask()
            genotype = space.genotype_cls.suggest(trial, space.options)
            text = genotype.to_string()
            study.tell(trial, 0.0)
            if text in seen:
                continue
            model = space.build({"genotype": text})
            seen[text] = (scorer(model, X.shape[1:]), dict(trial.params))
    finally:
        torch.set_rng_state(state)
    ranked = sorted(seen.values(), key=lambda item: -item[0])
    return [params for _, params in ranked[:keep]]

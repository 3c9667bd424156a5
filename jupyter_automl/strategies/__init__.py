"""Strategy names → Optuna samplers and pruners."""

from __future__ import annotations

from typing import Any

from jupyter_automl._errors import ConfigError, did_you_mean
from jupyter_automl.strategies.distinct import DistinctSampler
from jupyter_automl.strategies.evolution import RegularizedEvolutionSampler
from jupyter_automl.strategies.halving import EpochHalvingPruner

__all__ = ["DistinctSampler", "EpochHalvingPruner", "RegularizedEvolutionSampler", "make_sampler",
           "make_pruner"]

_SAMPLER_OPTIONS = {
    "random": set(),
    "rules": set(),
    "tpe": {"n_startup_trials", "n_ei_candidates", "multivariate", "group"},
    "gp": {"n_startup_trials"},
    "evolution": {"population_size", "tournament_size", "mutation_rate"},
    "darts": set(),
}


def make_sampler(strategy: str, *, seed: int, n_jobs: int = 1, options: dict[str, Any] | None = None,
                 space: Any = None) -> Any:
    """The Optuna sampler behind ``strategy`` (``darts`` searches first, then trains like ``random``).

    With a ``space`` that can tell candidates apart (the NAS spaces' ``candidate_key`` and
    ``distributions``), the sampler is wrapped in a :class:`DistinctSampler`: every sampled
    trial is a candidate the study has not tried yet. A space's ``proven_families`` (CatBoost on
    large tables) are sampled only while one of their trials is the best (:class:`ProvenSampler`).
    """
    sampler = _base_sampler(strategy, seed=seed, n_jobs=n_jobs, options=options)
    if getattr(space, "proven_families", None):
        from jupyter_automl.strategies.proven import ProvenSampler

        sampler = ProvenSampler(sampler, "model", space.proven_families, seed=seed)
    if space is None or not hasattr(space, "candidate_key"):
        return sampler
    return DistinctSampler(sampler, space.distributions(), space.candidate_key, seed=seed)


def _base_sampler(strategy: str, *, seed: int, n_jobs: int, options: dict[str, Any] | None) -> Any:
    import optuna

    options = dict(options or {})
    allowed = _SAMPLER_OPTIONS[strategy]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise ConfigError(
            f"option 'strategy_options': {unknown[0]!r} is not an option of strategy {strategy!r}"
            f"{did_you_mean(unknown[0], allowed)}"
            + (f"; it takes {', '.join(sorted(allowed))}" if allowed else "; it takes none")
        )
    if strategy in ("random", "rules", "darts"):
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy == "tpe":
        kwargs: dict[str, Any] = {"multivariate": True, "group": True, "n_startup_trials": 10, "constant_liar": n_jobs > 1}
        kwargs.update(options)
        return optuna.samplers.TPESampler(seed=seed, **kwargs)
    if strategy == "gp":
        try:
            import torch  # noqa: F401  (GPSampler needs it)
        except ImportError:
            raise ConfigError(
                "option 'strategy': 'gp' needs PyTorch; pip install torch, or use strategy: tpe"
            ) from None
        return optuna.samplers.GPSampler(seed=seed, **options)
    if strategy == "evolution":
        return RegularizedEvolutionSampler(seed=seed, **options)
    raise ConfigError(f"unknown strategy {strategy!r}")


#: ``pruner: auto`` on the NAS spaces: successive halving over epochs, its first rung after
#: this many epochs, keeping a third at each rung, promoting nobody past the first rung until
#: this many candidates reached it (``benchmarks/nas_shapes.py``).
NAS_MIN_EPOCHS = 1
NAS_REDUCTION = 3
NAS_WARMUP = 4


def make_pruner(name: str, *, space: str, n_objectives: int = 1) -> Any:
    """``auto``: on tables, prune the bottom quarter after the first folds; on the NAS spaces,
    :class:`EpochHalvingPruner` (rungs at 1, 3, 9 epochs: most candidates get one cheap
    epoch, a third of those three, a ninth the full schedule)."""
    import optuna

    if n_objectives > 1 or name == "none":
        return optuna.pruners.NopPruner()
    if name == "auto" and space.startswith("nas-"):
        from jupyter_automl.strategies.halving import EpochHalvingPruner

        return EpochHalvingPruner(NAS_MIN_EPOCHS, NAS_REDUCTION, NAS_WARMUP)
    if name == "auto":
        # keep the top 75 %: lenient enough not to lose good but noisy candidates
        return optuna.pruners.PercentilePruner(75.0, n_startup_trials=8, n_warmup_steps=0)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "percentile":
        return optuna.pruners.PercentilePruner(50.0, n_startup_trials=5)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise ConfigError(f"unknown pruner {name!r}")

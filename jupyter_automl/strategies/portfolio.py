"""The candidates a search trains first: the space's own portfolio, and for the NAS spaces the
zero-cost screening's picks and the cell a DARTS supernet derives.

These are search-time steps, so they live with the strategies: a space only describes its
candidates (it never imports a strategy); this module asks it to build untrained networks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["SCREENING_SHARE", "DARTS_SHARE", "first_candidates", "screening_proxy",
           "proxy_candidates"]

#: Share of the time left that the zero-cost screening may use (it stops early, keeping the
#: best scored so far). A tenth: the budget buys trained architectures.
SCREENING_SHARE = 0.1
#: Share of the time left that a DARTS supernet search may use.
DARTS_SHARE = 0.5


def first_candidates(space: Any, *, budget: Any = None,
                     progress: Callable[[str, int, int], None] | None = None) -> list[dict]:
    """Parameters the runner queues before the sampler's own trials.

    A NAS space (one with genotypes) gets, with ``strategy: darts`` (nas-cell), the genotype a
    supernet search derives (before any trial, in at most :data:`DARTS_SHARE` of the time
    left), then with a screening proxy the ``proxy_keep`` best of ``proxy_candidates``
    untrained random candidates (in at most :data:`SCREENING_SHARE` of the time left). Other
    spaces give their own ``portfolio()``.

    Parameters
    ----------
    space : SearchSpace
    budget : TrialBudget, optional
        The run's budget; the screening and the DARTS search count against it.
    progress : callable, optional
        ``progress(stage, done, total)``, e.g. ``("screening 200 cells", 120, 200)``.
    """
    if not hasattr(space, "genotype_cls"):
        return list(space.portfolio())
    picked: list[dict] = []
    if getattr(space.config, "strategy", None) == "darts":
        from jupyter_automl.strategies.darts import darts_search

        picked.append(darts_search(space, budget=_share_of(budget, DARTS_SHARE), progress=progress)
                      .genotype.to_params())
    proxy = screening_proxy(space)
    if proxy != "none":
        from jupyter_automl.strategies.proxies import screen

        picked.extend(screen(space, proxy, proxy_candidates(space), int(space.options["proxy_keep"]),
                             budget=_share_of(budget, SCREENING_SHARE), progress=progress))
    return picked


def screening_proxy(space: Any) -> str:
    """The zero-cost proxy that screens ``space``'s candidates (``config.auto_proxy``)."""
    from jupyter_automl.config import auto_proxy

    config = space.config
    return auto_proxy(space.name, getattr(config, "proxy", None), getattr(config, "time_budget", None))


def proxy_candidates(space: Any) -> int:
    """``proxy_candidates`` as given, else 200 or 20 per trial of a search of few trials."""
    given = getattr(space.config, "space_options", None) or {}
    n_trials = getattr(space.config, "n_trials", None)
    if "proxy_candidates" in given or n_trials is None:
        return int(space.options["proxy_candidates"])
    return min(int(space.options["proxy_candidates"]), 20 * int(n_trials))


def _share_of(budget: Any, share: float) -> Any:
    """A budget that ends once ``share`` of ``budget``'s remaining time is used."""
    if budget is None or getattr(budget, "deadline", None) is None:
        return budget
    from jupyter_automl.evaluate import TrialBudget

    deadline = time.monotonic() + share * max(0.0, budget.remaining())
    return TrialBudget(min(deadline, budget.deadline), budget.stop)

"""The record of one candidate's evaluation: what crosses the executor boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Evaluation"]


@dataclass
class Evaluation:
    """One candidate's score(s) and what to store with it.

    ``oof`` holds out-of-fold predictions for every row of the data (``NaN`` on rows that were
    not predicted, as with a holdout split), for ensembles and decision thresholds.
    ``model_state`` carries a trained network's weights (NAS) back to the kernel, which keeps
    the best few in memory so the search can return a trained model without training again;
    it is never written to the study.
    """

    values: float | tuple[float, ...]
    score_std: float | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    oof: np.ndarray | None = None
    fit_seconds: float = 0.0
    model_state: Any = None

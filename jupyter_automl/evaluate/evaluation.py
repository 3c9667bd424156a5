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
    """

    values: float | tuple[float, ...]
    score_std: float | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    oof: np.ndarray | None = None
    fit_seconds: float = 0.0

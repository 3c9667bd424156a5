from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_digits


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # the machine is shared: keep every test on a single core
    torch.set_num_threads(1)


# Until the core's SearchConfig and Dataset land on main, the tests build these plain records
# with the attributes the contract names; on merge they are replaced by the real classes.
@dataclass
class ContractConfig:
    space: str = "nas-cell"
    strategy: str = "random"
    metric: str | None = None
    seed: int = 0
    time_budget: float | None = None
    n_trials: int | None = 3
    n_jobs: int = 1
    device: str = "cpu"
    epochs: Any = 2
    batch_size: Any = 64
    lr: Any = 1e-2
    optimizer: Any = "adam"
    weight_decay: Any = 0.0
    pruner: str | None = None
    proxy: str = "none"
    objectives: list[str] | None = None
    space_options: dict = field(default_factory=dict)


@dataclass
class ContractDataset:
    X: Any
    y: np.ndarray
    task: str
    classes: np.ndarray | None
    source: str
    kind: str


def make_config(**kwargs: Any) -> ContractConfig:
    return ContractConfig(**kwargs)


def digits_dataset(n: int = 300, as_images: bool = False) -> ContractDataset:
    import pandas as pd

    X, y = load_digits(return_X_y=True)
    X, y = X[:n], y[:n]
    if as_images:
        return ContractDataset(X.reshape(-1, 8, 8, 1), y, "multiclass", np.unique(y),
                               "arrays", "images")
    frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(64)])
    return ContractDataset(frame, y, "multiclass", np.unique(y), "sklearn:digits", "table")


def diabetes_dataset() -> ContractDataset:
    import pandas as pd

    data = load_diabetes(as_frame=True)
    return ContractDataset(data.data.iloc[:200], data.target.to_numpy()[:200], "regression",
                           None, "sklearn:diabetes", "table")

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
import torch
from sklearn.datasets import load_diabetes, load_digits

from jupyter_automl.config import SearchConfig
from jupyter_automl.data import Dataset

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # the machine is shared: keep every test on a single core
    torch.set_num_threads(1)


def make_config(**kwargs: Any) -> SearchConfig:
    """A real config with small, fast NAS defaults (tests override what they need)."""
    options = {"space": "nas-cell", "strategy": "random", "n_trials": 3, "device": "cpu",
               "epochs": 2, "batch_size": 64, "lr": 1e-2, "optimizer": "adam",
               "weight_decay": 0.0, "storage": "memory", "display": False}
    options.update(kwargs)
    return SearchConfig(**options)


def digits_dataset(n: int = 300, as_images: bool = False) -> Dataset:
    """The first ``n`` digits: the 64-column table (as bundled) or NHWC images."""
    import pandas as pd

    X, y = load_digits(return_X_y=True)
    X, y = X[:n], y[:n]
    if as_images:
        return Dataset(X=X.reshape(-1, 8, 8, 1), y=y, task="multiclass", source="arrays",
                       classes=np.unique(y), kind="images")
    frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(64)])
    return Dataset(X=frame, y=y, task="multiclass", source="sklearn:digits",
                   classes=np.unique(y), kind="table")


def diabetes_dataset() -> Dataset:
    data = load_diabetes(as_frame=True)
    return Dataset(X=data.data.iloc[:200], y=data.target.to_numpy()[:200], task="regression",
                   source="sklearn:diabetes", kind="table")

from __future__ import annotations

import numpy as np
import optuna
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.evaluate.torch_training import (
    TrainSettings,
    as_features,
    as_images,
    cpu_threads_per_trial,
    predict_outputs,
    score_outputs,
    select_device,
    set_cpu_threads,
    split_indices,
    train_model,
)
from jupyter_automl.spaces.nas.genotypes import CellGenotype
from jupyter_automl.spaces.nas.modules import build_module


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return as_images(X[:400], source="sklearn:digits") / 16.0, y[:400]


def _net(seed=0):
    torch.manual_seed(seed)
    g = CellGenotype.from_string(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
    return build_module(g, (1, 8, 8), 10, {"channels": 8})


def test_select_device() -> None:
    assert select_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert select_device("auto").type == expected
    with pytest.raises(ConfigError, match="expected 'auto', 'cpu'"):
        select_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU is available"):
        select_device("cuda:0")


def test_cpu_threads_are_shared_between_jobs() -> None:
    assert cpu_threads_per_trial(10_000) == 1
    assert cpu_threads_per_trial(-1) == 1
    assert cpu_threads_per_trial(1) >= 1
    before = torch.get_num_threads()
    try:
        assert set_cpu_threads(0) == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_image_layouts() -> None:
    rng = np.random.default_rng(0)
    nchw = rng.normal(size=(4, 3, 6, 5)).astype(np.float32)
    nhwc = nchw.transpose(0, 2, 3, 1)
    assert np.array_equal(as_images(nhwc), nchw)
    assert np.array_equal(as_images(torch.from_numpy(nhwc)), nchw)
    assert np.array_equal(as_images(nchw), nchw)
    assert as_images(nchw[:, 0]).shape == (4, 1, 6, 5)
    assert as_images(np.zeros((3, 64))).shape == (3, 1, 8, 8)
    with pytest.raises(DataError, match="63 columns cannot be read as square"):
        as_images(np.zeros((3, 63)))
    with pytest.raises(DataError, match="cannot tell the channel axis"):
        as_images(np.zeros((3, 7, 7, 7)))


def test_features_reject_text_and_nan() -> None:
    import pandas as pd

    with pytest.raises(DataError, match=r"\['city'\] are not"):
        as_features(pd.DataFrame({"a": [1.0, 2.0], "city": ["x", "y"]}))
    with pytest.raises(DataError, match="missing or infinite"):
        as_features(np.array([[1.0, np.nan]]))


def test_training_learns_digits_and_is_bit_reproducible(digits) -> None:
    X, y = digits
    train, val = split_indices(y, "multiclass", 0.25, seed=0)
    settings = TrainSettings(epochs=3, batch_size=32, lr=1e-2, device="cpu", seed=0)
    runs = []
    for _ in range(2):
        out = train_model(_net(), X[train], y[train], X[val], y[val], task="multiclass",
                          settings=settings)
        runs.append(out)
    assert runs[0].epochs_run == 3 and len(runs[0].history) == 3
    assert runs[0].history[-1] > 0.85
    assert runs[0].history == runs[1].history
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_weak_trials_are_pruned(digits) -> None:
    X, y = digits
    train, val = split_indices(y, "multiclass", 0.25, seed=0)
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=0.99))
    trial = study.ask()
    settings = TrainSettings(epochs=3, batch_size=64, device="cpu", seed=0)
    with pytest.raises(optuna.TrialPruned, match="pruned at the 1-epoch rung"):
        train_model(_net(), X[train], y[train], X[val], y[val], task="multiclass",
                    settings=settings, trial=trial)
    assert list(study.trials[0].intermediate_values) == [1]


class _OutOfMemoryNet(nn.Module):
    """Raises what torch raises when a CUDA allocation fails."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(64, 10)

    def forward(self, x):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_is_a_clear_trial_failure(digits) -> None:
    X, y = digits
    with pytest.raises(RuntimeError, match="CUDA out of memory at batch size 32: Tried"):
        train_model(_OutOfMemoryNet(), X, y, None, None, task="multiclass",
                    settings=TrainSettings(epochs=1, batch_size=32, device="cpu"))


def test_budget_check_stops_training(digits) -> None:
    X, y = digits

    class Deadline:
        calls = 0

        def check(self) -> None:
            self.calls += 1
            if self.calls > 3:
                raise TimeoutError("time budget reached")

    with pytest.raises(TimeoutError, match="time budget"):
        train_model(_net(), X, y, None, None, task="multiclass",
                    settings=TrainSettings(epochs=2, batch_size=16, device="cpu"),
                    budget=Deadline())


def test_scores() -> None:
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    assert score_outputs(logits, np.array([0, 1, 1]), "binary", "accuracy") == pytest.approx(2 / 3)
    assert score_outputs(logits, np.array([0, 1, 1]), "binary", "balanced_accuracy") == 0.75
    assert score_outputs(np.array([[1.0], [2.0]]), np.array([1.0, 3.0]), "regression",
                         "mae") == 0.5
    assert score_outputs(logits, np.array([0, 1, 1]), "binary", "roc_auc") == 0.5
    with pytest.raises(ConfigError, match="'rmse' does not apply to a binary task"):
        score_outputs(logits, np.array([0, 1, 1]), "binary", "rmse")


def test_settings_validation() -> None:
    with pytest.raises(ConfigError, match="optimizer: expected one of"):
        TrainSettings(optimizer="lion")


def test_predict_outputs_matches_forward(digits) -> None:
    X, _ = digits
    net = _net().eval()
    with torch.no_grad():
        expected = net(torch.from_numpy(X[:50])).numpy()
    assert np.allclose(predict_outputs(net, X[:50], batch_size=16), expected, atol=1e-6)

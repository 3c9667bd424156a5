"""GPU behaviour; skipped on machines without CUDA (CI has none: run these where there is one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from jupyter_automl.evaluate.torch_training import TrainSettings, as_images, train_model
from jupyter_automl.spaces.nas.genotypes import CellGenotype
from jupyter_automl.spaces.nas.modules import build_module
from jupyter_automl.spaces.nas.spaces import NasCellSpace
from tests.nas.conftest import digits_dataset, make_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

NB201 = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"


def test_cuda_trial_trains_and_frees_its_memory() -> None:
    data = digits_dataset(400)
    X, y = as_images(data.X), data.y
    before = torch.cuda.memory_allocated()
    torch.manual_seed(0)
    net = build_module(CellGenotype.from_string(NB201), (1, 8, 8), 10, {"channels": 8})
    out = train_model(net, X[:300] / 16, y[:300], X[300:] / 16, y[300:], task="multiclass",
                      settings=TrainSettings(epochs=3, batch_size=32, device="cuda"))
    assert out.device.startswith("cuda") and out.history[-1] > 0.7  # bf16 autocast still learns
    assert next(out.model.parameters()).device.type == "cpu"
    assert torch.cuda.memory_allocated() <= before + 1024


class _Huge(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch.empty(1 << 45, dtype=torch.uint8, device=x.device)  # 32 TiB: a real allocator OOM
        return self.lin(x.flatten(1))


def test_real_cuda_out_of_memory_fails_the_trial_clearly() -> None:
    X = np.zeros((64, 1, 8, 8), dtype=np.float32)
    y = np.zeros(64, dtype=np.int64)
    with pytest.raises(RuntimeError, match="CUDA out of memory at batch size 32: Tried"):
        train_model(_Huge(), X, y, None, None, task="multiclass",
                    settings=TrainSettings(epochs=1, batch_size=32, device="cuda"))
    torch.cuda.synchronize()  # the device is still usable afterwards
    assert torch.ones(1, device="cuda").item() == 1.0


def test_auto_device_on_a_gpu_machine() -> None:
    space = NasCellSpace(make_config(device="auto"), digits_dataset(50))
    assert space.device_name.startswith("cuda:0")
    spec = space.settings({"genotype": NB201}, trial_number=3).device
    expected = f"cuda:{3 % torch.cuda.device_count()}" if torch.cuda.device_count() > 1 else "auto"
    assert spec == expected

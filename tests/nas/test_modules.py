from __future__ import annotations

import optuna
import pytest
import torch

from jupyter_automl.spaces.nas.genotypes import (
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    MlpGenotype,
)
from jupyter_automl.spaces.nas.modules import build_module, count_parameters


def _sample(cls, n=8, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(cls.suggest(trial, {}))
        study.tell(trial, 0.0)
    return out


@pytest.mark.parametrize("cls", [CellGenotype, DagGenotype, ChainGenotype])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 5, 7), (3, 32, 32)])
def test_cnn_genotypes_build_for_any_image_shape(cls, shape) -> None:
    torch.manual_seed(0)
    for g in _sample(cls, n=4):
        # string -> genotype -> module -> output of the right shape
        g = cls.from_string(g.to_string())
        net = build_module(g, shape, 7, {"channels": 4})
        assert net(torch.randn(2, *shape)).shape == (2, 7)
        assert count_parameters(net) > 0


def test_mlp_builds_classification_and_regression_heads() -> None:
    for g in _sample(MlpGenotype, n=4):
        assert build_module(g, (13,), 3)(torch.randn(5, 13)).shape == (5, 3)
        assert build_module(g, (13,), 1)(torch.randn(5, 13)).shape == (5, 1)


def test_cell_channels_and_cells_are_configurable() -> None:
    g = CellGenotype(("nor_conv_3x3",) * 6)
    small = count_parameters(build_module(g, (1, 8, 8), 10, {"channels": 4, "n_cells": 1}))
    big = count_parameters(build_module(g, (1, 8, 8), 10, {"channels": 8, "n_cells": 2}))
    assert big > 4 * small


def test_cell_of_only_none_still_runs() -> None:
    g = CellGenotype(("none",) * 6)
    net = build_module(g, (1, 8, 8), 10, {"channels": 4})
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_cnn_rejects_tables() -> None:
    with pytest.raises(ValueError, match=r"needs images shaped \(C, H, W\)"):
        build_module(CellGenotype(("none",) * 6), (64,), 10)

from __future__ import annotations

import optuna
import pytest
import torch

from jupyter_automl._errors import ConfigError
from jupyter_automl.spaces.nas.genotypes import CellGenotype
from jupyter_automl.spaces.nas.modules import build_module
from jupyter_automl.spaces.nas.proxies import params_score, screen, synflow_score
from jupyter_automl.spaces.nas.spaces import NasCellSpace
from tests.nas.conftest import digits_dataset, make_config


def test_synflow_prefers_convolutions_to_empty_cells_and_keeps_weights() -> None:
    torch.manual_seed(0)
    convs = build_module(CellGenotype(("nor_conv_3x3",) * 6), (1, 8, 8), 10, {"channels": 4})
    empty = build_module(CellGenotype(("none",) * 6), (1, 8, 8), 10, {"channels": 4})
    before = {k: v.clone() for k, v in convs.state_dict().items()}
    assert synflow_score(convs, (1, 8, 8)) > synflow_score(empty, (1, 8, 8)) > 0
    assert all(torch.equal(before[k], v) for k, v in convs.state_dict().items())
    assert params_score(convs) > params_score(empty)


def test_screen_returns_the_best_candidates_as_params() -> None:
    space = NasCellSpace(make_config(proxy="params", space_options={
        "channels": 4, "proxy_candidates": 30, "proxy_keep": 3}), digits_dataset(50))
    picked = space.portfolio()
    assert len(picked) == 3
    scores = []
    for params in picked:
        study = optuna.create_study()
        study.enqueue_trial(params)
        genotype = space.sample(study.ask())["genotype"]
        scores.append(params_score(space.build({"genotype": genotype})))
    assert scores == sorted(scores, reverse=True)


def test_synflow_screen_is_seeded() -> None:
    space = NasCellSpace(make_config(proxy="synflow", space_options={
        "channels": 4, "proxy_candidates": 12, "proxy_keep": 2}), digits_dataset(50))
    assert space.portfolio() == space.portfolio()
    assert NasCellSpace(make_config(), digits_dataset(50)).portfolio() == []


def test_unknown_proxy() -> None:
    space = NasCellSpace(make_config(), digits_dataset(50))
    with pytest.raises(ConfigError, match="proxy: expected 'none', 'synflow' or 'params'"):
        screen(space, "jacov")

from __future__ import annotations

import optuna
import pytest
import torch

from jupyter_automl._errors import ConfigError
from jupyter_automl.spaces.nas.genotypes import CELL_OPS, CellGenotype
from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasChainSpace
from jupyter_automl.strategies.darts import DartsSampler, DartsSupernet, darts_search
from tests.nas.conftest import digits_dataset, make_config


@pytest.fixture(scope="module")
def space() -> NasCellSpace:
    torch.set_num_threads(1)
    return NasCellSpace(make_config(strategy="darts", space_options={"channels": 4}),
                        digits_dataset(200))


def test_supernet_mixes_every_op_and_never_derives_none() -> None:
    torch.manual_seed(0)
    net = DartsSupernet(CELL_OPS, (1, 8, 8), 10, channels=4)
    assert net(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    assert all(p is not net.alpha for p in net.weight_parameters())
    with torch.no_grad():
        net.alpha.zero_()
        net.alpha[:, CELL_OPS.index("none")] = 5.0
        net.alpha[:, CELL_OPS.index("nor_conv_3x3")] = 1.0
    assert net.genotype() == CellGenotype(("nor_conv_3x3",) * 6)


def test_search_is_seeded_and_records_its_history(space) -> None:
    first = darts_search(space, epochs=2, warmup_epochs=1)
    second = darts_search(space, epochs=2, warmup_epochs=1)
    assert first.genotype == second.genotype
    assert [h["genotype"] for h in first.history] == [h["genotype"] for h in second.history]
    assert "none" not in first.genotype.ops
    assert first.history[0]["beta"] == 1.0 and first.history[-1]["beta"] == 0.0  # DARTS-


def test_skip_limit_stops_the_search_early(space) -> None:
    # max_skip=-1: any cell breaks the limit, so the search stops after the warm-up epoch
    # and returns the genotype derived before the limit was crossed
    result = darts_search(space, epochs=4, warmup_epochs=1, max_skip=-1)
    assert result.stopped_early
    assert len(result.history) == 2
    assert result.genotype.to_string() == result.history[0]["genotype"]


def test_perturbation_selection(space) -> None:
    result = darts_search(space, epochs=2, warmup_epochs=1, selection="perturbation")
    assert result.history[-1]["selection"] == "perturbation"
    assert "none" not in result.genotype.ops


def test_sampler_proposes_the_derived_cell(space) -> None:
    sampler = DartsSampler(space, epochs=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    trial = study.ask()
    params = space.sample(trial)
    assert params["genotype"] == sampler.results[0].genotype.to_string()


def test_darts_errors(space) -> None:
    with pytest.raises(ConfigError, match="darts_selection': expected 'argmax' or "
                                          "'perturbation', got 'vote'"):
        darts_search(space, epochs=1, selection="vote")
    chain = NasChainSpace(make_config(space="nas-chain"), digits_dataset(50))
    with pytest.raises(ConfigError, match="darts searches the nas-cell space only"):
        darts_search(chain, epochs=1)

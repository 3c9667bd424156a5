from __future__ import annotations

import time

import optuna
import pytest
import torch

from jupyter_automl._errors import ConfigError
from jupyter_automl.evaluate import TrialBudget
from jupyter_automl.spaces.nas.genotypes import CELL_OPS, CellGenotype
from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasChainSpace
from jupyter_automl.strategies.darts import DartsSampler, DartsSupernet, darts_search
from tests.nas.conftest import digits_dataset, make_config


@pytest.fixture(scope="module")
def space() -> NasCellSpace:
    torch.set_num_threads(1)
    return NasCellSpace(make_config(strategy="darts", space_options={"channels": 4}),
                        digits_dataset(200))


def test_supernet_mixes_every_op_and_none_wins_only_when_allowed() -> None:
    torch.manual_seed(0)
    net = DartsSupernet(CELL_OPS, (1, 8, 8), 10, channels=4)
    assert net(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    assert all(p is not net.alpha for p in net.weight_parameters())
    with torch.no_grad():
        net.alpha.zero_()
        net.alpha[:, CELL_OPS.index("nor_conv_3x3")] = 1.0
        net.alpha[2, CELL_OPS.index("none")] = 5.0  # edge 2 <- 1 is better without an op
    assert net.genotype() == CellGenotype(("nor_conv_3x3",) * 6)
    assert net.genotype(allow_none=True).ops == ("nor_conv_3x3",) * 2 + ("none",) + (
        "nor_conv_3x3",) * 3
    with torch.no_grad():
        net.alpha[:, CELL_OPS.index("none")] = 5.0  # all none would cut the cell: not allowed
    assert net.genotype(allow_none=True) == CellGenotype(("nor_conv_3x3",) * 6)


def test_search_is_seeded_and_records_its_history(space) -> None:
    first = darts_search(space, epochs=2, warmup_epochs=1, all_readouts=True, method="darts",
                         selection="argmax")
    second = darts_search(space, epochs=2, warmup_epochs=1, method="darts", selection="argmax")
    assert first.genotype == second.genotype
    assert [h["genotype"] for h in first.history] == [h["genotype"] for h in second.history]
    assert first.genotype.canonical().ops != ("none",) * 6
    assert first.history[0]["beta"] == 1.0 and first.history[-1]["beta"] == 0.0  # DARTS-
    assert set(first.readouts) == {"argmax", "argmax-none", "perturbation"}
    # the warm-up epoch leaves alpha at its start
    assert max(abs(v) for row in first.history[0]["alpha"] for v in row) < 1e-2


def test_skip_limit_never_stops_before_alpha_has_trained(space) -> None:
    # max_skip=-1: every cell breaks the limit; the stop waits for the warm-up (1 epoch) and
    # min_arch_epochs (1), and returns a cell derived after alpha trained, never the start
    result = darts_search(space, epochs=5, warmup_epochs=1, min_arch_epochs=1, max_skip=-1,
                          method="darts", selection="argmax")
    assert result.stopped_early
    assert len(result.history) == 3
    assert result.genotype.to_string() == result.history[1]["genotype"]
    late = darts_search(space, epochs=5, warmup_epochs=1, min_arch_epochs=3, max_skip=-1,
                        method="darts", selection="argmax")
    assert len(late.history) == 4


def test_perturbation_selection(space) -> None:
    result = darts_search(space, epochs=2, warmup_epochs=1, selection="perturbation",
                          method="darts")
    assert result.history[-1]["selection"] == "perturbation"
    assert result.genotype.canonical().ops != ("none",) * 6


def test_gdas_runs_one_op_per_edge_and_reads_the_best_sampled_cell(space) -> None:
    torch.manual_seed(0)
    net = DartsSupernet(CELL_OPS, (1, 8, 8), 10, channels=4)
    net.sampling = True
    calls: list[str] = []
    for edge in net.layers[0].edges:
        for name, op in zip(edge.names, edge.ops, strict=True):
            op.register_forward_hook(lambda *_, name=name: calls.append(name))
    net.train()
    net(torch.randn(4, 1, 8, 8)).sum().backward()
    assert len(calls) <= 6  # one op (at most) per edge of the first cell, not five
    assert net.alpha.grad is not None and net.alpha.grad.abs().sum() > 0
    result = darts_search(space, epochs=3)  # the defaults: gdas, selection auto -> sampled
    assert set(result.readouts) == {"argmax", "argmax-none", "sampled"}
    assert result.genotype.to_string() == result.readouts["sampled"]
    assert not result.stopped_early


def test_sampler_proposes_the_derived_cell(space) -> None:
    sampler = DartsSampler(space, epochs=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    trial = study.ask()
    params = space.sample(trial)
    assert params["genotype"] == sampler.results[0].genotype.to_string()


def test_darts_errors(space) -> None:
    with pytest.raises(ConfigError, match="darts_method': expected 'darts' or 'gdas', "
                                          "got 'enas'"):
        darts_search(space, epochs=1, method="enas")
    with pytest.raises(ConfigError, match="darts_selection': expected 'auto', 'argmax', "
                                          "'perturbation' or 'sampled', got 'vote'"):
        darts_search(space, epochs=1, selection="vote")
    chain = NasChainSpace(make_config(space="nas-chain"), digits_dataset(50))
    with pytest.raises(ConfigError, match="darts searches the nas-cell space only"):
        darts_search(chain, epochs=1)


def test_darts_options_are_checked_before_any_work() -> None:
    bad = {"darts_none": "yes", "darts_method": "gdsa", "darts_selection": "best"}
    space = NasCellSpace(make_config(strategy="darts", space_options=bad), digits_dataset(50))
    with pytest.raises(ConfigError) as info:
        space.check()
    message = str(info.value)
    assert "'space_options.darts_none' must be true or false, got 'yes'" in message
    assert "'space_options.darts_method': expected one of ['gdas', 'darts'], got 'gdsa'" in message
    assert "did you mean 'gdas'" in message
    assert "'space_options.darts_selection': expected one of" in message


def test_out_of_budget_search_returns_the_cell_it_got_to(space) -> None:
    start = time.monotonic()
    result = darts_search(space, epochs=500, budget=TrialBudget(start + 1.5))
    assert time.monotonic() - start < 30  # 500 epochs would take minutes
    stops = [h for h in result.history if "stopped" in h]
    assert result.stopped_early and len(stops) == 1 and stops[0]["epoch"] < 500
    assert result.genotype.canonical().ops != ("none",) * 6

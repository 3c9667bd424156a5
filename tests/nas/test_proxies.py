from __future__ import annotations

import time

import optuna
import pytest
import torch

import jupyter_automl as ja
from jupyter_automl._errors import ConfigError
from jupyter_automl.evaluate import TrialBudget
from jupyter_automl.spaces.nas.genotypes import CellGenotype
from jupyter_automl.spaces.nas.modules import build_module
from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasMlpSpace
from jupyter_automl.strategies.portfolio import first_candidates, proxy_candidates, screening_proxy
from jupyter_automl.strategies.proxies import params_score, screen, synflow_score
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
    picked = first_candidates(space)
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
    assert first_candidates(space) == first_candidates(space)
    assert first_candidates(NasCellSpace(make_config(proxy="none"), digits_dataset(50))) == []
    assert first_candidates(NasMlpSpace(make_config(space="nas-mlp"), digits_dataset(50))) == []


def test_proxy_auto_screens_cells_only_and_not_under_a_short_budget() -> None:
    assert screening_proxy(NasCellSpace(make_config(), digits_dataset(50))) == "synflow"
    assert screening_proxy(NasMlpSpace(make_config(space="nas-mlp"), digits_dataset(50))) == "none"
    assert screening_proxy(NasCellSpace(make_config(proxy="params"), digits_dataset(50))) == "params"
    # a short budget buys trained architectures: auto screens nothing (and the strategy is random)
    short = make_config(strategy="auto", n_trials=None, time_budget=60)
    assert screening_proxy(NasCellSpace(short, digits_dataset(50))) == "none"
    assert short.strategy == "random"
    long = make_config(strategy="auto", n_trials=None, time_budget=300)
    assert screening_proxy(NasCellSpace(long, digits_dataset(50))) == "synflow"
    assert long.strategy == "evolution"
    # a 3-trial search screens 60 cells, not 200
    assert proxy_candidates(NasCellSpace(make_config(n_trials=3), digits_dataset(50))) == 60


def test_unknown_proxy() -> None:
    space = NasCellSpace(make_config(), digits_dataset(50))
    with pytest.raises(ConfigError, match="proxy: expected 'none', 'synflow' or 'params'"):
        screen(space, "jacov")


class _Progress:
    """An observer that keeps the progress events (what a live view would show)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []

    def on_start(self, run) -> None: ...

    def on_trial(self, record, trial) -> None: ...

    def on_end(self, result) -> None: ...

    def on_progress(self, event: dict) -> None:
        if event["event"] == "stage":
            self.events.append((event["stage"], event["done"], event["total"]))


def test_screening_reports_progress_to_observers() -> None:
    X, y = digits_dataset(100).X.to_numpy().reshape(-1, 1, 8, 8), digits_dataset(100).y
    observer = _Progress()
    result = ja.search(X=X, y=y, space="nas-cell", strategy="random", proxy="params",
                       space_options={"channels": 2, "n_stages": 1, "proxy_candidates": 100,
                                      "proxy_keep": 2},
                       n_trials=2, epochs=1, storage="memory", display=False, device="cpu",
                       observers=[observer])
    assert observer.events[-1] == ("screening 100 cells", 100, 100)
    done = [d for _, d, _ in observer.events]
    assert done == sorted(done) and len(done) >= 10
    assert len(result.study.trials) == 2


def test_screening_counts_against_the_time_budget() -> None:
    space = NasCellSpace(make_config(proxy="synflow", space_options={
        "channels": 4, "proxy_candidates": 100_000, "proxy_keep": 3}), digits_dataset(50))
    events: list[tuple[str, int, int]] = []
    budget = TrialBudget(time.monotonic() + 5.0)  # screening may take a tenth: 0.5 s
    start = time.monotonic()
    picked = first_candidates(space, budget=budget, progress=lambda *event: events.append(event))
    assert time.monotonic() - start < 2.0
    assert len(picked) == 3
    stage, done, total = events[-1]
    assert stage == "screening 100000 cells (stopped by the time budget)" and done < total

"""Every NAS trial a new architecture: canonical genotypes and the DistinctSampler in searches."""

from __future__ import annotations

import optuna
import pytest
from sklearn.datasets import load_digits

import jupyter_automl as ja
from jupyter_automl.spaces.nas.genotypes import CellGenotype, DagGenotype
from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasMlpSpace
from jupyter_automl.strategies import DistinctSampler, make_sampler
from jupyter_automl.strategies.distinct import REPEAT
from tests.nas.conftest import digits_dataset, make_config

# two ops, no `none`: 64 different cells, so a 20-trial search repeats without the wrapper
TWO_OPS = {"ops": ["skip_connect", "nor_conv_1x1"], "channels": 2, "n_stages": 1}
TINY = {
    "epochs": 1,
    "storage": "memory",
    "display": False,
    "device": "cpu",
    "batch_size": 64,
    "lr": 0.01,
    "pruner": "none",
}


def test_isomorphic_and_dead_edges_share_a_canonical_cell() -> None:
    a = CellGenotype(
        ("nor_conv_3x3", "skip_connect", "none", "none", "avg_pool_3x3", "nor_conv_1x1")
    )
    swapped = CellGenotype(
        ("skip_connect", "nor_conv_3x3", "none", "none", "nor_conv_1x1", "avg_pool_3x3")
    )
    assert a != swapped and a.canonical() == swapped.canonical()
    # node 1 has no input: its outgoing edges carry nothing
    dead = CellGenotype(
        ("none", "skip_connect", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect")
    )
    assert (
        dead.canonical()
        == CellGenotype(
            ("none", "skip_connect", "none", "nor_conv_1x1", "none", "skip_connect")
        ).canonical()
    )
    # no path from input to output: every such cell is the empty cell
    cut = CellGenotype(("nor_conv_3x3", "nor_conv_3x3", "none", "none", "none", "none"))
    assert cut.canonical().ops == ("none",) * 6
    different = CellGenotype(("nor_conv_3x3",) * 6)
    assert different.canonical() == different


def test_dag_relabelled_inner_vertices_are_one_cell() -> None:
    a = DagGenotype.from_string("input,conv3x3-bn-relu,maxpool3x3,output;0110,0001,0001,0000")
    b = DagGenotype.from_string("input,maxpool3x3,conv3x3-bn-relu,output;0110,0001,0001,0000")
    assert a != b and a.canonical() == b.canonical()


def _count_cells() -> int:
    ops = TWO_OPS["ops"]
    import itertools

    return len({CellGenotype(c).canonical() for c in itertools.product(ops, repeat=6)})


@pytest.mark.parametrize(
    "strategy,options",
    [
        ("random", {}),
        ("tpe", {"n_startup_trials": 5}),
        ("evolution", {"population_size": 4, "tournament_size": 2}),
    ],
)
def test_a_search_of_n_trials_trains_n_different_cells(strategy, options) -> None:
    X, y = load_digits(return_X_y=True)
    X, y = X[:120].reshape(-1, 1, 8, 8), y[:120]
    n = 20
    assert _count_cells() == 64  # 20 draws of 64 repeat one with probability 0.95
    result = ja.search(
        X=X,
        y=y,
        space="nas-cell",
        strategy=strategy,
        strategy_options=options,
        space_options=TWO_OPS,
        n_trials=n,
        seed=3,
        **TINY,
    )
    trials = result.study.trials
    assert len(trials) == n
    cells = {
        CellGenotype.from_string(t.user_attrs["jupyter_automl"]["genotype"]).canonical()
        for t in trials
    }
    assert len(cells) == n
    board = result.leaderboard
    assert board["model"].nunique() == n
    assert not any(t.system_attrs.get(REPEAT) for t in trials)


def test_without_the_wrapper_the_same_sampler_repeats() -> None:
    # the comparison that makes the test above meaningful: plain Optuna sampling repeats
    space = NasCellSpace(make_config(space_options=TWO_OPS), digits_dataset(50))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(lambda t: float(len(space.sample(t)["genotype"])), n_trials=20)
    cells = {space.candidate_key(t.params) for t in study.trials}
    assert len(cells) < 20


def test_an_enqueued_repeat_is_still_trained() -> None:
    space = NasCellSpace(make_config(space_options=TWO_OPS), digits_dataset(50))
    sampler = make_sampler("random", seed=0, space=space)
    assert isinstance(sampler, DistinctSampler)
    study = optuna.create_study(sampler=sampler)
    cell = CellGenotype(("nor_conv_1x1",) * 6).to_params()
    study.enqueue_trial(cell)
    study.enqueue_trial(cell)  # asked for twice, on purpose
    study.optimize(lambda t: float(len(space.sample(t)["genotype"])), n_trials=6)
    assert [t.params for t in study.trials[:2]] == [cell, cell]
    later = {space.candidate_key(t.params) for t in study.trials[2:]}
    assert len(later) == 4 and space.candidate_key(cell) not in later


def test_mlp_search_covers_its_whole_space_then_marks_repeats() -> None:
    options = {
        "widths": [16, 32],
        "max_depth": 2,
        "activations": ["relu", "tanh"],
        "dropouts": [0.0],
        "norms": ["none"],
    }  # 2*2 + 4*2 = 12 genotypes
    result = ja.search(
        data="sklearn:breast_cancer",
        space="nas-mlp",
        strategy="tpe",
        strategy_options={"n_startup_trials": 4},
        space_options=options,
        n_trials=14,
        **TINY,
    )
    genotypes = [t.user_attrs["jupyter_automl"]["genotype"] for t in result.study.trials]
    assert len(set(genotypes[:12])) == 12
    assert all(t.system_attrs.get(REPEAT) for t in result.study.trials[12:])


def test_space_declares_every_parameter_it_can_draw() -> None:
    space = NasMlpSpace(
        make_config(space="nas-mlp", space_options={"max_depth": 3}), digits_dataset(50)
    )
    names = set(space.distributions())
    assert {"depth", "units_0", "units_1", "units_2", "activation", "dropout", "norm"} <= names
    cell = NasCellSpace(make_config(lr=[1e-3, 1e-1]), digits_dataset(50))
    assert set(cell.distributions()) == {
        *CellGenotype.from_string(CellGenotype.EXAMPLE).to_params(),
        "lr",
    }

from __future__ import annotations

import subprocess
import sys

import optuna
import pytest

from jupyter_automl._errors import ConfigError
from jupyter_automl.spaces.nas.genotypes import (
    CELL_OPS,
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    MlpGenotype,
)

NB201 = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"


def _sample(cls, options, n=30, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(cls.suggest(trial, options))
        study.tell(trial, 0.0)
    return out


def test_genotypes_do_not_import_torch() -> None:
    code = (
        "import sys, jupyter_automl.spaces.nas.genotypes; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cell_nb201_notation_round_trips() -> None:
    g = CellGenotype.from_string(NB201)
    assert g.to_string() == NB201
    assert g.edge_op(1, 0) == "nor_conv_3x3"
    assert g.edge_op(2, 1) == "nor_conv_1x1"
    assert g.edge_op(3, 2) == "skip_connect"
    assert len(g.diagram()["edges"]) == 4  # the two `none` edges are not drawn


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("|nor_conv_3x3~0|", "1 node groups, expected 3"),
        (NB201.replace("nor_conv_1x1", "conv_7x7"), "unknown op 'conv_7x7'"),
        (NB201.replace("skip_connect~2", "skip_connect~1"), "should be 'OP~2'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 inputs"),
    ],
)
def test_cell_bad_strings(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        CellGenotype.from_string(text)


def test_cell_suggest_uses_one_categorical_per_edge() -> None:
    cells = _sample(CellGenotype, {"ops": CELL_OPS})
    for g in cells:
        assert CellGenotype.from_string(g.to_string()) == g
        assert set(g.to_params()) == {"edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0",
                                      "edge_3_1", "edge_3_2"}
    assert len({g.to_string() for g in cells}) > 20


def test_dag_prunes_dangling_vertices() -> None:
    # vertex 2 feeds nothing: it is pruned, and so is its edge
    g = DagGenotype(
        ((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)),
        ("input", "conv3x3-bn-relu", "maxpool3x3", "output"),
    )
    assert g.ops == ("input", "conv3x3-bn-relu", "output")
    assert g.n_edges == 2
    assert DagGenotype.from_string(g.to_string()) == g


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("input,output", "expected 'OPS;MATRIX'"),
        ("input,conv5x5,output;011,001,000", "unknown op 'conv5x5'"),
        ("input,conv3x3-bn-relu,output;01,00", "must be 3x3"),
        ("input,conv3x3-bn-relu,output;010,100,000", "strictly upper triangular"),
        ("input,conv3x3-bn-relu,output;010,000,000", "no path from input to output"),
    ],
)
def test_dag_bad_strings(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        DagGenotype.from_string(text)


def test_dag_too_many_edges() -> None:
    n = 7
    full = tuple(tuple(int(j > i) for j in range(n)) for i in range(n))
    with pytest.raises(ConfigError, match="at most 9 edges, got 21"):
        DagGenotype(full, ("input",) + ("conv3x3-bn-relu",) * 5 + ("output",))


def test_dag_suggest_is_always_valid() -> None:
    dags = _sample(DagGenotype, {}, n=60)
    for g in dags:
        assert g.n_edges <= 9 and len(g.ops) <= 7
        assert DagGenotype.from_string(g.to_string()) == g
    assert len({g.to_string() for g in dags}) > 40


def test_chain_and_mlp_round_trip() -> None:
    for g in _sample(ChainGenotype, {}):
        assert ChainGenotype.from_string(g.to_string()) == g
        assert len(g.diagram()["nodes"]) == len(g.widths) + 2
    for g in _sample(MlpGenotype, {}):
        assert MlpGenotype.from_string(g.to_string()) == g


@pytest.mark.parametrize(
    ("cls", "text", "match"),
    [
        (ChainGenotype, "blocks=16x3;pool=max;norm=batch", r"missing \['dropout'\]"),
        (ChainGenotype, "blocks=16;pool=max;norm=batch;dropout=0", "should be 'WIDTHxKERNEL'"),
        (ChainGenotype, "blocks=16x3;pool=min;norm=batch;dropout=0", "pool='min' is not one"),
        (MlpGenotype, "units=64;activation=relu;dropout=2;norm=none", r"outside \[0.0, 0.95\]"),
        (MlpGenotype, "units=64;activation=relu;dropout=0;norm=none;x=1", r"unknown \['x'\]"),
        (MlpGenotype, "units=a;activation=relu;dropout=0;norm=none", "'a' is not a number"),
    ],
)
def test_chain_mlp_bad_strings(cls, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        cls.from_string(text)

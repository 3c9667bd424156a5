from __future__ import annotations

import xml.etree.ElementTree as ET

import optuna
import pytest

from jupyter_automl.spaces.nas.diagram import diagram_svg, op_color
from jupyter_automl.spaces.nas.genotypes import (
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    MlpGenotype,
)

NB201 = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"
SVG = "{http://www.w3.org/2000/svg}"


def test_cell_diagram_svg_has_every_node_edge_and_op_colour() -> None:
    svg = diagram_svg(CellGenotype.from_string(NB201).diagram(), title=NB201)
    root = ET.fromstring(svg)  # well-formed XML
    assert len(root.findall(f".//{SVG}rect[@rx]")) == 4  # nodes
    paths = root.findall(f".//{SVG}path[@stroke]")
    assert len(paths) == 4  # `none` edges are not drawn
    assert {p.get("stroke") for p in paths} == {op_color("nor_conv_3x3"),
                                                op_color("skip_connect"),
                                                op_color("nor_conv_1x1")}
    assert "<script" not in svg


@pytest.mark.parametrize("cls", [CellGenotype, DagGenotype, ChainGenotype, MlpGenotype])
def test_every_genotype_draws(cls) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    genotype = cls.suggest(study.ask(), {})
    root = ET.fromstring(diagram_svg(genotype.diagram()))
    assert len(root.findall(f".//{SVG}rect[@rx]")) == len(genotype.diagram()["nodes"])


def test_labels_are_escaped() -> None:
    svg = diagram_svg({"nodes": [{"id": "a", "label": "<b>&"}, {"id": "b", "label": "x"}],
                       "edges": [{"source": "a", "target": "b", "op": "<op>"}]})
    ET.fromstring(svg)
    assert "&lt;b&gt;&amp;" in svg and "<op>" not in svg
    assert op_color("<op>") == op_color("<op>")


def test_empty_diagram() -> None:
    ET.fromstring(diagram_svg(None))

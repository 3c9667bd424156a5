from __future__ import annotations

import xml.etree.ElementTree as ET

import optuna
import pytest

from jupyter_automl.spaces.nas.diagram import diagram_layout, diagram_svg, op_color
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
    assert {p.get("stroke") for p in paths} == {
        op_color("nor_conv_3x3"),
        op_color("skip_connect"),
        op_color("nor_conv_1x1"),
    }
    assert "<script" not in svg


@pytest.mark.parametrize("cls", [CellGenotype, DagGenotype, ChainGenotype, MlpGenotype])
def test_every_genotype_draws(cls) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    genotype = cls.suggest(study.ask(), {})
    root = ET.fromstring(diagram_svg(genotype.diagram()))
    assert len(root.findall(f".//{SVG}rect[@rx]")) == len(genotype.diagram()["nodes"])


def test_labels_are_escaped() -> None:
    svg = diagram_svg(
        {
            "nodes": [{"id": "a", "label": "<b>&"}, {"id": "b", "label": "x"}],
            "edges": [{"source": "a", "target": "b", "op": "<op>"}],
        }
    )
    ET.fromstring(svg)
    assert "&lt;b&gt;&amp;" in svg and "<op>" not in svg
    assert op_color("<op>") == op_color("<op>")


def test_empty_diagram() -> None:
    ET.fromstring(diagram_svg(None))


# ---------------------------------------------------------------------------- the one layout
FULL_NB201 = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"
ISSUE_NB201 = (
    "|none~0|+|skip_connect~0|none~1|+|none~0|nor_conv_1x1~1|none~2|"  # in→2 and 1→out only
)


def _boxes(layout: dict) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    def box(c: dict) -> tuple[float, ...]:
        return (c["x"] - c["w"] / 2, c["y"] - c["h"] / 2, c["x"] + c["w"] / 2, c["y"] + c["h"] / 2)

    return [box(e["label"]) for e in layout["edges"]], [box(n) for n in layout["nodes"]]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _genotypes() -> list[tuple[str, dict]]:
    sampled = []
    for cls in (DagGenotype, ChainGenotype, MlpGenotype):  # NB101 DAGs, chains, MLPs
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
        sampled += [
            (f"{cls.__name__}-{k}", cls.suggest(study.ask(), {}).diagram()) for k in range(4)
        ]
    return [
        ("nb201-full", CellGenotype.from_string(FULL_NB201).diagram()),
        ("nb201-issue", CellGenotype.from_string(ISSUE_NB201).diagram()),
        ("nb201", CellGenotype.from_string(NB201).diagram()),
        *sampled,
    ]


@pytest.mark.parametrize(("name", "diagram"), _genotypes(), ids=[n for n, _ in _genotypes()])
def test_layout_draws_every_edge_and_no_label_overlaps(name: str, diagram: dict) -> None:
    layout = diagram_layout(diagram)
    drawn = [(e["source"], e["target"], e["op"]) for e in layout["edges"]]
    assert sorted(drawn) == sorted((e["source"], e["target"], e["op"]) for e in diagram["edges"])
    assert len(layout["nodes"]) == len(diagram["nodes"])
    labels, nodes = _boxes(layout)
    for i, a in enumerate(labels):
        assert not any(_overlap(a, b) for b in labels[i + 1 :]), f"{name}: labels overlap"
        assert not any(_overlap(a, b) for b in nodes), f"{name}: a label covers a node"
    for i, a in enumerate(nodes):
        assert not any(_overlap(a, b) for b in nodes[i + 1 :]), f"{name}: nodes overlap"
    width, height = layout["width"], layout["height"]
    for e in layout["edges"]:
        assert all(0 <= x <= width and 0 <= y <= height for x, y in e["path"][::2])
    # the SVG draws that layout: one path per edge, one box per node
    root = ET.fromstring(diagram_svg(diagram, layout=layout))
    assert len(root.findall(f".//{SVG}path[@class='ja-edge']")) == len(diagram["edges"])
    assert len(root.findall(f".//{SVG}rect[@rx]")) == len(diagram["nodes"])


def test_edges_that_would_share_a_path_are_curved_apart() -> None:
    layout = diagram_layout(CellGenotype.from_string(FULL_NB201).diagram())
    by_pair = {(e["source"], e["target"]): e["path"] for e in layout["edges"]}
    chain = [("0", "1"), ("1", "2"), ("2", "3")]
    for pair in chain:  # neighbours: straight (the control point is on the line)
        (x0, y0), (cx, cy), (x1, y1) = by_pair[pair]
        assert cy == pytest.approx((y0 + y1) / 2)
    skips = [by_pair[p][1][1] for p in [("0", "2"), ("1", "3"), ("0", "3")]]
    line_y = by_pair[("0", "1")][0][1]
    assert all(abs(y - line_y) > 20 for y in skips)  # arched off the chain
    assert len({round(y) for y in skips}) == 3  # and off each other


def test_issue_cell_draws_its_own_edges_not_a_chain() -> None:
    layout = diagram_layout(CellGenotype.from_string(ISSUE_NB201).diagram())
    assert {(e["source"], e["target"]) for e in layout["edges"]} == {("0", "2"), ("1", "3")}


def test_layout_is_carried_in_the_payload_and_drawn_by_the_static_svg() -> None:
    from jupyter_automl.report import _layout

    diagram = CellGenotype.from_string(NB201).diagram()
    assert _layout(diagram) == diagram_layout(diagram)
    assert _layout(None) is None

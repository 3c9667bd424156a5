"""Architecture diagrams as standalone SVG (pure Python: no Bokeh, no scripts).

Draws the ``{"nodes": [...], "edges": [...]}`` dict that every space's ``diagram(params)``
returns: nodes in columns by their depth from the inputs, edges as arcs labelled with their op
and coloured by op, and a legend. The notebook's live view draws the same dict with Bokeh and
uses :func:`op_color` so both agree on colours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from html import escape
from typing import Any

__all__ = ["OP_COLORS", "diagram_svg", "op_color"]

#: Fixed colours for the ops of the built-in spaces (colour-blind-safe Okabe-Ito palette).
OP_COLORS: dict[str, str] = {
    "skip_connect": "#999999",
    "nor_conv_1x1": "#56B4E9",
    "nor_conv_3x3": "#0072B2",
    "avg_pool_3x3": "#E69F00",
    "none": "#DDDDDD",
    "conv3x3-bn-relu": "#0072B2",
    "conv1x1-bn-relu": "#56B4E9",
    "maxpool3x3": "#D55E00",
    "output": "#009E73",
    "linear": "#009E73",
    "gap-linear": "#009E73",
}
_EXTRA = ("#CC79A7", "#F0E442", "#009E73", "#D55E00", "#882255", "#44AA99", "#117733")


def op_color(op: str) -> str:
    """The colour of ``op``: fixed for known ops, a stable palette pick for others."""
    if op in OP_COLORS:
        return OP_COLORS[op]
    if op.startswith("conv"):
        return "#0072B2"
    if op.startswith("linear"):
        return "#CC79A7"
    digest = hashlib.md5(op.encode()).digest()[0]
    return _EXTRA[digest % len(_EXTRA)]


def _layout(nodes: list[Mapping[str, Any]], edges: list[Mapping[str, Any]]
            ) -> dict[str, tuple[int, int]]:
    """Column (longest path from a source) and row within the column for every node."""
    ids = [str(n["id"]) for n in nodes]
    depth = {i: 0 for i in ids}
    for _ in ids:  # longest-path relaxation; graphs here are small DAGs
        changed = False
        for e in edges:
            s, t = str(e["source"]), str(e["target"])
            if s in depth and t in depth and depth[t] < depth[s] + 1:
                depth[t] = depth[s] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    place = {}
    for i in ids:
        col = depth[i]
        place[i] = (col, rows.get(col, 0))
        rows[col] = rows.get(col, 0) + 1
    return place


def diagram_svg(diagram: Mapping[str, Any] | None, *, title: str | None = None,
                width_per_column: int = 170, height_per_row: int = 90) -> str:
    """Render an architecture diagram dict as an SVG string.

    Parameters
    ----------
    diagram : dict
        ``{"nodes": [{"id", "label"}], "edges": [{"source", "target", "op"}]}``.
    title : str, optional
        A caption above the graph (e.g. the genotype string).
    width_per_column, height_per_row : int
        Spacing of the layout in pixels.

    Returns
    -------
    str
        A self-contained ``<svg>`` element (safe to embed in HTML: all text is escaped).

    Examples
    --------
    >>> svg = diagram_svg({"nodes": [{"id": "0", "label": "in"}, {"id": "1", "label": "out"}],
    ...                    "edges": [{"source": "0", "target": "1", "op": "nor_conv_3x3"}]})
    >>> svg.startswith("<svg") and "nor_conv_3x3" in svg
    True
    """
    diagram = diagram or {"nodes": [], "edges": []}
    nodes = list(diagram.get("nodes", []))
    edges = list(diagram.get("edges", []))
    place = _layout(nodes, edges)
    n_cols = max((c for c, _ in place.values()), default=0) + 1
    n_rows = max((r for _, r in place.values()), default=0) + 1
    ops = list(dict.fromkeys(str(e["op"]) for e in edges))
    top = 30 if title else 10
    legend_h = 20 * len(ops) + 10
    width = max(n_cols * width_per_column + 40, 260)
    graph_h = n_rows * height_per_row + 40
    height = top + graph_h + legend_h

    def xy(node_id: str) -> tuple[float, float]:
        col, row = place[node_id]
        # centre every column vertically so chains are straight lines
        col_rows = sum(1 for c, _ in place.values() if c == col)
        y = top + 20 + (row + 0.5 + (n_rows - col_rows) / 2) * height_per_row
        return 40 + col * width_per_column + 20, y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
        'role="img" aria-label="architecture diagram">',
        '<defs><marker id="ja-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
    ]
    if title:
        parts.append(f'<text x="10" y="18" font-size="12">{escape(title)}</text>')
    half = {str(n["id"]): max(18.0, 3.3 * len(str(n.get("label", n["id"]))) + 6)
            for n in nodes}
    pair_count: dict[tuple[str, str], int] = {}
    for e in edges:
        s, t, op = str(e["source"]), str(e["target"]), str(e["op"])
        if s not in place or t not in place:
            continue
        (x1, y1), (x2, y2) = xy(s), xy(t)
        k = pair_count.get((s, t), 0)
        pair_count[(s, t)] = k + 1
        span = place[t][0] - place[s][0]
        # edges that skip columns arc away from the straight chain so they stay readable
        bend = 0.0 if span <= 1 and k == 0 else 28.0 * (span - 1 + k) * (1 if k % 2 == 0 else -1)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - bend
        color = op_color(op)
        parts.append(
            f'<path d="M {x1 + half[s]:.1f} {y1:.1f} Q {mx:.1f} {my:.1f} {x2 - half[t]:.1f} '
            f'{y2:.1f}" '
            f'fill="none" stroke="{color}" stroke-width="2.5" marker-end="url(#ja-arrow)">'
            f"<title>{escape(op)}</title></path>"
        )
        label_y = (y1 + y2) / 2 - bend / 2 - 4
        parts.append(f'<text x="{mx:.1f}" y="{label_y:.1f}" text-anchor="middle" '
                     f'fill="{color}">{escape(op)}</text>')
    for n in nodes:
        node_id = str(n["id"])
        x, y = xy(node_id)
        label = escape(str(n.get("label", node_id)))
        w = half[node_id]
        parts.append(f'<g><rect x="{x - w:.1f}" y="{y - 14:.1f}" width="{2 * w:.1f}" '
                     f'height="28" rx="14" fill="#fff" stroke="#333" stroke-width="1.5"/>'
                     f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">{label}</text></g>')
    legend_top = top + graph_h
    for i, op in enumerate(ops):
        y = legend_top + 20 * i + 10
        parts.append(f'<rect x="10" y="{y - 9}" width="14" height="10" fill="{op_color(op)}"/>'
                     f'<text x="30" y="{y}">{escape(op)}</text>')
    parts.append("</svg>")
    return "".join(parts)

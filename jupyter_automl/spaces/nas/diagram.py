"""Architecture diagrams: one layout computed here, drawn thinly by every renderer.

Every space's ``diagram(params)`` returns ``{"nodes": [{"id", "label"}], "edges": [{"source",
"target", "op"}]}``. :func:`diagram_layout` places it once, in pixels (y grows downwards): node
boxes in columns by their depth from the inputs, every edge as a quadratic Bézier curve (straight
between neighbouring columns, arched where edges would share a path or cross a box), a label
anchor per edge that overlaps no other label and no box, and a legend. The layout travels in the
result payload (``diagram_layout``); the static SVG (:func:`diagram_svg`), the live Bokeh view and
the JupyterLab renderer only draw it, so all three show the same picture.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from html import escape
from typing import Any

__all__ = ["OP_COLORS", "LAYOUT_VERSION", "diagram_layout", "diagram_svg", "op_color"]

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

LAYOUT_VERSION = 1
CHAR_W = 6.4  # px per character of the 11 px sans-serif label font (a generous estimate)
LABEL_H = 13.0
NODE_H = 26.0
ROW_GAP = 64.0
MARGIN = 12.0
LEGEND_ROW = 18.0
_BEND_STEP = 16.0


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


# ----------------------------------------------------------------------------------- geometry
Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Point = tuple[float, float]


def _text_w(text: str) -> float:
    return CHAR_W * len(text) + 4.0


def _overlaps(a: Box, b: Box, pad: float = 2.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _bezier(p0: Point, c: Point, p2: Point, t: float) -> Point:
    u = 1.0 - t
    return (
        u * u * p0[0] + 2 * u * t * c[0] + t * t * p2[0],
        u * u * p0[1] + 2 * u * t * c[1] + t * t * p2[1],
    )


def _samples(p0: Point, c: Point, p2: Point, n: int = 24) -> list[Point]:
    return [_bezier(p0, c, p2, k / n) for k in range(n + 1)]


def _hits_box(points: list[Point], box: Box) -> bool:
    return any(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in points)


def _shares_path(a: list[Point], b: list[Point], tol: float = 5.0) -> bool:
    """Two curves run along each other (more than a crossing): several close sample points."""
    inner = a[3:-3]
    close = sum(1 for p in inner if any(math.dist(p, q) < tol for q in b))
    return close > 2


# ------------------------------------------------------------------------------------ layout
def _depths(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from a source; a cycle stops the relaxation after ``len(ids)`` passes."""
    depth = {i: 0 for i in ids}
    for _ in ids:
        changed = False
        for s, t in edges:
            if depth[t] < depth[s] + 1 < len(ids) + 1:
                depth[t] = depth[s] + 1
                changed = True
        if not changed:
            break
    return depth


def _columns(
    ids: list[str], edges: list[tuple[str, str]], depth: dict[str, int]
) -> list[list[str]]:
    """Nodes per column, ordered by the mean row of their inputs (one barycentre pass)."""
    n_cols = max(depth.values(), default=0) + 1
    cols: list[list[str]] = [[] for _ in range(n_cols)]
    for i in ids:
        cols[depth[i]].append(i)
    row: dict[str, float] = {}
    for col in cols:

        def key(node: str) -> float:
            ins = [row[s] for s, t in edges if t == node and s in row]
            return sum(ins) / len(ins) if ins else float(ids.index(node))

        col.sort(key=key)
        for k, node in enumerate(col):
            row[node] = float(k)
    return [c for c in cols if c]


def _route_edges(
    raw_edges: list[Mapping[str, Any]],
    pairs: list[tuple[str, str]],
    ids: list[str],
    col_of: dict[str, int],
    centre: dict[str, Point],
    boxes: dict[str, Box],
) -> list[dict[str, Any]]:
    """A curve per edge: straight between neighbouring columns when nothing is in the way, else
    an arc, alternately above and below, bent further until it crosses no box and runs along no
    other arc."""
    curves: list[list[Point]] = []
    routes: list[dict[str, Any] | None] = [None] * len(raw_edges)
    seen_pairs: dict[tuple[str, str], int] = {}
    arcs = 0
    order = sorted(
        range(len(raw_edges)), key=lambda k: (abs(col_of[pairs[k][1]] - col_of[pairs[k][0]]), k)
    )
    for k in order:
        s, t = pairs[k]
        forward = col_of[t] > col_of[s]
        p0 = (boxes[s][2], centre[s][1]) if forward else (centre[s][0], boxes[s][3])
        p2 = (boxes[t][0], centre[t][1]) if forward else (centre[t][0], boxes[t][3])
        others = [boxes[i] for i in ids if i not in (s, t)]
        repeat = seen_pairs.get((s, t), 0)
        seen_pairs[(s, t)] = repeat + 1
        dx, dy = p2[0] - p0[0], p2[1] - p0[1]
        length = math.hypot(dx, dy) or 1.0
        normal = (dy / length, -dx / length)  # points up for a left-to-right edge
        mid = ((p0[0] + p2[0]) / 2, (p0[1] + p2[1]) / 2)
        span = abs(col_of[t] - col_of[s])
        first = -1.0 if arcs % 2 else 1.0
        bends = [0.0] if forward and span <= 1 and repeat == 0 else []
        # an arc's apex (half its bend) clears the label of a straight edge under it
        base = 40.0 if span <= 1 else 96.0 + 28.0 * (span - 2)
        bends += [sd * (base + _BEND_STEP * step) for step in range(12) for sd in (first, -first)]
        chosen: tuple[Point, list[Point], float] | None = None
        for bend in bends:
            c = (mid[0] + normal[0] * bend, mid[1] + normal[1] * bend)
            pts = _samples(p0, c, p2)
            if any(_hits_box(pts[2:-2], b) for b in others):
                continue
            if bend != 0.0 and any(_shares_path(pts, other) for other in curves):
                continue
            chosen = (c, pts, bend)
            break
        if chosen is None:  # crowded beyond the search: the widest arc
            c = (mid[0] + normal[0] * bends[-1], mid[1] + normal[1] * bends[-1])
            chosen = (c, _samples(p0, c, p2), bends[-1])
        c, pts, bend = chosen
        arcs += bend != 0.0
        curves.append(pts)
        op = str(raw_edges[k].get("op", ""))
        routes[k] = {
            "source": s,
            "target": t,
            "op": op,
            "color": op_color(op),
            "path": [p0, c, p2],
            "_pts": pts,
            "_side": -1.0 if bend >= 0 else 1.0,
        }
    return [r for r in routes if r is not None]


def _place_labels(routes: list[dict[str, Any]], node_boxes: list[Box]) -> list[dict[str, Any]]:
    """Each op's text beside its curve, touching no box, no other text and no curve."""
    placed: list[Box] = []
    all_pts = [p for r in routes for p in _samples(*r["path"], n=64)]
    for r in sorted(routes, key=lambda r: r["path"][1] != _mid(r["path"])):  # straight ones first
        p0, c, p2 = r["path"]
        w = _text_w(r["op"])
        fallback = _label_box(_bezier(p0, c, p2, 0.5), w, r["_side"], 3.0)
        best = None
        # first beside the curve and clear of every curve; then clear of labels and boxes only
        for avoid_curves in (True, False):
            for gap in (3.0, 8.0, 14.0, 22.0, 32.0):
                for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78):
                    for side in (r["_side"], -r["_side"]):
                        box = _label_box(_bezier(p0, c, p2, t), w, side, gap)
                        if any(_overlaps(box, b) for b in placed + node_boxes):
                            continue
                        if avoid_curves and any(
                            box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in all_pts
                        ):
                            continue
                        best = box
                        break
                    if best:
                        break
                if best:
                    break
            if best:
                break
        box = best or fallback
        placed.append(box)
        r["label"] = {
            "x": (box[0] + box[2]) / 2,
            "y": (box[1] + box[3]) / 2,
            "w": box[2] - box[0],
            "h": box[3] - box[1],
        }
    return routes


def _mid(path: list[Point]) -> Point:
    return ((path[0][0] + path[2][0]) / 2, (path[0][1] + path[2][1]) / 2)


def _label_box(at: Point, w: float, side: float, gap: float) -> Box:
    cy = at[1] + side * (LABEL_H / 2 + gap)
    return (at[0] - w / 2, cy - LABEL_H / 2, at[0] + w / 2, cy + LABEL_H / 2)


def diagram_layout(diagram: Mapping[str, Any] | None) -> dict[str, Any]:
    """Place an architecture diagram once, for every renderer.

    Parameters
    ----------
    diagram : dict or None
        ``{"nodes": [{"id", "label"}], "edges": [{"source", "target", "op"}]}``; edges to
        unknown nodes are left out.

    Returns
    -------
    dict
        ``version``, ``width``, ``height`` (pixels, y downwards), ``nodes`` (``id``, ``label``,
        centre ``x``/``y``, ``w``/``h``), ``edges`` (``source``, ``target``, ``op``, ``color``,
        ``path``: the start, control and end point of a quadratic Bézier curve, ``label``: the
        centre ``x``/``y`` and ``w``/``h`` of the op's text) and ``legend`` (``op``, ``color``,
        ``x``, ``y``). No label overlaps another label or a node box.

    Examples
    --------
    >>> lay = diagram_layout({"nodes": [{"id": "0", "label": "in"}, {"id": "1", "label": "out"}],
    ...                       "edges": [{"source": "0", "target": "1", "op": "nor_conv_3x3"}]})
    >>> [n["x"] < m["x"] for n, m in [lay["nodes"]]]
    [True]
    >>> len(lay["edges"]), lay["edges"][0]["op"]
    (1, 'nor_conv_3x3')
    """
    diagram = diagram or {}
    nodes = [n for n in diagram.get("nodes", []) if isinstance(n, Mapping) and "id" in n]
    ids = list(dict.fromkeys(str(n["id"]) for n in nodes))
    labels = {str(n["id"]): str(n.get("label", n["id"])) for n in nodes}
    raw_edges = [
        e
        for e in diagram.get("edges", [])
        if isinstance(e, Mapping)
        and str(e.get("source")) in labels
        and str(e.get("target")) in labels
    ]
    pairs = [(str(e["source"]), str(e["target"])) for e in raw_edges]
    depth = _depths(ids, pairs)
    columns = _columns(ids, pairs, depth)
    col_of = {node: k for k, col in enumerate(columns) for node in col}

    size = {i: (max(40.0, _text_w(labels[i]) + 14.0), NODE_H) for i in ids}
    # the gap after a column fits the longest label of the edges leaving it
    gaps = []
    for k in range(len(columns)):
        ops = [
            str(e.get("op", ""))
            for e, (s, _) in zip(raw_edges, pairs, strict=True)
            if col_of[s] == k
        ]
        gaps.append(max([70.0, *(_text_w(op) + 30.0 for op in ops)]))
    centre: dict[str, Point] = {}
    x = 0.0
    for k, col in enumerate(columns):
        width = max(size[i][0] for i in col)
        for r, node in enumerate(col):
            centre[node] = (x + width / 2, (r - (len(col) - 1) / 2) * ROW_GAP)
        x += width + gaps[k]
    boxes = {
        i: (
            centre[i][0] - size[i][0] / 2,
            centre[i][1] - size[i][1] / 2,
            centre[i][0] + size[i][0] / 2,
            centre[i][1] + size[i][1] / 2,
        )
        for i in ids
    }

    routes = _route_edges(raw_edges, pairs, ids, col_of, centre, boxes)
    out_edges = _place_labels(routes, list(boxes.values()))
    return _framed(ids, labels, centre, size, out_edges)


def _framed(
    ids: list[str],
    labels: dict[str, str],
    centre: dict[str, Point],
    size: dict[str, Point],
    edges: list[dict[str, Any]],
) -> dict[str, Any]:
    """Shift everything to start at the margin, and add the legend under the graph."""
    xs: list[float] = []
    ys: list[float] = []
    for i in ids:
        xs += [centre[i][0] - size[i][0] / 2, centre[i][0] + size[i][0] / 2]
        ys += [centre[i][1] - size[i][1] / 2, centre[i][1] + size[i][1] / 2]
    for e in edges:
        xs += [p[0] for p in e["_pts"]] + [
            e["label"]["x"] - e["label"]["w"] / 2,
            e["label"]["x"] + e["label"]["w"] / 2,
        ]
        ys += [p[1] for p in e["_pts"]] + [
            e["label"]["y"] - e["label"]["h"] / 2,
            e["label"]["y"] + e["label"]["h"] / 2,
        ]
    if not xs:
        xs, ys = [0.0], [0.0]
    ox, oy = MARGIN - min(xs), MARGIN - min(ys)

    def r(v: float) -> float:
        return round(v, 1)

    out_nodes = [
        {
            "id": i,
            "label": labels[i],
            "x": r(centre[i][0] + ox),
            "y": r(centre[i][1] + oy),
            "w": r(size[i][0]),
            "h": r(size[i][1]),
        }
        for i in ids
    ]
    for e in edges:
        e.pop("_pts")
        e.pop("_side")
        e["path"] = [[r(p[0] + ox), r(p[1] + oy)] for p in e["path"]]
        e["label"] = {
            "x": r(e["label"]["x"] + ox),
            "y": r(e["label"]["y"] + oy),
            "w": r(e["label"]["w"]),
            "h": r(e["label"]["h"]),
        }
    graph_h = max(ys) + oy + MARGIN
    ops = list(dict.fromkeys(e["op"] for e in edges))
    legend = [
        {"op": op, "color": op_color(op), "x": MARGIN, "y": r(graph_h + LEGEND_ROW * k + 6)}
        for k, op in enumerate(ops)
    ]
    width = max([max(xs) + ox + MARGIN, 160.0, *(MARGIN + 24 + _text_w(op) for op in ops)])
    height = graph_h + LEGEND_ROW * len(ops) + (MARGIN if ops else 0.0)
    return {
        "version": LAYOUT_VERSION,
        "width": r(width),
        "height": r(height),
        "nodes": out_nodes,
        "edges": edges,
        "legend": legend,
    }


# --------------------------------------------------------------------------------------- SVG
# No fixed ink or paper: text and boxes take the surrounding text colour (currentColor), so the
# SVG reads on JupyterLab Light and Dark, in nbconvert's HTML and after a sanitizer drops styles.


def diagram_svg(
    diagram: Mapping[str, Any] | None,
    *,
    title: str | None = None,
    layout: Mapping[str, Any] | None = None,
) -> str:
    """Draw an architecture as a standalone SVG string (no script; all text escaped).

    Parameters
    ----------
    diagram : dict or None
        ``{"nodes": [{"id", "label"}], "edges": [{"source", "target", "op"}]}``.
    title : str, optional
        A caption above the graph (e.g. the genotype string), shortened to fit; the full text
        is its tooltip.
    layout : dict, optional
        The :func:`diagram_layout` of ``diagram`` when the caller has it already.

    Examples
    --------
    >>> svg = diagram_svg({"nodes": [{"id": "0", "label": "in"}, {"id": "1", "label": "out"}],
    ...                    "edges": [{"source": "0", "target": "1", "op": "nor_conv_3x3"}]})
    >>> svg.startswith("<svg") and "nor_conv_3x3" in svg
    True
    """
    lay = dict(layout) if layout is not None else diagram_layout(diagram)
    top = 22.0 if title else 0.0
    width, height = lay["width"], lay["height"] + top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif" font-size="11" '
        f'role="img" aria-label="architecture diagram" class="jupyter-automl-diagram" '
        'style="max-width:100%;height:auto">',  # scales down to a narrow output (the viewBox keeps it whole)
    ]
    colors = list(dict.fromkeys(e["color"] for e in lay["edges"]))
    parts.append(
        "<defs>"
        + "".join(
            f'<marker id="ja-arrow-{c.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" '
            f'fill="{c}"/></marker>'
            for c in colors
        )
        + "</defs>"
    )
    if title:
        short = (
            title
            if len(title) * CHAR_W < width - 20
            else title[: max(8, int((width - 30) / CHAR_W))] + "…"
        )
        parts.append(
            f'<text x="{MARGIN:g}" y="15" font-size="11" fill="currentColor" fill-opacity="0.75">'
            f"<title>{escape(title)}</title>{escape(short)}</text>"
        )
    parts.append(f'<g transform="translate(0,{top:g})">')
    for e in lay["edges"]:
        (x0, y0), (cx, cy), (x1, y1) = e["path"]
        op = escape(e["op"])
        marker = e["color"].lstrip("#")
        parts.append(
            f'<path class="ja-edge" d="M {x0:g} {y0:g} Q {cx:g} {cy:g} {x1:g} {y1:g}" fill="none" '
            f'stroke="{e["color"]}" stroke-width="2.5" marker-end="url(#ja-arrow-{marker})">'
            f"<title>{escape(e['source'])} → {escape(e['target'])}: {op}</title></path>"
        )
        lab = e["label"]
        parts.append(
            f'<text x="{lab["x"]:g}" y="{lab["y"] + 4:g}" text-anchor="middle" '
            f'fill="{e["color"]}">{op}</text>'
        )
    for n in lay["nodes"]:
        x, y, w, h = n["x"], n["y"], n["w"], n["h"]
        parts.append(
            f'<g><rect x="{x - w / 2:g}" y="{y - h / 2:g}" width="{w:g}" height="{h:g}" '
            f'rx="{h / 2:g}" fill="currentColor" fill-opacity="0.07" stroke="currentColor" '
            f'stroke-opacity="0.6" stroke-width="1.5"/>'
            f'<text x="{x:g}" y="{y + 4:g}" text-anchor="middle" fill="currentColor">'
            f"{escape(n['label'])}</text></g>"
        )
    for item in lay["legend"]:
        y = item["y"]
        parts.append(
            f'<rect x="{item["x"]:g}" y="{y - 5:g}" width="14" height="10" fill="{item["color"]}"/>'
            f'<text x="{item["x"] + 20:g}" y="{y + 4:g}" fill="currentColor">{escape(item["op"])}</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)

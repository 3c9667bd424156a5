"""Static SVG (no script) of the insight charts, and the "model" and "search" sections of the HTML.

Text and axes use ``currentColor`` so a chart reads on light and dark notebook themes alike;
every string from the payload is escaped.
"""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["chart_svg", "insight_html", "insight_text", "holdout_line"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_W, _H = 360, 260
_PAD = {"l": 52, "r": 12, "t": 26, "b": 40}
_e = html.escape


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "–"
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.{digits}g}"
    text = f"{v:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """Round tick values covering ``[lo, hi]``."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


#: about how wide one character of the 10 px chart font is, to decide what fits
_CHAR_W = 6.0


def _label(text: Any, room: float) -> str:
    """``text`` escaped, shortened with "…" to fit ``room`` pixels; the full text is its tooltip."""
    full = str(text)
    fits = max(3, int(room / _CHAR_W))
    if len(full) <= fits:
        return _e(full)
    return f"<title>{_e(full)}</title>{_e(full[: fits - 1])}…"


def _legend_corner(
    points: list[tuple[float, float]], box: tuple[float, float, float, float], size: tuple[float, float]
) -> tuple[float, float]:
    """The top-left of the corner of the plot ``box`` (left, top, width, height) where a legend of
    ``size`` covers the fewest points (a ROC curve hugs the top left, a PR curve the top right)."""
    left, top, w, h = box
    lw, lh = size
    corners = [(left + 4, top + 4), (left + w - lw - 4, top + 4),
               (left + w - lw - 4, top + h - lh - 4), (left + 4, top + h - lh - 4)]
    m = 6  # a line just outside the box (along the frame) still crowds it
    return min(corners, key=lambda c: sum(
        c[0] - m <= x <= c[0] + lw + m and c[1] - m <= y <= c[1] + lh + m for x, y in points))


def _open(chart: dict[str, Any], width: int, height: int) -> list[str]:
    name = _e(str(chart.get("name", "chart")))
    title = _e(str(chart.get("title", "")))
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ja-chart ja-chart-{name}" data-chart="{name}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{title}" '
        # scales down with the output's width (the viewBox keeps its proportions), never up
        'style="font: 10px sans-serif; color: inherit; max-width: 100%; height: auto">',
        f'<text x="{_PAD["l"]}" y="14" fill="currentColor" style="font-weight:bold;font-size:11px">{title}</text>',
    ]


def _close(parts: list[str], chart: dict[str, Any], height: int) -> str:
    if chart.get("note"):
        parts.append(
            f'<text x="4" y="{height - 3}" fill="currentColor" fill-opacity="0.6" '
            f'style="font-size:9px">{_e(str(chart["note"]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _range(values: list[float], given: list[float] | None) -> tuple[float, float]:
    if given:
        return float(given[0]), float(given[1])
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    margin = 0.05 * (hi - lo)
    return lo - margin, hi + margin


def xy_svg(chart: dict[str, Any], width: int = _W, height: int = _H) -> str:
    """Lines and points of ``series`` with axes, ticks, an optional diagonal and a legend."""
    series = chart.get("series") or []
    xs = [v for s in series for v in s["x"]]
    ys = [v for s in series for v in s["y"]]
    if chart.get("diagonal") and not chart.get("x_range"):
        xs = ys = xs + ys
    x0, x1 = _range(xs, chart.get("x_range"))
    y0, y1 = _range(ys, chart.get("y_range"))
    left, top = _PAD["l"], _PAD["t"]
    w, h = width - _PAD["l"] - _PAD["r"], height - _PAD["t"] - _PAD["b"]

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        return top + h - (y - y0) / (y1 - y0) * h

    parts = _open(chart, width, height)
    parts.append(
        f'<rect class="ja-frame" x="{left}" y="{top}" width="{w}" height="{h}" fill="none" '
        'stroke="currentColor" stroke-opacity="0.3"/>'
    )
    x_ticks = chart.get("x_ticks") or [[t, _fmt(t)] for t in _ticks(x0, x1)]
    stagger = bool(chart.get("x_ticks")) and len(x_ticks) > 4  # long category names on two rows
    room = w / max(1, len(x_ticks)) * (2 if stagger else 1) - 4
    for k, (x, label) in enumerate(x_ticks):
        parts.append(
            f'<text x="{sx(x):.1f}" y="{top + h + 12 + (11 if stagger and k % 2 else 0)}" text-anchor="middle" fill="currentColor">'
            f"{_label(label, room)}</text>"
        )
    for y in _ticks(y0, y1):
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="currentColor" '
            f'stroke-opacity="0.08"/><text x="{left - 4}" y="{sy(y) + 3:.1f}" text-anchor="end" '
            f'fill="currentColor">{_fmt(y)}</text>'
        )
    if chart.get("diagonal"):
        lo, hi = max(x0, y0), min(x1, y1)
        parts.append(
            f'<line class="ja-diagonal" x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" '
            f'y2="{sy(hi):.1f}" stroke="currentColor" stroke-opacity="0.4" stroke-dasharray="4 3"/>'
        )
    if chart.get("zero_line") and y0 < 0 < y1:
        parts.append(
            f'<line class="ja-zero" x1="{left}" x2="{left + w}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" '
            'stroke="currentColor" stroke-opacity="0.4" stroke-dasharray="4 3"/>'
        )
    drawn = [
        [(sx(x), sy(y)) for x, y in zip(s["x"], s["y"], strict=True) if x is not None and y is not None]
        for s in series
    ]
    labels = [str(s.get("label", ""))[:40] for s in series]
    legend_size = (18 + _CHAR_W * max((len(t) for t in labels), default=0), 11 * len(series) + 2)
    # points along every segment too: a curve with few vertices still crosses a corner
    along = [
        (a[0] + (b[0] - a[0]) * t / 8, a[1] + (b[1] - a[1]) * t / 8)
        for pts in drawn for a, b in zip(pts, pts[1:], strict=False) for t in range(8)
    ] + [p for pts in drawn for p in pts]
    if chart.get("diagonal"):
        along += [(sx(x0 + (x1 - x0) * t / 16), sy(y0 + (y1 - y0) * t / 16)) for t in range(17)]
    lx, ly0 = _legend_corner(along, (left, top, w, h), legend_size)
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        pts = drawn[i]
        mode = s.get("mode", "line")
        if "line" in mode and len(pts) > 1:
            parts.append(
                f'<polyline class="ja-line" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" '
                f'fill="none" stroke="{color}" stroke-width="1.8"/>'
            )
        if "points" in mode:
            r = 2.2 if mode == "points" else 2.6
            parts.extend(
                f'<circle class="ja-point" cx="{a:.1f}" cy="{b:.1f}" r="{r}" fill="{color}" '
                'fill-opacity="0.65"/>'
                for a, b in pts
            )
        if len(series) > 1:
            ly = ly0 + 9 + 11 * i
            parts.append(
                f'<rect x="{lx + 2:.1f}" y="{ly - 6:.1f}" width="8" height="3" fill="{color}"/>'
                f'<text class="ja-legend" x="{lx + 14:.1f}" y="{ly:.1f}" fill="currentColor">'
                f"{_e(labels[i])}</text>"
            )
    parts.append(
        f'<text x="{left + w / 2}" y="{height - 14}" text-anchor="middle" fill="currentColor">'
        f"{_e(str(chart.get('x_label', '')))}</text>"
    )
    parts.append(
        f'<text transform="translate(11 {top + h / 2}) rotate(-90)" text-anchor="middle" '
        f'fill="currentColor">{_e(str(chart.get("y_label", "")))}</text>'
    )
    return _close(parts, chart, height)


def bars_svg(chart: dict[str, Any], width: int = _W) -> str:
    """Horizontal bars (largest first) with optional error whiskers."""
    labels, values = chart.get("labels") or [], chart.get("values") or []
    errors = chart.get("errors") or [0.0] * len(values)
    left, bar = 130, 14
    height = _PAD["t"] + bar * len(values) + 44
    lo = min([0.0] + [v - e for v, e in zip(values, errors, strict=True)])
    hi = max([1e-12] + [v + e for v, e in zip(values, errors, strict=True)])
    w = width - left - _PAD["r"]

    def sx(x: float) -> float:
        return left + (x - lo) / (hi - lo) * w

    parts = _open(chart, width, height)
    for i, (label, v, err) in enumerate(zip(labels, values, errors, strict=True)):
        y = _PAD["t"] + i * bar
        x_a, x_b = sorted((sx(0.0), sx(v)))
        parts.append(
            f'<text x="{left - 4}" y="{y + bar - 4}" text-anchor="end" fill="currentColor">'
            f"{_label(label, left - 8)}</text>"
        )
        parts.append(
            f'<rect class="ja-bar" x="{x_a:.1f}" y="{y + 2}" width="{max(x_b - x_a, 0.5):.1f}" '
            f'height="{bar - 4}" fill="{PALETTE[0]}" fill-opacity="0.8"><title>{_e(str(label))}: '
            f"{_fmt(v, 4)}</title></rect>"
        )
        if err:
            parts.append(
                f'<line class="ja-error" x1="{sx(v - err):.1f}" x2="{sx(v + err):.1f}" '
                f'y1="{y + bar / 2:.1f}" y2="{y + bar / 2:.1f}" stroke="currentColor" stroke-opacity="0.7"/>'
            )
    axis_y = _PAD["t"] + bar * len(values) + 2
    for t in _ticks(lo, hi, 3):
        parts.append(
            f'<text x="{sx(t):.1f}" y="{axis_y + 10}" text-anchor="middle" fill="currentColor">{_fmt(t)}</text>'
        )
    parts.append(
        f'<text x="{left + w / 2}" y="{axis_y + 24}" text-anchor="middle" fill="currentColor">'
        f"{_e(str(chart.get('x_label', '')))}</text>"
    )
    return _close(parts, chart, height)


def heatmap_svg(chart: dict[str, Any], width: int = _W) -> str:
    """A matrix of cells shaded by ``values`` (row shares), labelled with counts and percentages."""
    rows, cols = chart.get("y_labels") or [], chart.get("x_labels") or []
    values, counts = chart.get("values") or [], chart.get("counts") or []
    left, top = 70, _PAD["t"] + 12
    cell = max(14, min(48, (width - left - _PAD["r"]) // max(1, len(cols))))
    height = top + cell * len(rows) + 46
    parts = _open(chart, width, height)
    parts.append(
        f'<text x="{left + cell * len(cols) / 2}" y="{top - 4}" text-anchor="middle" fill="currentColor">'
        f"{_e(str(chart.get('x_label', '')))}</text>"
    )
    for j, name in enumerate(cols):
        parts.append(
            f'<text x="{left + cell * (j + 0.5):.1f}" y="{top + cell * len(rows) + 12}" text-anchor="middle" '
            f'fill="currentColor">{_label(name, cell)}</text>'
        )
    for i, name in enumerate(rows):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 4}" y="{y + cell / 2 + 3:.1f}" text-anchor="end" fill="currentColor">'
            f"{_label(name, left - 8)}</text>"
        )
        for j in range(len(cols)):
            share = float(values[i][j]) if i < len(values) else 0.0
            count = int(counts[i][j]) if i < len(counts) else 0
            parts.append(
                f'<rect class="ja-cell" data-count="{count}" x="{left + j * cell}" y="{y}" width="{cell - 1}" '
                f'height="{cell - 1}" fill="{PALETTE[0]}" fill-opacity="{0.06 + 0.9 * share:.3f}">'
                f"<title>{_e(str(name))} → {_e(str(cols[j]))}: {count} ({100 * share:.1f}%)</title></rect>"
            )
            if cell >= 26:
                ink = "#fff" if share > 0.55 else "currentColor"
                parts.append(
                    f'<text x="{left + (j + 0.5) * cell:.1f}" y="{y + cell / 2 + 3:.1f}" text-anchor="middle" '
                    f'fill="{ink}" style="font-size:9px">{count}</text>'
                )
    parts.append(
        f'<text transform="translate(11 {top + cell * len(rows) / 2}) rotate(-90)" text-anchor="middle" '
        f'fill="currentColor">{_e(str(chart.get("y_label", "")))}</text>'
    )
    return _close(parts, chart, height)


def chart_svg(chart: dict[str, Any]) -> str:
    """The SVG of one insight chart (see :mod:`jupyter_automl.insight` for the chart dicts)."""
    kind = chart.get("kind")
    if kind == "bars":
        return bars_svg(chart)
    if kind == "heatmap":
        return heatmap_svg(chart)
    return xy_svg(chart)


def holdout_line(insight: dict[str, Any]) -> str:
    """``held-out roc_auc 0.991 on 114 rows (CV 0.989)``, or why there is no held-out score.

    A NAS final network (trained on past its trial): ``held-out accuracy 0.9 on 120 rows (final
    network; trial 7's validation 0.31)``."""
    h = insight.get("holdout")
    if not h:
        skipped = insight.get("holdout_skipped")
        return f"no held-out score ({skipped})" if skipped else ""
    # 1.3: "validation" for NAS (its trials are not cross-validated)
    own = f"{h.get('cv_kind') or 'CV'} {_fmt(h.get('cv_score'), 4)}"
    if h.get("model") == "final network":  # NAS: trained on past the trial before it was scored
        own = f"final network; trial {h.get('trial')}'s {own}"
    text = f"held-out {h['metric']} {_fmt(h.get('score'), 4)} on {h['n_rows']} rows ({own})"
    if h.get("model") == "ensemble":
        text += (
            f"; ensemble held-out {_fmt(h.get('ensemble_score'), 4)} "
            f"(CV {_fmt(h.get('ensemble_cv_score'), 4)})"
        )
    return text


def _scores_table(h: dict[str, Any], order: list[str] | None = None) -> str:
    from jupyter_automl.report import ordered

    cells = "".join(
        f"<td style='padding:1px 8px'>{_e(k)}</td><td style='padding:1px 8px'><b>{_fmt(v, 4)}</b></td>"
        for k, v in ordered(h.get("scores"), order)
    )
    # one row that wraps on a narrow output instead of scrolling sideways
    return (
        '<table class="jupyter-automl-holdout" style="font-size:12px;display:block;max-width:100%">'
        f'<tbody style="display:block"><tr style="display:flex;flex-wrap:wrap">{cells}</tr></tbody></table>'
        if cells
        else ""
    )


def _section(title: str, summary: str, charts: list[dict[str, Any]], extra: str = "") -> str:
    body = "".join(f'<div style="max-width:100%;min-width:0">{chart_svg(c)}</div>' for c in charts)
    return (
        f'<details open class="jupyter-automl-section jupyter-automl-section-{_e(title)}">'
        f"<summary><b>{_e(title)}</b> {_e(summary)}</summary>{extra}"
        f'<div style="display:flex;gap:12px;flex-wrap:wrap;align-items:flex-start">{body}</div></details>'
    )


def _count_charts(charts: list[Any]) -> str:
    """``"1 chart"``, ``"3 charts"``; none: they need at least two finished trials."""
    from jupyter_automl.report import plural

    return plural(len(charts), "chart") if charts else "no chart (these need at least two finished trials)"


def insight_html(payload: dict[str, Any]) -> str:
    """The "model" and "search" sections of a payload with insight (``""`` for older payloads)."""
    insight = payload.get("insight")
    if not isinstance(insight, dict):
        return ""
    model = insight.get("model") or {}
    search = insight.get("search") or {}
    notes = "".join(
        f'<div style="color:#888;font-size:11px">{_e(str(n))}</div>'
        for n in insight.get("notes") or []
    )
    h = insight.get("holdout") or {}
    parts = [
        '<div class="jupyter-automl-insight" style="margin-top:6px">',
        '<div class="jupyter-automl-sections" style="font-size:11px;color:#888">leaderboard · model · search</div>',
        _section(
            "model",
            "— " + holdout_line(insight),
            model.get("charts") or [],
            _scores_table(h, payload.get("score_order")) + notes,
        ),
        _section("search", "— " + _count_charts(search.get("charts") or []), search.get("charts") or []),
        "</div>",
    ]
    return "".join(parts)


def insight_text(payload: dict[str, Any]) -> str:
    """One plain-text line: the held-out score (``""`` without insight)."""
    insight = payload.get("insight")
    return holdout_line(insight) if isinstance(insight, dict) else ""

"""Bokeh figures of the stored insight charts (``result.plot(name)``, the live view's model section).

The same chart dicts the static SVG draws (see :mod:`jupyter_automl.insight`); nothing is computed here.
"""

from __future__ import annotations

from typing import Any

from bokeh.models import ColumnDataSource, FactorRange, HoverTool, LinearColorMapper, Range1d
from bokeh.plotting import figure

from jupyter_automl.insight.svg import PALETTE

__all__ = ["chart_figure", "model_figures"]


def _xy(chart: dict[str, Any]) -> Any:
    fig = figure(
        title=chart.get("title"),
        width=380,
        height=300,
        x_axis_label=chart.get("x_label"),
        y_axis_label=chart.get("y_label"),
        toolbar_location="right",
    )
    for key, axis in (("x_range", "x_range"), ("y_range", "y_range")):
        if chart.get(key):
            setattr(fig, axis, Range1d(*chart[key]))
    if chart.get("diagonal"):
        xs = [v for s in chart["series"] for v in s["x"] + s["y"]] or [0, 1]
        lo, hi = chart.get("x_range") or [min(xs), max(xs)]
        fig.line([lo, hi], [lo, hi], line_dash="dashed", color="gray")
    if chart.get("zero_line"):
        xs = [v for s in chart["series"] for v in s["x"]] or [0, 1]
        fig.line([min(xs), max(xs)], [0, 0], line_dash="dashed", color="gray")
    for i, s in enumerate(chart.get("series") or []):
        color = PALETTE[i % len(PALETTE)]
        source = ColumnDataSource({"x": s["x"], "y": s["y"]})
        if "line" in s.get("mode", "line"):
            fig.line(
                "x", "y", source=source, color=color, line_width=2, legend_label=s.get("label", "")
            )
        if "points" in s.get("mode", ""):
            fig.scatter(
                "x",
                "y",
                source=source,
                color=color,
                alpha=0.6,
                size=5,
                legend_label=s.get("label", ""),
            )
    if chart.get("x_ticks"):
        fig.xaxis.ticker = [t[0] for t in chart["x_ticks"]]
        fig.xaxis.major_label_overrides = {t[0]: str(t[1]) for t in chart["x_ticks"]}
    if fig.legend:
        fig.legend.location = "bottom_right"
        fig.legend.label_text_font_size = "9px"
    fig.add_tools(HoverTool(tooltips=[("x", "@x{0.000}"), ("y", "@y{0.000}")]))
    return fig


def _bars(chart: dict[str, Any]) -> Any:
    labels = list(reversed(chart.get("labels") or []))
    values = list(reversed(chart.get("values") or []))
    errors = list(reversed(chart.get("errors") or [0.0] * len(values)))
    source = ColumnDataSource(
        {
            "label": labels,
            "value": values,
            "lo": [v - e for v, e in zip(values, errors, strict=True)],
            "hi": [v + e for v, e in zip(values, errors, strict=True)],
        }
    )
    fig = figure(
        title=chart.get("title"),
        y_range=FactorRange(*labels),
        width=420,
        height=60 + 18 * len(labels),
        x_axis_label=chart.get("x_label"),
        toolbar_location=None,
    )
    fig.hbar(y="label", right="value", height=0.7, source=source, color=PALETTE[0])
    if chart.get("errors"):
        fig.segment(x0="lo", x1="hi", y0="label", y1="label", source=source, color="black")
    fig.add_tools(HoverTool(tooltips=[("", "@label"), ("value", "@value{0.0000}")]))
    return fig


def _heatmap(chart: dict[str, Any]) -> Any:
    xs, ys = [str(v) for v in chart["x_labels"]], [str(v) for v in chart["y_labels"]]
    data: dict[str, list[Any]] = {"pred": [], "actual": [], "share": [], "count": []}
    for i, actual in enumerate(ys):
        for j, pred in enumerate(xs):
            data["pred"].append(pred)
            data["actual"].append(actual)
            data["share"].append(chart["values"][i][j])
            data["count"].append(chart["counts"][i][j])
    fig = figure(
        title=chart.get("title"),
        x_range=xs,
        y_range=list(reversed(ys)),
        width=380,
        height=340,
        x_axis_label=chart.get("x_label"),
        y_axis_label=chart.get("y_label"),
        toolbar_location=None,
    )
    mapper = LinearColorMapper(palette="Blues256", low=1.0, high=0.0)
    source = ColumnDataSource(data)
    fig.rect(
        "pred",
        "actual",
        1,
        1,
        source=source,
        fill_color={"field": "share", "transform": mapper},
        line_color=None,
    )
    fig.text(
        "pred",
        "actual",
        text="count",
        source=source,
        text_align="center",
        text_baseline="middle",
        text_font_size="10px",
    )
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("actual", "@actual"),
                ("predicted", "@pred"),
                ("rows", "@count"),
                ("share of row", "@share{0.0%}"),
            ]
        )
    )
    return fig


def chart_figure(chart: dict[str, Any]) -> Any:
    """A Bokeh figure of one insight chart dict."""
    kind = chart.get("kind")
    if kind == "bars":
        return _bars(chart)
    if kind == "heatmap":
        return _heatmap(chart)
    return _xy(chart)


def model_figures(insight: dict[str, Any] | None) -> list[Any]:
    """The figures of the model section (empty without insight)."""
    if not insight:
        return []
    return [chart_figure(c) for c in (insight.get("model") or {}).get("charts", [])]

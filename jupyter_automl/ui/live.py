"""The live view of a running search: leaderboard, score chart, progress and a Stop button.

One ipywidgets box holds a progress bar, a status line, a Stop button and a jupyter_bokeh
``BokehModel`` with a Bokeh ``DataTable`` (the leaderboard), a scatter of the scores against time
with the best-so-far line, and an architecture diagram that appears when trials carry one (NAS).

Trials reach the view in the runner's threads (:meth:`LiveView.on_trial` only queues a frozen
record); one flusher thread drains the queue a few times per second and is the only writer of
the Bokeh document while the search runs, so thousands of fast trials cost the search little and
send the front end a handful of messages per second.

When the search ends, the Bokeh widget state is re-snapshotted (``update_from_model``) so a
saved notebook with widget state shows the final table, and the static result bundle (JSON,
HTML with an SVG chart, text) replaces the placeholder under the view: it needs no kernel, no
widget state and no JavaScript.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, DataTable, NumberFormatter, Range1d, TableColumn
from bokeh.plotting import figure
from IPython.display import display
from jupyter_bokeh.widgets import BokehModel

from jupyter_automl.runner import Observer, RunInfo, TrialRecord
from jupyter_automl.ui import register_running, unregister_running

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.result import SearchResult

__all__ = ["LiveView", "load_bokehjs", "diagram_layout"]

_TABLE_FIELDS = ("rank", "trial", "model", "score", "std", "duration", "state", "params")
_bokehjs_loaded = False
_bokehjs_lock = threading.Lock()


def load_bokehjs() -> None:
    """Put BokehJS into the page once per kernel.

    Under a Jupyter server that runs the jupyter-automl server extension, BokehJS is loaded from
    that server (the notebook keeps a few script URLs); anywhere else it is inlined (about 8 MB
    in the outputs), since Bokeh's default CDN may not be reachable. ``JUPYTER_AUTOML_BOKEH=inline``
    forces inline resources (see :mod:`jupyter_automl.server.bokeh_resources`).
    """
    global _bokehjs_loaded
    with _bokehjs_lock:
        if _bokehjs_loaded:
            return
        from bokeh.io import output_notebook

        output_notebook(resources=_resources(), hide_banner=True)
        _bokehjs_loaded = True


def _resources() -> Any:
    try:
        from jupyter_automl.server.bokeh_resources import bokeh_resources
    except ImportError:  # a build without the server extension
        from bokeh.resources import INLINE

        return INLINE
    return bokeh_resources()


@dataclass
class _Row:
    number: int
    state: str
    value: float | None
    std: float | None
    duration: float
    model: str
    params: str
    elapsed: float


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


def _fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _fmt_score(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return (
        f"{value:.4g}"
        if abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3)
        else f"{value:.4f}"
    )


def _params_text(params: dict[str, Any], limit: int = 4) -> str:
    items = list(params.items())
    parts = []
    for key, value in items[:limit]:
        parts.append(f"{key}={_fmt_score(value) if isinstance(value, float) else value}")
    return ", ".join(parts) + (", …" if len(items) > limit else "")


def diagram_layout(diagram: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """Place an architecture diagram in layers: each node one column right of its deepest input.

    Parameters
    ----------
    diagram : dict
        ``{"nodes": [{"id", "label"}], "edges": [{"source", "target", "op"}]}``.

    Returns
    -------
    dict
        Column data for Bokeh: ``nodes`` (x, y, label) and ``edges`` (xs, ys, mx, my, op).

    Examples
    --------
    >>> d = {"nodes": [{"id": "in", "label": "input"}, {"id": "out", "label": "output"}],
    ...      "edges": [{"source": "in", "target": "out", "op": "conv3x3"}]}
    >>> diagram_layout(d)["nodes"]["x"]
    [0.0, 1.0]
    """
    nodes = [n for n in diagram.get("nodes", []) if isinstance(n, dict) and "id" in n]
    ids = [str(n["id"]) for n in nodes]
    edges = [
        e
        for e in diagram.get("edges", [])
        if str(e.get("source")) in ids and str(e.get("target")) in ids
    ]
    inputs: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        inputs[str(e["target"])].append(str(e["source"]))
    depth: dict[str, int] = {}

    def level(node: str, seen: frozenset[str]) -> int:
        if node in depth:
            return depth[node]
        if node in seen:  # a cycle: draw it, do not recurse forever
            return 0
        value = 1 + max((level(s, seen | {node}) for s in inputs[node]), default=-1)
        depth[node] = value
        return value

    for node in ids:
        level(node, frozenset())
    per_level: dict[int, list[str]] = {}
    for node in ids:
        per_level.setdefault(depth[node], []).append(node)
    pos: dict[str, tuple[float, float]] = {}
    for lvl, members in per_level.items():
        for k, node in enumerate(members):
            pos[node] = (float(lvl), (len(members) - 1) / 2.0 - k)
    labels = {str(n["id"]): str(n.get("label", n["id"])) for n in nodes}
    node_data: dict[str, list[Any]] = {
        "x": [pos[i][0] for i in ids],
        "y": [pos[i][1] for i in ids],
        "label": [labels[i] for i in ids],
    }
    edge_data: dict[str, list[Any]] = {"xs": [], "ys": [], "mx": [], "my": [], "op": []}
    for e in edges:
        (x0, y0), (x1, y1) = pos[str(e["source"])], pos[str(e["target"])]
        edge_data["xs"].append([x0, x1])
        edge_data["ys"].append([y0, y1])
        edge_data["mx"].append((x0 + x1) / 2)
        edge_data["my"].append((y0 + y1) / 2)
        edge_data["op"].append(str(e.get("op", "")))
    return {"nodes": node_data, "edges": edge_data}


class LiveView(Observer):
    """Live leaderboard, score chart, progress bar and Stop button of one search.

    Parameters
    ----------
    search : Search
        The search to watch (its ``stop_event`` is set by the Stop button).
    output : ipywidgets.Output, optional
        Show the view and then the result in this widget (the panel does) instead of the cell.
    show : bool
        Display the view now. ``False`` builds it without showing (tests, benchmarks).
    interval : float
        Seconds between two updates of the front end.
    max_rows : int
        Rows of the live table (the best ones); ``result.leaderboard`` has them all.
    result_handle : IPython DisplayHandle, optional
        The output the static result replaces at the end (the panel's); by default a placeholder
        shown under the view.

    Examples
    --------
    In a notebook ``Search`` attaches one itself; to place one by hand:

    >>> from jupyter_automl import SearchConfig
    >>> from jupyter_automl._search import Search
    >>> search = Search(SearchConfig(data="sklearn:iris", n_trials=2, storage="memory", display=False))
    >>> view = LiveView(search, show=False)  # show=True displays it in the running cell
    >>> search.observers.append(view)
    >>> result = search.run()
    >>> len(view.table_source.data["trial"])
    2
    """

    def __init__(
        self,
        search: Search,
        *,
        output: widgets.Output | None = None,
        show: bool = True,
        interval: float = 0.25,
        max_rows: int = 100,
        result_handle: Any = None,
    ) -> None:
        self.search = search
        self.output = output
        self.interval = interval
        self.max_rows = max_rows
        self.flushes = 0  # front-end updates sent (the benchmark reads it)
        self.flush_cpu_s = 0.0  # CPU seconds spent in them
        self.finish_cpu_s = 0.0  # CPU seconds of the final update
        self._queue: deque[tuple[TrialRecord, float]] = deque()
        self._rows: dict[int, _Row] = {}
        self._lock = threading.RLock()  # the Bokeh document has one writer at a time
        self._closing = threading.Event()
        self._flusher: threading.Thread | None = None
        self._finished = False
        self._run: RunInfo | None = None
        self._sign = 1.0 if search.space.directions[0] == "maximize" else -1.0
        self._best: _Row | None = None
        self._best_diagram: dict[str, Any] | None = None
        self._diagram_shown: dict[str, Any] | None = None
        self._counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0}
        self._xmax, self._ymin, self._ymax = 0.0, math.inf, -math.inf
        self._new_done = 0
        self._handle: Any = result_handle
        self._build()
        if show:
            self.show()

    # ------------------------------------------------------------------------- widgets
    def _build(self) -> None:
        metric = getattr(getattr(self.search.space, "metric", None), "name", "score")
        self.table_source = ColumnDataSource({f: [] for f in _TABLE_FIELDS})
        score_fmt = NumberFormatter(format="0.0000", nan_format="–")
        columns = [
            TableColumn(
                field="rank",
                title="#",
                width=30,
                formatter=NumberFormatter(format="0", nan_format=""),
            ),
            TableColumn(field="trial", title="trial", width=45),
            TableColumn(field="model", title="model", width=160),
            TableColumn(field="score", title=metric, formatter=score_fmt, width=95),
            TableColumn(field="std", title="± std", formatter=score_fmt, width=60),
            TableColumn(
                field="duration",
                title="time (s)",
                formatter=NumberFormatter(format="0.00"),
                width=60,
            ),
            TableColumn(field="state", title="state", width=75),
            TableColumn(field="params", title="key params", width=280),
        ]
        self.table = DataTable(
            source=self.table_source,
            columns=columns,
            width=860,
            height=240,
            index_position=None,
            sortable=True,
            reorderable=False,
        )
        empty = np.zeros(0)
        self.scatter_source = ColumnDataSource(
            {"x": empty, "score": empty, "trial": empty, "model": []}
        )
        self.best_source = ColumnDataSource({"x": empty, "best": empty})
        self.chart = figure(
            width=430,
            height=260,
            title=f"{metric} against time",
            x_axis_label="seconds",
            tools="pan,wheel_zoom,box_zoom,reset,hover",
            tooltips=[("trial", "@trial"), ("model", "@model"), (metric, "@score{0.0000}")],
            toolbar_location="above",
            # set from the data at each update: auto ranges lag behind streamed points
            x_range=Range1d(start=0.0, end=1.0),
            y_range=Range1d(start=0.0, end=1.0),
        )
        self.chart.scatter(
            "x",
            "score",
            source=self.scatter_source,
            size=6,
            alpha=0.6,
            color="#7aa6da",
            legend_label="trial",
        )
        self.chart.step(
            "x",
            "best",
            source=self.best_source,
            mode="after",
            line_width=2,
            color="#d62728",
            legend_label="best so far",
        )
        legend = self.chart.legend[0]
        legend.orientation = "horizontal"
        legend.label_text_font_size = "9pt"
        self.chart.add_layout(legend, "below")  # never over the points
        # the architecture diagram slot (NAS): hidden until a trial carries a diagram
        self.diagram_nodes = ColumnDataSource({"x": [], "y": [], "label": []})
        self.diagram_edges = ColumnDataSource({"xs": [], "ys": [], "mx": [], "my": [], "op": []})
        self.diagram = figure(
            width=430,
            height=220,
            title="architecture of the best trial",
            tools="",
            toolbar_location=None,
            visible=False,
            x_axis_type=None,
            y_axis_type=None,
        )
        self.diagram.grid.visible = False
        self.diagram.multi_line("xs", "ys", source=self.diagram_edges, color="#999", line_width=1.5)
        self.diagram.text(
            "mx",
            "my",
            text="op",
            source=self.diagram_edges,
            text_font_size="8pt",
            text_align="center",
            text_baseline="bottom",
            color="#555",
        )
        self.diagram.scatter(
            "x",
            "y",
            source=self.diagram_nodes,
            marker="square",
            size=26,
            color="#cfe3f7",
            line_color="#3b73b9",
        )
        self.diagram.text(
            "x",
            "y",
            text="label",
            source=self.diagram_nodes,
            text_font_size="8pt",
            text_align="center",
            text_baseline="middle",
        )
        # one column fits a notebook's output area (about 900 px wide)
        self.layout = column(self.table, row(self.chart, self.diagram))
        self.bokeh = BokehModel(self.layout)

        self.title = widgets.HTML(self._title_html())
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, bar_style="info", layout=widgets.Layout(width="420px")
        )
        self.status = widgets.HTML("starting…")
        self.stop_button = widgets.Button(
            description="Stop",
            button_style="danger",
            icon="stop",
            tooltip="stop the search after the running trial; the best model is still fitted",
            layout=widgets.Layout(width="auto", min_width="110px"),
        )
        self.stop_button.on_click(self._on_stop_click)
        self.widget = widgets.VBox(
            [
                self.title,
                widgets.HBox(
                    [self.progress, self.stop_button, self.status],
                    layout=widgets.Layout(align_items="center", grid_gap="8px"),
                ),
                self.bokeh,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.widget.add_class("jupyter-automl-live")

    def _title_html(self) -> str:
        import html

        cfg = self.search.config
        return (
            f"<b>{html.escape(self.search.name)}</b> · {html.escape(cfg.space)} / {html.escape(cfg.strategy)}"
            f" · {html.escape(self.search.dataset.task)}"
        )

    def show(self) -> None:
        """Display the view (and a placeholder the result replaces) in the cell or the output widget."""
        if self.output is not None:
            with self.output:
                load_bokehjs()
            self.output.append_display_data(self.widget)
            return
        load_bokehjs()
        display(self.widget)
        if self._handle is not None:
            return
        placeholder = {
            "text/plain": "search running: the result appears here when it ends",
            "text/html": "<div class='jupyter-automl-pending' style='color:#666;font-size:12px'>"
            "search running: the result appears here when it ends</div>",
        }
        self._handle = display(placeholder, raw=True, display_id=True)

    # ------------------------------------------------------------------------ observer
    def on_start(self, run: RunInfo) -> None:
        self._run = run
        self._sign = -1.0 if run.direction == "minimize" else 1.0
        register_running(self.search)
        if threading.current_thread() is threading.main_thread():
            # a foreground search keeps the kernel busy: the click would only arrive at the end
            self.stop_button.disabled = True
            self.stop_button.button_style = ""
            self.stop_button.description = "Stop: use ■"
            self.stop_button.tooltip = (
                "a foreground search stops with the kernel's interrupt button (■)"
            )
        if run.previous_trials:
            self._load_previous()
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"automl-view-{run.study_name}", daemon=True
        )
        self._flusher.start()

    def on_trial(self, record: TrialRecord, trial: Any) -> None:
        self._queue.append((record, time.monotonic()))

    def on_end(self, result: SearchResult) -> None:
        self.finish(result)

    def finish(self, result: SearchResult) -> None:
        """Final update: last rows, saved widget state, then the static result. Safe to call twice."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        cpu = time.thread_time()
        self._closing.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join()
        unregister_running(self.search)
        with self._lock:
            self._flush()
            error = getattr(result, "_error", None)
            if error is not None:
                reason = "failed: " + _one_line(error)
            else:
                reason = result.stop_reason or "ended"
            self.progress.bar_style = (
                "success"
                if reason in ("n_trials", "time_budget")
                else ("danger" if error is not None else "warning")
            )
            if reason in ("n_trials", "time_budget"):
                self.progress.value = 1.0
            self.status.value = self._status_html(final=reason)
            self.stop_button.disabled = True
            self.stop_button.description = (
                "Stopped" if reason in ("stopped", "interrupted") else "Done"
            )
            self._add_model_section(result)
            # the saved widget state then holds the final rows (streams are not saved)
            self.bokeh.update_from_model(self.layout)
        self._show_result(result)
        self.finish_cpu_s = time.thread_time() - cpu

    def _add_model_section(self, result: SearchResult) -> None:
        """The best model's charts (held-out confusion matrix or residuals, importances) under the table."""
        from jupyter_automl.ui.insight_figures import model_figures

        figures = model_figures(getattr(result, "insight", None))
        if figures:
            self.layout.children.append(row(*figures[:4]))

    def _show_result(self, result: SearchResult) -> None:
        if self._handle is not None:
            self._handle.update(result._repr_mimebundle_(), raw=True)
        elif self.output is not None:
            self.output.append_display_data(result)

    def _on_stop_click(self, _button: widgets.Button) -> None:
        self.search.stop_event.set()
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping…"

    # ------------------------------------------------------------------------ updates
    def _flush_loop(self) -> None:
        # a clock tick, not a synchronisation: the elapsed time moves even with no trial
        while not self._closing.wait(self.interval):
            with self._lock:
                if not self._finished:
                    self._flush()
            result = self.search.result
            if result.done and not self._finished:  # the search failed: on_end will not come
                self.finish(result)
                return

    def _load_previous(self) -> None:
        from jupyter_automl.runner import trial_record

        for t in self.search.study.get_trials(deepcopy=False):
            if t.state.is_finished():
                self._queue.append(
                    (trial_record(t, self.search.space), self._run.started if self._run else 0.0)
                )

    def _flush(self) -> None:
        """Drain the queue into the table, the chart, the diagram and the progress line."""
        cpu = time.thread_time()
        new: list[tuple[TrialRecord, float]] = []
        while self._queue:
            new.append(self._queue.popleft())
        started = self._run.started if self._run is not None else time.monotonic()
        points: dict[str, list[Any]] = {"x": [], "score": [], "trial": [], "model": []}
        best_points: dict[str, list[Any]] = {"x": [], "best": []}
        for record, at in new:
            value = (
                record.value
                if record.value is not None
                else (record.values[0] if record.values else None)
            )
            if value is not None and not math.isfinite(value):
                value = None
            r = _Row(
                record.number,
                record.state,
                value,
                record.score_std,
                record.duration_s,
                record.model,
                _params_text(record.params or {}),
                max(0.0, at - started),
            )
            if record.number not in self._rows:
                self._counts[record.state] = self._counts.get(record.state, 0) + 1
                if at > started:
                    self._new_done += 1
            self._rows[record.number] = r
            if r.state == "COMPLETE" and value is not None:
                points["x"].append(r.elapsed)
                points["score"].append(value)
                points["trial"].append(r.number)
                points["model"].append(r.model)
                if self._best is None or self._sign * value > self._sign * (
                    self._best.value or 0.0
                ):
                    self._best = r
                    self._best_diagram = record.diagram
                best_points["x"].append(r.elapsed)
                best_points["best"].append(self._best.value)
        if new:
            if points["x"]:
                # numbers go as arrays: Bokeh sends those as binary buffers, not one JSON value each
                numeric = {k: np.asarray(v, dtype=float) for k, v in points.items() if k != "model"}
                self.scatter_source.stream({**numeric, "model": points["model"]}, rollover=20_000)
                self.best_source.stream(
                    {k: np.asarray(v, dtype=float) for k, v in best_points.items()}, rollover=20_000
                )
                self._fit_ranges(points["x"], points["score"])
            # the table is sorted by score, so a new row can land anywhere: send the shown rows again
            self.table_source.data = self._table_data()
            if self._best_diagram is not None and self._best_diagram is not self._diagram_shown:
                self._draw_diagram(self._best_diagram)
        self.progress.value = self._fraction()
        self.status.value = self._status_html()
        self.flushes += 1
        self.flush_cpu_s += time.thread_time() - cpu

    def _fit_ranges(self, xs: list[float], ys: list[float]) -> None:
        """Frame every point seen so far, with a margin."""
        self._xmax = max([self._xmax, *xs])
        self._ymin = min([self._ymin, *ys])
        self._ymax = max([self._ymax, *ys])
        span = self._ymax - self._ymin
        pad = 0.08 * span if span > 1e-12 else max(0.01, 0.01 * abs(self._ymax))
        self.chart.y_range.update(start=self._ymin - pad, end=self._ymax + pad)
        self.chart.x_range.update(start=0.0, end=max(1.0, 1.08 * self._xmax + 0.1))

    def _table_data(self) -> dict[str, Any]:
        complete = sorted(
            (r for r in self._rows.values() if r.state == "COMPLETE" and r.value is not None),
            key=lambda r: (-self._sign * (r.value or 0.0), r.number),
        )
        others = sorted(
            (r for r in self._rows.values() if not (r.state == "COMPLETE" and r.value is not None)),
            key=lambda r: -r.number,
        )
        shown = (complete + others)[: self.max_rows]
        nan = float("nan")
        data: dict[str, Any] = {f: [] for f in _TABLE_FIELDS}
        for rank, r in enumerate(shown, start=1):
            data["rank"].append(rank if r.state == "COMPLETE" and r.value is not None else nan)
            data["trial"].append(r.number)
            data["model"].append(r.model)
            data["score"].append(r.value if r.value is not None else nan)
            data["std"].append(r.std if r.std is not None else nan)
            data["duration"].append(round(r.duration, 3))
            data["state"].append(r.state)
            data["params"].append(r.params)
        for key in ("rank", "trial", "score", "std", "duration"):
            data[key] = np.asarray(data[key], dtype=float if key != "trial" else int)
        return data

    def _draw_diagram(self, diagram: dict[str, Any]) -> None:
        placed = diagram_layout(diagram)
        self.diagram_nodes.data = placed["nodes"]
        self.diagram_edges.data = placed["edges"]
        self.diagram.visible = True
        self._diagram_shown = diagram

    def _elapsed(self) -> float:
        return time.monotonic() - self._run.started if self._run is not None else 0.0

    def _fraction(self) -> float:
        run = self._run
        if run is None:
            return 0.0
        fractions = []
        if run.time_budget:
            fractions.append(self._elapsed() / run.time_budget)
        if run.n_trials:
            fractions.append(len(self._rows) / run.n_trials)
        return min(1.0, max(fractions, default=0.0))

    def _eta(self) -> float | None:
        run = self._run
        if run is None:
            return None
        elapsed = self._elapsed()
        etas = []
        if run.time_budget:
            etas.append(max(0.0, run.time_budget - elapsed))
        if run.n_trials and self._new_done:
            remaining = max(0, run.n_trials - len(self._rows))
            etas.append(elapsed / self._new_done * remaining)
        return min(etas) if etas else None

    def _status_html(self, final: str | None = None) -> str:
        import html

        run = self._run
        elapsed = self._elapsed()
        budget = (
            f" / {_fmt_seconds(run.time_budget)}" if run is not None and run.time_budget else ""
        )
        done = len(self._rows)
        of = f" / {run.n_trials}" if run is not None and run.n_trials else ""
        extra = []
        if self._counts.get("FAIL"):
            extra.append(f"{self._counts['FAIL']} failed")
        if self._counts.get("PRUNED"):
            extra.append(f"{self._counts['PRUNED']} pruned")
        parts = [
            f"{_fmt_seconds(elapsed)}{budget}",
            f"{done}{of} trials" + (f" ({', '.join(extra)})" if extra else ""),
        ]
        if final is None:
            eta = self._eta()
            if eta is not None:
                parts.append(f"ETA {_fmt_seconds(eta)}")
        else:
            parts.append(
                {
                    "n_trials": "finished",
                    "time_budget": "time budget reached",
                    "stopped": "stopped",
                    "interrupted": "interrupted",
                }.get(final, html.escape(final))
            )
        if self._best is not None:
            parts.append(
                f"best <b>{_fmt_score(self._best.value)}</b> (trial {self._best.number}, "
                f"{html.escape(self._best.model)})"
            )
        return "<span class='jupyter-automl-status'>" + " · ".join(parts) + "</span>"

"""The live view of a running search: leaderboard, score chart, progress and a Stop button.

One ipywidgets box holds a progress bar, a status line, a Stop button and a jupyter_bokeh
``BokehModel`` with a Bokeh ``DataTable`` (the leaderboard), a scatter of the scores against time
with the best-so-far line, and an architecture diagram that appears when trials carry one (NAS).

Trials reach the view in the runner's threads (:meth:`LiveView.on_trial` only queues a frozen
record); one flusher thread drains the queue a few times per second and is the only writer of
the Bokeh document while the search runs, so thousands of fast trials cost the search little and
send the front end a handful of messages per second.

When the search ends (finished, stopped, interrupted or failed) the view finishes in place: the
static result bundle (JSON, HTML with SVG, text) replaces the view's output, the output that
loaded BokehJS is emptied, and every widget is closed. A saved notebook then holds one result
per search, no widget view and no BokehJS, and reads the same with or without a kernel,
widget state or JavaScript.
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
from bokeh.models import ColumnDataSource, DataTable, InlineStyleSheet, Range1d, TableColumn
from bokeh.plotting import figure
from IPython.display import display
from jupyter_bokeh.widgets import BokehModel

from jupyter_automl.evaluate.metrics import metric_bounds
from jupyter_automl.report import (
    format_score,
    model_label,
    params_text,
    plural,
    score_range,
    shorten,
)
from jupyter_automl.runner import Observer, RunInfo, TrialRecord
from jupyter_automl.spaces.nas.diagram import diagram_layout
from jupyter_automl.ui import in_kernel, register_running, take_pending_output, unregister_running

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.result import SearchResult

__all__ = ["LiveView", "bokehjs_bundle", "close_widgets"]

_TABLE_HEADER_PX, _TABLE_ROW_PX = 30, 25  # a DataTable's header and row heights
#: The narrowest the live chart and diagram get: below twice this they stack.
_CHART_MIN_PX = 280
_TABLE_FIELDS = ("rank", "trial", "model", "score", "std", "duration", "state", "params", "full")
_bundles: dict[str, dict[str, Any]] = {}
_EMPTY = {"text/plain": ""}
#: seconds between showing the view (and BokehJS) and adding the Bokeh charts to it
CHARTS_AFTER_S = 1.5  # what an emptied output holds: every front end shows nothing for it
_bundles_lock = threading.Lock()

# Canvas colours cannot follow CSS: mid greys and saturated marks read on Light and Dark alike.
_AXIS_GREY = "#8c8c8c"
_GRID_GREY = "#8c8c8c"
_POINT = "#4c8bd6"
_BEST = "#e0474c"
# The DataTable lives in a shadow root; CSS custom properties inherit into it, so the rows take
# JupyterLab's theme colours, and fall back to the page's text colour outside Lab.
_TABLE_CSS = """
:host { color: var(--jp-ui-font-color1, inherit); }
.slick-header-columns, .slick-header-column, .slick-headerrow {
  background: var(--jp-layout-color2, transparent) !important;
  color: var(--jp-ui-font-color1, inherit) !important;
  border-color: var(--jp-border-color2, rgba(128,128,128,.4)) !important;
}
.grid-canvas, .slick-viewport, .slick-pane { background: var(--jp-layout-color1, transparent) !important; }
.slick-row, .slick-row.odd, .slick-row.even, .slick-cell {
  background: var(--jp-layout-color1, transparent) !important;
  color: var(--jp-ui-font-color1, inherit) !important;
  border-color: var(--jp-border-color3, rgba(128,128,128,.2)) !important;
}
.slick-row.odd .slick-cell { background: var(--jp-layout-color2, rgba(128,128,128,.08)) !important; }
.slick-cell.selected, .slick-row.active .slick-cell {
  background: var(--jp-brand-color3, rgba(76,139,214,.25)) !important;
}
.slick-cell { font-variant-numeric: tabular-nums; }
"""


def bokehjs_bundle() -> dict[str, Any]:
    """The display bundle that puts BokehJS into the page (what ``output_notebook`` publishes).

    Under a Jupyter server that runs the jupyter-automl server extension, BokehJS is loaded from
    that server (a few script URLs); anywhere else it is inlined (about 8 MB), since Bokeh's
    default CDN may not be reachable (see :mod:`jupyter_automl.server.bokeh_resources`). The view
    shows it in its own output and empties that output when the search ends, so a saved notebook
    never keeps BokehJS. Computed once per resources mode.
    """
    resources = _resources()
    key = f"{resources.mode}:{getattr(resources, 'root_url', '')}"
    with _bundles_lock:
        if key not in _bundles:
            from bokeh.io import output_notebook
            from IPython.utils.capture import capture_output

            with capture_output(stdout=False, stderr=False, display=True) as captured:
                output_notebook(resources=resources, hide_banner=True)
            data: dict[str, Any] = {}
            for out in captured.outputs:
                data.update(out.data)
            data["text/plain"] = ""
            _bundles[key] = data
        return _bundles[key]


def _resources() -> Any:
    try:
        from jupyter_automl.server.bokeh_resources import bokeh_resources
    except ImportError:  # a build without the server extension
        from bokeh.resources import INLINE

        return INLINE
    return bokeh_resources()


def close_widgets(widget: Any) -> None:
    """Close ``widget``, its children and its layout and style models (their state is not saved).

    Their bulky state is emptied first: a client that keeps the last state of every widget it saw,
    closed or not (nbclient and papermill ignore ``comm_close`` and write it all into the saved
    notebook's metadata), then keeps a few hundred bytes of each, not the charts' Bokeh documents
    and the status texts. A view still shown meanwhile would draw an empty box, never an error.
    """
    seen: set[int] = set()
    empty_bundle: dict[str, Any] | None = None

    def walk(w: Any) -> None:
        nonlocal empty_bundle
        if not isinstance(w, widgets.Widget) or id(w) in seen:
            return
        seen.add(id(w))
        for name in w.keys:
            value = getattr(w, name, None)
            for item in value if isinstance(value, (list, tuple)) else [value]:
                walk(item)
        if w.comm is not None:  # still open: its last state is what such a client keeps
            if isinstance(w, BokehModel):
                if empty_bundle is None:
                    from bokeh.models import Div

                    empty_bundle = BokehModel._model_to_traits(Div())
                w.render_bundle = empty_bundle
            elif isinstance(w, widgets.Output):
                w.outputs = ()
            elif isinstance(w, (widgets.HTML, widgets.Label)):
                w.value = ""
        w.close()

    walk(widget)


class _BokehView(BokehModel):
    """jupyter_bokeh's ``BokehModel`` whose ``close()`` may run twice (ours, then ``__del__``'s):
    the original raises ``KeyError`` the second time."""

    _closed_once = False

    def close(self) -> None:
        if self._closed_once:
            return
        self._closed_once = True
        super().close()


@dataclass
class _Row:
    number: int
    state: str
    value: float | None
    std: float | None
    duration: float
    model: str
    params: str
    note: str
    elapsed: float | None


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


class LiveView(Observer):
    """Live leaderboard, score chart, progress bar and Stop button of one search.

    Parameters
    ----------
    search : Search
        The search to watch (its ``stop_event`` is set by the Stop button).
    output : ipywidgets.Output, optional
        Show the view in this widget (the panel does) instead of the cell; it is emptied when
        the search ends.
    show : bool
        Display the view now. ``False`` builds it without showing (tests, benchmarks).
    interval : float
        Seconds between two updates of the front end.
    max_rows : int
        Rows of the live table (the best ones); ``result.leaderboard`` has them all.
    result_handle : IPython DisplayHandle, optional
        The output the static result goes to at the end (the panel's); by default the result
        replaces the view's own output.

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
        self.closed = False  # the widgets are closed and the result shown in their place
        self._queue: deque[tuple[TrialRecord, Any]] = deque()
        self._rows: dict[int, _Row] = {}
        self._lock = threading.RLock()  # the Bokeh document has one writer at a time
        self._closing = threading.Event()
        self._flusher: threading.Thread | None = None
        self._finished = False
        self._run: RunInfo | None = None
        self._t0_wall: float | None = None  # start of the first trial: the chart's time zero
        self._sign = 1.0 if search.space.directions[0] == "maximize" else -1.0
        self._best: _Row | None = None
        self._best_diagram: dict[str, Any] | None = None
        self._diagram_shown: dict[str, Any] | None = None
        self._counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0}
        self._xmax, self._ymin, self._ymax = 0.0, math.inf, -math.inf
        self._new_done = 0
        self._activity = "preparing the search…"
        self._running: dict[int, str] = {}  # trials started and not yet finished: their model
        self._handle: Any = result_handle
        self._view_handle: Any = None
        self._loader_handle: Any = None
        self._shown = False
        self._clicks_in_subshell = False  # the Stop button's clicks are served by a subshell
        self._shown_at: float | None = None
        self._charts_placed = False
        self._build()
        if show:
            self.show()

    @property
    def serves_widgets(self) -> bool:
        """``True`` when a foreground search should run in a worker thread while the kernel's
        main thread keeps serving widget messages (so the Stop button works): the view is shown
        in a kernel's cell, clicks cannot go to a subshell, and jupyter-ui-poll works here."""
        from jupyter_automl.ui.foreground import ui_poll_works

        return (
            self._shown
            and self.output is None
            and not self._clicks_in_subshell
            and in_kernel()
            and threading.current_thread() is threading.main_thread()
            and ui_poll_works()
        )

    # ------------------------------------------------------------------------- widgets
    def _build(self) -> None:
        metric = getattr(getattr(self.search.space, "metric", None), "name", "score")
        self.metric = metric
        self.table_source = ColumnDataSource({f: [] for f in _TABLE_FIELDS})
        columns = [
            TableColumn(field="rank", title="#", width=30),
            TableColumn(field="trial", title="trial", width=40),
            TableColumn(field="model", title="model", width=170),
            TableColumn(field="score", title=metric, width=80),
            TableColumn(field="std", title="± std", width=60),
            TableColumn(field="duration", title="time (s)", width=60),
            TableColumn(field="state", title="state", width=75),
            TableColumn(field="params", title="key params", width=320),
        ]
        self.table = DataTable(
            source=self.table_source,
            columns=columns,
            # the output's width up to 860 px: the columns shrink in proportion (fit_columns),
            # so nothing scrolls sideways in a narrow notebook
            sizing_mode="stretch_width",
            max_width=860,
            height=_TABLE_HEADER_PX + _TABLE_ROW_PX,  # grows with the rows (see _flush)
            index_position=None,
            sortable=False,  # the rows are the ranking, formatted as the static table is
            reorderable=False,
            stylesheets=[InlineStyleSheet(css=_TABLE_CSS)],
        )
        empty = np.zeros(0)
        self.scatter_source = ColumnDataSource(
            {"x": empty, "score": empty, "trial": empty, "model": [], "score_text": []}
        )
        self.best_source = ColumnDataSource({"x": empty, "best": empty})
        self.chart = figure(
            sizing_mode="stretch_width",
            min_width=_CHART_MIN_PX,
            max_width=430,
            height=260,
            title=f"{metric} against time",
            x_axis_label="seconds since the first trial",
            tools="pan,wheel_zoom,box_zoom,reset,hover",
            tooltips=[("trial", "@trial"), ("model", "@model"), (metric, "@score_text")],
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
            alpha=0.8,
            color=_POINT,
            legend_label="trial",
        )
        self.chart.step(
            "x",
            "best",
            source=self.best_source,
            mode="after",
            line_width=2,
            color=_BEST,
            legend_label="best so far",
        )
        legend = self.chart.legend[0]
        legend.orientation = "horizontal"
        legend.label_text_font_size = "9pt"
        legend.background_fill_alpha = 0.0
        legend.border_line_alpha = 0.0
        legend.label_text_color = _AXIS_GREY
        self.chart.add_layout(legend, "below")  # never over the points
        _transparent(self.chart)
        # the architecture diagram slot (NAS): hidden until a trial carries a diagram
        self.diagram_nodes = ColumnDataSource({"x": [], "y": [], "w": [], "h": [], "label": []})
        self.diagram_edges = ColumnDataSource(
            {
                "x0": [],
                "y0": [],
                "cx": [],
                "cy": [],
                "x1": [],
                "y1": [],
                "op": [],
                "color": [],
                "lx": [],
                "ly": [],
            }
        )
        self.diagram = figure(
            sizing_mode="stretch_width",
            min_width=_CHART_MIN_PX,
            max_width=430,
            height=220,
            title="architecture of the best trial",
            tools="",
            toolbar_location=None,
            visible=False,
            x_axis_type=None,
            y_axis_type=None,
            match_aspect=True,
            x_range=Range1d(0, 1),
            y_range=Range1d(1, 0),  # the layout's y grows downwards, as in SVG
        )
        self.diagram.grid.visible = False
        self.diagram.outline_line_alpha = 0.0
        _transparent(self.diagram)
        self.diagram.quadratic(
            "x0",
            "y0",
            "x1",
            "y1",
            "cx",
            "cy",
            source=self.diagram_edges,
            line_color="color",
            line_width=2.5,
        )
        self.diagram.text(
            "lx",
            "ly",
            text="op",
            source=self.diagram_edges,
            text_font_size="8pt",
            text_align="center",
            text_baseline="middle",
            text_color="color",
        )
        self.diagram.rect(
            "x",
            "y",
            width="w",
            height="h",
            source=self.diagram_nodes,
            fill_color=_AXIS_GREY,
            fill_alpha=0.12,
            line_color=_AXIS_GREY,
            line_width=1.5,
        )
        self.diagram.text(
            "x",
            "y",
            text="label",
            source=self.diagram_nodes,
            text_font_size="8pt",
            text_align="center",
            text_baseline="middle",
            text_color=_AXIS_GREY,
        )
        # a notebook's output area is about 900 px wide; narrower (a side panel open, a small
        # window), the chart and the diagram wrap onto two lines and every part shrinks with it
        charts = row(self.chart, self.diagram, sizing_mode="stretch_width", max_width=876,
                     styles={"flex-wrap": "wrap", "row-gap": "8px"})
        self.layout = column(self.table, charts, sizing_mode="stretch_width", max_width=876)
        self.bokeh = _BokehView(self.layout)

        self.title = widgets.HTML(self._title_html())
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, bar_style="info",
            layout=widgets.Layout(width="auto", flex="1 1 160px", min_width="120px", max_width="420px"),
        )
        # the status line wraps under the bar rather than being cut
        self.status = widgets.HTML(self._status_html(), layout=widgets.Layout(flex="1 1 260px", min_width="0"))
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
                    layout=widgets.Layout(align_items="center", grid_gap="8px", flex_flow="row wrap"),
                ),
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
        """Display the view in the cell (or the output widget), after the output loading BokehJS.

        The Bokeh charts join the view a moment later (:data:`CHARTS_AFTER_S`): the front end
        evaluates BokehJS asynchronously (its renderer is loaded on first use), and a Bokeh view
        created before that fails. The status line and the progress bar show at once.
        """
        self._shown = True
        self._shown_at = time.monotonic()
        if self.output is not None:
            self.output.outputs = ()
            self.output.append_display_data(_Raw(bokehjs_bundle()))
            self.output.append_display_data(self.widget)
            return
        pending = (
            take_pending_output()
        )  # the cell's "loading data…" line, when the magic showed one
        if pending is not None:
            pending.update(bokehjs_bundle(), raw=True)
            self._loader_handle = pending
        else:
            self._loader_handle = display(bokehjs_bundle(), raw=True, display_id=True)
        self._view_handle = display(self.widget, display_id=True)
        from jupyter_automl.ui.foreground import serve_clicks_in_subshell

        self._clicks_in_subshell = serve_clicks_in_subshell(self.stop_button)

    # ------------------------------------------------------------------------ observer
    def on_start(self, run: RunInfo) -> None:
        self._run = run
        self._sign = -1.0 if run.direction == "minimize" else 1.0
        register_running(self.search)
        self._activity = "starting the first trial…"
        if (
            threading.current_thread() is threading.main_thread()
            and self._shown
            and self.output is None
            and not self._clicks_in_subshell
        ):
            # a foreground search in the kernel's main thread: the click would only arrive at the end
            self.stop_button.disabled = True
            self.stop_button.button_style = ""
            self.stop_button.description = "Stop: use ■"
            self.stop_button.tooltip = (
                "this kernel cannot take clicks while the search runs "
                "(pip install jupyter-ui-poll); the interrupt button (■) stops it"
            )
        if run.previous_trials:
            self._load_previous()
        self.status.value = self._status_html()
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"automl-view-{run.study_name}", daemon=True
        )
        self._flusher.start()

    def on_progress(self, event: dict[str, Any]) -> None:
        if event.get("event") == "trial":
            self._running[int(event["trial"])] = str(event.get("model", ""))
            self._activity = "starting the next trial…"  # the preparation's stage is over
        elif event.get("event") == "stage":
            self._activity = f"{event.get('stage')}: {event.get('done')}/{event.get('total')}"

    def on_trial(self, record: TrialRecord, trial: Any) -> None:
        self._running.pop(record.number, None)
        self._queue.append((record, trial))

    def on_end(self, result: SearchResult) -> None:
        self.finish(result)

    def finish(self, result: SearchResult) -> None:
        """Final update, then the static result in the view's place and the widgets closed.

        Safe to call twice (the magics call it after ``on_end``).
        """
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
            self._running.clear()
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
        if self._shown:
            self._finish_in_place(result)
        self.finish_cpu_s = time.thread_time() - cpu

    def _finish_in_place(self, result: SearchResult) -> None:
        """The static result where the view was; no BokehJS and no widget left behind."""
        bundle = result._repr_mimebundle_()
        if self.output is not None:
            self.output.outputs = ()
            if self._handle is not None:
                self._handle.update(bundle, raw=True)
            else:
                self.output.append_display_data(_Raw(bundle))
        elif self._handle is None and threading.current_thread() is threading.main_thread():
            # a foreground search ends in its own cell: the cell keeps the result alone (emptied
            # outputs would be saved as blank `text/plain ""` outputs, one per handle)
            from IPython.display import clear_output

            clear_output(wait=True)
            display(bundle, raw=True)
            result._shown_in_cell = _execution_count()
        else:
            target = self._handle or self._view_handle
            target.update(bundle, raw=True)
            if target is not self._view_handle:
                self._view_handle.update(_EMPTY, raw=True)
            self._loader_handle.update(_EMPTY, raw=True)
            if threading.current_thread() is threading.main_thread():
                # a foreground search ends in its own cell: its returned result is shown already
                # (a background one ends while some later cell runs: that cell may show it)
                result._shown_in_cell = _execution_count()
        close_widgets(self.widget)
        close_widgets(self.bokeh)  # also when the search ended before the charts joined the view
        self.closed = True

    def _on_stop_click(self, _button: widgets.Button) -> None:
        self.search.stop_event.set()  # the runner checks it before each trial and each batch
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping…"
        self._activity = "stopping after the running trial…"
        self.status.value = self._status_html()

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
                self._queue.append((trial_record(t, self.search.space), t))

    def _elapsed_of(self, record: TrialRecord, trial: Any) -> float | None:
        """Seconds from the first trial's start to this trial's end: the static chart's clock."""
        start = getattr(trial, "datetime_start", None)
        end = getattr(trial, "datetime_complete", None)
        if start is not None and (self._t0_wall is None or start.timestamp() < self._t0_wall):
            self._t0_wall = start.timestamp()
        if end is not None and self._t0_wall is not None:
            return max(0.0, end.timestamp() - self._t0_wall)
        return record.elapsed_s if record.elapsed_s is not None else self._elapsed()

    def _row(self, record: TrialRecord, trial: Any) -> _Row:
        value = (
            record.value
            if record.value is not None
            else (record.values[0] if record.values else None)
        )
        if value is not None and not math.isfinite(value):
            value = None
        note = record.error or record.extra.get("reason") or record.extra.get("stopped") or ""
        return _Row(
            record.number,
            record.state,
            value,
            record.score_std,
            record.duration_s,
            record.model,
            params_text(record.params or {}),
            str(note),
            self._elapsed_of(record, trial),
        )

    def _place_charts(self) -> None:
        """Add the Bokeh charts to the view once BokehJS had time to load in the page."""
        if self._charts_placed:
            return
        if self._shown_at is not None and time.monotonic() - self._shown_at < CHARTS_AFTER_S:
            return
        self._charts_placed = True
        self.widget.children = (*self.widget.children, self.bokeh)

    def _flush(self) -> None:
        """Drain the queue into the table, the chart, the diagram and the progress line."""
        cpu = time.thread_time()
        self._place_charts()
        new: list[tuple[TrialRecord, Any]] = []
        while self._queue:
            new.append(self._queue.popleft())
        points: dict[str, list[Any]] = {
            "x": [],
            "score": [],
            "trial": [],
            "model": [],
            "score_text": [],
        }
        for record, trial in new:
            r = self._row(record, trial)
            if record.number not in self._rows:
                self._counts[record.state] = self._counts.get(record.state, 0) + 1
                if self._run is None or self._run.previous_trials <= record.number:
                    self._new_done += 1
            self._rows[record.number] = r
            if r.state == "COMPLETE" and r.value is not None and r.elapsed is not None:
                points["x"].append(r.elapsed)
                points["score"].append(r.value)
                points["trial"].append(r.number)
                points["model"].append(shorten(model_label(r.model), 60))
                points["score_text"].append(format_score(r.value))
                if self._best is None or self._sign * r.value > self._sign * (
                    self._best.value or 0.0
                ):
                    self._best = r
                    self._best_diagram = record.diagram
        if new:
            if points["x"]:
                # numbers go as arrays: Bokeh sends those as binary buffers, not one JSON value each
                numeric = {k: np.asarray(points[k], dtype=float) for k in ("x", "score", "trial")}
                self.scatter_source.stream(
                    {**numeric, "model": points["model"], "score_text": points["score_text"]},
                    rollover=20_000,
                )
                self.best_source.data = self._best_line()
                self._fit_ranges(points["x"], points["score"])
            # the table is sorted by score, so a new row can land anywhere: send the shown rows again
            self.table_source.data = self._table_data()
            # as tall as its rows (no empty block under one row), up to 240 px, then it scrolls
            self.table.height = min(240, _TABLE_HEADER_PX + _TABLE_ROW_PX * max(1, len(self._rows)))
            if self._best_diagram is not None and self._best_diagram is not self._diagram_shown:
                self._draw_diagram(self._best_diagram)
        self.progress.value = self._fraction()
        self.status.value = self._status_html()
        self.flushes += 1
        self.flush_cpu_s += time.thread_time() - cpu

    def _best_line(self) -> dict[str, Any]:
        """Best so far in the order trials ended (as the static chart draws it)."""
        done = sorted(
            (
                r
                for r in self._rows.values()
                if r.state == "COMPLETE" and r.value is not None and r.elapsed is not None
            ),
            key=lambda r: (r.elapsed, r.number),
        )
        xs: list[float] = []
        best: list[float] = []
        current: float | None = None
        for r in done:
            if current is None or self._sign * (r.value or 0.0) > self._sign * current:
                current = r.value
            xs.append(r.elapsed or 0.0)
            best.append(current or 0.0)
        return {"x": np.asarray(xs, dtype=float), "best": np.asarray(best, dtype=float)}

    def _fit_ranges(self, xs: list[float], ys: list[float]) -> None:
        """Frame every point seen so far, with a margin."""
        self._xmax = max([self._xmax, *xs])
        self._ymin = min([self._ymin, *ys])
        self._ymax = max([self._ymax, *ys])
        y0, y1 = score_range([self._ymin, self._ymax], metric_bounds(self.metric))  # accuracy stays ≤ 1
        self.chart.y_range.update(start=y0, end=y1)
        self.chart.x_range.update(start=0.0, end=max(1.0, 1.08 * self._xmax + 0.1))

    def _ranked(self) -> list[_Row]:
        """Complete trials best first, then the others by trial number (as the static table)."""
        complete = sorted(
            (r for r in self._rows.values() if r.state == "COMPLETE" and r.value is not None),
            key=lambda r: (-self._sign * (r.value or 0.0), r.number),
        )
        others = sorted(
            (r for r in self._rows.values() if not (r.state == "COMPLETE" and r.value is not None)),
            key=lambda r: r.number,
        )
        return complete + others

    def _table_data(self) -> dict[str, Any]:
        shown = self._ranked()[: self.max_rows]
        data: dict[str, list[Any]] = {f: [] for f in _TABLE_FIELDS}
        for rank, r in enumerate(shown, start=1):
            ranked = r.state == "COMPLETE" and r.value is not None
            data["rank"].append(str(rank) if ranked else "")
            data["trial"].append(r.number)
            data["model"].append(shorten(model_label(r.model), 32))
            data["score"].append(format_score(r.value))
            data["std"].append(format_score(r.std))
            data["duration"].append(format_score(r.duration, 2))
            data["state"].append(r.state)
            data["params"].append(r.params + (f" · {shorten(r.note, 60)}" if r.note else ""))
            data["full"].append(r.model)
        return data

    def _draw_diagram(self, diagram: dict[str, Any]) -> None:
        lay = diagram_layout(diagram)
        self.diagram_nodes.data = {
            "x": [n["x"] for n in lay["nodes"]],
            "y": [n["y"] for n in lay["nodes"]],
            "w": [n["w"] for n in lay["nodes"]],
            "h": [n["h"] for n in lay["nodes"]],
            "label": [n["label"] for n in lay["nodes"]],
        }
        edges = lay["edges"]
        self.diagram_edges.data = {
            "x0": [e["path"][0][0] for e in edges],
            "y0": [e["path"][0][1] for e in edges],
            "cx": [e["path"][1][0] for e in edges],
            "cy": [e["path"][1][1] for e in edges],
            "x1": [e["path"][2][0] for e in edges],
            "y1": [e["path"][2][1] for e in edges],
            "op": [e["op"] for e in edges],
            "color": [e["color"] for e in edges],
            "lx": [e["label"]["x"] for e in edges],
            "ly": [e["label"]["y"] for e in edges],
        }
        graph_h = min([item["y"] for item in lay["legend"]] or [lay["height"]]) - 6
        self.diagram.x_range.update(start=0.0, end=float(lay["width"]))
        self.diagram.y_range.update(start=float(graph_h), end=0.0)
        # its natural width at most (the row wraps it under the chart when that is wider than
        # the room beside it); narrower outputs squeeze the drawing, never cut it
        self.diagram.max_width = int(min(860, max(_CHART_MIN_PX, lay["width"] + 20)))
        self.diagram.height = int(min(420, max(120, graph_h + 50)))
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

    def _now_running(self) -> str:
        """What the search is doing now: the running trial, and its epoch when it reports them."""
        import html

        if not self._running:
            return html.escape(self._activity)
        number = max(self._running)
        model = shorten(model_label(self._running[number]), 48)
        epoch = (
            _epoch_of(self.search, number)
            if str(self.search.config.space).startswith("nas")
            else None
        )
        if epoch is not None:
            done, total = epoch
            of = f"/{total}" if total else ""
            return f"epoch {done}{of} of trial {number}: {html.escape(model)}"
        return f"fitting trial {number}: {html.escape(model)}"

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
        for state, label in (("FAIL", "failed"), ("PRUNED", "pruned"), ("STOPPED", "stopped")):
            if self._counts.get(state):
                extra.append(f"{self._counts[state]} {label}")
        trials = f"{done}{of} trial{'' if run.n_trials == 1 else 's'}" if of else plural(done, "trial")
        parts = [
            f"{_fmt_seconds(elapsed)}{budget}",
            trials + (f" ({', '.join(extra)})" if extra else ""),
        ]
        if final is None:
            parts.append(self._now_running())
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
                f"best <b>{format_score(self._best.value)}</b> (trial {self._best.number}, "
                f"{html.escape(shorten(model_label(self._best.model), 48))})"
            )
        data = getattr(run, "data", "") if run is not None else ""  # what was understood of the data
        head = f"<span class='jupyter-automl-data'>{html.escape(data)}</span><br>" if data else ""
        # wraps anywhere (a genotype is one long word) rather than being cut at a narrow width
        return ("<div style='overflow-wrap:anywhere;white-space:normal;line-height:1.45'>" + head
                + "<span class='jupyter-automl-status'>" + " · ".join(parts) + "</span></div>")


class _Raw:
    """A display bundle given as is (``Output.append_display_data`` takes objects)."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.bundle


def _transparent(fig: Any) -> None:
    """No canvas background: the figure shows the notebook's (Light or Dark) through it."""
    fig.background_fill_alpha = 0.0
    fig.border_fill_alpha = 0.0
    fig.outline_line_color = _GRID_GREY
    fig.outline_line_alpha = 0.3
    fig.title.text_color = _AXIS_GREY
    for axis in fig.axis:
        axis.axis_label_text_color = _AXIS_GREY
        axis.major_label_text_color = _AXIS_GREY
        axis.axis_line_color = _GRID_GREY
        axis.major_tick_line_color = _GRID_GREY
        axis.minor_tick_line_color = None
    for grid in fig.grid:
        grid.grid_line_color = _GRID_GREY
        grid.grid_line_alpha = 0.2


def _epoch_of(search: Search, number: int) -> tuple[int, int | None] | None:
    """Epochs reported so far by running trial ``number`` (NAS reports one value per epoch)."""
    import optuna

    try:
        running = search.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    except Exception:  # a storage that cannot answer now: no epoch line
        return None
    for t in running:
        if t.number == number and t.intermediate_values:
            total = t.params.get("epochs", getattr(search.config, "epochs", None))
            return len(t.intermediate_values), total if isinstance(total, int) else None
    return None


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else shell.execution_count

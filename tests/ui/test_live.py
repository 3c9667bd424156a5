"""The live view, driven by real searches without a front end (``show=False``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conditions import wait_until

import jupyter_automl as ja
from jupyter_automl._search import Search
from jupyter_automl.config import SearchConfig
from jupyter_automl.report import format_score, params_text
from jupyter_automl.runner import RunInfo, TrialRecord
from jupyter_automl.spaces._base import Evaluation, SearchSpace
from jupyter_automl.spaces.nas.diagram import diagram_layout
from jupyter_automl.ui import live_view
from jupyter_automl.ui.live import LiveView


def _search(**options: Any) -> Search:
    base = dict(
        data="sklearn:iris",
        strategy="random",
        models=["linear", "knn"],
        seed=0,
        storage="memory",
        display=False,
        ensemble=False,  # the view's best score is then the best trial's
    )
    return Search(SearchConfig.from_dict({**base, **options}))


def test_rows_sorted_by_score_and_formatted_as_the_static_table() -> None:
    search = _search(n_trials=4)
    view = LiveView(search, show=False, interval=0.05)
    search.observers.append(view)
    result = search.run()

    data = view.table_source.data
    assert list(data["rank"]) == ["1", "2", "3", "4"] and data["state"] == ["COMPLETE"] * 4
    static = result.payload()["leaderboard"]["rows"]
    # one formatter: the live rows read exactly as the static ones, in the same order
    assert list(data["trial"]) == [r["trial"] for r in static]
    assert data["score"] == [format_score(r["score"]) for r in static]
    assert data["params"] == [params_text(r["params"]) for r in static]
    assert data["score"][0] == format_score(result.best_score)
    scores = view.scatter_source.data["score"]
    assert len(scores) == 4
    assert view.best_source.data["best"][-1] == pytest.approx(result.best_score)
    y = view.chart.y_range  # the chart frames every score
    assert y.start < min(scores) <= max(scores) < y.end
    # the same clock as the static chart: seconds from the first trial's start
    static_x = sorted(h["elapsed_s"] for h in result.payload()["history"])
    assert sorted(view.scatter_source.data["x"]) == pytest.approx(static_x, abs=0.01)
    assert view.chart.x_range.end >= max(view.scatter_source.data["x"])
    assert view.progress.value == 1.0 and view.progress.bar_style == "success"
    assert view.stop_button.description == "Done" and view.stop_button.disabled
    assert "4 / 4 trials" in view.status.value and "finished" in view.status.value


def test_stop_button_stops_a_background_search() -> None:
    search = _search(time_budget=60)
    view = LiveView(search, show=False, interval=0.05)
    search.observers.append(view)
    result = search.start()
    wait_until(lambda: result.n_trials >= 1)
    assert not view.stop_button.disabled  # background: the button works
    view.stop_button.click()
    assert search.stop_event.is_set() and view.stop_button.description == "Stopping…"
    result.wait(timeout=60)
    assert result.stop_reason == "stopped" and result.best_model is not None
    assert view.stop_button.description == "Stopped" and view.progress.bar_style == "warning"
    assert len(view.table_source.data["trial"]) == result.n_trials


def _run_info(search: Search, **kw: Any) -> RunInfo:
    base = dict(
        study_name=search.name,
        storage="memory",
        config=search.config,
        task="multiclass",
        metric="accuracy",
        direction="maximize",
        time_budget=None,
        n_trials=None,
        started=time.monotonic(),
    )
    return RunInfo(**{**base, **kw})


def _record(number: int, value: float | None, state: str = "COMPLETE", **kw: Any) -> TrialRecord:
    return TrialRecord(
        number=number,
        state=state,
        value=value,
        values=None if value is None else (value,),
        score_std=0.01,
        duration_s=0.001,
        model="cell",
        params={"depth": number},
        **kw,
    )


CELL = {
    "nodes": [
        {"id": "in", "label": "input"},
        {"id": "a", "label": "node 1"},
        {"id": "b", "label": "node 2"},
        {"id": "out", "label": "output"},
    ],
    "edges": [
        {"source": "in", "target": "a", "op": "conv3x3"},
        {"source": "in", "target": "b", "op": "skip"},
        {"source": "a", "target": "b", "op": "maxpool"},
        {"source": "b", "target": "out", "op": "concat"},
    ],
}


def test_diagram_slot_draws_the_best_trials_architecture() -> None:
    search = _search(n_trials=1)
    view = LiveView(search, show=False)
    assert not view.diagram.visible  # tabular: no slot shown
    view.on_start(_run_info(search))
    other = {"nodes": [{"id": "x", "label": "lonely"}], "edges": []}
    view.on_trial(_record(0, 0.5, diagram=other), None)
    view.on_trial(_record(1, 0.9, diagram=CELL), None)
    view.on_trial(_record(2, 0.7, diagram=other), None)
    view.on_trial(_record(3, None, state="FAIL", error="boom"), None)
    view.finish(search.result)

    assert view.diagram.visible
    assert view.diagram_nodes.data["label"] == ["input", "node 1", "node 2", "output"]
    assert view.diagram_edges.data["op"] == ["conv3x3", "skip", "maxpool", "concat"]
    # the live view draws the one layout: the same curves and label anchors as the static SVG
    layout = diagram_layout(CELL)
    assert view.diagram_edges.data["cx"] == [e["path"][1][0] for e in layout["edges"]]
    assert view.diagram_edges.data["ly"] == [e["label"]["y"] for e in layout["edges"]]
    assert list(view.table_source.data["trial"]) == [1, 2, 0, 3]
    ranks = view.table_source.data["rank"]
    assert list(ranks) == ["1", "2", "3", ""]  # a failed trial has no rank
    # a failed row keeps its params and shows the reason beside them
    assert view.table_source.data["params"][3] == "depth=3 · boom"
    assert "1 failed" in view.status.value


def test_thousands_of_fast_trials_are_batched() -> None:
    search = _search(n_trials=1)
    view = LiveView(search, show=False, interval=0.25)
    view.on_start(_run_info(search, n_trials=2000))
    for i in range(2000):
        view.on_trial(_record(i, (i * 7919 % 2000) / 2000), None)
    view.finish(search.result)
    assert view.flushes <= 5  # not one update per trial
    assert len(view.scatter_source.data["x"]) == 2000
    assert len(view.table_source.data["trial"]) == view.max_rows
    assert view.table_source.data["score"][0] == format_score(1999 / 2000)
    assert view.progress.value == 1.0


def test_headless_searches_create_no_widgets() -> None:
    from ipywidgets.widgets.widget import _instances

    before = len(_instances)
    for display in (False, "auto", True):
        result = ja.search(
            data="sklearn:iris", models=["linear"], n_trials=1, storage="memory", display=display
        )
        assert result.done
    search = _search(n_trials=1)
    assert live_view(search) is None  # no kernel: no view
    assert len(_instances) == before


class _FailingFinalFit(SearchSpace):
    """A real space whose final refit raises: the background run ends with an error."""

    name = "failing-final-fit"

    def __init__(self, base: SearchSpace) -> None:
        super().__init__(base.config, base.data)

    def sample(self, trial: Any) -> dict[str, Any]:
        return {"x": trial.suggest_float("x", 0.0, 1.0)}

    def evaluate(self, trial: Any, params: dict[str, Any], budget: Any) -> Evaluation:
        return Evaluation(values=params["x"])

    def fit_final(self, params: dict[str, Any], budget: Any) -> Any:
        raise MemoryError("out of memory in the final fit")


def test_view_finishes_when_a_background_search_fails() -> None:
    search = _search(n_trials=3, executor="thread")  # the space is swapped in this process
    search.space = search.executor.space = _FailingFinalFit(search.space)
    view = LiveView(search, show=False, interval=0.05)
    search.observers.append(view)
    result = search.start()
    with pytest.raises(MemoryError, match="final fit"):
        result.wait(timeout=60)
    wait_until(lambda: view.stop_button.description == "Done")  # the flusher noticed the end
    assert "failed: MemoryError: out of memory in the final fit" in view.status.value
    assert view.progress.bar_style == "danger"
    assert len(view.table_source.data["trial"]) == 3


def test_nas_search_draws_its_best_cell() -> None:
    pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    config = SearchConfig.from_dict(
        dict(
            space="nas-cell",
            strategy="random",
            n_trials=2,
            epochs=1,
            storage="memory",
            seed=0,
            display=False,
            space_options={"channels": 8},
        )
    )
    search = Search(config, X=X.reshape(-1, 1, 8, 8)[:300], y=y[:300])
    view = LiveView(search, show=False)
    search.observers.append(view)
    result = search.run()
    assert view.diagram.visible
    assert view.diagram_nodes.data["label"] == [
        n["label"] for n in result.payload()["diagram"]["nodes"]
    ]


def test_one_trial_axis_stays_within_the_metric_range_and_reads_singular() -> None:
    """One accuracy: the live chart's y axis stays in [0, 1] (never 0.47–1.47); "1 trial", not "1 trials"."""
    search = _search(n_trials=1, models=["linear"], metric="accuracy")
    view = LiveView(search, show=False, interval=0.05)
    search.observers.append(view)
    result = search.run()
    (score,) = view.scatter_source.data["score"]
    y = view.chart.y_range
    assert 0.0 <= y.start <= score <= y.end <= 1.0, (y.start, y.end)
    assert y.end - y.start <= 0.2
    assert result.n_trials == 1 and "1 trials" not in view.status.value and "1 / 1 trial" in view.status.value

"""A notebook with a tabular and a NAS search, executed headless (nbclient, as papermill and CI
run notebooks): it saves small, holds one result per search and no widget, and converts to HTML
with no widget repr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from notebook_files import write_notebook

RESULT_MIME = "application/vnd.jupyter-automl.result.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CELLS = [
    "%load_ext jupyter_automl\nimport jupyter_automl as ja",
    "%%automl tab\ndata: sklearn:iris\nmodels: [linear, knn]\nn_trials: 4\nstorage: memory\nseed: 0",
    # the returned result as the cell's last expression: shown once, by the finished view
    'ja.search(data="sklearn:wine", models=["linear"], n_trials=2, storage="memory", seed=0)',
    "from sklearn.datasets import load_digits\n"
    "X, y = load_digits(return_X_y=True)\n"
    "nas = ja.search(X=X[:300].reshape(-1, 1, 8, 8), y=y[:300], space='nas-cell', strategy='random',\n"
    "                n_trials=2, epochs=2, space_options={'channels': 8}, storage='memory', seed=0)",
    "print(tab.best_score > 0.8, nas.n_trials)",
]
SEARCH_CELLS = (1, 2, 3)


def results_in(cell: Any) -> int:
    return sum(1 for o in cell.outputs if RESULT_MIME in o.get("data", {}))


@pytest.fixture
def executed(nb_root: Path, run_notebook) -> tuple[Any, Path]:
    pytest.importorskip("torch")
    write_notebook(nb_root / "searches.ipynb", CELLS)
    nb = run_notebook("searches.ipynb")
    return nb, nb_root / "searches.executed.ipynb"


def test_executed_notebook_is_small_with_one_result_per_search(executed) -> None:
    nb, path = executed
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert errors == []
    size = path.stat().st_size
    print(f"saved notebook: {size / 1024:.0f} KiB")  # 8.1 MB when BokehJS stayed inline
    assert size < 1_000_000
    from test_notebooks import assert_closed_views_keep_no_bulk

    assert_closed_views_keep_no_bulk(nb)  # nbclient keeps closed widgets' last state: it is small
    widgets = len(json.dumps(nb.metadata.get("widgets", {})))
    print(f"closed widgets' state nbclient kept: {widgets / 1024:.1f} KiB")
    for k in SEARCH_CELLS:
        cell = nb.cells[k]
        assert results_in(cell) == 1, f"cell {k}: {results_in(cell)} results"
        assert not any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs)
        assert not any(o.output_type == "execute_result" for o in cell.outputs)  # no second repr
    streams = "".join(
        o.get("text", "") for c in nb.cells for o in c.outputs if o.output_type == "stream"
    )
    assert "Traceback" not in streams and "Exception ignored" not in streams
    assert "A new study created" not in streams  # Optuna's INFO lines stay out of the notebook
    payload = next(
        o.data[RESULT_MIME] for o in nb.cells[3].outputs if RESULT_MIME in o.get("data", {})
    )
    layout = payload["diagram_layout"]
    assert len(layout["edges"]) == len(payload["diagram"]["edges"])
    assert "True 2" in "".join(o.get("text", "") for o in nb.cells[4].outputs)


def test_nbconvert_html_has_no_widget_repr(executed) -> None:
    from nbconvert import HTMLExporter

    nb, _ = executed
    html, _ = HTMLExporter().from_notebook_node(nb)
    for debris in ("VBox(", "HBox(", "Error displaying widget", "Loading widget", "BokehModel("):
        assert debris not in html
    assert html.count('class="jupyter-automl-leaderboard"') == len(SEARCH_CELLS)
    assert html.count('class="ja-edge"') >= 1  # the NAS diagram is drawn, as SVG

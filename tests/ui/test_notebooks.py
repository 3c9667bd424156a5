"""Every notebook of ``examples/`` runs in a real kernel (nbclient) and leaves readable outputs.

The kernel inherits ``PYTHONPATH`` from ``tests/ui/conftest.py``, so it imports this checkout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

RESULT_MIME = "application/vnd.jupyter-automl.result.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _find(nb: Any, source_start: str) -> Any:
    cells = [c for c in _code_cells(nb) if c.source.startswith(source_start)]
    assert cells, f"no cell starting with {source_start!r}"
    return cells[0]


def _text(cell: Any) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def _errors(nb: Any) -> list[str]:
    return [
        f"{o.ename}: {o.evalue}"
        for c in _code_cells(nb)
        for o in c.outputs
        if o.output_type == "error"
    ]


def assert_static_result(cell: Any) -> dict[str, Any]:
    """The cell keeps the result bundle: JSON payload, escaped HTML leaderboard with SVG, text."""
    bundles = [o.data for o in cell.outputs if "data" in o and RESULT_MIME in o.data]
    assert len(bundles) == 1, f"expected one result bundle, got {len(bundles)}"
    data = bundles[0]
    payload = data[RESULT_MIME]
    assert payload["version"] == "1.3"
    rows = payload["leaderboard"]["rows"]
    assert rows and any(r["state"] == "COMPLETE" for r in rows)
    html = data["text/html"]
    assert 'class="jupyter-automl-leaderboard"' in html and "<svg" in html and "<script" not in html
    # header + the shown rows (rows cut short by the budget or Stop are muted: <tr style=...>)
    assert html.count("<tr>") + html.count("<tr ") >= len(rows[:15]) + 1
    assert payload["study"]["name"] in data["text/plain"]
    return payload


def _widget_state(nb: Any) -> dict[str, Any]:
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


BOKEHJS_MIMES = ("application/javascript", "application/vnd.bokehjs_load.v0+json")


def assert_finished_in_place(nb: Any, cell: Any, *, form: bool = False) -> None:
    """The search's live view left nothing behind: no widget view (but the panel's form), no
    BokehJS. (nbclient keeps the state of closed widgets in the metadata, unreferenced; JupyterLab
    saves only live ones.)"""
    kinds = [set(o.get("data", {})) for o in cell.outputs if "data" in o]
    views = sum(1 for k in kinds if WIDGET_VIEW in k)
    assert views == (1 if form else 0), f"{views} widget views left in the cell"
    assert not any(m in k for k in kinds for m in BOKEHJS_MIMES), "BokehJS is left in the cell"
    for model in _widget_state(nb).values():  # the panel's output area: emptied of the view
        if model["model_name"] == "OutputModel":
            outs = model["state"].get("outputs", [])
            assert not any(WIDGET_VIEW in o.get("data", {}) for o in outs)
    assert_closed_views_keep_no_bulk(nb)


def assert_closed_views_keep_no_bulk(nb: Any) -> None:
    """nbclient writes the last state of every widget it saw, closed or not: the live views'
    charts (Bokeh documents, 20-150 KB each) and status texts are emptied before they close."""
    state = _widget_state(nb)
    bokeh = [m for m in state.values() if m["model_name"] == "BokehModel"]
    assert bokeh, "no live view ran"
    sizes = [len(json.dumps(m["state"])) for m in bokeh]
    assert max(sizes) < 2500, sizes
    assert not any('"docs_json"' in json.dumps(m["state"]) and "DataTable" in json.dumps(m["state"]) for m in bokeh)


def assert_panel_form(nb: Any, cell: Any, *, card: str = "%%automl\n") -> str:
    """The cell shows the panel's form (a widget: the form is meant to stay interactive), and under
    it the form's saved card (its ``%%automl`` text, what a notebook reopened without the kernel
    shows); returns the card's text."""
    state = _widget_state(nb)
    ids = [o.data[WIDGET_VIEW]["model_id"] for o in cell.outputs if "data" in o and WIDGET_VIEW in o.data]
    assert any("jupyter-automl-panel" in state[i]["state"].get("_dom_classes", []) for i in ids)
    cards = [o.data for o in cell.outputs if "jupyter-automl-panel-card" in o.get("data", {}).get("text/html", "")]
    assert len(cards) == 1, f"{len(cards)} cards"
    assert cards[0]["text/plain"].startswith(card), cards[0]["text/plain"]
    assert cards[0]["text/plain"].replace("%%automl", "").strip() in cards[0]["text/html"]  # the same text, escaped
    return cards[0]["text/plain"]


def test_every_example_is_tested() -> None:
    names = {p.name for p in EXAMPLES.glob("*.ipynb")}
    here = {
        "01_quickstart.ipynb",
        "02_panel.ipynb",
        "03_python_api.ipynb",
    }  # tests/nas runs the NAS ones
    assert here <= names and all(n in here or "nas" in n for n in names)
    for path in EXAMPLES.glob("*.ipynb"):
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), (
            f"{path.name} has outputs"
        )


def test_quickstart(run_notebook) -> None:
    nb = run_notebook("01_quickstart.ipynb")
    assert _errors(nb) == []
    fg = _find(nb, "%%automl automl")
    assert_finished_in_place(nb, fg)
    payload = assert_static_result(fg)
    assert payload["study"]["metric"] == "balanced_accuracy"
    assert "SearchResult(study=" in _text(_find(nb, "print(automl)"))  # the variable is bound
    bg = _find(nb, "%%automl bg --background")
    assert_finished_in_place(nb, bg)
    assert_static_result(bg)  # the view was replaced when the background search ended
    assert "background search ended: time_budget" in _text(_find(nb, "bg.wait()"))
    assert "%%automl\ndata: sklearn:breast_cancer\nmetric: balanced_accuracy" in _text(
        _find(nb, "%automl config")
    )


def test_panel(run_notebook) -> None:
    nb = run_notebook("02_panel.ipynb")
    assert _errors(nb) == []
    panel_cell = _find(nb, "panel = ja.Panel(")
    # the card follows the form: after panel.run() (a later cell) it says what that search ran
    card = assert_panel_form(nb, panel_cell, card="%%automl\ndata: wine\ntarget: target\nstrategy: random\n")
    assert "time_budget: 5s" in card
    card_html = next(o.data["text/html"] for o in panel_cell.outputs if "panel-card" in o.get("data", {}).get("text/html", ""))
    assert "Its last search" in card_html
    assert_finished_in_place(nb, panel_cell, form=True)
    assert_static_result(panel_cell)  # the result under the form, readable without widgets
    text = _text(_find(nb, "print(panel.magic_text())"))
    assert text.startswith("%%automl\ndata: wine\ntarget: target\nstrategy: random\n")
    assert _text(_find(nb, "from jupyter_automl import SearchConfig")).strip() == "True"
    assert "best accuracy" in _text(_find(nb, "result = panel.run()"))
    assert_panel_form(nb, _find(nb, "%load_ext jupyter_automl\n%automl panel wine"))


def test_python_api(run_notebook) -> None:
    nb = run_notebook("03_python_api.ipynb")
    assert _errors(nb) == []
    search_cell = _find(nb, "result = ja.search(")
    assert_finished_in_place(nb, search_cell)
    assert_static_result(search_cell)
    assert "rank" in _text(_find(nb, "result.leaderboard"))
    assert "test accuracy" in _text(_find(nb, "X_test, y_test"))
    assert "Train the best model" in _text(_find(nb, "path = result.export"))
    assert _text(_find(nb, "saved = result.save")).strip() == "True"
    assert "AutoML test accuracy" in _text(_find(nb, "model = ja.AutoML"))
    last = _code_cells(nb)[-1]
    assert last.source == "result" and last.outputs[0].output_type == "execute_result"
    assert_static_result(last)

"""Issue 19's walkthrough in a real JupyterLab: a ``%%automl`` NAS cell on the user's own image
arrays (NHWC, uint8, as Pillow gives them) with ``time_budget: 60`` and nothing else set shows
architectures streaming into the live view, ends on time with a fitted model, and the saved
result draws the best architecture's own edges.

Screenshots: ``test-artifacts/lab-nas-default-live.png`` and ``lab-nas-default-result.png``.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.conftest import ARTIFACTS, new_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "%load_ext jupyter_automl",
    # the user's images: 600 colour 32×32 pictures of digits, channels last, uint8
    "import numpy as np\nfrom sklearn.datasets import load_digits\n"
    "digits = load_digits()\nrng = np.random.default_rng(0)\n"
    "def coloured(rows):\n"
    "    grey = np.kron(digits.images[rows] / 16, np.ones((4, 4)))\n"
    "    colour = rng.uniform(0.4, 1.0, (len(grey), 1, 1, 3))\n"
    "    noise = rng.normal(0, 0.1, (len(grey), 32, 32, 3))\n"
    "    return (255 * np.clip(grey[..., None] * colour + noise, 0, 1)).astype(np.uint8)\n"
    "images = coloured(slice(0, 600))\n"
    "Xy = (images, digits.target[:600])",
    "%%automl\ndata: Xy\nspace: nas-cell\ntime_budget: 60",
    "import json\nboard = automl.leaderboard\n"
    "trained = board[board['epochs_run'].fillna(0) > 0]\n"
    "print(json.dumps({'elapsed_s': automl.elapsed_s, 'model': type(automl.best_model).__name__,\n"
    "                  'architectures': int(trained['model'].nunique()),\n"
    "                  'state': automl.payload()['study']['state'], 'best': automl.payload()['best']['model'],\n"
    "                  'held_out': automl.insight['holdout']['scores']['accuracy'],\n"
    "                  'holdout': automl.insight['holdout'],\n"
    "                  'accuracy': float((automl.predict(coloured(slice(600, 1200))) == digits.target[600:1200]).mean())}))",
]
SEARCH = 2

# rows of the live leaderboard and shown Bokeh figures (the chart and the diagram), through shadow roots
LIVE_COUNTS = """k => { const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
  let rows = 0, figures = 0; const walk = e => { if (!e) return;
    if (e.classList && e.classList.contains('slick-row')) rows++;
    if (e.classList && e.classList.contains('bk-Figure') && e.getBoundingClientRect().height > 0) figures++;
    if (e.shadowRoot) walk(e.shadowRoot); for (const c of e.children || []) walk(c); };
  walk(cell); return {rows, figures}; }"""


def _run_cell(page, k: int, wait: bool = True) -> None:
    page.evaluate("async ([k, wait]) => { const p = window.jupyterapp.shell.currentWidget;"
                  " p.content.activeCellIndex = k; const done = window.jupyterapp.commands.execute('notebook:run-cell');"
                  " if (wait) await done; }", [k, wait])


def test_a_default_nas_cell_on_image_arrays_streams_ends_on_time_and_draws_its_best(lab, open_notebook) -> None:
    from jupyter_automl.insight.svg import holdout_line
    from jupyter_automl.report import format_score
    from jupyter_automl.spaces.nas.diagram import diagram_layout
    from jupyter_automl.spaces.nas.genotypes import CellGenotype

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(CELLS), lab["root"] / "nas-default.ipynb")
    page = open_notebook("nas-default.ipynb")
    page.set_viewport_size({"width": 1400, "height": 1600})
    for k in range(SEARCH):
        _run_cell(page, k)
    _run_cell(page, SEARCH, wait=False)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(SEARCH)
    live = cell.locator(".jupyter-automl-live")
    live.wait_for(timeout=60_000)
    # the inferred input is said in the first lines: images of 3 channels, 10 classes
    page.wait_for_function(f"""() => {{ const s = document.querySelectorAll('.jp-Notebook .jp-Cell')[{SEARCH}]
      .querySelector('.jupyter-automl-data'); return s && s.textContent.includes('600 images 3×32×32') && s.textContent.includes('10 classes'); }}""", timeout=60_000)
    # architectures stream in: one row, then more while the search still runs, chart and diagram shown
    page.wait_for_function(f"(({LIVE_COUNTS})({SEARCH}) || {{rows: 0}}).rows >= 1", timeout=60_000)
    first = page.evaluate(LIVE_COUNTS, SEARCH)["rows"]
    page.wait_for_function(f"(({LIVE_COUNTS})({SEARCH})).rows >= {first + 3} && (({LIVE_COUNTS})({SEARCH})).figures >= 2",
                           timeout=60_000)
    assert live.is_visible(), "the search ended before more architectures streamed in"
    cell.screenshot(path=str(ARTIFACTS / "lab-nas-default-live.png"))
    # the static result takes the live view's place
    cell.locator(".jp-AutoML-renderer").wait_for(timeout=90_000)
    assert cell.locator(".jupyter-automl-live").count() == 0
    assert cell.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    cell.scroll_into_view_if_needed()
    cell.screenshot(path=str(ARTIFACTS / "lab-nas-default-result.png"))

    _run_cell(page, SEARCH + 1)
    text = page.locator(".jp-Notebook .jp-Cell").nth(SEARCH + 1).locator(".jp-OutputArea-output").inner_text()
    facts = json.loads(text.strip().splitlines()[-1])
    assert facts["elapsed_s"] <= 60 * 1.05 + 1, facts
    assert facts["model"] == "Sequential" and facts["accuracy"] > 0.8, facts  # ten digits, on new images
    # the held-out score is the returned network's (its final training), not the best trial's 3 epochs
    assert abs(facts["held_out"] - facts["accuracy"]) <= 0.1, facts
    assert facts["architectures"] >= 10, facts
    assert facts["state"] == "finished", facts
    # the header names that network's held-out score beside the best trial's validation score
    assert facts["holdout"]["model"] == "final network" and facts["holdout"]["cv_kind"] == "validation", facts
    header = cell.locator(".jp-AutoML-best").inner_text()
    assert f"final network: held-out {format_score(facts['holdout']['score'])}" in header, header
    line = holdout_line({"holdout": facts["holdout"]})  # the Python side's model line, said alike in the lab
    assert "(final network; trial " in line and "'s validation " in line, line
    assert line in cell.locator(".jp-AutoML-section-model > summary").inner_text()
    # the drawn diagram is the best architecture's: its edges, each with its op, none of `none`
    layout = diagram_layout(CellGenotype.from_string(facts["best"]).diagram())
    expected = sorted(f"{e['source']} → {e['target']}: {e['op']}" for e in layout["edges"])
    drawn = sorted(cell.locator("svg.jp-AutoML-diagram path.jp-AutoML-diagram-edge > title").all_text_contents())
    assert drawn == expected
    assert page.blocked == [] and page.errors == []

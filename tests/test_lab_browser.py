"""The lab extension in a real JupyterLab and Chromium: renderer, %%automl help, studies sidebar.

Needs the built extension (``pip install -e .`` builds it) and the server extension enabled
(the package's ``jupyter-config``). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("extension_installed")]

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@pytest.fixture(scope="session")
def extension_installed() -> None:
    """Fail at once (not after long timeouts) when the lab extension was never built."""
    from jupyter_core.paths import jupyter_path

    found = [p for p in jupyter_path("labextensions") if (Path(p) / "jupyter-automl" / "package.json").exists()]
    if not found:
        pytest.fail("the jupyter-automl lab extension is not installed: run `pip install -e .` "
                    "(it builds labextension/ with node) before the browser tests")


def _shot(page, name: str, locator=None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"lab-{name}.png"
    (locator or page).screenshot(path=str(path))
    return path


@pytest.fixture(scope="module")
def saved_result(nb_root: Path) -> dict:
    """A real result bundle, made by a search in a scratch folder of the lab's root."""
    import jupyter_automl as ja

    work = nb_root / "saved"
    work.mkdir(exist_ok=True)
    old = os.getcwd()
    os.chdir(work)
    try:
        result = ja.search(data="sklearn:iris", n_trials=4, models=["linear", "knn"], cv=2,
                           name="saved-study", display=False)
    finally:
        os.chdir(old)
    return result._repr_mimebundle_()


def _write_notebook(path: Path, cells: list, kernelspec: dict | None = KERNELSPEC) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    if kernelspec:
        nb.metadata["kernelspec"] = kernelspec
    nbformat.write(nb, path)


def _result_cell(bundle: dict, count: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("result", execution_count=count)
    cell.outputs = [nbformat.v4.new_output("execute_result", data=bundle, execution_count=count)]
    return cell


def test_saved_notebook_renders_the_leaderboard_without_a_kernel(lab, e2e_page, saved_result) -> None:
    from jupyter_automl.report import MIME_TYPE

    newer = copy.deepcopy(saved_result)
    newer[MIME_TYPE]["version"] = "2.0"
    # a newer minor version with an architecture diagram and fields this renderer does not know
    nas = copy.deepcopy(saved_result)
    from jupyter_automl.spaces.nas.diagram import diagram_layout

    diagram = {
        "nodes": [{"id": "in", "label": "input"}, {"id": "c", "label": "conv3x3"},
                  {"id": "p", "label": "maxpool"}, {"id": "out", "label": "output"}],
        "edges": [{"source": "in", "target": "c", "op": "conv"}, {"source": "in", "target": "p", "op": "pool"},
                  {"source": "c", "target": "out", "op": "sum"}, {"source": "p", "target": "out", "op": "sum"}]}
    nas[MIME_TYPE].update(version="1.9", carbon={"grams": 3}, diagram=diagram,
                          diagram_layout=diagram_layout(diagram))
    _write_notebook(lab["root"] / "saved.ipynb",
                    [_result_cell(saved_result, 1), _result_cell(newer, 2), _result_cell(nas, 3)], kernelspec=None)
    page = e2e_page
    page.goto(f"{lab['url']}/lab/tree/saved.ipynb?token={lab['token']}&reset")
    # no kernelspec in the file: JupyterLab asks which kernel; answer "No Kernel"
    page.locator(".jp-Dialog button", has_text="No Kernel").click(timeout=90_000)
    view = page.locator(".jp-OutputArea-output.jp-AutoML-renderer").first
    view.wait_for(timeout=60_000)
    assert page.evaluate("window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel ?? null") is None

    rows = view.locator("table.jp-AutoML-leaderboard tbody tr")
    assert rows.count() == 4
    assert view.locator(".jp-AutoML-name").inner_text() == "saved-study"
    first = [c.inner_text() for c in rows.nth(0).locator("td").all()]
    assert first[0] == "1" and first[6] == "COMPLETE"
    # one formatter: the renderer's cells read as the static HTML's
    from jupyter_automl.report import format_score, params_text

    row = saved_result[MIME_TYPE]["leaderboard"]["rows"][0]
    assert first[3] == format_score(row["score"]) and first[7] == params_text(row["params"])
    assert view.locator("svg.jp-AutoML-chart circle.jp-AutoML-chart-dot").count() == 4
    assert view.locator("svg.jp-AutoML-chart polyline.jp-AutoML-chart-best").count() == 1
    assert "%%automl\ndata: sklearn:iris" in view.locator(".jp-AutoML-config-text").text_content()

    # sorting: by score ascending puts the worst first, a second click the best
    header = view.locator("th", has_text="score").first
    scores = lambda: [float(t) for t in rows.locator("td:nth-child(4)").all_inner_texts()]  # noqa: E731
    header.click()
    assert header.get_attribute("aria-sort") == "descending" and scores() == sorted(scores(), reverse=True)
    header.click()
    assert header.get_attribute("aria-sort") == "ascending" and scores() == sorted(scores())

    # a payload of an unknown major version: the HTML output under a one-line notice
    fallback = page.locator(".jp-OutputArea-output.jp-AutoML-renderer").nth(1)
    assert "format 2.0" in fallback.locator(".jp-AutoML-fallback-notice").inner_text()
    assert fallback.locator(".jp-AutoML-fallback table.jupyter-automl-leaderboard tbody tr").count() == 4

    diagram = page.locator(".jp-OutputArea-output.jp-AutoML-renderer").nth(2).locator("svg.jp-AutoML-diagram")
    assert diagram.locator("rect.jp-AutoML-diagram-node").count() == 4
    assert diagram.locator("path.jp-AutoML-diagram-edge").count() == 4
    assert "conv3x3" in diagram.text_content()

    view.locator(".jp-AutoML-config summary").click()
    shot = _shot(page, "saved-result", page.locator(".jp-Notebook"))
    assert shot.exists()
    assert page.blocked == [] and page.errors == []


def _editor_text(page) -> str:
    return page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()")


def test_insert_cell_from_palette_completion_and_diagnostics(lab, open_notebook) -> None:
    _write_notebook(lab["root"] / "write.ipynb", [nbformat.v4.new_code_cell("")])
    page = open_notebook("write.ipynb")
    page.keyboard.press("Control+Shift+c")  # command palette
    palette = page.locator("#command-palette input")
    palette.wait_for()
    palette.fill("Insert %%automl cell")
    page.locator("#command-palette .lm-CommandPalette-item", has_text="tabular data").first.click()
    page.wait_for_function("window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel"
                           ".getSource().startsWith('%%automl')")
    assert "space: tabular" in _editor_text(page)
    cell = page.locator(".jp-Cell.jp-mod-active")
    assert cell.locator(".jp-AutoML-yaml-key", has_text="strategy").count() == 1
    assert cell.locator(".jp-AutoML-yaml-magic").count() == 1

    # completion of option names (those already given are left out)
    page.keyboard.press("Control+End")
    page.keyboard.type("\ns")
    page.keyboard.press("Tab")
    completer = page.locator(".jp-Completer")
    completer.wait_for(state="visible", timeout=20_000)
    # ours are typed "option" (the context provider adds plain words of the cell)
    items = completer.locator(".jp-Completer-item").evaluate_all(
        "els => els.map(e => [e.querySelector('.jp-Completer-match')?.textContent,"
        " e.querySelector('.jp-Completer-typeExtended')?.textContent])")
    options = {label for label, kind in items if kind == "option"}
    assert {"seed", "storage", "strategy_options"} <= options and "strategy" not in options
    _shot(page, "completion", page.locator(".jp-Notebook"))
    page.keyboard.press("Escape")
    page.keyboard.press("Backspace")

    # a misspelt option: underlined, with the kernel's message (its line, its "did you mean") under the line
    page.keyboard.type("stratgy: random")
    message = cell.locator(".jp-AutoML-diagnostic-message")
    expect(message).to_have_text("unknown option 'stratgy' (line 8) (did you mean 'strategy'?)", timeout=20_000)
    assert cell.locator(".jp-AutoML-diagnostic", has_text="stratgy").count() == 1
    _shot(page, "diagnostic", page.locator(".jp-Notebook"))

    # fixing it clears the diagnostic
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.type("seed: 3")
    message.wait_for(state="detached", timeout=20_000)

    # the notebook toolbar button offers the templates too
    page.locator(".jp-AutoML-insert-button").first.click()
    page.locator(".jp-AutoML-template-menu .lm-Menu-item", has_text="neural architecture search").click()
    page.wait_for_function("window.jupyterapp.shell.currentWidget.content.widgets.length === 2")
    assert "space: nas-cell" in _editor_text(page)
    assert page.blocked == [] and page.errors == []


LONG_NAME = "a-study-with-a-rather-long-descriptive-name-that-a-narrow-sidebar-cannot-show-whole-20261204-021000"


def test_sidebar_shows_the_study_another_notebook_creates(lab, open_notebook) -> None:
    source = ("import jupyter_automl as ja\n"
              "r = ja.search(data='sklearn:iris', n_trials=2, models=['linear'], cv=2, name='sidebar-study', display=False)\n"
              f"ja.search(data='sklearn:iris', n_trials=1, models=['linear'], cv=2, name={LONG_NAME!r}, display=False)\n"
              "print('search done', r.best_score)")
    _write_notebook(lab["root"] / "make_study.ipynb", [nbformat.v4.new_code_cell(source)])
    page = open_notebook("make_study.ipynb")
    page.evaluate("window.jupyterapp.shell.activateById('jupyter-automl-studies')")
    panel = page.locator("#jupyter-automl-studies")
    panel.wait_for(state="visible")
    row = panel.locator('.jp-AutoML-study[data-study="sidebar-study"]')
    assert row.count() == 0
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    row.wait_for(timeout=120_000)  # the panel polls while it is visible
    page.locator(".jp-OutputArea-output", has_text="search done").wait_for(timeout=120_000)
    panel.locator('.jp-AutoML-study-finished[data-study="sidebar-study"]').wait_for(timeout=30_000)
    assert row.locator(".jp-AutoML-state").inner_text() == "finished"
    assert row.locator(".jp-AutoML-study-facts").inner_text().startswith("tabular / tpe · 2 trials · best 0.9")
    assert row.locator(".jp-AutoML-study-where").inner_text().endswith(" · .jupyter_automl/studies.db")
    long_row = panel.locator(f'.jp-AutoML-study-finished[data-study="{LONG_NAME}"]')
    long_row.wait_for(timeout=30_000)
    assert " · 1 trial · best " in long_row.locator(".jp-AutoML-study-facts").inner_text()
    name = long_row.locator(".jp-AutoML-study-name")
    assert name.get_attribute("title") == LONG_NAME  # the whole name on hover
    line = float(name.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 1.2 * parseFloat(getComputedStyle(e).fontSize)"))
    assert name.bounding_box()["height"] <= 2 * line + 1  # two lines at most, then an ellipsis
    badge = long_row.locator(".jp-AutoML-state").bounding_box()
    assert badge["height"] <= line + 6 and badge["width"] < 80  # one line, not stretched by the name
    # the badge's text against its background: WCAG contrast of at least 4.5:1 (small text)
    contrast = row.locator(".jp-AutoML-state").evaluate("""e => {
        const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
        const lum = c => rgb(c).map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
            .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
        const s = getComputedStyle(e), a = lum(s.color), b = lum(s.backgroundColor);
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""")
    assert contrast >= 4.5, contrast
    text_x = panel.locator(".jp-AutoML-studies-help").evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect().x; }")
    assert text_x - panel.bounding_box()["x"] >= 4  # the "Add" help's text keeps a margin from the panel's edge
    _shot(page, "sidebar", panel)

    row.click()
    view = page.locator(".jp-AutoML-study-view")
    view.locator("table.jp-AutoML-leaderboard tbody tr").first.wait_for(timeout=30_000)
    assert view.locator("table.jp-AutoML-leaderboard tbody tr").count() == 2
    assert view.locator(".jp-AutoML-name").inner_text() == "sidebar-study"
    _shot(page, "study-view")
    assert page.blocked == [] and page.errors == []


def test_bokehjs_is_loaded_from_the_server_not_inlined(lab, open_notebook) -> None:
    """With the server extension, BokehJS comes from the bokeh package: the saved notebook stays small."""
    source = (
        "from bokeh.io import output_notebook, show\n"
        "from bokeh.plotting import figure\n"
        "from jupyter_automl.server.bokeh_resources import bokeh_resources\n"
        "res = bokeh_resources()\n"
        "output_notebook(resources=res, hide_banner=True)\n"
        "p = figure(width=300, height=200); p.line([0, 1, 2], [2, 0, 1])\n"
        "show(p)\n"
        "print('bokeh mode', res.mode, res.js_files[0])"
    )
    _write_notebook(lab["root"] / "bokeh_served.ipynb", [nbformat.v4.new_code_cell(source)])
    page = open_notebook("bokeh_served.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    out = page.locator(".jp-OutputArea-output", has_text="bokeh mode")
    out.wait_for(timeout=60_000)
    assert "bokeh mode server /jupyter-automl/bokeh/static/js/bokeh.min.js" in out.inner_text()
    page.wait_for_function("window.Bokeh && window.Bokeh.version", timeout=60_000)
    page.locator(".bk-Figure, .bk-Canvas, div.bk-root, [data-root-id]").first.wait_for(timeout=30_000)
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("!window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
    size = (lab["root"] / "bokeh_served.ipynb").stat().st_size
    assert size < 200_000, f"saved notebook is {size} bytes"
    _shot(page, "bokeh-served", page.locator(".jp-Notebook"))
    assert page.blocked == [] and page.errors == []


def test_offered_cell_is_inserted_as_a_new_cell(lab, open_notebook) -> None:
    """The panel's "Show as %%automl" output (a cell MIME bundle) gets an "Insert as new cell" button."""
    source = ("from IPython.display import display\n"
              "text = '%%automl\\ndata: sklearn:wine\\nstrategy: random\\nn_trials: 5\\n'\n"
              "display({'application/vnd.jupyter-automl.cell.v1+json': {'text': text}, 'text/plain': text}, raw=True)")
    _write_notebook(lab["root"] / "offer.ipynb", [nbformat.v4.new_code_cell(source)])
    page = open_notebook("offer.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    button = page.locator(".jp-AutoML-cell-offer button", has_text="Insert as new cell")
    button.click(timeout=60_000)
    page.wait_for_function("window.jupyterapp.shell.currentWidget.content.widgets.length === 2")
    assert _editor_text(page) == "%%automl\ndata: sklearn:wine\nstrategy: random\nn_trials: 5\n"
    cells = page.locator(".jp-Notebook .jp-Cell")
    assert cells.nth(0).locator("[class*='jp-AutoML-yaml-']").count() == 0  # Python cell: not ours
    assert cells.nth(1).locator(".jp-AutoML-yaml-key").count() == 3
    _shot(page, "offered-cell", page.locator(".jp-Notebook"))
    assert page.blocked == [] and page.errors == []

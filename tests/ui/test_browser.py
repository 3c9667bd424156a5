"""The quickstart in a real JupyterLab, driven by headless Chromium (Playwright).

What a new user does: run the notebook, watch the leaderboard fill while the search runs, stop a
background search with its Stop button, save, and reopen with the kernel gone: the static
leaderboard is still there. Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import ARTIFACTS, shutdown_sessions

NB = "01_quickstart.ipynb"
RESULT_MIME = "application/vnd.jupyter-automl.result.v1+json"
# the static result: our HTML, or the lab extension's renderer of the JSON when it is installed
STATIC = "table.jupyter-automl-leaderboard, table.jp-AutoML-leaderboard"

# cell indices of examples/01_quickstart.ipynb
LOAD, FOREGROUND, SUMMARY, PREDICT, BACKGROUND, WAIT, LIST, CONFIG = 1, 3, 4, 5, 7, 8, 10, 11

RUN_CELL = """async k => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.activeCellIndex = k;
  return await window.jupyterapp.commands.execute('notebook:run-cell');
}"""
START_CELL = """k => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.activeCellIndex = k;
  window.jupyterapp.commands.execute('notebook:run-cell');
}"""
# count elements matching a selector under cell k, piercing shadow roots (Bokeh renders in them)
COUNT_IN_CELL = """([k, sel]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
  let n = 0;
  const walk = e => { if (!e) return; if (e.matches && e.matches(sel)) n++;
    if (e.shadowRoot) walk(e.shadowRoot); for (const c of e.children || []) walk(c); };
  walk(cell);
  return n;
}"""


def _serves_bokehjs(lab: dict) -> bool:
    url = f"{lab['url']}/jupyter-automl/bokeh/static/js/bokeh.min.js?token={lab['token']}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def _cell(page, k: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(k)


def _count(page, k: int, selector: str) -> int:
    return page.evaluate(COUNT_IN_CELL, [k, selector])


@pytest.mark.browser
def test_quickstart_live_stop_save_reopen(open_notebook, lab) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_notebook(NB)
    page.evaluate(RUN_CELL, LOAD)

    # foreground search: rows appear while the placeholder says the search is still running
    page.evaluate(START_CELL, FOREGROUND)
    page.wait_for_function(
        f"({COUNT_IN_CELL})([{FOREGROUND}, '.slick-row']) >= 1 && "
        f"({COUNT_IN_CELL})([{FOREGROUND}, '.jupyter-automl-pending']) === 1",
        timeout=90_000,
    )
    assert page.evaluate("window.Bokeh?.version") == "3.9.2"
    page.screenshot(path=str(ARTIFACTS / "quickstart-live.png"))
    fg = _cell(page, FOREGROUND)
    # the kernel is busy with a foreground search: its Stop is off (the interrupt button stops it)
    assert fg.locator("button.jupyter-button", has_text="Stop").is_disabled()
    fg.locator(STATIC).first.wait_for(timeout=90_000)  # the static result
    assert _count(page, FOREGROUND, ".jupyter-automl-pending") == 0
    assert fg.locator(".widget-hprogress .progress-bar").evaluate("e => e.style.width") == "100%"
    assert fg.locator("button.jupyter-button", has_text="Done").count() == 1
    assert fg.locator(".jp-OutputArea-output:has-text('Error displaying widget')").count() == 0

    for k in (SUMMARY, PREDICT):
        page.evaluate(RUN_CELL, k)
    assert "SearchResult(study=" in _cell(page, SUMMARY).locator(".jp-OutputArea").inner_text()

    # background search: the cell returns at once, the Stop button ends it
    page.evaluate(RUN_CELL, BACKGROUND)
    page.wait_for_function(f"({COUNT_IN_CELL})([{BACKGROUND}, '.slick-row']) >= 1", timeout=60_000)
    bg = _cell(page, BACKGROUND)
    bg.locator("button.jupyter-button", has_text="Stop").click()
    bg.locator("button.jupyter-button", has_text="Stopped").wait_for(timeout=60_000)
    bg.locator(STATIC).first.wait_for(timeout=60_000)
    page.evaluate(RUN_CELL, WAIT)
    assert (
        "background search ended: stopped"
        in _cell(page, WAIT).locator(".jp-OutputArea").inner_text()
    )
    for k in (LIST, CONFIG):
        page.evaluate(RUN_CELL, k)
    assert "%%automl" in _cell(page, CONFIG).locator(".jp-OutputArea").inner_text()
    bg.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "quickstart-stopped.png"))

    # save, shut the kernel down, reopen: the static leaderboards are still there
    page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("window.jupyterapp.shell.currentWidget.context.model.dirty === false")
    saved = json.loads((lab["root"] / NB).read_text())
    if _serves_bokehjs(lab):  # the server extension serves BokehJS: the notebook does not inline it
        assert (lab["root"] / NB).stat().st_size < 1_000_000
    for k in (FOREGROUND, BACKGROUND):
        assert any(RESULT_MIME in o.get("data", {}) for o in saved["cells"][k]["outputs"])
    page.evaluate(
        "async () => await window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
    )
    page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
    shutdown_sessions(lab)  # nothing left: the reopened notebook gets a fresh kernel with no state
    assert page.blocked == [] and page.errors == []

    page = open_notebook(NB, wait_kernel=False)
    for k in (FOREGROUND, BACKGROUND):
        static = _cell(page, k).locator(STATIC).first
        static.wait_for(timeout=60_000)
        assert "linear" in static.inner_text()  # the first trial's model, in a leaderboard row
    assert _cell(page, BACKGROUND).locator("svg").count() >= 1  # the best-so-far chart
    page.screenshot(path=str(ARTIFACTS / "quickstart-reopened.png"))
    assert page.blocked == []


@pytest.mark.browser
def test_panel_form_run_stop_in_jupyterlab(open_notebook) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_notebook("02_panel.ipynb")
    for k in (1, 2):  # the data, then the form
        page.evaluate(RUN_CELL, k)
    form = _cell(page, 2).locator(".jupyter-automl-panel")
    form.wait_for(timeout=60_000)
    budget = form.locator(".widget-text", has_text="time budget").locator("input")
    budget.fill("45s")
    budget.press("Enter")
    form.locator("button.jupyter-button", has_text="Show as %%automl").click()
    form.locator(".jp-OutputArea-output", has_text="time_budget: 45s").wait_for(timeout=30_000)
    assert "data: wine\ntarget: target" in form.locator(".jp-OutputArea-output").first.inner_text()

    form.locator("button.jupyter-button", has_text="Run").click()
    page.wait_for_function(f"({COUNT_IN_CELL})([2, '.slick-row']) >= 1", timeout=60_000)
    form.locator("button.jupyter-button", has_text="Stop").first.click()  # the form's Stop
    form.locator(".widget-html", has_text="ended (stopped)").wait_for(timeout=60_000)
    # the result replaces the placeholder under the form: a plain output, saved with the notebook
    static = _cell(page, 2).locator(STATIC).first
    static.wait_for(timeout=30_000)
    assert "linear" in static.inner_text()
    _cell(page, 2).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "panel-stopped.png"))
    assert page.blocked == [] and page.errors == []


@pytest.mark.browser
def test_untrusted_executed_notebook_shows_the_static_result(run_notebook, open_notebook) -> None:
    """A notebook executed elsewhere (nbclient) and opened in Lab shows the result without running."""
    run_notebook("03_python_api.ipynb")
    page = open_notebook("03_python_api.executed.ipynb", wait_kernel=False)
    last = page.locator(".jp-Notebook .jp-Cell").last
    static = last.locator(STATIC).first
    static.wait_for(timeout=60_000)
    assert "linear" in static.inner_text()
    if last.locator(
        "table.jupyter-automl-leaderboard"
    ).count():  # our HTML, sanitised: the chart stays
        assert last.locator("svg polyline").count() >= 1
    last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "untrusted-result.png"))
    assert page.blocked == []

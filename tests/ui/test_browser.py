"""The quickstart in a real JupyterLab, driven by headless Chromium (Playwright).

What a new user does: run the notebook, watch the leaderboard fill while the search runs, stop a
background search with its Stop button, save, and reopen with the kernel gone: the static
leaderboard is still there. Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from notebook_files import write_notebook

from tests.conftest import ARTIFACTS, shutdown_sessions

NB = "01_quickstart.ipynb"
RESULT_MIME = "application/vnd.jupyter-automl.result.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
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


# text anywhere in the page, shadow roots included
PAGE_TEXT = """() => { const parts = []; const walk = e => { if (!e) return;
  if (e.shadowRoot) walk(e.shadowRoot); for (const c of e.childNodes || []) {
    if (c.nodeType === 3) parts.push(c.textContent); else walk(c); } };
  walk(document.body); return parts.join(' '); }"""
DEBRIS = ("Error displaying widget", "Loading widget", "model not found")


def _results_in(page, k: int) -> int:
    """Static results shown under cell k (our HTML, or the lab extension's renderer)."""
    return page.evaluate(
        """k => document.querySelectorAll('.jp-Notebook .jp-Cell')[k]
              .querySelectorAll('table.jupyter-automl-leaderboard, table.jp-AutoML-leaderboard').length""",
        k,
    )


def assert_clean(page, search_cells: tuple[int, ...]) -> None:
    """One result per search cell, no widget debris anywhere in the page."""
    text = page.evaluate(PAGE_TEXT)
    for debris in DEBRIS:
        assert debris not in text, f"{debris!r} in the page"
    for k in search_cells:
        assert _results_in(page, k) == 1, f"cell {k}: {_results_in(page, k)} results"
        assert _cell(page, k).locator(".jupyter-automl-live, .jupyter-widgets").count() == 0


def reopen(page, lab, name: str, search_cells: tuple[int, ...]):
    """Save, shut the kernel down, reopen the file with no kernel state, then reload the page."""
    page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("window.jupyterapp.shell.currentWidget.context.model.dirty === false")
    page.evaluate(
        "async () => await window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
    )
    page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
    shutdown_sessions(lab)  # nothing left: the reopened notebook gets a fresh kernel with no state
    page.goto(f"{lab['url']}/lab/tree/{name}?token={lab['token']}&reset")
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    _cell(page, search_cells[-1]).locator(STATIC).first.wait_for(timeout=60_000)
    assert_clean(page, search_cells)
    page.reload()
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    _cell(page, search_cells[-1]).locator(STATIC).first.wait_for(timeout=60_000)
    assert_clean(page, search_cells)
    return page


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# the computed text colour of an element and the colour of the first opaque background under it
# (null when the element was replaced by a redraw of the live grid before it was read: no colours)
COLOURS = """el => { const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  if (!el.isConnected) return null;
  const fg = rgb(getComputedStyle(el).color); if (fg.length < 3) return null; let e = el, bg = null;
  while (e && e.nodeType === 1) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0.5) { bg = c; break; } e = e.parentElement || (e.getRootNode && e.getRootNode().host); }
  return [fg, bg || [255, 255, 255]]; }"""


def contrast(page, locator) -> float:
    # the live grid redraws its rows as trials end: read again (the locator finds the new row)
    # when the element it found was replaced before its colours were read
    for _ in range(20):
        colours = locator.evaluate(COLOURS)
        if colours is not None:
            break
    else:
        raise AssertionError("the element kept being replaced before its colours could be read")
    fg, bg = colours
    hi, lo = sorted([_luminance(fg), _luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# every status message of the notebook's kernel (its state and the request it answers), every
# state the page shows, and every widget message the page sends, in order
RECORD_STATUSES = """() => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const events = window.__jaStatuses = [];
  kernel.iopubMessage.connect((_, m) => { if (m.header.msg_type === 'status')
    events.push(['status', m.content.execution_state, (m.parent_header || {}).msg_type || '']); });
  kernel.statusChanged.connect((_, state) => events.push(['shown', state, '']));
  kernel.anyMessage.connect((_, a) => { if (a.direction === 'send' && a.msg.header.msg_type === 'comm_msg')
    events.push(['sent', 'comm_msg', '']); });
}"""


def assert_busy_while_running(events: list[list[str]]) -> None:
    """Between the cell's busy and idle the page sent widget messages (the Stop click), the
    kernel published no status for them and the page never showed the kernel Idle."""
    start = events.index(["status", "busy", "execute_request"])
    end = events.index(["status", "idle", "execute_request"], start)
    running = events[start + 1 : end]
    if running and running[-1] == ["shown", "idle", ""]:
        running.pop()  # the page shows the cell's own idle before its listeners hear the message
    assert ["sent", "comm_msg", ""] in running, events  # the Stop click, at least
    flips = [e for e in running if e[0] == "status" or e[:2] == ["shown", "idle"]]
    assert flips == [], f"the kernel flipped while the search ran: {flips}"


@pytest.mark.browser
def test_quickstart_live_stop_save_reopen(open_notebook, lab) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # the Stop button, not the example's 8 s budget, must end the background search, also on a
    # machine so loaded that its first row shows after 8 s
    path = lab["root"] / NB
    notebook = json.loads(path.read_text())
    source = "".join(notebook["cells"][BACKGROUND]["source"])
    assert "time_budget: 8s" in source
    notebook["cells"][BACKGROUND]["source"] = source.replace("time_budget: 8s", "time_budget: 120s")
    path.write_text(json.dumps(notebook))
    page = open_notebook(NB)
    page.evaluate(RUN_CELL, LOAD)

    # foreground search: the status says what runs at once, then rows appear (the test of the
    # foreground Stop is test_stop_and_interrupt_..., with a budget a loaded machine cannot exhaust)
    page.evaluate(START_CELL, FOREGROUND)
    fg = _cell(page, FOREGROUND)
    fg.locator(".jupyter-automl-status, .jupyter-automl-pending").first.wait_for(timeout=30_000)
    page.wait_for_function(
        f"({COUNT_IN_CELL})([{FOREGROUND}, '.slick-row']) >= 1 || "
        f"({COUNT_IN_CELL})([{FOREGROUND}, 'table.jp-AutoML-leaderboard']) >= 1",
        timeout=90_000,
    )
    page.screenshot(path=str(ARTIFACTS / "quickstart-live.png"))
    fg.locator(STATIC).first.wait_for(timeout=90_000)  # the result replaces the view
    page.wait_for_function(
        f"document.querySelectorAll('.jp-Notebook .jp-Cell')[{FOREGROUND}]"
        ".querySelector('.jupyter-automl-live') === null",
        timeout=30_000,
    )

    for k in (SUMMARY, PREDICT):
        page.evaluate(RUN_CELL, k)
    summary = _cell(page, SUMMARY).locator(".jp-OutputArea").inner_text()
    assert "SearchResult(study=" in summary

    # background search: the cell returns at once, the Stop button ends it
    page.evaluate(RUN_CELL, BACKGROUND)
    page.wait_for_function(f"({COUNT_IN_CELL})([{BACKGROUND}, '.slick-row']) >= 1", timeout=60_000)
    bg = _cell(page, BACKGROUND)
    bg.locator("button.jupyter-button", has_text="Stop").click()
    bg.locator(STATIC).first.wait_for(timeout=60_000)
    page.evaluate(RUN_CELL, WAIT)
    assert (
        "background search ended: stopped"
        in _cell(page, WAIT).locator(".jp-OutputArea").inner_text()
    )
    for k in (LIST, CONFIG):
        page.evaluate(RUN_CELL, k)
    assert "%%automl" in _cell(page, CONFIG).locator(".jp-OutputArea").inner_text()
    assert_clean(page, (FOREGROUND, BACKGROUND))
    bg.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "quickstart-stopped.png"))

    # save: one result per search, no widget view, no BokehJS in the file
    page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("window.jupyterapp.shell.currentWidget.context.model.dirty === false")
    saved = json.loads((lab["root"] / NB).read_text())
    size = (lab["root"] / NB).stat().st_size
    print(
        f"quickstart saved in JupyterLab: {size / 1024:.0f} KiB (BokehJS served: {_serves_bokehjs(lab)})"
    )
    assert size < 1_000_000
    for k in (FOREGROUND, BACKGROUND):
        outputs = saved["cells"][k]["outputs"]
        assert sum(RESULT_MIME in o.get("data", {}) for o in outputs) == 1
        assert not any(WIDGET_VIEW in o.get("data", {}) for o in outputs)
    background = next(
        o["data"][RESULT_MIME]
        for o in saved["cells"][BACKGROUND]["outputs"]
        if RESULT_MIME in o.get("data", {})
    )
    assert background["study"]["stop_reason"] == "stopped"
    assert page.blocked == [] and page.errors == []

    page = reopen(page, lab, NB, (FOREGROUND, BACKGROUND))
    for k in (FOREGROUND, BACKGROUND):
        assert "linear" in _cell(page, k).locator(STATIC).first.inner_text()
    assert _cell(page, BACKGROUND).locator("svg").count() >= 1  # the best-so-far chart
    page.screenshot(path=str(ARTIFACTS / "quickstart-reopened.png"))
    assert page.blocked == []


NAS_NB = "nas_dark.ipynb"
NAS_CELLS = [
    "%load_ext jupyter_automl",
    "from sklearn.datasets import load_digits\nX, y = load_digits(return_X_y=True)\n"
    "Xy = (X[:1200].reshape(-1, 1, 8, 8), y[:1200])",
    # epochs long enough (about a second each) that the running trial's epoch line is seen
    "%%automl nas\ndata: Xy\nspace: nas-cell\nstrategy: random\nn_trials: 3\nepochs: 6\n"
    "space_options: {channels: 8}\nstorage: memory\nseed: 0",
    "%%automl tab\ndata: sklearn:iris\nmodels: [linear, knn]\nn_trials: 3\nstorage: memory\nseed: 0",
]
NAS, TAB = 2, 3


@pytest.mark.browser
def test_nas_and_tabular_read_cleanly_after_reopen_in_light_and_dark(open_notebook, lab) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    write_notebook(lab["root"] / NAS_NB, NAS_CELLS)
    page = open_notebook(NAS_NB)
    for k in (0, 1):
        page.evaluate(RUN_CELL, k)
    page.evaluate(START_CELL, NAS)
    cell = _cell(page, NAS)
    # first feedback: what runs, then the running trial's epochs
    cell.locator(".jupyter-automl-status", has_text="trial 0").first.wait_for(timeout=30_000)
    cell.locator(".jupyter-automl-status", has_text="epoch").first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "nas-live.png"))
    cell.locator(STATIC).first.wait_for(timeout=180_000)
    page.evaluate(RUN_CELL, TAB)
    _cell(page, TAB).locator(STATIC).first.wait_for(timeout=60_000)
    assert_clean(page, (NAS, TAB))

    page = reopen(page, lab, NAS_NB, (NAS, TAB))
    saved = json.loads((lab["root"] / NAS_NB).read_text())
    size = (lab["root"] / NAS_NB).stat().st_size
    print(f"NAS + tabular saved in JupyterLab: {size / 1024:.0f} KiB")
    assert size < 1_000_000
    payload = next(
        o["data"][RESULT_MIME]
        for o in saved["cells"][NAS]["outputs"]
        if RESULT_MIME in o.get("data", {})
    )
    n_edges = len(payload["diagram"]["edges"])
    edges = _cell(page, NAS).locator("svg path.jp-AutoML-diagram-edge, svg path.ja-edge")
    assert edges.count() == n_edges  # every edge of the genotype is drawn
    _cell(page, NAS).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "nas-reopened-light.png"))

    # JupyterLab Dark: the table text stays readable on its background
    page.evaluate(
        "async () => await window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    for k in (NAS, TAB):
        td = (
            _cell(page, k)
            .locator(f"{STATIC.split(',')[0]} td, {STATIC.split(',')[1].strip()} td")
            .first
        )
        ratio = contrast(page, td)
        assert ratio >= 4.5, f"cell {k}: table text contrast {ratio:.1f} in Dark"
    _cell(page, NAS).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "nas-reopened-dark.png"))
    page.evaluate(
        "async () => await window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Light'})"
    )
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
    # the form's saved card under it follows the form, and stays hidden while the live form shows
    card = _cell(page, 2).locator(".jupyter-automl-panel-card")
    page.wait_for_function("""() => [...document.querySelectorAll('.jupyter-automl-panel-card')]
        .some(c => c.textContent.includes('time_budget: 45s'))""", timeout=30_000)
    assert card.count() == 1 and not card.is_visible()

    form.locator("button.jupyter-button", has_text="Run").click()
    page.wait_for_function(f"({COUNT_IN_CELL})([2, '.slick-row']) >= 1", timeout=60_000)
    assert form.locator("button.jupyter-button:visible", has_text="Stop").count() == 1  # one Stop: the form's
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


INTERRUPT_NB = "interrupt.ipynb"
INTERRUPT_CELLS = [
    "%load_ext jupyter_automl",
    "%%automl r\ndata: sklearn:breast_cancer\nmodels: [linear, knn, svm]\ntime_budget: 60s\n"
    "storage: memory\nseed: 0",
    "print('after', r.stop_reason, r.best_model is not None)",
    "%%automl s\ndata: sklearn:breast_cancer\nmodels: [linear, knn, svm]\ntime_budget: 90s\n"
    "storage: memory\nseed: 1",
    "print('after', s.stop_reason, s.best_model is not None, s.elapsed_s < 80)",
]


@pytest.mark.browser
def test_stop_and_interrupt_end_a_foreground_search_cleanly(open_notebook, lab) -> None:
    import time

    write_notebook(lab["root"] / INTERRUPT_NB, INTERRUPT_CELLS)
    page = open_notebook(INTERRUPT_NB)
    page.evaluate(
        "async () => await window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Dark'})"
    )  # the live view in Dark
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.evaluate(RUN_CELL, 0)
    t0 = time.monotonic()
    page.evaluate(START_CELL, 1)
    cell = _cell(page, 1)
    cell.locator(".jupyter-automl-pending, .jupyter-automl-status").first.wait_for(timeout=30_000)
    first = time.monotonic() - t0
    cell.locator(".jupyter-automl-status", has_text="fitting trial").first.wait_for(timeout=30_000)
    # on a loaded 2-core machine; both include the page's round trip
    print(
        f"first feedback after {first:.2f} s, 'fitting trial' after {time.monotonic() - t0:.2f} s"
    )
    page.wait_for_function(f"({COUNT_IN_CELL})([1, '.slick-row']) >= 2", timeout=60_000)
    ratio = contrast(page, cell.locator(".slick-cell").nth(2))  # a model name, in the shadow DOM
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "live-dark.png"))
    assert ratio >= 4.5, f"live table text contrast {ratio:.1f} in Dark"
    page.evaluate(
        "async () => await window.jupyterapp.commands.execute('notebook:interrupt-kernel')"
    )
    cell.locator(STATIC).first.wait_for(timeout=60_000)
    page.evaluate(RUN_CELL, 2)
    assert "after interrupted True" in _cell(page, 2).locator(".jp-OutputArea").inner_text()
    assert (
        cell.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).count()
        == 0
    )

    # the Stop button of a foreground search: the kernel is busy, the click still lands; the
    # kernel reads Busy throughout (its widget messages publish no busy/idle of their own)
    page.evaluate(RECORD_STATUSES)
    page.evaluate(START_CELL, 3)
    stopped = _cell(page, 3)
    page.wait_for_function(f"({COUNT_IN_CELL})([3, '.slick-row']) >= 1", timeout=90_000)
    stop = stopped.locator("button.jupyter-button", has_text="Stop")
    assert stop.is_enabled()
    stop.click()
    stopped.locator(STATIC).first.wait_for(timeout=90_000)
    page.evaluate(RUN_CELL, 4)
    assert "after stopped True True" in _cell(page, 4).locator(".jp-OutputArea").inner_text()
    events = page.evaluate("() => window.__jaStatuses")
    assert_busy_while_running(events)
    assert_clean(page, (1, 3))
    page.evaluate(
        "async () => await window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Light'})"
    )
    assert page.blocked == [] and page.errors == []

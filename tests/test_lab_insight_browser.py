"""The lab renderer draws every insight section of a saved result, in the Light and Dark themes.

A real JupyterLab with the built extension and Debian's chromium; no kernel: the notebook holds
saved outputs only. Screenshots go to ``test-artifacts/lab-insight-{light,dark}.png``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser]

_LUMINANCE = """sel => { const e = document.querySelector(sel); const c = getComputedStyle(e).fill;
  const [r, g, b] = c.match(/\\d+/g).map(Number); return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; }"""


@pytest.fixture(scope="module")
def bundles() -> list[dict]:
    """A binary classification (held-out), a regression and a 1.0 payload without insight."""
    import jupyter_automl as ja
    from jupyter_automl.report import MIME_TYPE

    clf = ja.search(
        data="sklearn:breast_cancer", n_trials=8, seed=0, storage="memory", name="bc", display=False
    )._repr_mimebundle_()
    reg = ja.search(
        data="sklearn:diabetes",
        n_trials=4,
        seed=0,
        storage="memory",
        name="diabetes",
        display=False,
    )._repr_mimebundle_()
    old = copy.deepcopy(clf)
    old[MIME_TYPE]["version"] = "1.0"
    del old[MIME_TYPE]["insight"]
    return [clf, reg, old]


def _notebook(path: Path, bundles: list[dict]) -> None:
    nb = nbformat.v4.new_notebook()
    for count, bundle in enumerate(bundles, start=1):
        cell = nbformat.v4.new_code_cell("result", execution_count=count)
        cell.outputs = [
            nbformat.v4.new_output("execute_result", data=bundle, execution_count=count)
        ]
        nb.cells.append(cell)
    nbformat.write(nb, path)


def _charts(bundle: dict) -> list[dict]:
    from jupyter_automl.report import MIME_TYPE

    insight = bundle[MIME_TYPE]["insight"]
    return insight["model"]["charts"] + insight["search"]["charts"]


def test_renderer_shows_every_section_light_and_dark(lab, e2e_page, bundles) -> None:
    _notebook(lab["root"] / "insight.ipynb", bundles)
    page = e2e_page
    page.goto(f"{lab['url']}/lab/tree/insight.ipynb?token={lab['token']}&reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click(timeout=90_000)
    views = page.locator(".jp-OutputArea-output.jp-AutoML-renderer")
    views.nth(2).wait_for(timeout=60_000)

    clf, reg, old = (views.nth(i) for i in range(3))
    for view, bundle in ((clf, bundles[0]), (reg, bundles[1])):
        assert view.locator(".jp-AutoML-sections").inner_text() == "leaderboard · model · search"
        assert view.locator(".jp-AutoML-sections a.jp-AutoML-section-link").count() == 3
        names = [c["name"] for c in _charts(bundle)]
        drawn = view.locator("svg.jp-AutoML-insight-chart")
        assert [drawn.nth(i).get_attribute("data-chart") for i in range(drawn.count())] == names
        assert view.locator("table.jp-AutoML-leaderboard tbody tr").count() > 0
    summary = clf.locator(".jp-AutoML-section-model summary").inner_text()
    assert summary.startswith("model — held-out roc_auc ") and "on 114 rows (CV " in summary
    assert clf.locator("svg[data-chart=confusion_matrix] rect.jp-AutoML-insight-cell").count() == 4
    counts = [
        int(c)
        for c in clf.locator("rect.jp-AutoML-insight-cell").evaluate_all(
            "es => es.map(e => e.dataset.count)"
        )
    ]
    assert sum(counts) == 114
    assert clf.locator("svg[data-chart=roc] polyline.jp-AutoML-insight-line").count() == 1
    assert (
        clf.locator("svg[data-chart=permutation_importance] rect.jp-AutoML-insight-bar").count()
        == 15
    )
    assert clf.locator("table.jp-AutoML-holdout td").count() == 10  # five metrics, name and value
    assert reg.locator("svg[data-chart=residuals] circle.jp-AutoML-insight-point").count() == 89
    assert "held-out r2" in reg.locator(".jp-AutoML-section-model summary").inner_text()
    # the 1.0 payload: the leaderboard as before, no section
    assert old.locator("table.jp-AutoML-leaderboard tbody tr").count() == 8
    assert old.locator(".jp-AutoML-insight").count() == 0

    # the section row: "search" opens a closed section and brings it into view
    search = clf.locator("details.jp-AutoML-section-search")
    search.locator("summary").click()
    assert search.get_attribute("open") is None
    clf.locator("a.jp-AutoML-section-link", has_text="search").click()
    assert search.get_attribute("open") == ""

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    light_ink = page.evaluate(_LUMINANCE, ".jp-AutoML-insight-title")
    clf.screenshot(path=str(ARTIFACTS / "lab-insight-light.png"))
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function(
        "document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=30_000
    )
    page.wait_for_function(f"({_LUMINANCE})('.jp-AutoML-insight-title') > 0.5", timeout=10_000)
    clf.screenshot(path=str(ARTIFACTS / "lab-insight-dark.png"))
    reg.screenshot(path=str(ARTIFACTS / "lab-insight-regression-dark.png"))
    assert light_ink < 0.5  # dark text on the light theme, light text on the dark one
    assert page.blocked == [] and page.errors == []

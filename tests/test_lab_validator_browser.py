"""One validator, seen from both sides: the same ``%%automl`` bodies run in a real kernel (nbclient)
and shown in a real JupyterLab editor give the same messages; a cell run before ``%load_ext``
offers to load the extension.

Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import expect

from jupyter_automl._errors import ConfigError, one_line
from jupyter_automl.config import SearchConfig
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser]

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# (what the body shows, the body); every problem of a cell is listed, on both sides
BODIES = [
    ("valid", "data: sklearn:iris\nn_trials: 1\nmodels: [linear]\ncv: 2\nholdout: none\nensemble: false\n"
              "executor: thread\nstorage: memory\ndisplay: false\n"),
    ("did you mean", "data: sklearn:iris\ntime_budgt: 30s\n"),
    ("all problems, a key twice among them", "strategy: tpee\ncv: 3\ncv: 4\ntime_budgt: 30s\nn_jobs: 0\n"),
    ("malformed", "data: sklearn:iris\nmodels: [linear\n"),
    ("wrong types", "n_trials: many\ncv: 1\nensemble: maybe\ntime_budget: soon\n"),
    ("a rule across options", "executor: thread\ndask_scheduler: tcp://h:8786\n"),
    ("a nested key twice", "strategy_options:\n  population_size: 8\n  population_size: 9\n"),
    ("not a mapping", "- data\n- sklearn:iris\n"),
    ("a long message", "data: sklearn:iris\nmodels: [linear, random_forest, extra_trees, hist_gradient_boostin, knnn]\n"
                       "metric: balanced_acuracy\n"),
]


def _kernel_error(body: str) -> ConfigError | None:
    try:
        SearchConfig.from_yaml(body, first_line=2)
    except ConfigError as exc:
        return exc
    return None


def _kernel_problems(body: str) -> list[str]:
    error = _kernel_error(body)
    return error.problems if error is not None else []


@pytest.fixture(scope="module")
def validated_notebook(lab) -> list[str]:
    """The bodies run in a real kernel (errors allowed); the kernel's error text of each cell."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_automl")]
    nb.cells += [nbformat.v4.new_code_cell(f"%%automl\n{body}") for _, body in BODIES]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(lab["root"])}}).execute()
    nbformat.write(nb, lab["root"] / "validated.ipynb")
    # IPython prints a UsageError on stderr (no traceback)
    return ["".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr").strip()
            for cell in nb.cells[1:]]


def test_the_editor_says_what_the_kernel_says(lab, open_notebook, validated_notebook) -> None:
    page = open_notebook("validated.ipynb", wait_kernel=False)
    cells = page.locator(".jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(BODIES) + 1, timeout=60_000)
    for i, ((name, body), kernel_said) in enumerate(zip(BODIES, validated_notebook, strict=True), start=1):
        error = _kernel_error(body)
        problems = error.problems if error is not None else []
        # what the kernel printed is the validator's problems, every one of them
        assert kernel_said == (f"UsageError: {one_line(error)}" if error is not None else ""), name
        lines = cells.nth(i).locator(".jp-AutoML-diagnostic-line")
        expect(lines, name).to_have_text(problems, timeout=20_000)
        if problems:
            marks = cells.nth(i).locator(".jp-AutoML-diagnostic")
            assert marks.count() >= 1, f"{name}: nothing underlined"
    # long messages wrap inside the editor: no sideways scrolling
    long_cell = cells.nth(len(BODIES))
    overflow = long_cell.locator(".cm-scroller").evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 1
    box = long_cell.locator(".jp-AutoML-diagnostic-message").first.bounding_box()
    editor = long_cell.locator(".cm-content").bounding_box()
    assert box["x"] + box["width"] <= editor["x"] + editor["width"] + 1
    # at 800 px the line of code scrolls sideways, the messages stay in view and wrap
    page.set_viewport_size({"width": 800, "height": 1400})
    expect(long_cell.locator(".jp-AutoML-diagnostic-line")).to_have_count(2)
    scroller = long_cell.locator(".cm-scroller").bounding_box()
    for message in long_cell.locator(".jp-AutoML-diagnostic-message").all():
        box = message.bounding_box()
        assert box["x"] >= scroller["x"] and box["x"] + box["width"] <= scroller["x"] + scroller["width"] + 1
        assert box["height"] > 30  # wrapped onto several lines
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    long_cell.screenshot(path=str(ARTIFACTS / "lab-diagnostics-800.png"))
    assert page.blocked == [] and page.errors == []


def test_a_cell_run_before_load_ext_offers_to_load_it(lab, open_notebook) -> None:
    body = BODIES[0][1]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [nbformat.v4.new_code_cell(f"%%automl fitted\n{body}")]
    nbformat.write(nb, lab["root"] / "unloaded.ipynb")
    page = open_notebook("unloaded.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # IPython's own error, then our notice with its action
    page.locator(".jp-OutputArea-output", has_text="Cell magic `%%automl` not found").wait_for(timeout=60_000)
    notice = page.locator(".jp-Notification-Toast-warning, .Toastify__toast", has_text="%load_ext jupyter_automl")
    notice.first.wait_for(timeout=20_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lab-load-ext-notice.png"))
    notice.first.get_by_role("button", name="Load it").click()
    cells = page.locator(".jp-Notebook .jp-Cell")
    expect(cells).to_have_count(2, timeout=20_000)
    source = page.evaluate("window.jupyterapp.shell.currentWidget.content.model.cells.get(0).sharedModel.getSource()")
    assert source == "%load_ext jupyter_automl"
    # the search cell ran again, now with the magic: its result, no error
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget.content.model.cells.get(1).executionCount >= 2", timeout=90_000)
    expect(cells.nth(1).locator(".jp-OutputArea-output", has_text="not found")).to_have_count(0, timeout=60_000)
    assert page.evaluate("""async () => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        let text = '';
        const future = kernel.requestExecute({code: 'print(type(fitted).__name__, fitted.done)', silent: false});
        future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
        await future.done;
        return text.trim();
    }""") == "SearchResult True"
    assert page.blocked == [] and page.errors == []


def test_bodies_are_distinct_cases() -> None:
    """The table covers both sides' paths: a valid body, one problem, several, YAML errors."""
    counts = [len(_kernel_problems(body)) for _, body in BODIES]
    assert counts[0] == 0 and max(counts) >= 4 and sum(1 for c in counts if c == 1) >= 3

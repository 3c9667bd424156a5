"""The house's layering, read from the source: the engine never imports a view or an entry point."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "jupyter_automl"

#: modules above the engine: the views, the entry points and the front ends
ABOVE_ENGINE = (
    "jupyter_automl.ui",
    "jupyter_automl._entry",
    "jupyter_automl.cli",
    "jupyter_automl.server",
)


def _imports(path: Path) -> dict[str, int]:
    """Every module ``path`` imports (at the top or inside a function), with the line of the import."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.setdefault(node.module, node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, node.lineno)
    return found


#: the package's own entry points (``ja.search``, ``AutoML.fit``, the command line, lazy names)
ENTRY_POINTS = ("_entry.py", "estimators.py", "cli.py", "__init__.py")


def _engine_modules() -> list[Path]:
    """Every module of the package but the views, the entry points and the front ends."""
    skip = {"ui", "server"}
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0] not in skip
        and not (p.parent == PACKAGE and p.name in ENTRY_POINTS)
        and "labextension" not in p.parts
    )


#: the one lazy import from the core into ui, with why it stays: Bokeh figures live in ui, and
#: ``result.plot(name)`` hands the user one (it runs only when called, in a kernel with bokeh)
ALLOWED = {("result.py", "jupyter_automl.ui.insight_figures")}


def test_the_engine_never_imports_a_view_or_an_entry_point():
    problems = []
    for path in _engine_modules():
        for module, line in _imports(path).items():
            if (
                module.startswith(ABOVE_ENGINE)
                and (str(path.relative_to(PACKAGE)), module) not in ALLOWED
            ):
                problems.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert problems == []


@pytest.mark.parametrize(
    "name", ["_search.py", "result.py", "runner.py", "report.py", "storage.py"]
)
def test_core_modules_do_not_import_the_search_entry_points(name):
    imports = _imports(PACKAGE / name)
    assert "jupyter_automl._entry" not in imports
    assert not any(m.startswith("jupyter_automl.ui") for m in imports if name == "_search.py")


def test_result_does_not_import_the_engine_above_it():
    assert "jupyter_automl._search" not in _imports(PACKAGE / "result.py")


def test_the_checker_sees_an_upward_import(tmp_path):
    """The rule above must fail when broken: a module that imports ui lazily is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from jupyter_automl.ui.live import LiveView\n    return LiveView\n"
    )
    assert _imports(bad) == {"jupyter_automl.ui.live": 2}
    assert any(m.startswith(ABOVE_ENGINE) for m in _imports(bad))


def test_ja_search_is_the_entry_point():
    import jupyter_automl as ja
    from jupyter_automl import _entry

    assert ja.search is _entry.search


#: what the executors sit below: the runner asks them to run trials, never the other way round
ABOVE_EXECUTORS = ("jupyter_automl.runner", "jupyter_automl._search", "jupyter_automl.result")


def test_executors_do_not_import_the_runner_that_drives_them():
    problems = [
        f"{path.relative_to(PACKAGE)}:{line} imports {module}"
        for path in sorted((PACKAGE / "executors").glob("*.py"))
        for module, line in _imports(path).items()
        if module.startswith(ABOVE_EXECUTORS)
    ]
    assert problems == []

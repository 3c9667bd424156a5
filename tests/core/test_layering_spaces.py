"""The import layering of DESIGN.md, read from the source with ``ast``: a space describes its
candidates and never imports a strategy; the bottom layers import nothing above them; no
circle between the modules of the spaces and strategies at run time."""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_automl

PACKAGE = Path(jupyter_automl.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """``(module imported, only for type checking)`` for every import in ``path``, at any depth."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, typing_only))
            found.extend((f"{node.module}.{alias.name}", typing_only) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


MODULES = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_spaces_never_import_strategies() -> None:
    offenders = {module: [name for name, _ in imports if _under(name, "jupyter_automl.strategies")]
                 for module, imports in MODULES.items() if _under(module, "jupyter_automl.spaces")}
    assert not {k: v for k, v in offenders.items() if v}, offenders


def test_the_bottom_layers_import_nothing_above_them() -> None:
    above = ("jupyter_automl.spaces", "jupyter_automl.strategies", "jupyter_automl.runner",
             "jupyter_automl._search", "jupyter_automl.result", "jupyter_automl.ui")
    bottom = ("jupyter_automl.evaluate", "jupyter_automl.config")
    offenders = {
        module: sorted({name for name, _ in imports if any(_under(name, a) for a in above)})
        for module, imports in MODULES.items() if any(_under(module, b) for b in bottom)
    }
    assert not {k: v for k, v in offenders.items() if v}, offenders


def test_no_import_circle_between_spaces_and_strategies_at_run_time() -> None:
    scope = ("jupyter_automl.spaces", "jupyter_automl.strategies")
    graph = {
        module: {name for name, typing_only in imports if not typing_only and name in MODULES
                 and name != module and any(_under(name, s) for s in scope)}
        for module, imports in MODULES.items() if any(_under(module, s) for s in scope)
    }
    # a package's __init__ re-exporting its modules is not a circle through them
    for module in graph:
        graph[module] = {n for n in graph[module] if not _under(n, module)}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return path + [start]
                if nxt not in path:
                    stack.append((nxt, path + [nxt]))
        return None

    circles = [c for c in (cycle_from(m) for m in graph) if c]
    assert not circles, circles[0]

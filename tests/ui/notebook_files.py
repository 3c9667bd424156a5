"""Writing the small notebooks the nbclient and browser tests run."""

from __future__ import annotations

from pathlib import Path

import nbformat

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of code ``cells`` with a python3 kernelspec (so Lab asks for no kernel)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path

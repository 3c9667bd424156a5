"""The notebook experience: ``%%automl`` magics, the live leaderboard and the form panel.

This is the only part of the package that imports IPython, ipywidgets, Bokeh and jupyter_bokeh,
and it imports them only when a view is shown or the extension is loaded.

Public names
------------
live_view(search)
    The live leaderboard observer that ``Search`` attaches in a notebook (``None`` elsewhere).
LiveView
    That view, for callers who place it themselves.
Panel
    The ipywidgets form (``%automl panel``, ``ja.Panel(df)``).
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.runner import Observer
    from jupyter_automl.ui.live import LiveView
    from jupyter_automl.ui.panel import Panel

__all__ = [
    "CELL_MIME_TYPE",
    "LiveView",
    "Panel",
    "cell_bundle",
    "live_view",
    "in_kernel",
    "running_searches",
]

#: a ``%%automl`` cell offered to the front end (the lab extension adds "Insert as new cell")
CELL_MIME_TYPE = "application/vnd.jupyter-automl.cell.v1+json"

_LAZY = {"LiveView": "jupyter_automl.ui.live:LiveView", "Panel": "jupyter_automl.ui.panel:Panel"}

_running: list[Search] = []
_running_lock = threading.Lock()
_placement = threading.local()  # the panel places its own view: Search must not add one in the cell


def cell_bundle(text: str) -> dict[str, Any]:
    """The display bundle of a ``%%automl`` cell's text: the cell MIME type and plain text.

    Examples
    --------
    >>> sorted(cell_bundle("%%automl\\ndata: sklearn:iris"))
    ['application/vnd.jupyter-automl.cell.v1+json', 'text/plain']
    """
    return {CELL_MIME_TYPE: {"text": text}, "text/plain": text}


def in_kernel() -> bool:
    """``True`` inside a Jupyter kernel (a front end can show widgets), ``False`` in a terminal or a script."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def live_view(search: Search) -> Observer | None:
    """The live leaderboard of ``search``, displayed in the running cell; ``None`` outside a kernel.

    Parameters
    ----------
    search : Search
        A configured, not yet started search (``Search.__init__`` calls this in the cell).

    Returns
    -------
    Observer or None
        A :class:`LiveView`, or ``None`` when no front end can show widgets (terminal IPython,
        scripts, the CLI) or when ipywidgets / Bokeh / jupyter_bokeh are not installed.
    """
    if not in_kernel() or getattr(_placement, "suppress", False):
        return None
    try:
        from jupyter_automl.ui.live import LiveView
    except ImportError as exc:  # the live view is optional: the static result still shows
        warnings.warn(
            f"no live view: {exc.name or exc} is missing (pip install ipywidgets bokeh jupyter_bokeh)",
            stacklevel=2,
        )
        return None
    return LiveView(search)


class first_feedback:
    """Show "loading data…" in the cell at once; the live view then takes over that output.

    Data loading and the first import of Bokeh take seconds on a large file: the line says what
    the cell is doing meanwhile. If no view takes the output (bad input, no front end), it is
    emptied when the block ends.
    """

    def __init__(self, show: bool = True) -> None:
        self.show = show and in_kernel() and not getattr(_placement, "suppress", False)

    def __enter__(self) -> first_feedback:
        _placement.pending = None
        if self.show:
            from IPython.display import display

            text = "loading data…"
            _placement.pending = display(
                {
                    "text/plain": text,
                    "text/html": f"<span class='jupyter-automl-pending' style='opacity:.7'>{text}</span>",
                },
                raw=True,
                display_id=True,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        handle = take_pending_output()
        if handle is not None:
            handle.update({"text/plain": ""}, raw=True)


def take_pending_output() -> Any:
    """The "loading data…" output of :class:`first_feedback`, for the live view to reuse (once)."""
    handle = getattr(_placement, "pending", None)
    _placement.pending = None
    return handle


class suppress_auto_view:
    """Within this block, ``Search`` attaches no live view of its own (the caller places one)."""

    def __enter__(self) -> suppress_auto_view:
        self._before = getattr(_placement, "suppress", False)
        _placement.suppress = True
        return self

    def __exit__(self, *exc: object) -> None:
        _placement.suppress = self._before


def register_running(search: Search) -> None:
    """Remember ``search`` so that ``%automl stop`` can reach it."""
    with _running_lock:
        if search not in _running:
            _running.append(search)


def unregister_running(search: Search) -> None:
    """Forget ``search`` (it ended)."""
    with _running_lock:
        if search in _running:
            _running.remove(search)


def running_searches() -> list[Search]:
    """Searches shown in this kernel that have not ended, oldest first."""
    with _running_lock:
        return [s for s in _running if not s.result.done]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jupyter_automl.ui' has no attribute {name!r}")

"""A foreground search whose Stop button works: trials in a worker thread, widgets served here.

A cell that runs a search keeps the kernel's main thread busy, so a click on the live view's
Stop button would only be read when the cell ends. :func:`run_serving_widgets` runs the search in
a worker thread and keeps the main thread reading the kernel's widget messages with
`jupyter-ui-poll <https://github.com/Kirill888/jupyter-ui-poll>`_ (execute requests that arrive
meanwhile run after the cell, in order). The kernel's interrupt button still works: the
``KeyboardInterrupt`` it raises in the main thread is passed on to the worker, where the runner
records the running trial as interrupted and ends the search as it always did.
"""

from __future__ import annotations

import ctypes
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.result import SearchResult

__all__ = ["run_serving_widgets"]

_POLL_EVENTS = 20  # widget messages read per pass
_POLL_INTERVAL_S = 0.05  # between passes: clicks are read within this


def _raise_in(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Raise ``exc_type`` in ``thread`` at its next Python instruction (as SIGINT does in main)."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))


def run_serving_widgets(search: Search) -> SearchResult:
    """Run ``search`` to its end in a worker thread while serving widget messages here.

    Returns the result as :meth:`Search.run` does, and raises what the search raised; an
    interrupt ends the trials cleanly (``stop_reason == "interrupted"``).
    """
    from jupyter_ui_poll import ui_events

    result = search.start()
    worker = result._thread
    assert worker is not None
    with ui_events() as poll:
        while worker.is_alive():
            try:
                poll(_POLL_EVENTS)
                worker.join(_POLL_INTERVAL_S)
            except KeyboardInterrupt:
                _raise_in(worker, KeyboardInterrupt)
    worker.join()
    error = result._error
    if error is not None:
        if isinstance(error, KeyboardInterrupt):  # as Search.run: the trials are kept
            result._error = None
        raise error
    return result

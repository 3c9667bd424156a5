"""A foreground search whose Stop button works while the cell keeps the kernel busy.

A cell that runs a search keeps the kernel's main thread busy, so a click on the live view's
Stop button would only be read when the cell ends. Two ways around it, by kernel:

- ipykernel 7 runs *subshells*: shell messages for a subshell are handled in its own thread.
  :func:`serve_clicks_in_subshell` starts one subshell per kernel and routes the Stop button's
  comm messages to it (the kernel routes a comm's messages to the subshell it last spoke from),
  so the click sets the stop flag at once while the search runs on in the main thread, and
  the interrupt button works as before.
- Older kernels: :func:`run_serving_widgets` runs the search in a worker thread and keeps the
  main thread reading widget messages with `jupyter-ui-poll
  <https://github.com/Kirill888/jupyter-ui-poll>`_ (execute requests that arrive meanwhile run
  after the cell, in order); the interrupt's ``KeyboardInterrupt`` is passed on to the worker.
  (jupyter-ui-poll 1.1 cannot read messages on ipykernel 7.4, which dropped
  ``do_one_iteration``: hence the subshell route there.)

Either way the kernel handles widget messages while the cell runs, and ipykernel publishes a
``busy``/``idle`` status around each; JupyterLab's status bar (and the notebook's kernel
indicator) shows the last one, so a running search would flip between Busy and Idle every time
the live view's widgets sync. :func:`steady_status` drops those pairs while a foreground search
runs: the kernel reads Busy until the cell ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.result import SearchResult

__all__ = ["run_serving_widgets", "serve_clicks_in_subshell", "steady_status", "ui_poll_works"]

_subshells: dict[int, str] = {}  # kernel id() -> the subshell serving our widgets' clicks
_subshells_lock = threading.Lock()

_POLL_EVENTS = 20  # widget messages read per pass
_POLL_INTERVAL_S = 0.05  # between passes: clicks are read within this


def _raise_in(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Raise ``exc_type`` in ``thread`` at its next Python instruction (as SIGINT does in main)."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
        )


def _kernel() -> Any:
    import sys

    if "IPython" not in sys.modules:
        return None
    shell = sys.modules["IPython"].get_ipython()
    return getattr(shell, "kernel", None)


def _widget_subshell(kernel: Any) -> str | None:
    """The id of a subshell of ``kernel`` for widget clicks (made once), or ``None``."""
    thread = getattr(kernel, "shell_channel_thread", None)
    if not getattr(kernel, "_supports_kernel_subshells", False) or thread is None:
        return None
    with _subshells_lock:
        if id(kernel) in _subshells:
            return _subshells[id(kernel)]
        made: dict[str, str] = {}
        done = threading.Event()

        def create() -> None:  # subshells are made in the shell channel thread
            try:
                made["id"] = thread.manager._create_subshell()
            finally:
                done.set()

        thread.io_loop.add_callback(create)
        if not done.wait(10) or "id" not in made:
            return None
        _subshells[id(kernel)] = made["id"]
        return made["id"]


def serve_clicks_in_subshell(widget: Any) -> bool:
    """Have ``widget``'s messages (a button's clicks) handled in a subshell thread, so they
    arrive while the main thread runs the cell. ``False`` where the kernel has no subshells.

    Call it again after the kernel side changes the widget: each message it sends re-routes the
    comm to the sender's (sub)shell.
    """
    kernel = _kernel()
    comm = getattr(widget, "comm", None)
    if kernel is None or comm is None or not hasattr(comm, "_reply_subshell_for"):
        return False
    try:
        subshell = _widget_subshell(kernel)
    except Exception:  # another ipykernel layout: no subshell route
        return False
    if subshell is None:
        return False
    comm._reply_subshell_id = subshell
    return True


@contextlib.contextmanager
def steady_status() -> Iterator[None]:
    """While the block runs (a foreground search), publish no busy/idle status but the cells':
    the widget messages and control requests the kernel handles meanwhile would flip the front
    end's kernel status to Idle while the search still runs.

    A kernel without ipykernel's ``_publish_status`` (another kernel, no kernel) is left alone.
    """
    kernel = _kernel()
    publish = getattr(kernel, "_publish_status", None)
    if kernel is None or publish is None or not hasattr(kernel, "get_parent") or getattr(publish, "quiet", False):
        yield  # no ipykernel, or already steady (an outer block: the cell's whole run)
        return

    def quiet(status: str, channel: str, parent: Any = None) -> Any:
        try:
            request = parent if parent is not None else kernel.get_parent(channel)
            kind = ((request or {}).get("header") or {}).get("msg_type")
        except Exception:  # a layout we do not know: publish as the kernel would
            kind = None
        # only a cell's run says Busy or Idle: not the widget messages (a Stop click, a Bokeh
        # or ipywidgets sync), nor the front end's subshell and info requests handled meanwhile
        if status in ("busy", "idle") and kind != "execute_request":
            return None
        return publish(status, channel, parent)

    quiet.quiet = True  # type: ignore[attr-defined]
    own = "_publish_status" in vars(kernel)  # a patch of someone else's to put back
    kernel._publish_status = quiet
    try:
        yield
    finally:
        if own:
            kernel._publish_status = publish
        else:
            with contextlib.suppress(AttributeError):
                del kernel._publish_status


def ui_poll_works() -> bool:
    """jupyter-ui-poll is installed and can read messages on this kernel (it needs
    ``do_one_iteration``, which ipykernel 7.4 dropped)."""
    try:
        import jupyter_ui_poll  # noqa: F401
    except ImportError:
        return False
    kernel = _kernel()
    return kernel is not None and hasattr(kernel, "do_one_iteration")


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
    if any(getattr(o, "closed", False) for o in search.observers):  # the view shows the result here
        shell = _kernel().shell if _kernel() is not None else None
        result._shown_in_cell = getattr(shell, "execution_count", None)
    error = result._error
    if error is not None:
        if isinstance(error, KeyboardInterrupt):  # as Search.run: the trials are kept
            result._error = None
        raise error
    return result

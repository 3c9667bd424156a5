"""The entry points: ``ja.search``, the magics' and the estimators' run path, and the views they choose.

This module sits above :mod:`jupyter_automl.ui`: it decides which observers watch a search (the
live view in a notebook, a progress bar in a terminal, none when asked) and how a foreground
search runs in a kernel (serving the Stop button's clicks). The engine, :class:`~jupyter_automl._search.Search`,
never imports a view.
"""

from __future__ import annotations

import contextlib
from typing import Any

from jupyter_automl._search import Search
from jupyter_automl.config import SearchConfig
from jupyter_automl.result import SearchResult

__all__ = ["search", "run_search", "run_foreground", "choose_observers"]


def _in_notebook() -> bool:
    import sys

    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def choose_observers(config: SearchConfig, search: Search) -> list[Any]:
    """The views an entry point adds for ``display``: the live view in a notebook, a bar in a terminal.

    ``display=False`` adds nothing; ``"auto"`` adds the notebook's live view, or a tqdm bar on
    stderr when it is a terminal (nothing in a pipe or a CI log); ``True`` adds the live view in
    any IPython shell, a bar elsewhere.
    """
    if config.display is False:
        return []
    if _in_notebook() or (config.display is True and _in_ipython()):
        views = _live_views(search)
        if views:
            return views
    from jupyter_automl.progress import ProgressBar, stderr_is_terminal

    if config.display is True or stderr_is_terminal():
        return [ProgressBar()]
    return []


def _in_ipython() -> bool:
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return get_ipython() is not None


def _live_views(search: Search) -> list[Any]:
    try:
        from jupyter_automl.ui import live_view
    except ImportError:
        return []
    view = live_view(search)
    return [view] if view is not None else []


def _split_options(options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    data = options.pop("data", None)
    if isinstance(data, str) or data is None:
        options["data"] = data
        return None, options
    return data, options


def search(
    data: Any = None,
    target: str | int | None = None,
    *,
    X: Any = None,
    y: Any = None,
    background: bool = False,
    observers: list[Any] | None = None,
    namespace: dict[str, Any] | None = None,
    **options: Any,
) -> SearchResult:
    """Search for the best model and return a :class:`SearchResult`.

    Parameters
    ----------
    data : DataFrame, str, optional
        A DataFrame (with ``target``), a CSV/Parquet path, or ``"sklearn:NAME"``.
    target : str, optional
        The column to predict (defaults to the bundled target of ``sklearn:`` data).
    X, y : array-like, optional
        Features and target, instead of ``data``.
    background : bool
        Run in a thread and return at once; ``result.wait()`` blocks until done.
    **options
        Any :class:`SearchConfig` option: ``task``, ``space``, ``strategy``, ``metric``,
        ``time_budget`` (seconds or ``"90s"``/``"5m"``), ``n_trials``, ``cv``, ``seed``,
        ``n_jobs``, ``storage``, ``name``, ``resume``, ``display``, ``ensemble``, ``models`` ...

    Examples
    --------
    >>> import jupyter_automl as ja
    >>> result = ja.search(data="sklearn:breast_cancer", n_trials=4, storage="memory", display=False)
    >>> 0.9 < result.best_score <= 1.0
    True
    """
    obj, options = _split_options(dict(options, data=data, target=target))
    if options.get("target") is None:
        options.pop("target")
    config = SearchConfig.from_dict(options)
    return run_search(
        config, data=obj, X=X, y=y, background=background, observers=observers, namespace=namespace
    )


def run_search(
    config: SearchConfig,
    *,
    data: Any = None,
    X: Any = None,
    y: Any = None,
    background: bool = False,
    observers: list[Any] | None = None,
    namespace: dict[str, Any] | None = None,
) -> SearchResult:
    """Check everything, add the views ``config.display`` asks for, and run (the entry points' core)."""
    if background:
        runner = Search(config, data=data, X=X, y=y, namespace=namespace, observers=observers)
        runner.observers.extend(choose_observers(config, runner))
        return runner.start()
    with _steady_status():  # the kernel reads Busy from the view's first widget to the result
        runner = Search(config, data=data, X=X, y=y, namespace=namespace, observers=observers)
        runner.observers.extend(choose_observers(config, runner))
        return run_foreground(runner)


def _steady_status() -> Any:
    """:func:`~jupyter_automl.ui.foreground.steady_status` in a kernel, else nothing."""
    if not _in_ipython():
        return contextlib.nullcontext()
    from jupyter_automl.ui.foreground import steady_status

    return steady_status()


def run_foreground(search: Search) -> SearchResult:
    """Run ``search`` in the calling thread; in a kernel whose live view needs it, a worker thread
    runs the trials while this one serves the Stop button's clicks (see :mod:`jupyter_automl.ui.foreground`).
    Its callers hold :func:`_steady_status` from before the views are shown, so the kernel reads Busy throughout."""
    if any(getattr(o, "serves_widgets", False) for o in search.observers):
        from jupyter_automl.ui.foreground import run_serving_widgets

        return run_serving_widgets(search)
    return search.run()

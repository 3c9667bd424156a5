"""jupyter-automl: AutoML and neural architecture search where notebooks live.

>>> import jupyter_automl as ja
>>> result = ja.search(data="sklearn:breast_cancer", time_budget="30s")   # doctest: +SKIP

Importing the package is light: scikit-learn, Optuna, torch, IPython and Bokeh are imported
only when a search, a view or a NAS space needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_automl._errors import AutoMLError, ConfigError, DataError, StorageError

__version__ = "0.1.0"

__all__ = [
    "AutoML",
    "AutoMLClassifier",
    "AutoMLError",
    "AutoMLRegressor",
    "ConfigError",
    "DataError",
    "Observer",
    "Panel",
    "SearchConfig",
    "SearchResult",
    "StorageError",
    "list_studies",
    "load",
    "search",
    "__version__",
]

_LAZY = {
    "search": "jupyter_automl._entry:search",
    "AutoML": "jupyter_automl.estimators:AutoML",
    "AutoMLClassifier": "jupyter_automl.estimators:AutoMLClassifier",
    "AutoMLRegressor": "jupyter_automl.estimators:AutoMLRegressor",
    "SearchConfig": "jupyter_automl.config:SearchConfig",
    "SearchResult": "jupyter_automl.result:SearchResult",
    "load": "jupyter_automl.result:load",
    "list_studies": "jupyter_automl.studies:list_studies",
    "Observer": "jupyter_automl.runner:Observer",
    "Panel": "jupyter_automl.ui.panel:Panel",
}

if TYPE_CHECKING:
    from jupyter_automl._entry import search
    from jupyter_automl.config import SearchConfig
    from jupyter_automl.estimators import AutoML, AutoMLClassifier, AutoMLRegressor
    from jupyter_automl.result import SearchResult, load
    from jupyter_automl.runner import Observer
    from jupyter_automl.studies import list_studies
    from jupyter_automl.ui.panel import Panel


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name].split(":")
        try:
            value = getattr(importlib.import_module(module), attr)
        except ImportError as exc:  # ja.Panel without ipywidgets: say which extra to install
            from jupyter_automl._imports import missing

            raise missing(exc, what=f"ja.{name}") from None
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jupyter_automl' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_automl``: register the ``%automl`` / ``%%automl`` magics."""
    try:
        from jupyter_automl.ui.magics import load_ipython_extension as _load
    except ImportError as exc:
        from jupyter_automl._imports import missing

        raise missing(exc, what="the %automl magics") from None

    _load(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension (REST API over stored studies); imported only by the server."""
    return [{"module": "jupyter_automl.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension (for ``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "jupyter-automl"}]

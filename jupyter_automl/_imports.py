"""Optional dependencies: one place that knows which extra installs what, and says so when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from jupyter_automl._errors import MissingDependencyError

__all__ = ["EXTRAS", "install_hint", "is_installed", "missing", "require"]

# import name -> the extra of jupyter-automl that installs it
EXTRAS = {
    "torch": "nas",
    "PIL": "nas",
    "lightgbm": "boosting",
    "xgboost": "boosting",
    "catboost": "boosting",
    "pyarrow": "parquet",
    "IPython": "notebook",
    "ipywidgets": "notebook",
    "ipykernel": "notebook",
    "bokeh": "notebook",
    "jupyter_bokeh": "notebook",
    "psycopg": "postgres",
    "dask": "dask",
    "distributed": "dask",
}


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a broken or blocked finder counts as no)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def install_hint(extra: str) -> str:
    """The exact command that installs an extra, e.g. ``pip install 'jupyter-automl[nas]'``."""
    return f"pip install 'jupyter-automl[{extra}]'"


def require(module: str, *, what: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``what`` needs it and the extra.

    Parameters
    ----------
    module : str
        The import name, e.g. ``"torch"``.
    what : str
        What needs it, for the message: ``"space 'nas-cell'"``, ``"ja.Panel"``.
    extra : str, optional
        The extra that installs it (default: looked up in :data:`EXTRAS`).

    Examples
    --------
    >>> require("json", what="this example").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing(exc, what=what, extra=extra or EXTRAS.get(module.split(".")[0])) from exc


def missing(exc: ImportError, *, what: str, extra: str | None = None) -> MissingDependencyError:
    """The :class:`MissingDependencyError` for an ``ImportError`` met while importing what ``what`` needs."""
    name = (exc.name or str(exc)).split(".")[0]
    extra = extra or EXTRAS.get(name)
    fix = install_hint(extra) if extra else f"pip install {name}"
    return MissingDependencyError(
        f"{what} needs {name}, which is not installed: {fix}", module=name
    )

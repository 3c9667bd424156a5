"""Where a notebook should load BokehJS from: this Jupyter server, or inline in the output.

The live view (``jupyter_automl.ui``) calls :func:`bokeh_resources` before its first
``output_notebook``. When the kernel was started by a Jupyter server that runs the
jupyter-automl server extension, the extension has exported ``JUPYTER_AUTOML_BOKEH_ROOT`` (the
URL path, base URL included, under which it serves the installed ``bokeh`` package's
``static/`` folder), and BokehJS is loaded from there: the saved notebook holds a few script
URLs instead of about 8 MB of JavaScript. Anywhere else (nbclient, nbconvert, a server without
the extension, a different bokeh version on the server) the resources are ``INLINE``.

>>> from jupyter_automl.server.bokeh_resources import bokeh_resources
>>> res = bokeh_resources(environ={})          # no server extension: inline
>>> res.mode
'inline'
>>> res = bokeh_resources(environ={"JUPYTER_AUTOML_BOKEH_ROOT": "/user/ann/jupyter-automl/bokeh/"})
>>> res.js_files[0]
'/user/ann/jupyter-automl/bokeh/static/js/bokeh.min.js'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["BOKEH_ROOT_ENV", "served_bokeh_root", "bokeh_resources"]

BOKEH_ROOT_ENV = (
    "JUPYTER_AUTOML_BOKEH_ROOT"  # the same name as jupyter_automl.server.BOKEH_ROOT_ENV
)
_MODE_ENV = "JUPYTER_AUTOML_BOKEH"  # "inline" forces inline resources, "server" the served ones


def served_bokeh_root(environ: Mapping[str, str] | None = None) -> str | None:
    """The URL path BokehJS is served under by the server extension, or ``None``."""
    env = os.environ if environ is None else environ
    if env.get(_MODE_ENV, "").lower() == "inline":
        return None
    root = env.get(BOKEH_ROOT_ENV)
    if not root:
        return None
    return root if root.endswith("/") else root + "/"


def bokeh_resources(environ: Mapping[str, str] | None = None) -> Any:
    """``bokeh.resources.Resources`` for ``output_notebook``: served by the server when it can be.

    Setting ``JUPYTER_AUTOML_BOKEH=inline`` in the kernel's environment forces inline resources
    (for notebooks that must render on other servers). Bokeh's own ``BOKEH_RESOURCES`` is not
    consulted: it governs bokeh's defaults, which this helper replaces on purpose.
    """
    from bokeh.resources import INLINE, Resources

    root = served_bokeh_root(environ)
    if root is None:
        return INLINE
    return Resources(mode="server", root_url=root)

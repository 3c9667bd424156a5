"""The Jupyter server extension: read-only REST over stored studies, and BokehJS from ``bokeh``.

Enabled by ``jupyter-config/jupyter_server_config.d/jupyter_automl.json`` (installed with the
package). Routes, all under the server's ``base_url``:

``GET jupyter-automl/api/studies``
    Every study in the ``.jupyter_automl/studies.db`` files under the server root (depth
    limited), plus the storages named by ``?url=`` (repeatable).
``GET jupyter-automl/api/studies/<name>?db=<relative path>`` (or ``?url=``)
    The ``application/vnd.jupyter-automl.result.v1+json`` payload of one study.
``GET jupyter-automl/api/schema``
    The JSON Schema of the ``%%automl`` options.
``GET jupyter-automl/bokeh/static/<path>``
    The installed ``bokeh`` package's BokehJS, so notebooks load it from here instead of
    inlining 8 MB (see :mod:`jupyter_automl.server.bokeh_resources`).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["API_PREFIX", "BOKEH_ROOT_ENV", "BOKEH_PREFIX", "setup_handlers"]

API_PREFIX = "jupyter-automl/api"
BOKEH_PREFIX = "jupyter-automl/bokeh/"
#: Set by the server extension for the kernels it starts: the URL path BokehJS is served under.
BOKEH_ROOT_ENV = "JUPYTER_AUTOML_BOKEH_ROOT"


def setup_handlers(web_app: Any, root_dir: str) -> None:
    """Register the handlers on a tornado application (``serverapp.web_app``)."""
    from jupyter_server.utils import url_path_join

    from jupyter_automl.server.handlers import handlers

    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base_url, pattern), cls, kwargs)
                                 for pattern, cls, kwargs in handlers(root_dir)])


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from jupyter_server.utils import url_path_join

    root_dir = os.path.abspath(os.path.expanduser(serverapp.root_dir))
    setup_handlers(serverapp.web_app, root_dir)
    # Kernels inherit the server's environment: this tells the live view that BokehJS can be
    # loaded from this server (and under which base URL) instead of being inlined.
    os.environ[BOKEH_ROOT_ENV] = url_path_join(serverapp.base_url, BOKEH_PREFIX)
    serverapp.log.info("jupyter-automl server extension loaded (root %s)", root_dir)

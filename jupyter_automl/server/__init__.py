"""The Jupyter server extension: read-only REST over stored studies, and BokehJS from ``bokeh``.

Enabled by ``jupyter-config/jupyter_server_config.d/jupyter_automl.json`` (installed with the
package). Routes, all under the server's ``base_url``:

``GET jupyter-automl/api/studies[?storage=<name or path>]…``
    Every study in the ``.jupyter_automl/studies.db`` files under the server root (depth
    limited), plus those of the storages given (repeatable): a name the admin configured in
    ``c.JupyterAutoML.storages`` (see :mod:`jupyter_automl.server.options`) or a study file
    under the root. The answer also lists the configured names (never their URLs).
``GET jupyter-automl/api/studies/<name>?db=<relative path>`` (or ``?storage=<name>``)
    The ``application/vnd.jupyter-automl.result.v1+json`` payload of one study.

Everything is read-only (see :mod:`jupyter_automl.server.readonly`); a ``url=`` parameter is
refused with 400 before anything is opened.
``GET jupyter-automl/api/schema``
    The JSON Schema of the ``%%automl`` options.
``POST jupyter-automl/api/validate`` with ``{"text": <body>, "first_line": 2}``
    The problems the kernel would report for a ``%%automl`` body (``{"problems": [{message,
    key, line, start, end}]}``): the kernel's own validator, run on the text alone (no file is
    read, no storage opened), so the editor's diagnostics are the kernel's.
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


def setup_handlers(web_app: Any, root_dir: str, options: Any = None) -> None:
    """Register the handlers on a tornado application (``serverapp.web_app``).

    ``options`` is a :class:`~jupyter_automl.server.options.JupyterAutoML` (defaults when
    ``None``): the named storages, timeouts and read bounds.
    """
    from jupyter_server.utils import url_path_join

    from jupyter_automl.server.handlers import handlers
    from jupyter_automl.server.options import JupyterAutoML

    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base_url, pattern), cls, kwargs)
            for pattern, cls, kwargs in handlers(root_dir, options or JupyterAutoML())
        ],
    )


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from jupyter_server.utils import url_path_join

    from jupyter_automl.server.options import JupyterAutoML

    options = JupyterAutoML(parent=serverapp)  # reads c.JupyterAutoML.* from the server's config
    root_dir = os.path.abspath(os.path.expanduser(serverapp.root_dir))
    setup_handlers(serverapp.web_app, root_dir, options)
    # Kernels inherit the server's environment: this tells the live view that BokehJS can be
    # loaded from this server (and under which base URL) instead of being inlined.
    os.environ[BOKEH_ROOT_ENV] = url_path_join(serverapp.base_url, BOKEH_PREFIX)
    serverapp.log.info(
        "jupyter-automl server extension loaded (root %s; named storages: %s)",
        root_dir,
        ", ".join(sorted(options.storages)) or "none",
    )

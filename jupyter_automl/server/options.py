"""``c.JupyterAutoML.*``: what the server's admin configures for the studies API.

In ``jupyter_server_config.py`` (or ``--JupyterAutoML.storages=...`` on the command line)::

    c.JupyterAutoML.storages = {"team": "postgresql://automl:secret@db.internal/automl"}
    c.JupyterAutoML.connect_timeout = 5     # seconds to connect to a storage
    c.JupyterAutoML.query_timeout = 10      # seconds per query
    c.JupyterAutoML.study_timeout = 2       # seconds to count one study without a summary
    c.JupyterAutoML.max_reads = 4           # storage reads at once; more answer 503
"""

from __future__ import annotations

import re
from typing import Any

from traitlets import Dict, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable

__all__ = ["JupyterAutoML"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class JupyterAutoML(Configurable):
    """Options of the jupyter-automl server extension (the studies API behind the sidebar)."""

    storages = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        default_value={},
        help="Named Optuna storages the studies sidebar may read, e.g. {'team': 'postgresql://user:pass@host/db'}. "
        "Users add one by its name; the URL (and its password) never leaves the server. "
        "Requests cannot give a storage URL of their own.",
    ).tag(config=True)
    connect_timeout = Float(
        5.0, help="Seconds to wait for a storage connection (at least 2 for PostgreSQL)."
    ).tag(config=True)
    query_timeout = Float(
        10.0, help="Seconds a query on a storage may run (PostgreSQL statement_timeout)."
    ).tag(config=True)
    study_timeout = Float(
        2.0,
        help="Seconds a listing spends counting one study that has no stored summary (written by "
        "an older version); past it the study is listed with partial=true and the listing goes on.",
    ).tag(config=True)
    max_reads = Int(
        4, help="Storage reads running at once; a request beyond answers 503 at once."
    ).tag(config=True)
    max_reads_per_storage = Int(
        2, help="Reads running at once on one storage (so a hung one cannot take all)."
    ).tag(config=True)

    @validate("storages")
    def _check_storages(self, proposal: dict[str, Any]) -> dict[str, str]:
        value = proposal["value"]
        for name, url in value.items():
            if not _NAME.match(name):
                raise TraitError(
                    f"JupyterAutoML.storages: the name {name!r} must be 1-64 letters, digits, '_' or '-' "
                    "(names are what users type in the sidebar; paths end in .db)"
                )
            if not url.strip():
                raise TraitError(
                    f"JupyterAutoML.storages[{name!r}] is empty: give an Optuna storage URL"
                )
            if "://" in url and not url.startswith("sqlite:///"):
                _check_url(name, url)
        return value

    @validate("connect_timeout", "query_timeout", "study_timeout")
    def _check_timeout(self, proposal: dict[str, Any]) -> float:
        if not proposal["value"] > 0:
            raise TraitError(
                f"JupyterAutoML.{proposal['trait'].name} must be a positive number of seconds"
            )
        return proposal["value"]

    @validate("max_reads", "max_reads_per_storage")
    def _check_count(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1:
            raise TraitError(f"JupyterAutoML.{proposal['trait'].name} must be at least 1")
        return proposal["value"]


def _check_url(name: str, url: str) -> None:
    """A URL SQLAlchemy can parse (checked at start-up, without connecting)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        raise TraitError(
            f"JupyterAutoML.storages[{name!r}] is not a database URL; "
            "expected e.g. postgresql://user:password@host/db"
        ) from None

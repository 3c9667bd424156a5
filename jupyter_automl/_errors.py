"""Exception types (stand-in for the lead's core module: take main's version on merge)."""

from __future__ import annotations

__all__ = ["AutoMLError", "ConfigError", "DataError"]


class AutoMLError(Exception):
    """Base class of every error jupyter-automl raises on purpose."""


class ConfigError(AutoMLError, ValueError):
    """A configuration value is invalid."""


class DataError(AutoMLError, ValueError):
    """The data cannot be used as given."""

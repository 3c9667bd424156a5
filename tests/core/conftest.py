"""Fixtures for the core tests: small real datasets (PostgreSQL is in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def penguins():
    """Palmer penguins: categorical columns and missing values, shipped with the package."""
    palmerpenguins = pytest.importorskip("palmerpenguins")
    return palmerpenguins.load_penguins()

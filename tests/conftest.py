"""Shared fixtures: the solver backends available on this machine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from api_helpers import Api, database, running_api

from optimizer.core.solvers import available_solvers

SOLVERS = available_solvers()


@pytest.fixture(params=SOLVERS)
def solver(request: pytest.FixtureRequest) -> str:
    """Each available solver backend in turn (HiGHS, CBC)."""
    return request.param


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each backend: SQLite, then PostgreSQL (skipped with a reason)."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The app with keys for every role in workspaces acme and rival; no job worker."""
    with running_api(database_url, workers=0) as running:
        yield running

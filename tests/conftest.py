"""Shared fixtures: the solver backends available on this machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from optimizer.solvers import available_solvers

SOLVERS = available_solvers()


@pytest.fixture(params=SOLVERS)
def solver(request: pytest.FixtureRequest) -> str:
    """Each available solver backend in turn (HiGHS, CBC)."""
    return request.param

"""Shared by the importers' tests: the fixture folder and a plan's spend path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mmm"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def spend_path(weeks: int, seed: int, low: float = 20_000, high: float = 600_000) -> np.ndarray:
    """A plan's weekly spend, CNY, with some weeks at 0."""
    rng = np.random.default_rng(seed)
    path = rng.uniform(low, high, weeks)
    path[rng.uniform(size=weeks) < 0.15] = 0.0
    return path

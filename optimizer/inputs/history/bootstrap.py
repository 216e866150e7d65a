"""Parameter uncertainty by a moving-block bootstrap of the residuals.

Each draw resamples the weeks' relative residuals (actual / fitted - 1) in blocks of
consecutive weeks and refits the chosen model to fitted x (1 + resampled residual). Residuals,
not rows, are resampled: the spend path stays as it was, so the adstock still sees each week's
real spend, while blocks keep the residuals' autocorrelation. Draw k uses the same week blocks
for every channel, so what moves the channels together (a good week for all) stays joint.
"""

from __future__ import annotations

import numpy as np

BLOCK_MIN = 4


def block_length(weeks: int) -> int:
    """About the cube root of the weeks, at least BLOCK_MIN (5 for two years)."""
    return max(BLOCK_MIN, int(np.ceil(weeks ** (1.0 / 3.0))))


def block_indices(weeks: int, pool: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """(draws, weeks): for each draw and week, the pool week whose residual it takes, in
    blocks of consecutive pool weeks with random starts (numpy's PCG64 from ``seed``)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    block = min(block_length(weeks), len(pool))
    count = -(-weeks // block)
    starts = rng.integers(0, len(pool) - block + 1, size=(draws, count))
    positions = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(draws, -1)
    return pool[positions[:, :weeks]]


def relative_residuals(actual: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """actual / fitted - 1 where the fit is positive (0 elsewhere), centred on 0."""
    r = np.zeros_like(actual, dtype=float)
    positive = fitted > 1e-9 * max(float(np.max(fitted)), 1.0)
    r[positive] = actual[positive] / fitted[positive] - 1.0
    return r - np.mean(r[positive]) * positive if np.any(positive) else r

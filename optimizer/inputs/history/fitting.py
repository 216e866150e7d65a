"""Bounded nonlinear least squares of one model on some weeks, from data-driven starts.

The residuals are (predicted - actual GMV) / mean GMV of the weeks fitted: plain least squares
in GMV, scaled so the tolerances mean the same for a small channel and a large one. Starting
points: a grid of widths (around the spend the data covers), shapes and decays, each with the
max GMV that fits best given them (GMV is linear in it); the best two are refined.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.optimize import least_squares

from optimizer.inputs.history.families import DECAY_BOUNDS, SHAPE_BOUNDS, Model
from optimizer.schema.fields import MAX_CNY, MIN_PRICE_CNY

WIDTHS = (0.25, 0.6, 1.5, 4.0)  # times the largest input seen
SHAPES = (1.0, 2.0)
DECAYS = (0.1, 0.4, 0.7)
REFINED = 2
LM_STEPS = 60


@dataclass(frozen=True)
class Fit:
    """A model's parameters (theta, see ``Model``) and its mean squared error in GMV."""

    model: Model
    theta: np.ndarray
    mse: float


@dataclass(frozen=True)
class Data:
    """What a fit sees: the lagged input (weeks, lags) and the GMV of each week."""

    lagged: np.ndarray
    gmv: np.ndarray


def bounds(model: Model, data: Data) -> tuple[np.ndarray, np.ndarray]:
    """Box of theta: max GMV from 0.2x to 1000x the largest week, width from 1/100 to 100x the
    largest input, shape and decay within their bounds; all within the schema's."""
    top = max(float(np.max(data.gmv)), 1.0)
    reach = max(float(np.max(data.lagged[:, 0])), 1.0)
    low = [np.log(max(0.2 * top, 1.0)), np.log(max(reach / 100.0, MIN_PRICE_CNY))]
    high = [np.log(min(1000.0 * top, MAX_CNY)), np.log(min(100.0 * reach, MAX_CNY))]
    if model.family.has_shape:
        low.append(SHAPE_BOUNDS[0])
        high.append(SHAPE_BOUNDS[1])
    if model.max_lag:
        low.append(DECAY_BOUNDS[0])
        high.append(DECAY_BOUNDS[1])
    return np.array(low), np.array(high)


def fit(model: Model, data: Data, rows: np.ndarray, start: np.ndarray | None = None) -> Fit:
    """The least-squares fit of the model on the given weeks (indices); from ``start`` alone
    when given (a bootstrap refit), else from the grid of starting points."""
    low, high = bounds(model, data)
    y = data.gmv[rows]
    norm = max(float(np.mean(np.abs(y))), 1.0)

    def residuals(theta: np.ndarray) -> np.ndarray:
        return (model.predict(theta, data.lagged)[rows] - y) / norm

    starts = [start] if start is not None else _starts(model, data, rows, low, high)
    best: Fit | None = None
    for theta0 in starts:
        theta0 = np.clip(theta0, low + 1e-9 * (high - low), high - 1e-9 * (high - low))
        found = least_squares(residuals, theta0, bounds=(low, high), x_scale="jac", method="trf")
        mse = float(np.mean(found.fun**2)) * norm**2
        if best is None or mse < best.mse:
            best = Fit(model, found.x, mse)
    assert best is not None
    return best


def _starts(
    model: Model, data: Data, rows: np.ndarray, low: np.ndarray, high: np.ndarray
) -> list[np.ndarray]:
    """The grid's best points, each with its best max GMV (closed form: GMV is linear in it)."""
    reach = max(float(np.max(data.lagged[:, 0])), 1.0)
    shapes = SHAPES if model.family.has_shape else (None,)
    decays = DECAYS if model.max_lag else (None,)
    scored = []
    y = data.gmv[rows]
    for width, shape, decay in product(WIDTHS, shapes, decays):
        extra = [v for v in (shape, decay) if v is not None]
        theta = np.array([0.0, np.log(width * reach * (1.0 + 3.0 * (decay or 0.0))), *extra])
        unit = model.predict(theta, data.lagged)[rows]
        top = float(unit @ y) / max(float(unit @ unit), 1e-300)
        theta[0] = np.log(max(top, 1e-300))
        theta = np.clip(theta, low, high)
        error = float(np.sum((model.predict(theta, data.lagged)[rows] - y) ** 2))
        scored.append((error, len(scored), theta))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [theta for _, _, theta in scored[:REFINED]]


def refit_many(
    model: Model, data: Data, targets: np.ndarray, rows: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Least-squares refits of the model to many GMV series at once (targets: draws x weeks),
    all from ``start``: a bounded Levenberg-Marquardt, vectorised over the series (forward
    differences, steps clipped to the box). Returns theta of each (draws, parameters)."""
    low, high = bounds(model, data)
    y = targets[:, rows]
    norm = np.maximum(np.mean(np.abs(y), axis=1, keepdims=True), 1.0)
    theta = np.tile(np.clip(start, low, high), (len(targets), 1))
    damping = np.full(len(targets), 1e-3)

    def residuals(t: np.ndarray) -> np.ndarray:
        return (model.predict_many(t, data.lagged)[:, rows] - y) / norm

    r = residuals(theta)
    cost = np.sum(r**2, axis=1)
    size = theta.shape[1]
    for _ in range(LM_STEPS):
        jac = np.empty((*r.shape, size))
        for j in range(size):
            h = 1e-6 * max(1.0, float(np.max(np.abs(theta[:, j]))))
            moved = theta.copy()
            moved[:, j] += h
            jac[:, :, j] = (residuals(moved) - r) / h
        jtj = np.einsum("bri,brj->bij", jac, jac)
        grad = np.einsum("bri,br->bi", jac, r)
        diag = np.einsum("bii->bi", jtj)
        system = jtj + damping[:, None, None] * (np.eye(size) * (diag[:, None, :] + 1e-12))
        step = np.linalg.solve(system, -grad[:, :, None])[:, :, 0]
        trial = np.clip(theta + step, low, high)
        r_trial = residuals(trial)
        cost_trial = np.sum(r_trial**2, axis=1)
        better = cost_trial < cost
        theta[better], r[better], cost[better] = trial[better], r_trial[better], cost_trial[better]
        damping = np.where(better, damping * 0.3, damping * 10.0)
        if np.all(np.abs(step) < 1e-9 * (1.0 + np.abs(theta))):
            break
    return theta

"""A local smooth solve on the true curves, started from the piecewise-linear plan.

Piecewise-linear plans land on breakpoints; near a flat optimum that leaves spend slightly off
(a 1e-4 objective gap allows ~1% spend error). For small smooth problems SLSQP with analytic
gradients moves the plan onto the exact optimum; the engine keeps the result only if every
rule still holds on the true curves and the objective improved.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from optimizer.model import LinearForm, Problem

MAX_POLISH_VARIABLES = 300


def is_polishable(problem: Problem) -> bool:
    """Small, with smooth concave curves whose slopes are finite at every feasible spend."""
    size = len(problem.units) * len(problem.periods)
    smooth = all(
        u.curve.family in ("exponential", "linear")
        or (u.curve.family == "hill" and u.curve.shape == 1)
        for u in problem.units
    )
    return size <= MAX_POLISH_VARIABLES and smooth


def polish(problem: Problem, spend: np.ndarray) -> np.ndarray | None:
    """Locally optimal spend near ``spend`` on the true curves, or None if SLSQP fails."""
    if not is_polishable(problem):
        return None
    shape = spend.shape
    scale = max(float(np.max(np.abs(spend))), 1.0)  # SLSQP works on spend / scale
    objective, objective_grad = _scaled(
        problem, problem.objective, 0.0, -1.0 if problem.maximise else 1.0, shape, scale
    )
    constraints = []
    for row in problem.rows:
        form, rhs = row.linear()
        fun, jac = _scaled(problem, form, rhs, -1.0 if row.sense == "<=" else 1.0, shape, scale)
        constraints.append({"type": "eq" if row.sense == "==" else "ineq", "fun": fun, "jac": jac})
    lo, hi = problem.lo.ravel(), problem.hi.ravel()
    result = minimize(
        objective,
        spend.ravel() / scale,
        jac=objective_grad,
        bounds=list(zip(lo / scale, hi / scale, strict=True)),
        constraints=constraints,
        method="SLSQP",
        options={"maxiter": 500, "ftol": 1e-14},
    )
    if not result.success:
        return None
    return np.clip(result.x * scale, lo, hi).reshape(shape)


def _scaled(
    problem: Problem,
    form: LinearForm,
    rhs: float,
    factor: float,
    shape: tuple[int, ...],
    scale: float,
) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]:
    """factor * (form - rhs) / scale and its gradient, as functions of spend / scale."""

    def value(z: np.ndarray) -> float:
        spend = z.reshape(shape) * scale
        return factor * (form.evaluate(spend, problem.gmv(spend)) - rhs) / scale

    def gradient(z: np.ndarray) -> np.ndarray:
        spend = z.reshape(shape) * scale
        return factor * (form.spend_coef + form.gmv_coef * problem.marginal_roas(spend)).ravel()

    return value, gradient

"""The nonlinear method: SLSQP with analytic gradients on the true response curves.

It serves twice. As a method of its own (``--solver nlp``) it is an independent check on the
piecewise-linear one: no breakpoints, no solver backend, any starting point. As a polish, it
moves a piecewise-linear plan, which lands on breakpoints (a 1e-4 objective gap allows ~1%
spend error near a flat optimum), onto the exact optimum; the engine keeps the result only if
every rule still holds on the true curves and the objective improved.

On concave curves every rule here defines a convex set except share limits, so a point that
satisfies the KKT conditions is the global optimum; SLSQP gives no bound, so no gap is claimed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from optimizer.model import LinearForm, Problem
from optimizer.result import SolveResult, objective_value, violated_rows

MAX_NLP_CELLS = 300  # SLSQP's dense QP steps grow with the cube of the cell count


def is_smooth(problem: Problem) -> bool:
    """Concave curves with finite slopes everywhere: exponential, Hill of shape 1, linear."""
    return all(
        u.curve.family in ("exponential", "linear")
        or (u.curve.family == "hill" and u.curve.shape == 1)
        for u in problem.units
    )


def is_polishable(problem: Problem) -> bool:
    """Small and smooth: SLSQP is fast and exact there."""
    small = len(problem.units) * len(problem.periods) <= MAX_NLP_CELLS
    return small and is_smooth(problem) and not problem.switches


def polish(problem: Problem, spend: np.ndarray) -> np.ndarray | None:
    """Locally optimal spend near ``spend`` on the true curves, or None if SLSQP fails."""
    if not is_polishable(problem):
        return None
    return local_optimum(problem, spend)[0]


def local_optimum(problem: Problem, start: np.ndarray) -> tuple[np.ndarray | None, str]:
    """SLSQP from ``start``: the spend it converged to (None if it failed) and its message."""
    shape = start.shape
    scale = max(max(problem.scenario.media_budget_cny(), 1.0) / start.size, 1.0)
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
        start.ravel() / scale,
        jac=objective_grad,
        bounds=list(zip(lo / scale, hi / scale, strict=True)),
        constraints=constraints,
        method="SLSQP",
        options={"maxiter": 1000, "ftol": 1e-12},
    )
    # Exit mode 8: the line search cannot improve the point, which on a flat (saturated)
    # objective is the optimum to rounding; the caller re-checks every rule either way.
    if not result.success and result.status != 8:
        return None, str(result.message)
    return np.clip(result.x * scale, lo, hi).reshape(shape), str(result.message)


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


def default_start(problem: Problem) -> np.ndarray:
    """Half the media budget spread evenly over every cell, within the column bounds."""
    cells = problem.lo.size
    even = 0.5 * max(problem.scenario.media_budget_cny(), 0.0) / max(cells, 1)
    return np.clip(np.full(problem.lo.shape, even), problem.lo, problem.hi)


def solve_nlp(problem: Problem, *, start: np.ndarray | None = None) -> SolveResult:
    """The nonlinear method: SLSQP on the true curves, its result re-checked like any plan.

    It starts from ``start`` and from an even split and keeps the best point that keeps every
    rule, so a poor start (all the budget in one cell, deep in saturation where the gradient
    vanishes) cannot change the answer.
    """
    started = time.perf_counter()
    if problem.switches:
        return SolveResult(
            status="error",
            solver="nlp (SLSQP)",
            rounds=0,
            is_mip=False,
            seconds=0.0,
            message="nlp cannot decide whether a channel is used at "
            "all (min_spend_if_used_cny, activation_cost_cny): use lp",
        )
    starts = {"the even split": default_start(problem)}
    if start is not None:
        starts = {"the given start": np.asarray(start, dtype=float), **starts}
    best: tuple[float, np.ndarray, str] | None = None
    failures = []
    for label, point in starts.items():
        spend, message = local_optimum(problem, point)
        broken = [] if spend is None else violated_rows(problem, spend)
        if spend is None or broken:
            failures.append(
                f"from {label}: {message if spend is None else 'broke ' + ', '.join(broken)}"
            )
            continue
        value = objective_value(problem, spend)
        if best is None or (value > best[0] if problem.maximise else value < best[0]):
            best = (value, spend, label)
    common = {
        "solver": "nlp (SLSQP)",
        "rounds": len(starts),
        "is_mip": False,
        "seconds": time.perf_counter() - started,
    }
    if best is None:
        return SolveResult(
            status="error",
            message="SLSQP found no plan that keeps every rule (" + "; ".join(failures) + ")",
            **common,
        )
    value, spend, label = best
    note = f"local optimum of the true curves from {label}; no bound is proven"
    if failures:
        note += " (" + "; ".join(failures) + ")"
    return SolveResult(status="optimal", spend=spend, objective=value, message=note, **common)

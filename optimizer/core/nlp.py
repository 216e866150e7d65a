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

from optimizer.core.checks import (
    SolveResult,
    broken_rows,
    is_better,
    objective_value,
    row_slack,
)
from optimizer.core.curves import SMOOTH_CONCAVE
from optimizer.core.forms import LinearForm, Row
from optimizer.core.problem import Problem

MAX_NLP_CELLS = 400  # SLSQP's dense QP steps grow with the cube of the cell count: --solver nlp
MAX_POLISH_CELLS = 300  # ... and as a polish of every LP plan or auto's choice, fewer still


def is_smooth(problem: Problem) -> bool:
    """Concave curves with finite slopes everywhere: all but piecewise, S-shaped Hill and Hill
    of shape below 1 (infinitely steep at zero)."""
    return all(
        u.curve.family in (*SMOOTH_CONCAVE, "linear")
        or (u.curve.family == "hill" and u.curve.shape == 1)
        for u in problem.units
    )


def is_polishable(problem: Problem) -> bool:
    """Small and smooth: SLSQP is fast and exact there."""
    small = len(problem.units) * len(problem.periods) <= MAX_POLISH_CELLS
    return small and is_smooth(problem) and not problem.switches


def polish(problem: Problem, spend: np.ndarray) -> np.ndarray | None:
    """Locally optimal spend near ``spend`` on the true curves, or None if SLSQP fails."""
    if not is_polishable(problem):
        return None
    return local_optimum(problem, spend)[0]


def local_optimum(
    problem: Problem,
    start: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray | None, str]:
    """SLSQP from ``start``: the spend it converged to (None if it failed) and its message.

    ``bounds`` (lo, hi) replaces the problem's column bounds, e.g. by ``implied_bounds``.
    """
    shape = start.shape
    scale = _scale(problem, start.size)
    objective, objective_grad = _scaled(
        problem, problem.objective, 0.0, -1.0 if problem.maximise else 1.0, shape, scale, True
    )
    constraints = []
    for row in problem.rows:
        form, rhs = row.linear()
        fun, jac = _scaled(problem, form, rhs, -1.0 if row.sense == "<=" else 1.0, shape, scale)
        constraints.append({"type": "eq" if row.sense == "==" else "ineq", "fun": fun, "jac": jac})
    lo, hi = (problem.lo, problem.hi) if bounds is None else bounds
    lo, hi = lo.ravel(), hi.ravel()
    x0 = start.ravel() if bounds is None else np.clip(start.ravel(), lo, hi)
    if np.all(lo == hi):  # nothing to choose (scipy's answer then lacks a status)
        return lo.reshape(shape).copy(), "every cell is fixed by the rules"
    result = minimize(
        objective,
        x0 / scale,
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


def _scale(problem: Problem, cells: int) -> float:
    """Spend per unit of SLSQP's variables: the media budget per cell (at least 1 CNY)."""
    return max(max(problem.scenario.media_budget_cny(), 1.0) / cells, 1.0)


def _scaled(
    problem: Problem,
    form: LinearForm,
    rhs: float,
    factor: float,
    shape: tuple[int, ...],
    scale: float,
    objective: bool = False,
) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]:
    """factor * (form - rhs) / scale and its gradient, as functions of spend / scale (for the
    ``objective``, with GMV after the plan where it counts)."""

    # The objective counts GMV after the plan where the scenario says so; rows never do.
    after = problem.after_weights() if objective and problem.counts_carry_out else None

    def value(z: np.ndarray) -> float:
        spend = z.reshape(shape) * scale
        total = form.evaluate(spend, problem.gmv(spend))
        if after is not None:
            total += float(after @ problem.gmv_after(spend))
        return factor * (total - rhs) / scale

    def gradient(z: np.ndarray) -> np.ndarray:
        spend = z.reshape(shape) * scale
        if not problem.carried:
            return factor * (form.spend_coef + form.gmv_coef * problem.marginal_roas(spend)).ravel()
        pulled = problem.gmv_gradient(spend, form.gmv_coef, after)
        return factor * (form.spend_coef + pulled).ravel()

    return value, gradient


def default_start(problem: Problem) -> np.ndarray:
    """Half the media budget spread evenly over every cell, within the column bounds."""
    cells = problem.lo.size
    even = 0.5 * max(problem.scenario.media_budget_cny(), 0.0) / max(cells, 1)
    return np.clip(np.full(problem.lo.shape, even), problem.lo, problem.hi)


def implied_bounds(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds tightened by the rules on spend alone (caps, floors of a single cell).

    A rule that adds spend with non-negative weights and caps the sum caps each of its cells
    too, given the other cells' lower bounds; a floor on a single cell is its lower bound.
    SLSQP keeps bounds exactly but rows only to its tolerance: a cap of 0 CNY left as a row
    ends a few millionths of a yuan over, which the re-check (relative to at least 1 CNY)
    counts as broken; as a bound it is exactly 0.
    """
    lo, hi = problem.lo.astype(float), problem.hi.astype(float)
    for row in problem.rows:
        coef = row.num.spend_coef
        cells = coef > 0
        if (
            row.den is not None
            or row.num.if_used
            or np.any(row.num.gmv_coef)
            or np.any(coef < 0)
            or not cells.any()
        ):
            continue
        rhs = row.limit - row.num.constant
        if row.sense in ("<=", "=="):
            room = max(rhs - float(np.sum(coef * lo)), 0.0)
            hi[cells] = np.minimum(hi[cells], lo[cells] + room / coef[cells])
        if row.sense in (">=", "==") and np.count_nonzero(cells) == 1:
            lo[cells] = np.maximum(lo[cells], np.minimum(rhs / coef[cells], hi[cells]))
    return lo, np.maximum(hi, lo)


def phase_one(
    problem: Problem, start: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, str]:
    """SLSQP from ``start`` minimising how far the rules are broken on the true curves.

    Every rule gets an elastic slack, so the start is feasible for this problem and SLSQP
    never meets contradictory linearised rules; at zero total slack the split keeps every
    rule. Returns the split it ended at (the closest it came, if not zero) and its message.
    """
    shape, cells = start.shape, start.size
    scale = _scale(problem, cells)
    lo, hi = bounds[0].ravel(), bounds[1].ravel()
    x0 = np.clip(start.ravel(), lo, hi) / scale
    sides = {"<=": (-1.0,), ">=": (1.0,), "==": (1.0, -1.0)}
    pieces = []  # each must be >= 0 when the rule holds
    for row in problem.rows:
        form, rhs = row.linear()
        pieces.extend(_scaled(problem, form, rhs, f, shape, scale) for f in sides[row.sense])
    if not pieces:
        return np.clip(start, bounds[0], bounds[1]), "no rules"
    count = len(pieces)
    slack0 = np.array([max(-fun(x0), 0.0) for fun, _ in pieces])
    gradient = np.concatenate([np.zeros(cells), np.ones(count)])

    def elastic(k: int) -> dict[str, object]:
        fun, jac = pieces[k]
        unit = np.zeros(count)
        unit[k] = 1.0
        return {
            "type": "ineq",
            "fun": lambda y: fun(y[:cells]) + y[cells + k],
            "jac": lambda y: np.concatenate([jac(y[:cells]), unit]),
        }

    result = minimize(
        lambda y: float(np.sum(y[cells:])),
        np.concatenate([x0, slack0]),
        jac=lambda y: gradient,
        bounds=[*zip(lo / scale, hi / scale, strict=True), *[(0.0, None)] * count],
        constraints=[elastic(k) for k in range(count)],
        method="SLSQP",
        options={"maxiter": 1000, "ftol": 1e-12},
    )
    return np.clip(result.x[:cells] * scale, lo, hi).reshape(shape), str(result.message)


def describe_broken(problem: Problem, spend: np.ndarray, rows: list[Row], most: int = 4) -> str:
    """Broken rules in a budget owner's words, each with what the split gives instead."""
    gmv = problem.gmv(spend)
    parts = [f"{row.description} (this split: {_actual(row, spend, gmv)})" for row in rows[:most]]
    if len(rows) > most:
        parts.append(f"{len(rows) - most} more")
    return "; ".join(parts)


def _actual(row: Row, spend: np.ndarray, gmv: np.ndarray) -> str:
    """What a split gives for a rule, in the rule's own unit."""
    if row.kind == "ramp_limit":
        return f"over by {_cny(-row_slack(row, spend, gmv))}"
    value = row.num.evaluate(spend, gmv)
    if row.den is None:
        return _cny(value)
    ratio = value / max(row.den.evaluate(spend, gmv), 1e-12)
    if row.kind in ("gmv_share", "commission_cap"):
        return f"{ratio:.2%}"
    if row.kind == "cac_ceiling":
        return f"{ratio:,.2f} CNY"
    return f"{ratio:.4g}"


def _cny(value: float) -> str:
    return f"{value:,.0f} CNY" if abs(value) >= 1 else f"{value:.2g} CNY"


SLSQP_IN_WORDS = {
    "Iteration limit reached": "it ran out of iterations",
    "Inequality constraints incompatible": "the rules, linearised where it stood, contradicted "
    "each other",
    "Positive directional derivative for linesearch": "it found no direction that improves "
    "the plan",
}


def _in_words(message: str) -> str:
    """An SLSQP exit message as a budget owner can read it."""
    for text, words in SLSQP_IN_WORDS.items():
        if text in message:
            return words
    return f"its step failed numerically ({message})"


SOLVER = "nlp (SLSQP)"
Best = tuple[float, np.ndarray, str]  # objective, spend, the start it came from


def solve_nlp(problem: Problem, *, start: np.ndarray | None = None) -> SolveResult:
    """The nonlinear method: SLSQP on the true curves, its result re-checked like any plan.

    It starts from ``start`` and from an even split and keeps the best point that keeps every
    rule, so a poor start (all the budget in one cell, deep in saturation where the gradient
    vanishes) cannot change the answer. If neither ends keeping every rule, a phase-one SLSQP
    (least total breach of the rules, from the even split) finds a split that keeps them all
    and SLSQP starts again from there. No lp plan is used: the method stays an independent
    check. Rules on spend alone are column bounds here (``implied_bounds``).
    """
    started = time.perf_counter()
    refusal = _refusal(problem)
    if refusal is not None:
        return SolveResult(
            status="error", solver=SOLVER, rounds=0, is_mip=False, seconds=0.0, message=refusal
        )
    bounds = implied_bounds(problem)
    even = np.clip(default_start(problem), *bounds)
    starts = [("the even split", even)]
    if start is not None:
        starts.insert(0, ("the given start", np.asarray(start, dtype=float)))
    best, failures = _best_of(problem, starts, bounds)
    rounds = len(starts)
    failure = ""
    if best is None:
        best, failure = _from_phase_one(problem, even, bounds)
        rounds += 2
    common = {
        "solver": SOLVER,
        "rounds": rounds,
        "is_mip": False,
        "seconds": time.perf_counter() - started,
    }
    if best is None:
        return SolveResult(status="error", message=failure, **common)
    value, spend, label = best
    note = f"local optimum of the true curves from {label}; no bound is proven"
    if failures:
        note += " (" + "; ".join(failures) + ")"
    return SolveResult(status="optimal", spend=spend, objective=value, message=note, **common)


def _refusal(problem: Problem) -> str | None:
    """Why the nonlinear method cannot take this problem at all (None when it can)."""
    if problem.switches:
        return (
            "nlp cannot decide whether a channel is used at "
            "all (min_spend_if_used_cny, activation_cost_cny): use lp"
        )
    cells = problem.lo.size
    if cells > MAX_NLP_CELLS:
        return (
            f"the nonlinear method handles at most {MAX_NLP_CELLS} spend cells "
            f"(channels or KOL tiers x periods) and this plan has {cells}: try --solver lp"
        )
    return None


def _best_of(
    problem: Problem,
    starts: list[tuple[str, np.ndarray]],
    bounds: tuple[np.ndarray, np.ndarray],
) -> tuple[Best | None, list[str]]:
    """SLSQP from each start: the best end that keeps every rule, and what failed from where."""
    best: Best | None = None
    failures = []
    for label, point in starts:
        spend, message = local_optimum(problem, point, bounds)
        broken = [] if spend is None else broken_rows(problem, spend)
        if spend is None:
            failures.append(f"from {label} SLSQP stopped: {_in_words(message)}")
        elif broken:
            failures.append(f"from {label} it broke {describe_broken(problem, spend, broken)}")
        else:
            value = objective_value(problem, spend)
            if best is None or is_better(problem, value, best[0]):
                best = (value, spend, label)
    return best, failures


def _from_phase_one(
    problem: Problem, even: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
) -> tuple[Best | None, str]:
    """SLSQP from a split that keeps every rule, found by phase one from the even split; or
    why there is none, in a budget owner's words."""
    closest, _ = phase_one(problem, even, bounds)
    broken = broken_rows(problem, closest)
    if broken:
        return None, (
            "the nonlinear method could not find a split that keeps every rule: the "
            f"closest it came still breaks {describe_broken(problem, closest, broken)}"
            " — try --solver lp, which proves whether any split keeps them all"
        )
    spend, message = local_optimum(problem, closest, bounds)
    later = [] if spend is None else broken_rows(problem, spend)
    if spend is None or later:
        why = (
            _in_words(message)
            if spend is None
            else "it ended breaking " + describe_broken(problem, spend, later)
        )
        return None, (
            "the nonlinear method found a split that keeps every rule but could not "
            f"improve it to an optimum ({why}) — try --solver lp"
        )
    label = "a phase-one start (a split that keeps every rule, found from the even split)"
    return (objective_value(problem, spend), spend, label), ""

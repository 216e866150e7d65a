"""The dual method: exact plans for separable concave problems, with a proven gap.

The objective is a sum over cells (unit, period) of ``c_s x + c_g g(x)``, where ``g = gain f``
is one cell's GMV at spend x, and every rule is a row ``a_s . x + a_g . g(x) (sense) b``. Few
rows couple the cells (the budget, ROAS floors, CAC ceilings, shares); a row on one cell's spend
alone is a bound of that cell. Given multipliers ``lam >= 0`` of the coupling rows the
Lagrangian separates,

    L(x, lam) = sum over cells of [W g(x) - P x] + lam . b + constant,
    W = c_g - lam . A_g,   P = lam . A_s - c_s,

and each cell's best spend solves ``W g'(x) = P``: in closed form for every family but Hill
below shape 1 (a vectorised Newton there). ``D(lam) = max_x L`` is convex, bounds the objective
of every plan from above (weak duality), and has gradient ``b - A(x(lam))`` and Hessian
``J diag(1 / -W g'') J^T`` over the cells strictly inside their bounds. The method minimises D
(L-BFGS-B from zero, then Newton on the rows that bind) until those rows hold to float
precision: the plan ``x(lam*)`` keeps every rule and ``D(lam*) - objective(x)`` is a proven gap.

S-shaped curves under at most one coupling row go to branch and bound on the same bound
(``optimizer.core.branch``). It applies to those and to strictly concave curves with no on/off
switches (``reason_not_applicable``) and says why not otherwise; a problem it cannot certify
(an infeasible one, a non-convex rule that leaves a duality gap) comes back as None with the
reason, for the LP route to take over.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from optimizer.core.branch import Branching
from optimizer.core.chains import ChainLagrangian, reason_not_separable
from optimizer.core.checks import SolveResult, broken_rows, objective_value, relative_gap
from optimizer.core.forms import CellForm
from optimizer.core.lagrangian import Lagrangian, OutOfTime, cell_bound
from optimizer.core.problem import Problem

MAX_COUPLING_ROWS = 400  # the Newton system is dense in the coupling rows


def reason_not_applicable(problem: Problem) -> str | None:
    """Why the dual method does not apply to this problem (None when it does)."""
    if problem.switches:
        return "whether a channel is used at all needs binaries"
    if problem.carried:
        reason = reason_not_separable(problem)
        if reason is not None:
            return reason
    for unit in problem.units:
        if not (unit.curve.is_strictly_concave() or unit.curve.is_s_shaped()):
            return f"{unit.id} has a {unit.curve.family} curve, not strictly concave"
    coupling = sum(
        1 for row in problem.rows if not isinstance(row.num, CellForm) and cell_bound(row) is None
    )
    if coupling > MAX_COUPLING_ROWS:
        return f"{coupling} rows couple the cells (at most {MAX_COUPLING_ROWS})"
    bent = [unit.id for unit in problem.units if unit.curve.is_s_shaped()]
    if bent and coupling > 1:
        return (
            f"{bent[0]} has an S-shaped curve and {coupling} rows couple the cells "
            "(branch and bound takes one)"
        )
    return None


def solve_dual(
    problem: Problem, tolerance: float, deadline: float = float("inf")
) -> tuple[SolveResult | None, str]:
    """The exact plan and its proven gap, or None and why the method could not certify one
    (by ``deadline``, a ``time.perf_counter()`` time)."""
    started = time.perf_counter()
    reason = reason_not_applicable(problem)
    if reason is not None:
        return None, reason
    dual = ChainLagrangian(problem, deadline) if problem.carried else Lagrangian(problem, deadline)
    if dual.infeasible:
        return None, f"the rules leave no plan ({dual.infeasible})"
    try:
        if dual.bent.any():
            return _solve_branching(problem, dual, tolerance, deadline, started)
        lam, iterations = dual.solve()
    except OutOfTime:
        return None, "the time limit ran out"
    bound_scaled, _, x = dual.evaluate(lam)
    bound_scaled += dual.rounding(lam, x)
    how = f"Lagrangian bound over {len(dual.b)} coupling rows"
    if isinstance(dual, ChainLagrangian):
        how += f", a chain over {len(problem.periods)} periods per unit"
    return _certified(problem, dual, x, lam, bound_scaled, tolerance, started, iterations, how)


def _certified(
    problem: Problem,
    dual: Lagrangian,
    x: np.ndarray,
    lam: np.ndarray,
    bound_scaled: float,
    tolerance: float,
    started: float,
    rounds: int,
    how: str,
) -> tuple[SolveResult | None, str]:
    """The plan at spend x with its proven gap to the (scaled) bound, once the coupling rows
    are checked on the true curves (a cell's own limits hold exactly: x is clipped to them);
    None and why when a row breaks or the gap is above the tolerance."""
    spend = x.reshape(problem.lo.shape)
    broken = broken_rows(replace(problem, rows=[problem.rows[i] for i in dual.row_index]), spend)
    if broken:
        names = ", ".join(row.name for row in broken[:3])
        return None, f"no multipliers make every rule hold ({names}): infeasible or non-convex"
    value = objective_value(problem, spend)
    bound = dual.sign * bound_scaled * dual.scale
    gap = relative_gap(problem, bound, value)
    if not np.isfinite(gap):
        return None, f"its bound is not a number ({how}): no gap can be proven"
    if gap > tolerance:
        return None, f"its proven gap {gap:.2g} ({how}) is above the tolerance {tolerance:g}"
    result = SolveResult(
        status="optimal",
        solver="dual",
        rounds=rounds,
        is_mip=False,
        seconds=time.perf_counter() - started,
        message=f"proven gap {gap:.2g} ({how})",
        spend=spend,
        objective=value,
        bound=bound,
        gap=gap,
        row_duals=dual.duals(lam, x),
    )
    return result, ""


def _solve_branching(
    problem: Problem, dual: Lagrangian, tolerance: float, deadline: float, started: float
) -> tuple[SolveResult | None, str]:
    """S-shaped cells: branch and bound on the Lagrangian bound (``optimizer.core.branch``)."""
    found = Branching(dual, tolerance).solve(deadline)
    nodes = f"{found.nodes} node{'s' if found.nodes != 1 else ''}"
    how = f"branch and bound on the Lagrangian bound: {nodes}"
    return _certified(
        problem, dual, found.x, found.lam, found.bound, tolerance, started, found.nodes, how
    )

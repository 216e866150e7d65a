"""Why a scenario is infeasible, and the smallest change to each conflicting rule that fixes it.

For each rule of the minimal conflicting set, an elastic program drops the rule and optimises
its own measure under every other rule: the best reachable value is the loosest the limit can
stay. An amount (budget, spend limit) needs one solve; a ratio (ROAS, CAC, share, commission
rate) is a fractional program, solved exactly by Dinkelbach's iterations: maximise
``num - r * den``, set ``r`` to the ratio reached, repeat until it stops moving. Every
suggestion is then verified by re-planning with it applied.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from optimizer.core.checks import measured, row_holds
from optimizer.core.conflict import BOUNDS
from optimizer.core.engine import optimise
from optimizer.core.forms import LinearForm, Row
from optimizer.core.problem import Problem
from optimizer.core.pwl import build_program, clean, elastic, initial_grid, segments, spend_from
from optimizer.core.solvers.base import Solver

DINKELBACH_ROUNDS = 12
# Suggestions step this far (relative) inside the reachable range: exactly on its boundary
# a piecewise-linear plan can only approach, never reach, what the true curves allow.
OUTWARD = 1e-5


@dataclass(frozen=True)
class Relaxation:
    """The smallest change to one conflicting rule that restores feasibility on its own."""

    rule: str
    kind: str
    description: str
    limit: float | None
    suggested: float | None
    verified: bool
    text: str
    joint: bool = False  # part of a change to several rules at once (overlapping conflicts)


def diagnose(
    problem: Problem, solver: Solver, conflict: list[str], deadline: float
) -> list[Relaxation]:
    """One suggestion per rule of the conflicting set (by hand for multi-row rules)."""
    suggestions = []
    for key in conflict:
        rows = [row for row in problem.rows if row.key == key]
        if key == BOUNDS or len(rows) != 1:
            what = "KOL tier capacities" if key == BOUNDS else f"the {len(rows)} rows of {key}"
            suggestions.append(
                Relaxation(
                    key,
                    "group",
                    what,
                    None,
                    None,
                    False,
                    f"relax {what} by hand: one number cannot say how",
                )
            )
            continue
        suggestions.append(_relax(problem, solver, rows[0], deadline))
    if any(suggestion.suggested is None for suggestion in suggestions):
        suggestions.extend(joint_relaxation(problem, solver, deadline))
    return suggestions


def joint_relaxation(problem: Problem, solver: Solver, deadline: float) -> list[Relaxation]:
    """Change several rules at once, by the elastic program's least total violation.

    Where conflicts overlap, no single rule can give way alone. The elastic program finds the
    spend that breaks the rules by the fewest CNY; every rule it breaks gets the limit that
    spend reaches on the true curves, so applying all of them together is feasible by
    construction (and is re-planned to confirm).
    """
    program = elastic(
        build_program(problem, segments(problem, initial_grid(problem), "chord")), len(problem.rows)
    )
    limit = max(deadline - time.perf_counter(), 0.5)
    solution = solver.solve(program.lp, time_limit_s=limit, mip_gap=1e-6)
    if solution.x is None:
        return []
    spend = spend_from(program, clean(program, solution.x))
    gmv = problem.gmv(spend)
    rows, changed = [], []
    for row in problem.rows:
        value = measured(row, spend, gmv)
        if row_holds(row, spend, gmv) or value is None:
            rows.append(row)
            continue
        rows.append(replace(row, limit=_outward(row, value)))
        changed.append((row, rows[-1].limit))
    verified = _is_feasible(replace(problem, rows=rows), solver, deadline)
    return [
        Relaxation(
            row.name,
            row.kind,
            row.description,
            row.limit,
            new,
            verified,
            f"together: {row.description}: move the limit from {_show(row.limit)} to {_show(new)}",
            joint=True,
        )
        for row, new in changed
    ]


def _relax(problem: Problem, solver: Solver, row: Row, deadline: float) -> Relaxation:
    others = [r for r in problem.rows if r.key != row.key]
    reached = best_reachable(replace(problem, rows=others), solver, row, deadline)
    if reached is None:
        return Relaxation(
            row.name,
            row.kind,
            row.description,
            row.limit,
            None,
            False,
            f"{row.name}: the other rules conflict among themselves too, so "
            "changing this rule alone cannot restore feasibility",
        )
    suggested = _outward(row, reached)
    verified = _is_feasible(
        replace(problem, rows=[*others, replace(row, limit=suggested)]), solver, deadline
    )
    verb = {"<=": "raise", ">=": "lower"}.get(row.sense, "set")
    text = (
        f"{row.description}: {verb} the limit from {_show(row.limit)} to {_show(suggested)}"
        f" (the best reachable under every other rule)"
    )
    return Relaxation(row.name, row.kind, row.description, row.limit, suggested, verified, text)


def best_reachable(others: Problem, solver: Solver, row: Row, deadline: float) -> float | None:
    """The row's measure pushed as far as the other rules allow (None if they are infeasible).

    For ``>=`` the highest reachable value, for ``<=`` the lowest, for ``==`` the reachable
    value closest to the current limit.
    """
    if row.sense == "==":
        high = _extreme(others, solver, row, True, deadline)
        low = _extreme(others, solver, row, False, deadline)
        if high is None or low is None:
            return None
        inside = OUTWARD * max(abs(high), abs(low))
        return min(max(row.limit, low + inside), high - inside)
    return _extreme(others, solver, row, row.sense == ">=", deadline)


def _extreme(
    problem: Problem, solver: Solver, row: Row, highest: bool, deadline: float
) -> float | None:
    if row.den is None:
        spend = _optimum(problem, solver, row.num, highest, deadline)
        return None if spend is None else row.num.evaluate(spend, problem.gmv(spend))
    ratio = row.limit
    for _ in range(DINKELBACH_ROUNDS):
        spend = _optimum(problem, solver, row.num.minus(row.den, ratio), highest, deadline)
        if spend is None:
            return None
        gmv = problem.gmv(spend)
        den = row.den.evaluate(spend, gmv)
        if den <= 1e-12:
            return None  # nothing spent in the rule's scope: no ratio to reach
        reached = row.num.evaluate(spend, gmv) / den
        if abs(reached - ratio) <= 1e-9 * max(abs(ratio), 1.0):
            return reached
        ratio = reached
    return ratio


def _optimum(
    problem: Problem, solver: Solver, objective: LinearForm, maximise: bool, deadline: float
) -> np.ndarray | None:
    trial = replace(problem, objective=objective, maximise=maximise)
    limit = deadline - time.perf_counter()
    if limit <= 0:
        return None
    result = optimise(trial, solver, tolerance=1e-7, time_limit_s=limit, confirm=False)
    return result.spend if result.status in ("optimal", "feasible") else None


def _is_feasible(problem: Problem, solver: Solver, deadline: float) -> bool:
    limit = deadline - time.perf_counter()
    if limit <= 0:
        return False  # out of time: the suggestion is not confirmed
    result = optimise(problem, solver, tolerance=1e-3, time_limit_s=limit, confirm=False)
    return result.spend is not None


def _outward(row: Row, value: float) -> float:
    step = OUTWARD * abs(value)  # relative, so a limit of zero stays zero
    return value - step if row.sense == ">=" else value + step if row.sense == "<=" else value


def _show(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"

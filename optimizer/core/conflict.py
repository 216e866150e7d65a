"""A proven "infeasible": the relaxation has no solution, and which rules cannot hold together.

The tangent program is a relaxation of the true problem, so when it has no solution no plan
exists, and a set of rules it finds infeasible is truly infeasible. The deletion filter here
shrinks the rules to a minimal such set; ``diagnosis`` then says how to relax each of them.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from optimizer.core.checks import SolveResult
from optimizer.core.problem import Problem
from optimizer.core.pwl import build_program, initial_grid, segments
from optimizer.core.solvers.base import Solver

BOUNDS = "channel_period_bounds"
"""The conflict item that stands for the KOL tier capacities (column bounds, not rows)."""


def proven_infeasible(
    problem: Problem, solver: Solver, rounds: int, started: float, deadline: float
) -> SolveResult:
    """The verdict when the relaxation has no solution, naming a minimal conflicting set."""
    conflict = minimal_conflict(problem, solver, deadline)
    names = ", ".join(conflict) if conflict else "the channel spend bounds"
    descriptions = {row.key: row.description for row in problem.rows}
    descriptions[BOUNDS] = "KOL tier capacities (capacity_fee_cny)"
    detail = "; ".join(descriptions.get(name, name) for name in conflict)
    message = f"no allocation satisfies every rule: these cannot all hold together: {names}"
    if detail:
        message += f" ({detail})"
    return SolveResult(
        status="infeasible",
        solver=solver.name,
        rounds=rounds,
        is_mip=False,
        seconds=time.perf_counter() - started,
        message=message,
        conflict=conflict,
        evidence="proven: the relaxation (tangent program) has no solution",
    )


def minimal_conflict(problem: Problem, solver: Solver, deadline: float | None = None) -> list[str]:
    """A minimal set of rules that cannot hold together (deletion filter on the relaxation).

    The tangent program is a relaxation, so a set it finds infeasible is truly infeasible.
    A rule's rows go in and out together (a channel's per-period limits are one item), and
    KOL tier capacities are one item, ``channel_period_bounds``.
    """
    items = [*dict.fromkeys(row.key for row in problem.rows), BOUNDS]
    keep = list(items)
    for item in items:
        trial = [name for name in keep if name != item]
        if deadline is not None and time.perf_counter() >= deadline:
            break  # out of time: what is kept still conflicts, though it may not be minimal
        if not _is_feasible(problem, solver, trial, deadline):
            keep = trial
    return keep


def _is_feasible(
    problem: Problem, solver: Solver, names: list[str], deadline: float | None = None
) -> bool:
    """Whether the relaxation keeping only the named rules (and bounds) has a solution."""
    rows = [row for row in problem.rows if row.key in names]
    trial = replace(problem, rows=rows)
    if BOUNDS not in names:
        budget = max(problem.scenario.media_budget_cny(), 0.0)
        trial = replace(trial, lo=np.zeros_like(problem.lo), hi=np.full_like(problem.hi, budget))
    grid = initial_grid(trial)
    outer = build_program(trial, segments(trial, grid, "tangent"))
    limit = 30.0 if deadline is None else max(deadline - time.perf_counter(), 0.01)
    return solver.solve(outer.lp, time_limit_s=limit, mip_gap=1e-4).status != "infeasible"

"""Solve a Problem: refine piecewise-linear programs until the true-curve gap meets tolerance.

Each round solves the chord program (its spend is the candidate plan) and the tangent program
(its objective bounds the true optimum), recomputes the objective and every rule on the true
curves at the candidate, and adds breakpoints around both solutions until
``|bound - true objective| <= tolerance * |bound|`` and every rule holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from optimizer.model import Problem, Row
from optimizer.polish import polish
from optimizer.pwl import build_program, initial_grid, out_of_order, refine, segments, spend_from
from optimizer.solvers.base import Solution, Solver, Status

MAX_ROUNDS = 40
FEASIBILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SolveResult:
    """What the engine found, with the evidence a plan reports."""

    status: Status
    spend: np.ndarray | None
    solver: str
    rounds: int
    objective: float | None
    bound: float | None
    gap: float | None
    is_mip: bool
    mip_gap: float | None
    seconds: float
    message: str = ""
    polished: bool = False
    conflict: list[str] = field(default_factory=list)


def objective_value(problem: Problem, spend: np.ndarray) -> float:
    """True objective at the given spend."""
    return problem.objective.evaluate(spend, problem.gmv(spend))


def row_slack(row: Row, spend: np.ndarray, gmv: np.ndarray) -> float:
    """Slack of a row on the true curves: >= 0 when it holds (for == rows, -|residual|)."""
    form, rhs = row.linear()
    value = form.evaluate(spend, gmv)
    if row.sense == "<=":
        return rhs - value
    if row.sense == ">=":
        return value - rhs
    return -abs(value - rhs)


def row_scale(row: Row, spend: np.ndarray, gmv: np.ndarray) -> float:
    """Magnitude against which a row's slack is judged."""
    form, rhs = row.linear()
    size = np.sum(np.abs(form.spend_coef * spend)) + np.sum(np.abs(form.gmv_coef * gmv))
    return float(max(size, abs(rhs), 1.0))


def violated_rows(problem: Problem, spend: np.ndarray) -> list[str]:
    """Names of rows that fail on the true curves beyond the feasibility tolerance."""
    gmv = problem.gmv(spend)
    return [
        row.name
        for row in problem.rows
        if row_slack(row, spend, gmv) < -FEASIBILITY_TOLERANCE * row_scale(row, spend, gmv)
    ]


def relative_gap(problem: Problem, bound: float, value: float) -> float:
    """How far the true objective is from the bound, relative to the bound's size."""
    difference = bound - value if problem.maximise else value - bound
    return max(difference, 0.0) / max(abs(bound), abs(value), 1.0)


def optimise(
    problem: Problem, solver: Solver, *, tolerance: float = 1e-4, time_limit_s: float = 60.0
) -> SolveResult:
    """Refine and solve until the plan is within tolerance of the bound on the true curves."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    grid = initial_grid(problem)
    s_shaped = ~np.array([[u.curve.is_concave()] * len(problem.periods) for u in problem.units])
    ordered = s_shaped.copy()
    best: tuple[float, np.ndarray] | None = None
    bound = None
    mip_gap = None
    gap = None
    last = Solution("error", None, None, 0.0, "not solved")
    for round_no in range(1, MAX_ROUNDS + 1):
        remaining = max(deadline - time.perf_counter(), 0.01)
        inner = build_program(problem, segments(problem, grid, "chord"), ordered)
        last = solver.solve(inner.lp, time_limit_s=remaining, mip_gap=tolerance / 10)
        # Only S-shaped units keep their binaries here: for concave ones, gmv <= tangents
        # without any ordering is what makes this program a relaxation.
        outer = build_program(problem, segments(problem, grid, "tangent"), s_shaped)
        remaining = max(deadline - time.perf_counter(), 0.01)
        relaxed = solver.solve(outer.lp, time_limit_s=remaining, mip_gap=tolerance / 10)
        if relaxed.status == "infeasible":
            return _infeasible(problem, solver, round_no, started)
        if last.status in ("unbounded", "error") or relaxed.status in ("unbounded", "error"):
            failed = last if last.status in ("unbounded", "error") else relaxed
            return SolveResult(
                failed.status,
                None,
                solver.name,
                round_no,
                None,
                None,
                None,
                inner.lp.is_mip,
                None,
                _since(started),
                failed.message,
            )
        if relaxed.x is not None and relaxed.objective is not None and relaxed.status == "optimal":
            bound = _tighter(problem, bound, relaxed.objective + _allowance(problem, grid))
        if last.x is None:
            if relaxed.x is None or time.perf_counter() >= deadline:
                break
            refine(grid, problem, spend_from(outer, relaxed.x))
            continue
        spend = spend_from(inner, last.x)
        disorder = out_of_order(inner, last.x) & ~ordered
        if disorder.any():
            ordered |= disorder
            continue
        mip_gap = last.mip_gap
        value = objective_value(problem, spend)
        if not violated_rows(problem, spend) and (best is None or _better(problem, value, best[0])):
            best = (value, spend)
        gap = relative_gap(problem, bound, best[0]) if best and bound is not None else None
        if (gap is not None and gap <= tolerance) or time.perf_counter() >= deadline:
            break
        points = [spend] if relaxed.x is None else [spend, spend_from(outer, relaxed.x)]
        refine(grid, problem, *points)
    is_mip = bool(ordered.any())
    if best is None:
        status: Status = "time_limit" if time.perf_counter() >= deadline else "error"
        return SolveResult(
            status,
            None,
            solver.name,
            round_no,
            None,
            bound,
            None,
            is_mip,
            None,
            _since(started),
            last.message
            or "no plan satisfies every rule on the true curves within the refinement limit",
        )
    value, spend = best
    polished = False
    if gap is None or gap > 0:
        candidate = polish(problem, spend)
        if candidate is not None and not violated_rows(problem, candidate):
            new_value = objective_value(problem, candidate)
            if _better(problem, new_value, value):
                value, spend, polished = new_value, candidate, True
    gap = relative_gap(problem, bound, value) if bound is not None else None
    timed_out = time.perf_counter() >= deadline and (gap is None or gap > tolerance)
    status = "time_limit" if timed_out or last.status == "time_limit" else "optimal"
    message = (
        ""
        if gap is not None and gap <= tolerance
        else (
            f"gap {gap:.2e} above the tolerance {tolerance:.0e} after {round_no} rounds"
            if gap is not None
            else "no bound was proven"
        )
    )
    return SolveResult(
        status,
        spend,
        solver.name,
        round_no,
        value,
        bound,
        gap,
        is_mip,
        mip_gap,
        _since(started),
        message,
        polished,
    )


def _allowance(problem: Problem, grid: list[list[np.ndarray]]) -> float:
    """Most S-curves exceed their chords, weighted by the objective: keeps the bound sound."""
    total = 0.0
    for i, unit in enumerate(problem.units):
        if unit.curve.is_concave():
            continue
        for t, points in enumerate(grid[i]):
            fine = np.linspace(points[:-1], points[1:], 9, axis=-1)
            chord = np.interp(fine, points, unit.curve.value(points))
            excess = float(np.max(unit.curve.value(fine) - chord, initial=0.0))
            coef = abs(problem.objective.gmv_coef[i, t]) * unit.gain[t]
            total += coef * max(excess, 0.0)
    return total if problem.maximise else -total


def _better(problem: Problem, value: float, incumbent: float) -> bool:
    return value > incumbent if problem.maximise else value < incumbent


def _tighter(problem: Problem, bound: float | None, candidate: float) -> float:
    if bound is None:
        return candidate
    return min(bound, candidate) if problem.maximise else max(bound, candidate)


def _since(started: float) -> float:
    return time.perf_counter() - started


def _infeasible(problem: Problem, solver: Solver, rounds: int, started: float) -> SolveResult:
    conflict = minimal_conflict(problem, solver)
    names = ", ".join(conflict) if conflict else "the channel spend bounds"
    descriptions = {row.name: row.description for row in problem.rows}
    detail = "; ".join(descriptions.get(name, name) for name in conflict)
    message = f"no allocation satisfies every rule: these cannot all hold together: {names}"
    if detail:
        message += f" ({detail})"
    return SolveResult(
        "infeasible",
        None,
        solver.name,
        rounds,
        None,
        None,
        None,
        False,
        None,
        _since(started),
        message,
        conflict=conflict,
    )


BOUNDS = "channel_period_bounds"


def minimal_conflict(problem: Problem, solver: Solver) -> list[str]:
    """A minimal set of rules that cannot hold together (deletion filter on the relaxation).

    The tangent program is a relaxation, so a set it finds infeasible is truly infeasible.
    Per-period channel bounds count as one item, ``channel_period_bounds``.
    """
    items = [row.name for row in problem.rows] + [BOUNDS]
    keep = list(items)
    for item in items:
        trial = [name for name in keep if name != item]
        if not _is_feasible(problem, solver, trial):
            keep = trial
    return keep


def _is_feasible(problem: Problem, solver: Solver, names: list[str]) -> bool:
    rows = [row for row in problem.rows if row.name in names]
    trial = replace(problem, rows=rows)
    if BOUNDS not in names:
        budget = max(problem.scenario.media_budget_cny(), 0.0)
        trial = replace(trial, lo=np.zeros_like(problem.lo), hi=np.full_like(problem.hi, budget))
    grid = initial_grid(trial)
    outer = build_program(trial, segments(trial, grid, "tangent"))
    return solver.solve(outer.lp, time_limit_s=30.0, mip_gap=1e-4).status != "infeasible"

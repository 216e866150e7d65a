"""Solve a Problem: refine piecewise-linear programs until the true-curve gap meets tolerance.

Each round solves the chord program (its spend is the candidate plan) and the tangent program
(its objective bounds the true optimum), recomputes the objective and every rule on the true
curves at the candidate, and adds breakpoints around both solutions until
``|bound - true objective| <= tolerance * |bound|`` and every rule holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from optimizer.core.checks import SolveResult, objective_value, relative_gap, violated_rows
from optimizer.core.nlp import polish
from optimizer.core.problem import Problem
from optimizer.core.pwl import (
    Approximation,
    PwlProgram,
    build_program,
    clean,
    initial_grid,
    out_of_order,
    refine,
    segments,
    spend_from,
)
from optimizer.core.solvers import available_solvers, get_solver
from optimizer.core.solvers.base import Solution, Solver, Status

MAX_ROUNDS = 40
Progress = Callable[[int, float | None], None]
MAX_ROUNDS_WITHOUT_PLAN = 8


def optimise(
    problem: Problem,
    solver: Solver,
    *,
    tolerance: float = 1e-4,
    time_limit_s: float = 60.0,
    progress: Progress | None = None,
    confirm: bool = True,
    started: float | None = None,
) -> SolveResult:
    """Refine and solve until the plan is within tolerance of the bound on the true curves.

    ``progress(round, gap)`` is called after each round; it may raise to abandon the search.
    An "infeasible" the search reaches by itself (no plan, though the relaxation has one) is
    handed to a second backend first when ``confirm``: its plan, if it finds one, is the
    answer; otherwise the verdict says it was confirmed, not proven. The time limit runs from
    ``started`` (default: now), so that building the problem can count too.
    """
    search = _Search(problem, solver, tolerance, time_limit_s, started)
    for round_no in range(1, MAX_ROUNDS + 1):
        search.rounds = round_no
        verdict = search.round()
        if verdict is not None:
            return verdict
        if progress is not None:
            progress(round_no, search.gap())
        if search.converged() or search.out_of_time():
            break
        if search.rounds_without_plan >= MAX_ROUNDS_WITHOUT_PLAN:
            unproven = (
                f"{solver.name} found no plan that keeps every rule on the true curves after "
                f"{round_no} rounds of refinement with the exact (MILP) piecewise form, though "
                "the relaxation has one"
            )
            if not confirm:
                return search.result("infeasible", unproven, evidence="not confirmed")
            return _second_opinion(search, unproven)
    return search.finish()


def _second_opinion(search: _Search, unproven: str) -> SolveResult:
    """Ask another backend (another solver engine where one is installed) before saying no."""
    others = [name for name in available_solvers() if name != search.solver.name]
    engines = {"highs": "HiGHS", "highs-direct": "HiGHS", "cbc": "CBC"}
    others.sort(key=lambda name: engines.get(name, name) == engines.get(search.solver.name))
    if not others or search.remaining() < search.cost["chord"] + search.cost["tangent"]:
        why = "no second solver is installed" if not others else "no time was left for one"
        return search.result("infeasible", f"{unproven}; not confirmed: {why}", evidence=why)
    other = get_solver(others[0])
    second = optimise(
        search.problem,
        other,
        tolerance=search.tolerance,
        time_limit_s=search.deadline - time.perf_counter(),
        confirm=False,
    )
    if second.spend is not None:
        return replace(
            second,
            solver=f"{other.name} (after {search.solver.name})",
            rounds=search.rounds + second.rounds,
            seconds=_since(search.started),
            message="; ".join(
                filter(None, [f"{unproven}; {other.name} found this plan", second.message])
            ),
        )
    if second.evidence is not None and second.evidence.startswith("proven"):
        return replace(second, solver=f"{other.name} (after {search.solver.name})")
    if second.status != "infeasible":
        why = f"{other.name} stopped with status {second.status} ({second.message})"
        return search.result("infeasible", f"{unproven}; not confirmed: {why}", evidence=why)
    confirmed = f"confirmed by {other.name}, which found no plan either; not proven"
    return search.result("infeasible", f"{unproven}; {confirmed}", evidence=confirmed)


class _Search:
    """State of one refinement: breakpoints, exact-form mask, incumbent plan and bound."""

    def __init__(
        self,
        problem: Problem,
        solver: Solver,
        tolerance: float,
        limit: float,
        started: float | None = None,
    ) -> None:
        self.problem = problem
        self.solver = solver
        self.tolerance = tolerance
        self.started = time.perf_counter() if started is None else started
        self.deadline = self.started + limit
        self.limit = limit
        self.grid = initial_grid(problem)
        concave = np.array([u.curve.is_concave() for u in problem.units])
        self.s_shaped = np.repeat(~concave[:, None], len(problem.periods), axis=1)
        self.ordered = self.s_shaped.copy()
        self.best: tuple[float, np.ndarray] | None = None
        self.duals: np.ndarray | None = None
        self.bound: float | None = None
        self.mip_gap: float | None = None
        self.hit_time_limit = False
        self.rounds = 0
        self.rounds_without_plan = 0
        self.stopped = False  # the rest of the time limit cannot pay for another solve
        self.cost: dict[str, float] = {"chord": 0.0, "tangent": 0.0}  # seconds, 0: unknown
        # How far past the time it was given a solver has returned (CBC starts, preprocesses
        # and looks at its clock only between nodes: about 0.3-0.5 s on a 360-binary MILP);
        # later solves are given that much less, so the plan keeps its whole limit.
        self.overrun = 0.0

    def remaining(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.001)

    def out_of_time(self) -> bool:
        return self.stopped or time.perf_counter() >= self.deadline

    def gap(self) -> float | None:
        if self.best is None or self.bound is None:
            return None
        return relative_gap(self.problem, self.bound, self.best[0])

    def converged(self) -> bool:
        gap = self.gap()
        return gap is not None and gap <= self.tolerance

    def solve(self, program: PwlProgram, share: float = 1.0) -> Solution:
        """Solve with ``share`` of the remaining time (the plan's solve leaves the bound some),
        less the solver's known overrun."""
        given = max(share * self.remaining() - self.overrun, 0.001)
        started = time.perf_counter()
        solution = self.solver.solve(program.lp, time_limit_s=given, mip_gap=self.tolerance / 10)
        self.overrun = max(self.overrun, time.perf_counter() - started - given)
        self.hit_time_limit |= solution.status == "time_limit"
        return solution

    def build_and_solve(
        self, mode: Approximation, ordered: np.ndarray, share: float = 1.0
    ) -> tuple[PwlProgram, Solution] | None:
        """Build and solve the chord or tangent program; None (and the search stops) when
        what is left of the time limit cannot pay for it. A time limit covers the whole
        search, not only the solver's runs, so each mode's last complete build and solve is
        its price (only the building, when its solve hit the limit); a mode not yet priced
        costs what the other one did."""
        if self.remaining() - self.overrun < (self.cost[mode] or max(self.cost.values())):
            self.stopped = True
            return None
        started = time.perf_counter()
        program = build_program(self.problem, segments(self.problem, self.grid, mode), ordered)
        built = time.perf_counter() - started
        solution = self.solve(program, share)
        if solution.status == "time_limit":  # at least the building, the solve is unknown
            self.cost[mode] = max(self.cost[mode], built + self.solver.build_seconds)
        else:
            self.cost[mode] = time.perf_counter() - started
        return program, solution

    def round(self) -> SolveResult | None:
        """One chord solve (candidate plan) and one tangent solve (bound); None to go on."""
        problem = self.problem
        chord = self.build_and_solve("chord", self.ordered, share=0.5)
        if chord is None:
            return None
        inner, candidate = chord
        # Only S-shaped units keep binaries in the tangent program: for concave ones,
        # gmv <= tangents without any ordering is what makes it a relaxation.
        tangent = None if self.out_of_time() else self.build_and_solve("tangent", self.s_shaped)
        if tangent is None:
            # The limit covers the whole search: keep what the chord program gave, no bound.
            if candidate.x is not None:
                x = clean(inner, candidate.x)
                spend = spend_from(inner, x)
                if not violated_rows(problem, spend):
                    self._offer(spend, inner, candidate)
            return None
        outer, relaxed = tangent
        if relaxed.status == "infeasible":
            return _infeasible(problem, self.solver, self.rounds, self.started, self.deadline)
        for broken in (candidate, relaxed):
            if broken.status in ("unbounded", "error"):
                return self.finish_without_plan(broken.status, broken.message)
        proven = relaxed.objective if relaxed.status == "optimal" else relaxed.bound
        if proven is not None:
            value = outer.objective(proven)
            budget = 0.5 * self.tolerance * max(abs(value), 1.0)
            bound = value + _account_s_curves(problem, self.grid, budget)
            self.bound = bound if self.bound is None else _tighter(problem, self.bound, bound)
        points = [] if relaxed.x is None else [spend_from(outer, clean(outer, relaxed.x))]
        if candidate.x is None:
            self.rounds_without_plan += 1
        else:
            x = clean(inner, candidate.x)
            spend = spend_from(inner, x)
            if violated_rows(problem, spend):
                # A chord program may fill a later segment first when a rule prefers less GMV;
                # the true curve then breaks the rule. Those unit-periods get the exact form.
                disorder = out_of_order(inner, x) & ~self.ordered
                self.ordered |= disorder
                self.rounds_without_plan += 1
            else:
                self.rounds_without_plan = 0
                self.mip_gap = candidate.mip_gap
                self._offer(spend, inner, candidate)
            points.append(spend)
        if points and not self.out_of_time():
            refine(self.grid, problem, *points)
        return None

    def _fixed_duals(self, program: PwlProgram, solution: Solution) -> np.ndarray | None:
        """A MILP's duals: the LP with every binary fixed at its value (the usual convention)."""
        lp = program.lp
        if not lp.is_mip or solution.x is None or self.out_of_time():
            return None
        fixed = np.round(solution.x[lp.integer])
        col_lo, col_hi = lp.col_lo.copy(), lp.col_hi.copy()
        col_lo[lp.integer] = col_hi[lp.integer] = fixed
        relaxed = replace(lp, col_lo=col_lo, col_hi=col_hi, integer=np.zeros_like(lp.integer))
        return self.solve(replace(program, lp=relaxed)).row_duals

    def _offer(self, spend: np.ndarray, program: PwlProgram, solution: Solution) -> None:
        """Keep the spend if it beats the incumbent, with the duals that price its rules."""
        value = objective_value(self.problem, spend)
        if self.best is None or _better(self.problem, value, self.best[0]):
            self.best = (value, spend)
            duals = solution.row_duals
            if duals is None:
                duals = self._fixed_duals(program, solution)
            self.duals = None if duals is None else duals[: len(self.problem.rows)]

    def result(self, status: Status, message: str, **plan: object) -> SolveResult:
        """The search's evidence, with the plan's own fields when there is a plan."""
        return SolveResult(  # type: ignore[misc]
            status=status,
            solver=self.solver.name,
            rounds=self.rounds,
            is_mip=bool(self.ordered.any()) or bool(self.problem.switches),
            seconds=_since(self.started),
            message=message,
            bound=self.bound,
            **plan,  # type: ignore[arg-type]
        )

    def finish_without_plan(self, status: Status, message: str) -> SolveResult:
        """No plan: just the status and why."""
        return self.result(status, message)

    def finish(self) -> SolveResult:
        if self.best is None:
            return self.finish_without_plan(
                "time_limit", f"no plan found within the time limit of {self.limit:g} s"
            )
        value, spend = self.best
        polished = False
        if self.gap() != 0.0 and not self.out_of_time():
            candidate = polish(self.problem, spend)
            if candidate is not None:
                candidate = settle(self.problem, candidate)
            if candidate is not None and not violated_rows(self.problem, candidate):
                new_value = objective_value(self.problem, candidate)
                if _better(self.problem, new_value, value):
                    value, spend, polished = new_value, candidate, True
                    self.best = (value, spend)
        spend = settle(self.problem, spend)
        value = objective_value(self.problem, spend)
        self.best = (value, spend)
        gap = self.gap()
        reached = gap is not None and gap <= self.tolerance
        status: Status = "optimal" if reached else "time_limit"
        if reached:
            message = ""
        elif self.out_of_time() or self.hit_time_limit:
            message = f"time limit of {self.limit:g} s reached; gap {_fmt(gap)}"
        else:
            status = "feasible"
            message = (
                f"gap {_fmt(gap)} is above the tolerance {self.tolerance:.0e} after "
                f"{self.rounds} rounds: the plan is feasible, its optimality is not proven "
                "to the tolerance"
            )
        return self.result(
            status,
            message,
            spend=spend,
            objective=value,
            gap=gap,
            mip_gap=self.mip_gap,
            polished=polished,
            row_duals=self.duals,
        )


def settle(problem: Problem, spend: np.ndarray) -> np.ndarray:
    """The allocation as reported: solver and SLSQP noise removed before anything is judged.

    A spend within 1e-9 of the largest spend bound (0.12 CNY on a 1.2e8 budget: the scaled
    programs' feasibility tolerance) of its cell's bound sits on it, so a cap of 3e7 reads
    3e7 and a closed period 0; then a hair over the budget is scaled away.
    """
    noise = 1e-9 * max(float(np.max(problem.hi, initial=0.0)), 1.0)
    spend = np.clip(spend, problem.lo, problem.hi)
    spend = np.where(np.abs(spend - problem.lo) <= noise, problem.lo, spend)
    spend = np.where(np.abs(problem.hi - spend) <= noise, problem.hi, spend)
    return _within_budget(problem, np.where(np.abs(spend) <= noise, 0.0, spend))


def _within_budget(problem: Problem, spend: np.ndarray) -> np.ndarray:
    """Scale spend down where a solver's tolerance left it a hair over the budget.

    Finance must never see media spend above the budget, even by 0.2 CNY of solver noise.
    Two passes, because commission paid from the budget falls less than proportionally.
    """
    budget = next((row for row in problem.rows if row.name == "budget"), None)
    if budget is None:
        return spend
    form, limit = budget.linear()
    for _ in range(2):
        used = form.evaluate(spend, problem.gmv(spend))
        if used <= limit or used <= 0:
            break
        spend = spend * (limit / used)
    return spend


def _fmt(gap: float | None) -> str:
    return "unknown" if gap is None else f"{gap:.2e}"


def _segment_excess(unit: object, points: np.ndarray) -> np.ndarray:
    """Most an S-shaped curve rises above each chord segment (sampled at 9 points)."""
    fine = np.linspace(points[:-1], points[1:], 9, axis=-1)
    chord = np.interp(fine, points, unit.curve.value(points))  # type: ignore[attr-defined]
    return np.maximum(np.max(unit.curve.value(fine) - chord, axis=-1), 0.0)  # type: ignore[attr-defined]


def _s_curve_errors(problem: Problem, grid: list[list[np.ndarray]]):
    """(unit, period, points, weighted excess per segment) for every S-shaped unit-period."""
    for i, unit in enumerate(problem.units):
        if unit.curve.is_concave():
            continue
        for t, points in enumerate(grid[i]):
            if len(points) < 2:
                continue
            weight = abs(problem.objective.gmv_coef[i, t]) * unit.gain[t]
            yield i, t, points, weight * _segment_excess(unit, points)


def _account_s_curves(problem: Problem, grid: list[list[np.ndarray]], budget: float) -> float:
    """Most S-curves exceed their chords (weighted by the objective), which keeps the bound
    sound; then halve the segments whose excess is above their share of ``budget``."""
    errors = list(_s_curve_errors(problem, grid))
    total = sum(float(np.max(excess, initial=0.0)) for *_, excess in errors)
    share = budget / max(len(errors), 1)
    for i, t, points, excess in errors:
        wide = excess > share
        if wide.any():
            midpoints = 0.5 * (points[:-1] + points[1:])[wide]
            grid[i][t] = np.unique(np.concatenate((points, midpoints)))
    return total if problem.maximise else -total


def _better(problem: Problem, value: float, incumbent: float) -> bool:
    return value > incumbent if problem.maximise else value < incumbent


def _tighter(problem: Problem, bound: float | None, candidate: float) -> float:
    if bound is None:
        return candidate
    return min(bound, candidate) if problem.maximise else max(bound, candidate)


def _since(started: float) -> float:
    return time.perf_counter() - started


def _infeasible(
    problem: Problem, solver: Solver, rounds: int, started: float, deadline: float
) -> SolveResult:
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
        seconds=_since(started),
        message=message,
        conflict=conflict,
        evidence="proven: the relaxation (tangent program) has no solution",
    )


BOUNDS = "channel_period_bounds"


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
    rows = [row for row in problem.rows if row.key in names]
    trial = replace(problem, rows=rows)
    if BOUNDS not in names:
        budget = max(problem.scenario.media_budget_cny(), 0.0)
        trial = replace(trial, lo=np.zeros_like(problem.lo), hi=np.full_like(problem.hi, budget))
    grid = initial_grid(trial)
    outer = build_program(trial, segments(trial, grid, "tangent"))
    limit = 30.0 if deadline is None else max(deadline - time.perf_counter(), 0.01)
    return solver.solve(outer.lp, time_limit_s=limit, mip_gap=1e-4).status != "infeasible"

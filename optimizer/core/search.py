"""One refinement search: rounds of chord and tangent programs, priced against the time limit.

Each round solves the chord program (its spend is the candidate plan) and the tangent program
(its objective bounds the true optimum), recomputes the objective and every rule on the true
curves at the candidate, and adds breakpoints around both solutions. The search keeps the best
plan that keeps every rule and the tightest bound; ``engine.optimise`` decides when to stop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from optimizer.core.checks import (
    SolveResult,
    is_better,
    objective_value,
    relative_gap,
    violated_rows,
)
from optimizer.core.conflict import proven_infeasible
from optimizer.core.curves import Curve
from optimizer.core.nlp import polish
from optimizer.core.problem import Problem
from optimizer.core.pwl import (
    Approximation,
    PwlProgram,
    build_program,
    clean,
    initial_grid,
    mask_width,
    out_of_order,
    refine,
    segments,
    spend_from,
)
from optimizer.core.settle import settle
from optimizer.core.solvers.base import Solution, Solver, Status


class Search:
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
        self.s_shaped = np.repeat(~concave[:, None], mask_width(problem), axis=1)
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

    # --- time

    def elapsed(self) -> float:
        """Seconds since the search (or the plan it serves) started."""
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        """Seconds left of the time limit (at least a millisecond, for a solver's option)."""
        return max(self.deadline - time.perf_counter(), 0.001)

    def out_of_time(self) -> bool:
        """True once the limit has passed or cannot pay for another solve."""
        return self.stopped or time.perf_counter() >= self.deadline

    # --- progress

    def gap(self) -> float | None:
        """The incumbent's relative gap to the bound (None without both)."""
        if self.best is None or self.bound is None:
            return None
        return relative_gap(self.problem, self.bound, self.best[0])

    def converged(self) -> bool:
        """True when the gap is within the tolerance."""
        gap = self.gap()
        return gap is not None and gap <= self.tolerance

    # --- solving

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
        chord = self.build_and_solve("chord", self.ordered, share=0.5)
        if chord is None:
            return None
        # Only S-shaped units keep binaries in the tangent program: for concave ones,
        # gmv <= tangents without any ordering is what makes it a relaxation.
        tangent = None if self.out_of_time() else self.build_and_solve("tangent", self.s_shaped)
        if tangent is None:
            self._keep_without_bound(*chord)
            return None
        outer, relaxed = tangent
        if relaxed.status == "infeasible":
            return proven_infeasible(
                self.problem, self.solver, self.rounds, self.started, self.deadline
            )
        for broken in (chord[1], relaxed):
            if broken.status in ("unbounded", "error"):
                return self.result(broken.status, broken.message)
        self._tighten_bound(outer, relaxed)
        points = [] if relaxed.x is None else [spend_from(outer, clean(outer, relaxed.x))]
        points += self._take_candidate(*chord)
        if points and not self.out_of_time():
            refine(self.grid, self.problem, *points)
        return None

    def _keep_without_bound(self, inner: PwlProgram, candidate: Solution) -> None:
        """The limit covers the whole search: keep what the chord program gave, no bound."""
        if candidate.x is not None:
            spend = spend_from(inner, clean(inner, candidate.x))
            if not violated_rows(self.problem, spend):
                self._offer(spend, inner, candidate)

    def _tighten_bound(self, outer: PwlProgram, relaxed: Solution) -> None:
        """Take the tangent program's (proven) objective, plus what S-curves may exceed their
        chords by, as the bound when it is tighter."""
        proven = relaxed.objective if relaxed.status == "optimal" else relaxed.bound
        if proven is None:
            return
        value = outer.objective(proven)
        budget = 0.5 * self.tolerance * max(abs(value), 1.0)
        bound = value + _account_s_curves(self.problem, self.grid, budget)
        self.bound = _tighter(self.problem, self.bound, bound)

    def _take_candidate(self, inner: PwlProgram, candidate: Solution) -> list[np.ndarray]:
        """Judge the chord program's spend on the true curves: offer it when it keeps every
        rule, give the cells that filled out of order the exact form when it does not.
        Returns the spend to refine around (none without a point)."""
        if candidate.x is None:
            self.rounds_without_plan += 1
            return []
        x = clean(inner, candidate.x)
        spend = spend_from(inner, x)
        if violated_rows(self.problem, spend):
            # A chord program may fill a later segment first when a rule prefers less GMV;
            # the true curve then breaks the rule. Those unit-periods get the exact form.
            disorder = out_of_order(inner, x) & ~self.ordered
            self.ordered |= disorder
            self.rounds_without_plan += 1
        else:
            self.rounds_without_plan = 0
            self.mip_gap = candidate.mip_gap
            self._offer(spend, inner, candidate)
        return [spend]

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
        if self.best is None or is_better(self.problem, value, self.best[0]):
            self.best = (value, spend)
            duals = solution.row_duals
            if duals is None:
                duals = self._fixed_duals(program, solution)
            self.duals = None if duals is None else duals[: len(self.problem.rows)]

    # --- the answer

    def result(self, status: Status, message: str, **plan: object) -> SolveResult:
        """The search's evidence, with the plan's own fields when there is a plan."""
        return SolveResult(  # type: ignore[misc]
            status=status,
            solver=self.solver.name,
            rounds=self.rounds,
            is_mip=bool(self.ordered.any()) or bool(self.problem.switches),
            seconds=self.elapsed(),
            message=message,
            bound=self.bound,
            **plan,  # type: ignore[arg-type]
        )

    def finish(self) -> SolveResult:
        """The best plan, polished and settled, with its gap and verdict (or no plan)."""
        if self.best is None:
            return self.result(
                "time_limit", f"no plan found within the time limit of {self.limit:g} s"
            )
        spend, polished = self._polished()
        spend = settle(self.problem, spend)
        value = objective_value(self.problem, spend)
        self.best = (value, spend)
        gap = self.gap()
        status, message = self._verdict(gap)
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

    def _polished(self) -> tuple[np.ndarray, bool]:
        """The best spend moved by SLSQP onto the true curves' optimum, when that keeps every
        rule and improves the objective; otherwise the best spend as it is."""
        assert self.best is not None
        value, spend = self.best
        if self.gap() == 0.0 or self.out_of_time():
            return spend, False
        candidate = polish(self.problem, spend)
        if candidate is None:
            return spend, False
        candidate = settle(self.problem, candidate)
        if violated_rows(self.problem, candidate):
            return spend, False
        if not is_better(self.problem, objective_value(self.problem, candidate), value):
            return spend, False
        return candidate, True

    def _verdict(self, gap: float | None) -> tuple[Status, str]:
        """optimal within the tolerance; else time_limit if time ran out; else feasible."""
        if gap is not None and gap <= self.tolerance:
            return "optimal", ""
        if self.out_of_time() or self.hit_time_limit:
            return "time_limit", f"time limit of {self.limit:g} s reached; gap {_fmt(gap)}"
        return "feasible", (
            f"gap {_fmt(gap)} is above the tolerance {self.tolerance:.0e} after "
            f"{self.rounds} rounds: the plan is feasible, its optimality is not proven "
            "to the tolerance"
        )


def _fmt(gap: float | None) -> str:
    return "unknown" if gap is None else f"{gap:.2e}"


def _tighter(problem: Problem, bound: float | None, candidate: float) -> float:
    """The tighter of two bounds on the optimum (the candidate when there is none yet)."""
    if bound is None:
        return candidate
    return min(bound, candidate) if problem.maximise else max(bound, candidate)


def _segment_excess(curve: Curve, points: np.ndarray) -> np.ndarray:
    """Most an S-shaped curve rises above each chord segment (sampled at 9 points)."""
    fine = np.linspace(points[:-1], points[1:], 9, axis=-1)
    chord = np.interp(fine, points, curve.value(points))
    return np.maximum(np.max(curve.value(fine) - chord, axis=-1), 0.0)


def _s_curve_errors(
    problem: Problem, grid: list[list[np.ndarray]]
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """(unit, period, points, weighted excess per segment) for every S-shaped unit-period."""
    for i, unit in enumerate(problem.units):
        if unit.curve.is_concave():
            continue
        for t, points in enumerate(grid[i]):
            if len(points) < 2:
                continue
            weight = abs(problem.objective.gmv_coef[i, t]) * unit.gain[t]
            yield i, t, points, weight * _segment_excess(unit.curve.at(t), points)


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

"""The engine's front door: scenario in, verified plan out."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from optimizer.core.checks import SolveResult
from optimizer.core.diagnosis import diagnose
from optimizer.core.dual import solve_dual
from optimizer.core.engine import Progress, optimise
from optimizer.core.nlp import MAX_POLISH_CELLS, is_smooth, solve_nlp
from optimizer.core.numbers import check_numbers
from optimizer.core.problem import Problem, build_problem
from optimizer.core.risk import can_mix, mean_problem, solve_risk
from optimizer.core.solvers import available_solvers, get_solver
from optimizer.core.split import Spread, check_split, spread_split
from optimizer.core.units import Unit
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.results.build import build_plan
from optimizer.results.plan import Plan
from optimizer.results.verdict import verdict
from optimizer.schema.scenario import Scenario, SolveSettings

__all__ = [  # the front door's names
    "METHODS",
    "Progress",
    "SolveOptions",
    "Spread",
    "available_solvers",
    "check_numbers",
    "check_split",
    "evaluate",
    "evaluate_split",
    "is_available",
    "judge",
    "plan",
    "score",
]

SpendByUnit = Mapping[str, Mapping[str, float]]
SpendByChannel = Mapping[str, float]
METHODS = ("lp", "nlp", "dual", "auto")  # ways to solve that need no particular backend installed


DUAL_ONLY_SECONDS = 0.25  # plan(dual_only=True) gives up after this (the event loop waits)


class NeedsGeneralMethod(Exception):
    """``plan(dual_only=True)``: this plan needs a general (LP, MILP or nonlinear) solve."""


@dataclass(frozen=True)
class SolveOptions:
    """Overrides of a scenario's settings for many plans (None: each scenario's own)."""

    solver: str | None = None
    tolerance: float | None = None
    time_limit_s: float | None = None


def is_available(name: str) -> bool:
    """Whether ``plan(solver=name)`` can run here: a method, or an LP backend installed here."""
    return name in METHODS or name in available_solvers()


def plan(
    scenario: Scenario,
    *,
    solver: str | None = None,
    tolerance: float | None = None,
    time_limit_s: float | None = None,
    start: np.ndarray | None = None,
    progress: Progress | None = None,
    dual_only: bool = False,
) -> Plan:
    """Find the allocation that optimises the scenario's objective under all its rules.

    ``solver`` is a method (``lp``, ``nlp``, ``auto``) or an LP backend (``highs``, ``cbc``,
    ``highs-direct``); ``start`` is the nonlinear method's starting spend (units x periods);
    ``progress(round, gap)`` hears from each lp refinement round and may raise to stop it.
    With ``dual_only``, a plan the dual method does not certify within ``DUAL_ONLY_SECONDS``
    (one that needs a general LP, MILP or nonlinear solve, whose time has no small bound, or a
    long branch and bound) raises ``NeedsGeneralMethod`` instead: the plan it does return is
    the very one ``plan`` gives without it.
    """
    started = time.perf_counter()
    run = effective_settings(scenario, solver, tolerance, time_limit_s)
    if dual_only and run.solver not in ("auto", "dual"):
        raise NeedsGeneralMethod(f"the solver {run.solver!r} was asked for")
    problem = plan_problem(scenario)
    if scenario.objective.risk is not None:
        if dual_only:
            raise NeedsGeneralMethod("a risk-aware objective solves one problem per cut")
        result = _risk(problem, run.tolerance, started + run.time_limit_s)
    elif dual_only:
        deadline = started + min(run.time_limit_s, DUAL_ONLY_SECONDS)
        exact, why_not = _dual(problem, run.tolerance, deadline, progress)
        if exact is None:
            raise NeedsGeneralMethod(f"the dual method did not certify this plan: {why_not}")
        if time.perf_counter() > deadline:  # branch and bound stopped early: its best so far
            raise NeedsGeneralMethod("the dual method ran past the event loop's budget")
        result = _chose_dual(problem, exact) if run.solver == "auto" else exact
    else:
        result = solve_problem(
            problem, run.solver, run.tolerance, run.time_limit_s, start, progress, started
        )
    result = replace(result, seconds=time.perf_counter() - started)
    return build_plan(problem, result, result.spend, run.tolerance, run)


def plan_problem(scenario: Scenario) -> Problem:
    """The scenario's problem; with a risk-aware objective, on the mean of its curves' draws
    (what its rules hold on, and its plan reports, beside the ranges over the draws)."""
    problem = build_problem(scenario)
    if scenario.objective.risk is not None and can_mix(problem):
        return mean_problem(problem)
    return problem


def _risk(problem: Problem, tolerance: float, deadline: float) -> SolveResult:
    """The risk-aware method's plan, or an error saying why it has none."""
    exact, why_not = solve_risk(problem, tolerance, deadline)
    if exact is None:
        return SolveResult("error", "risk", 0, False, 0.0, f"the risk-aware method: {why_not}")
    return exact


def effective_settings(
    scenario: Scenario,
    solver: str | None = None,
    tolerance: float | None = None,
    time_limit_s: float | None = None,
) -> SolveSettings:
    """The scenario's solve settings with any override (CLI flag, API body) applied."""
    settings = scenario.settings
    return SolveSettings(
        solver=solver or settings.solver,
        tolerance=tolerance if tolerance is not None else settings.tolerance,
        time_limit_s=time_limit_s if time_limit_s is not None else settings.time_limit_s,
    )


def pin_blas_threads() -> None:
    """One BLAS/OpenMP thread for this whole process: a threaded BLAS sums in an order that
    depends on the thread count, which changed SLSQP's polish and so the annual plan's GMV by
    12,698 CNY between a 1-worker batch and a 2-core ``plan``. Process-wide on purpose: a
    limit entered and left per call is not thread-safe (API worker threads, Dask tasks), and
    plans are too small to gain from BLAS threads."""
    threadpool_limits(limits=1)


pin_blas_threads()  # numpy's and scipy's BLAS are loaded by the imports above


def solve_problem(
    problem: Problem,
    name: str,
    tolerance: float,
    time_limit_s: float,
    start: np.ndarray | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> SolveResult:
    """Run a method by name; ``auto`` says which it chose and why. The time limit runs from
    ``started`` (default: now) and covers everything, the diagnosis of a conflict too."""
    started = time.perf_counter() if started is None else started
    if name == "auto":
        return _auto(problem, tolerance, time_limit_s, start, progress, started)
    if name == "nlp":
        result = solve_nlp(problem, start=start)
        if progress is not None:  # one pass: a job hears of it, and may still cancel
            progress(1, result.gap)
        return result
    if name == "dual":
        exact, why_not = _dual(problem, tolerance, started + time_limit_s, progress)
        if exact is None:
            return SolveResult("error", "dual", 0, False, 0.0, f"the dual method: {why_not}")
        return exact
    backend = get_solver(None if name == "lp" else name)
    deadline = started + time_limit_s
    result = optimise(
        problem,
        backend,
        tolerance=tolerance,
        time_limit_s=time_limit_s,
        progress=progress,
        started=started,
    )
    if result.status == "infeasible" and result.conflict:
        result = replace(result, diagnosis=diagnose(problem, backend, result.conflict, deadline))
    return result


def _dual(
    problem: Problem, tolerance: float, deadline: float, progress: Progress | None
) -> tuple[SolveResult | None, str]:
    """The dual method; a job hears of its plan (and may still cancel) as after a round."""
    exact, why_not = solve_dual(problem, tolerance, deadline)
    if exact is not None and progress is not None:
        progress(exact.rounds, exact.gap)
    return exact, why_not


def _auto(
    problem: Problem,
    tolerance: float,
    time_limit_s: float,
    start: np.ndarray | None,
    progress: Progress | None,
    started: float,
) -> SolveResult:
    """The dual method where it can prove its plan; else nlp or lp by the problem's shape."""
    exact, why_not = _dual(problem, tolerance, started + time_limit_s, progress)
    if exact is not None:
        return _chose_dual(problem, exact)
    method, reason = choose_method(problem)
    reason = f"{reason} (dual: {why_not})"
    result = solve_problem(problem, method, tolerance, time_limit_s, start, progress, started)
    if method == "nlp" and result.status != "optimal":
        reason += f"; nlp failed ({result.message}), so lp was used"
        result = solve_problem(
            problem, "lp", tolerance, time_limit_s, progress=progress, started=started
        )
    message = f"auto chose {reason}" + (f"; {result.message}" if result.message else "")
    return replace(result, solver=f"auto: {result.solver}", message=message)


def _chose_dual(problem: Problem, exact: SolveResult) -> SolveResult:
    """The dual method's plan as ``auto`` reports it: which method, and why."""
    bent = any(unit.curve.is_s_shaped() for unit in problem.units)
    shape = "problem with S-shaped curves" if bent else "concave problem"
    if problem.carried:
        shape += ", each channel with carry-over a chain over its periods"
    message = f"auto chose dual: separable {shape}; {exact.message}"
    return replace(exact, solver="auto: dual", message=message)


def choose_method(problem: Problem) -> tuple[str, str]:
    """nlp for small smooth convex problems, where SLSQP is fast and exact; lp otherwise."""
    cells = problem.lo.size
    if not is_smooth(problem):
        return "lp", "lp: S-shaped or piecewise curves need breakpoints"
    if problem.switches:
        return "lp", "lp: whether a channel is used at all needs binaries"
    if cells > MAX_POLISH_CELLS:
        return "lp", f"lp: {cells} cells is too many for SLSQP (at most {MAX_POLISH_CELLS})"
    if any(row.kind == "gmv_share" for row in problem.rows):
        return "lp", "lp: share rules can make the problem non-convex, lp proves its gap"
    return "nlp", f"nlp: {cells} cells, smooth concave curves, convex rules"


def score(scenario: Scenario, allocation: SpendByUnit, *, source: str = "allocation") -> Plan:
    """Score a hand-made split with the plan's metrics and rules (no solve)."""
    problem = plan_problem(scenario)
    spend = allocation_array(problem.units, scenario.periods, allocation, source)
    return build_plan(problem, None, spend, scenario.settings.tolerance)


def compare(scored: Plan, optimum: Plan, *, maximise: bool) -> Plan:
    """Attach the gap between a scored split and the optimum, in objective and spend."""
    if optimum.objective_value is None or scored.objective_value is None:
        return scored
    gap = optimum.objective_value - scored.objective_value
    comparison = {
        "optimum_objective": optimum.objective_value,
        "objective_gap": gap if maximise else -gap,
        "objective_gap_relative": abs(gap) / max(abs(optimum.objective_value), 1.0),
        "spend_delta_cny": {
            unit: {p: scored.spend[unit][p] - optimum.spend[unit][p] for p in scored.periods}
            for unit in scored.spend
        },
    }
    return replace(scored, comparison=comparison)


def evaluate(
    scenario: Scenario,
    allocation: SpendByUnit,
    *,
    source: str = "allocation",
    optimum: Plan | None = None,
) -> Plan:
    """Score a hand-made split and, given the optimum, its gap to it, with the verdict."""
    scored = score(scenario, allocation, source=source)
    return judge(scenario, scored, optimum)


def evaluate_split(
    scenario: Scenario,
    split: SpendByChannel,
    *,
    spread: Spread = "optimal",
    optimum: Plan | None = None,
    source: str = "split",
) -> Plan:
    """Score a per-channel split {channel: CNY}, spread over each channel's units and periods
    as ``optimum`` does (``spread="optimal"``; evenly where it spends nothing on a channel,
    and the verdict says so) or evenly; with its gap to the optimum and the verdict."""
    problem = plan_problem(scenario)
    channels = scenario.channel_ids()
    check_split(channels, split, source)  # a last guard: callers check before they solve
    best = None
    if optimum is not None and optimum.total is not None:
        best = allocation_array(problem.units, scenario.periods, optimum.spend, "optimum")
    spread_out = spread_split(problem.units, len(scenario.periods), split, spread, best)
    scored = build_plan(problem, None, spread_out.spend, scenario.settings.tolerance)
    about = {
        "by_channel_cny": {c: float(split[c]) for c in channels if c in split},
        "spread": spread,
        "spread_evenly": spread_out.evenly,
    }
    judged = judge(scenario, replace(scored, split=about), optimum)
    if spread_out.evenly:
        which = ", ".join(spread_out.evenly)
        why = "the best plan spends nothing there" if best is not None else "no best plan to follow"
        note = f" {which} spread evenly over units and periods ({why})."
        judged = replace(judged, verdict=f"{judged.verdict}{note}")
    return judged


def judge(scenario: Scenario, scored: Plan, optimum: Plan | None) -> Plan:
    """A scored split with its gap to the optimum (when given) and the one-line verdict."""
    if optimum is not None:
        scored = compare(scored, optimum, maximise=scenario.objective.kind != "min_spend")
    return replace(scored, verdict=verdict(scored))


def allocation_array(
    units: list[Unit], periods: list[str], allocation: SpendByUnit, source: str
) -> np.ndarray:
    """Spend array (units x periods) from {unit id: {period: spend}}, naming any bad entry."""
    index = {u.id: i for i, u in enumerate(units)}
    tiered = {u.channel for u in units if u.id != u.channel}
    period_index = {p: t for t, p in enumerate(periods)}
    lines = getattr(allocation, "lines", {})
    spend = np.zeros((len(units), len(periods)))
    problems = []
    for unit_id, by_period in allocation.items():
        for period, value in by_period.items():
            line = lines.get((unit_id, period))
            if unit_id not in index:
                problems.append(FieldProblem(unit_id, _unknown_unit(unit_id, units, tiered), line))
                break
            if period not in period_index:
                known = ", ".join(periods)
                problems.append(
                    FieldProblem(f"{unit_id}/{period}", f"unknown period; known: {known}", line)
                )
            elif not np.isfinite(value) or value < 0:
                problems.append(
                    FieldProblem(
                        f"{unit_id}/{period}.spend_cny",
                        f"expected a number >= 0, got {value}",
                        line,
                    )
                )
            else:
                spend[index[unit_id], period_index[period]] = value
    if problems:
        raise ScenarioError(source, problems, subject="allocation")
    return spend


def _unknown_unit(unit_id: str, units: list[Unit], tiered: set[str]) -> str:
    if unit_id in tiered:
        example = next(u.id for u in units if u.channel == unit_id)
        return f"channel '{unit_id}' has tiers: give spend per tier, e.g. {example}"
    return f"unknown channel; known: {', '.join(u.id for u in units)}"

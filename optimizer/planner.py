"""The engine's front door: scenario in, verified plan out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from optimizer.engine import optimise
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.model import Unit, build_problem
from optimizer.plan import Plan, build_plan
from optimizer.scenario import Scenario
from optimizer.solvers import get_solver

Allocation = Mapping[str, Mapping[str, float]]


def plan(
    scenario: Scenario,
    *,
    solver: str | None = None,
    tolerance: float | None = None,
    time_limit_s: float | None = None,
) -> Plan:
    """Find the allocation that optimises the scenario's objective under all its rules."""
    problem = build_problem(scenario)
    settings = scenario.settings
    backend = get_solver(solver or settings.solver)
    tol = tolerance if tolerance is not None else settings.tolerance
    limit = time_limit_s if time_limit_s is not None else settings.time_limit_s
    result = optimise(problem, backend, tolerance=tol, time_limit_s=limit)
    return build_plan(problem, result, result.spend, tol)


def evaluate(
    scenario: Scenario,
    allocation: Allocation,
    *,
    source: str = "allocation",
    optimum: Plan | None = None,
) -> Plan:
    """Score a hand-made split with the plan's metrics and rules; compare it to ``optimum``."""
    problem = build_problem(scenario)
    spend = allocation_array(problem.units, scenario.periods, allocation, source)
    scored = build_plan(problem, None, spend, scenario.settings.tolerance)
    if optimum is None or optimum.objective_value is None:
        return scored
    gap = optimum.objective_value - (scored.objective_value or 0.0)
    comparison = {
        "optimum_objective": optimum.objective_value,
        "objective_gap": gap if problem.maximise else -gap,
        "objective_gap_relative": abs(gap) / max(abs(optimum.objective_value), 1.0),
        "spend_delta_cny": {
            unit: {p: scored.spend[unit][p] - optimum.spend[unit][p] for p in scenario.periods}
            for unit in scored.spend
        },
    }
    return replace(scored, comparison=comparison)


def allocation_array(
    units: list[Unit], periods: list[str], allocation: Allocation, source: str
) -> np.ndarray:
    """Spend array (units x periods) from {unit id: {period: spend}}, naming any bad entry."""
    index = {u.id: i for i, u in enumerate(units)}
    tiered = {u.channel for u in units if u.id != u.channel}
    period_index = {p: t for t, p in enumerate(periods)}
    spend = np.zeros((len(units), len(periods)))
    problems = []
    for unit_id, by_period in allocation.items():
        if unit_id not in index:
            hint = (
                f"channel '{unit_id}' has tiers: give spend per tier, e.g. "
                f"{next(u.id for u in units if u.channel == unit_id)}"
                if unit_id in tiered
                else f"known: {', '.join(index)}"
            )
            problems.append(FieldProblem(f"{source}: {unit_id}", f"unknown channel; {hint}"))
            continue
        for period, value in by_period.items():
            if period not in period_index:
                problems.append(FieldProblem(f"{source}: {unit_id}/{period}", "unknown period"))
            elif not np.isfinite(value) or value < 0:
                problems.append(
                    FieldProblem(
                        f"{source}: {unit_id}/{period}", f"spend must be a number >= 0, got {value}"
                    )
                )
            else:
                spend[index[unit_id], period_index[period]] = value
    if problems:
        raise ScenarioError(source, problems)
    return spend

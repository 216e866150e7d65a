"""Solve a Problem: refine piecewise-linear programs until the true-curve gap meets tolerance.

``optimise`` runs the rounds of a refinement search (``search``) until
``|bound - true objective| <= tolerance * |bound|`` and every rule holds, or the time limit
runs out. An "infeasible" the search reaches by itself is not a proof: a second backend is
asked first (``_second_opinion``). A proven one comes from the relaxation (``conflict``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from optimizer.core.checks import SolveResult
from optimizer.core.problem import Problem
from optimizer.core.search import Search
from optimizer.core.solvers import available_solvers, get_solver
from optimizer.core.solvers.base import Solver

MAX_ROUNDS = 40
MAX_ROUNDS_WITHOUT_PLAN = 8
Progress = Callable[[int, float | None], None]
"""``progress(round, gap)``: hears from each refinement round and may raise to stop it."""


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
    search = Search(problem, solver, tolerance, time_limit_s, started)
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


def _second_opinion(search: Search, unproven: str) -> SolveResult:
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
            seconds=search.elapsed(),
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

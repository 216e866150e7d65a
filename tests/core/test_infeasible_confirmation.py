"""An "infeasible" the engine reaches by itself is confirmed by a second solver before it is
reported; a plan the second solver finds is the answer. A proven one says so."""

from __future__ import annotations

import pytest
from helpers import linear, scenario

import optimizer.core.engine as engine
from optimizer.core.problem import build_problem
from optimizer.core.solvers import available_solvers, get_solver
from optimizer.core.solvers.base import LinearProgram, Solution, Solver
from optimizer.planner import plan


class NoAnswer(Solver):
    """A backend that never returns a point: the engine then ends with no plan by itself."""

    name = "no-answer"

    def is_available(self) -> bool:
        return True

    def solve(self, lp: LinearProgram, *, time_limit_s: float, mip_gap: float) -> Solution:
        return Solution("time_limit", None, None, 0.0, "gave up")


def two_linear():
    # search returns 6 per yuan up to 60, kol 4 per yuan: GMV 6 x 60 + 4 x 40 = 520 by hand.
    return build_problem(scenario([linear("search", 6, cap=60), linear("kol", 4)], budget=100))


@pytest.mark.parametrize("second", available_solvers())
def test_a_second_solver_finds_the_plan_the_first_missed(monkeypatch, second):
    monkeypatch.setattr(engine, "available_solvers", lambda: [second])
    result = engine.optimise(two_linear(), NoAnswer(), tolerance=1e-6, time_limit_s=60)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(520, rel=1e-6)
    assert result.solver == f"{second} (after no-answer)"
    assert "no-answer found no plan" in result.message and f"{second} found this plan" in (
        result.message
    )


def test_with_no_second_solver_the_verdict_says_it_is_not_confirmed(monkeypatch):
    monkeypatch.setattr(engine, "available_solvers", lambda: ["no-answer"])
    result = engine.optimise(two_linear(), NoAnswer(), tolerance=1e-6, time_limit_s=60)
    assert result.status == "infeasible" and result.spend is None
    assert result.evidence == "no second solver is installed"
    assert "not confirmed" in result.message


def test_two_solvers_without_a_plan_confirm_but_do_not_prove(monkeypatch):
    monkeypatch.setattr(engine, "available_solvers", lambda: ["no-answer", "other"])
    monkeypatch.setattr(engine, "get_solver", lambda name: NoAnswer())
    result = engine.optimise(two_linear(), NoAnswer(), tolerance=1e-6, time_limit_s=60)
    assert result.status == "infeasible"
    assert result.evidence.startswith("confirmed by no-answer") and "not proven" in result.evidence


@pytest.mark.parametrize("solver", available_solvers())
def test_a_proven_infeasible_plan_says_it_is_proven(solver):
    # 100 to spend, but search must take at least 150: no split exists.
    s = scenario([linear("search", 6, min_spend_cny=150)], budget=100)
    result = plan(s, solver=solver)
    assert result.status == "infeasible"
    assert result.solver.evidence.startswith("proven")
    assert get_solver(solver).name == solver

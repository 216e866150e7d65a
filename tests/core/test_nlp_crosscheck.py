"""The nonlinear method's own machinery: rules on spend as bounds, the phase-one start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import optimizer.core.nlp as nlp
from optimizer.core.checks import broken_rows
from optimizer.core.problem import build_problem
from optimizer.inputs.files import load_scenario
from optimizer.planner import plan

ANNUAL = Path(__file__).parents[2] / "scenarios" / "annual_2026.yaml"


def test_a_zero_spend_cap_in_a_period_is_an_exact_bound() -> None:
    problem = build_problem(load_scenario(ANNUAL))
    lo, hi = nlp.implied_bounds(problem)
    launches = next(i for i, u in enumerate(problem.units) if u.id == "launches")
    assert hi[launches].tolist() == [0.0, 0.0, 30_000_000.0, 0.0]
    assert np.all(lo == problem.lo) and np.all(hi <= problem.hi)


def test_phase_one_finds_a_split_that_keeps_every_rule_from_the_even_split() -> None:
    problem = build_problem(load_scenario(ANNUAL))
    split, _ = nlp.phase_one(problem, nlp.default_start(problem), (problem.lo, problem.hi))
    assert broken_rows(problem, split) == []


def test_when_the_even_split_fails_the_phase_one_start_finds_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SLSQP from the even split ends one yuan over the launches' 0 CNY cap in Q1 (forced here:
    # left to itself it misses by a few millionths of a yuan or not at all, depending on the
    # processor's floating point); the phase-one start then finds a plan that keeps every rule
    s = load_scenario(ANNUAL)
    lp = plan(s, solver="lp")
    real, calls = nlp.local_optimum, []

    def first_breaks(problem, point, bounds):  # type: ignore[no-untyped-def]
        spend, message = real(problem, point, bounds)
        calls.append(point)
        if len(calls) == 1:
            spend = spend.copy()
            spend[[u.id for u in problem.units].index("launches"), 0] += 1.0
        return spend, message

    monkeypatch.setattr(nlp, "local_optimum", first_breaks)
    result = plan(s, solver="nlp")
    assert result.status == "optimal", result.message
    assert result.message.startswith("local optimum of the true curves from a phase-one start")
    assert "from the even split it broke launches spend in Q1 <= 0 CNY" in result.message
    assert result.is_feasible
    assert result.objective_value == pytest.approx(lp.objective_value, rel=1e-4)


def test_a_plan_too_large_for_slsqp_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nlp, "MAX_NLP_CELLS", 10)
    result = plan(load_scenario(ANNUAL), solver="nlp")
    assert result.status == "error"
    assert result.message == (
        "the nonlinear method handles at most 10 spend cells (channels or KOL tiers x periods) "
        "and this plan has 32: try --solver lp"
    )


def test_nlp_gives_the_same_bytes_twice() -> None:
    s = load_scenario(ANNUAL)
    assert plan(s, solver="nlp").to_dict() == plan(s, solver="nlp").to_dict()

"""Two independent methods, one answer: piecewise-linear LP and SLSQP on the true curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import exponential, scenario
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.core.problem import build_problem
from optimizer.inputs.files import load_scenario
from optimizer.planner import choose_method, plan

SCENARIOS = Path(__file__).parents[2] / "scenarios"
WITH_A_PLAN = ["annual_2026", "monthly_2026", "min_spend_2026"]

curve = st.tuples(
    st.sampled_from(["exponential", "hill"]),
    st.floats(200, 3000),
    st.floats(20, 300),
    st.floats(0.1, 0.9),
)


def random_scenario(curves, periods, budget, spend_all, roas_floor, cac_ceiling, season):
    channels = []
    for i, (family, top, scale, new_share) in enumerate(curves):
        response = (
            {"type": "exponential", "max_gmv_cny": top, "scale_cny": scale}
            if family == "exponential"
            else {"type": "hill", "max_gmv_cny": top, "half_saturation_cny": scale}
        )
        channels.append(
            {
                "id": f"c{i}",
                "kind": "curve",
                "aov_cny": 100,
                "response": response,
                "new_customer_share": new_share,
            }
        )
    rules = []
    if roas_floor:
        rules.append({"kind": "roas_floor", "min_roas": roas_floor})
    if cac_ceiling:
        rules.append({"kind": "cac_ceiling", "max_cac_cny": cac_ceiling})
    return scenario(
        channels,
        budget=budget,
        periods=[f"P{t}" for t in range(periods)],
        mode="spend_all" if spend_all else "up_to",
        rules=rules,
        seasonality=season[:periods],
    )


scenarios = st.builds(
    random_scenario,
    curves=st.lists(curve, min_size=1, max_size=4),
    periods=st.integers(1, 3),
    budget=st.floats(50, 2000),
    spend_all=st.booleans(),
    roas_floor=st.one_of(st.none(), st.floats(1.0, 5.0)),
    cac_ceiling=st.one_of(st.none(), st.floats(20, 200)),
    season=st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios, seed=st.integers(0, 2**16))
def test_lp_and_nlp_reach_the_same_objective_from_any_start(s, seed) -> None:
    lp = plan(s, solver="highs")
    assume(lp.status == "optimal")
    nlp = plan(s, solver="nlp")
    assert nlp.status == "optimal", nlp.message
    # abs: a ceiling tight enough to forbid all spend leaves an optimum of 0, and rules hold to
    # a relative 1e-6, which lets a few yuan of GMV through.
    tolerance = {"rel": 1e-4, "abs": 1e-5 * s.media_budget_cny()}
    assert nlp.objective_value == pytest.approx(lp.objective_value, **tolerance)
    # A deliberately bad start: the whole budget in one random cell.
    problem = build_problem(s)
    bad = np.zeros(problem.lo.shape)
    bad.flat[np.random.default_rng(seed).integers(bad.size)] = s.media_budget_cny()
    from_bad = plan(s, solver="nlp", start=bad)
    assert from_bad.status == "optimal", from_bad.message
    assert from_bad.objective_value == pytest.approx(lp.objective_value, **tolerance)
    assert all(r.holds for r in from_bad.rules)


def test_auto_says_which_method_it_used() -> None:
    small = scenario([exponential("a", 500, 40), exponential("b", 300, 20)], budget=100)
    assert choose_method(build_problem(small))[0] == "nlp"
    result = plan(small, solver="auto")  # separable and concave: the exact dual method
    assert result.solver.solver == "auto: dual"
    assert result.message.startswith("auto chose dual: separable concave problem; proven gap")
    assert plan(small, solver="nlp").solver.solver == "nlp (SLSQP)"

    s_curve = {"type": "hill", "max_gmv_cny": 900, "half_saturation_cny": 50, "shape": 2.5}
    shaped = scenario(
        [{"id": "launch", "kind": "curve", "response": s_curve, "aov_cny": 100}], budget=100
    )
    result = plan(shaped, solver="auto")  # S-shaped under the budget alone: still exact
    assert result.solver.solver == "auto: dual"
    assert result.message.startswith("auto chose dual: separable problem with S-shaped curves")
    assert "branch and bound" in result.message
    ruled = scenario(
        [{"id": "launch", "kind": "curve", "response": s_curve, "aov_cny": 100}],
        budget=100,
        periods=["H1", "H2"],
        rules=[{"kind": "roas_floor", "min_roas": 2.0}],
    )
    result = plan(ruled, solver="auto", tolerance=1e-3)  # which route, not a 1e-6 MILP proof
    assert result.solver.solver == "auto: highs"
    assert "(dual: launch has an S-shaped curve and 2 rows couple the cells" in result.message


def test_an_nlp_failure_is_a_status_not_an_exception() -> None:
    rules = [{"kind": "roas_floor", "min_roas": 50}]
    s = scenario([exponential("a", 500, 40)], budget=100, mode="spend_all", rules=rules)
    result = plan(s, solver="nlp")
    assert result.status == "error"
    assert result.total is None


@pytest.mark.parametrize("name", WITH_A_PLAN)
def test_nlp_keeps_every_rule_and_agrees_with_lp_on_each_example(name: str) -> None:
    s = load_scenario(SCENARIOS / f"{name}.yaml")
    lp = plan(s, solver="lp")
    nlp = plan(s, solver="nlp")
    assert nlp.status == "optimal", nlp.message
    assert nlp.is_feasible and all(r.holds for r in nlp.rules)
    assert "local optimum of the true curves from " in nlp.message  # names the start
    assert nlp.objective_value == pytest.approx(lp.objective_value, rel=s.settings.tolerance)


def test_nlp_failure_names_the_broken_rules_in_plain_words() -> None:
    # No split keeps a ROAS of 50 while spending the whole budget on a curve that saturates.
    rules = [{"id": "brand_roas", "kind": "roas_floor", "min_roas": 50}]
    s = scenario([exponential("a", 500, 40)], budget=100, mode="spend_all", rules=rules)
    result = plan(s, solver="nlp")
    assert result.status == "error"
    assert result.message.startswith(
        "the nonlinear method could not find a split that keeps every rule: the closest it "
        "came still breaks ROAS of all channels >= 50 (this split: "
    )
    assert result.message.endswith("try --solver lp, which proves whether any split keeps them all")
    assert "brand_roas" not in result.message and "SLSQP" not in result.message


def test_nlp_failure_on_the_infeasible_example_speaks_of_spend_not_field_paths() -> None:
    result = plan(load_scenario(SCENARIOS / "infeasible_2026.yaml"), solver="nlp")
    assert result.status == "error"
    assert "launches spend >= 30,000,000 CNY (this split: " in result.message
    assert "launches.min_spend" not in result.message
    assert "try --solver lp" in result.message

"""The dual method is exact: hand-checkable optima, agreement with every LP backend, a bound that
is never below the LP optimum, the same diagnosis when the rules leave no plan."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import bisect, curve, exponential, kol, linear, scenario, tier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.core.dual import reason_not_applicable, solve_dual
from optimizer.core.problem import build_problem
from optimizer.planner import plan


def family(cid: str, kind: str, max_gmv: float, width: float, **fields: object) -> dict:
    """A curve channel of the given response family (width: scale or half saturation)."""
    key = "half_saturation_cny" if kind in ("hill", "michaelis_menten") else "scale_cny"
    return curve(cid, {"type": kind, "max_gmv_cny": max_gmv, key: width}, **fields)


def test_two_exponential_cells_share_the_budget_where_marginal_returns_are_equal():
    # GMV 10M (1 - e^(-x/2M)) and 6M (1 - e^(-y/1M)), x + y = 3M: 5 e^(-x/2M) = 6 e^(-y/1M) = lam,
    # so 3 ln lam = 2 ln 5 + ln 6 - 3
    s = scenario([exponential("a", 10e6, 2e6), exponential("b", 6e6, 1e6)], 3e6)
    lam = math.exp((2 * math.log(5) + math.log(6) - 3) / 3)
    result = plan(s, solver="dual")
    assert result.spend["a"]["Y"] == pytest.approx(2e6 * math.log(5 / lam), rel=1e-12)
    assert result.spend["b"]["Y"] == pytest.approx(1e6 * math.log(6 / lam), rel=1e-12)
    assert result.solver.gap <= 1e-12 and result.solver.bound >= result.objective_value
    budget = next(r for r in result.rules if r.name == "budget")
    assert budget.shadow_price == pytest.approx(lam, rel=1e-9)  # GMV per extra yuan


@pytest.mark.parametrize(
    ("kind", "slope"),
    [  # each family's marginal GMV per yuan at spend x, max GMV M, width w
        ("exponential", lambda x, m, w: m / w * math.exp(-x / w)),
        ("logistic", lambda x, m, w: m / (2 * w) / math.cosh(x / (2 * w)) ** 2),
        ("tanh", lambda x, m, w: m / w / math.cosh(x / w) ** 2),
        ("michaelis_menten", lambda x, m, w: m * w / (w + x) ** 2),
        ("hill", lambda x, m, w: m * w / (w + x) ** 2),
    ],
)
def test_each_family_meets_a_linear_channel_at_its_roas(kind, slope):
    # a linear channel returning 2 per yuan takes what the curve no longer beats: the curve
    # gets spend until its marginal return falls to 2, found here by plain bisection
    m, w = 8e6, 1e6
    s = scenario([family("c", kind, m, w), linear("flat", 2.0, cap=50e6)], 10e6)
    expected = bisect(lambda x: slope(x, m, w) - 2.0, 0.0, 10e6)
    for solver in ("highs", "auto"):
        result = plan(s, solver=solver)
        assert result.spend["c"]["Y"] == pytest.approx(expected, rel=1e-4), solver


@pytest.mark.parametrize("kind", ["exponential", "logistic", "tanh", "michaelis_menten", "hill"])
def test_each_family_splits_two_channels_exactly(kind):
    m1, w1, m2, w2 = 9e6, 1.5e6, 5e6, 0.7e6
    s = scenario([family("a", kind, m1, w1), family("b", kind, m2, w2)], 2.5e6)
    result = plan(s, solver="dual")
    a, b = result.spend["a"]["Y"], result.spend["b"]["Y"]
    assert a + b == pytest.approx(2.5e6, rel=1e-12)
    problem = build_problem(s)
    slopes = problem.marginal_roas(np.array([[a], [b]]))
    assert slopes[0, 0] == pytest.approx(slopes[1, 0], rel=1e-9)  # equal marginal returns
    lp = plan(s, solver="highs")
    assert result.objective_value >= lp.objective_value * (1 - 1e-9)
    assert result.solver.bound >= lp.objective_value * (1 - 1e-12)


def test_hill_below_shape_one_agrees_with_the_lp_route(solver):
    hill = {"type": "hill", "max_gmv_cny": 9e6, "half_saturation_cny": 1e6, "shape": 0.6}
    s = scenario(
        [curve("h", hill), exponential("e", 7e6, 1.2e6)],
        3e6,
        periods=["Q1", "Q2"],
        seasonality=[0.8, 1.3],
    )
    exact = plan(s, solver="dual")
    lp = plan(s, solver=solver)
    assert exact.objective_value == pytest.approx(lp.objective_value, rel=1e-6)
    assert exact.solver.bound >= lp.objective_value * (1 - 1e-12)


def test_a_binding_roas_floor_stops_spend_where_average_roas_meets_it(solver):
    # one curve, budget to spare: spend until M (1 - e^(-x/K)) / x falls to the floor 3
    m, k = 10e6, 2e6
    s = scenario([exponential("e", m, k)], 20e6, rules=[{"kind": "roas_floor", "min_roas": 3}])
    expected = bisect(lambda x: m * (1 - math.exp(-x / k)) / x - 3.0, 1e3, 20e6)
    exact = plan(s, solver="dual")
    assert exact.spend["e"]["Y"] == pytest.approx(expected, rel=1e-10)
    floor = next(r for r in exact.rules if r.kind == "roas_floor")
    assert floor.binds and floor.holds
    lp = plan(s, solver=solver)
    assert exact.objective_value == pytest.approx(lp.objective_value, rel=1e-6)


def test_min_spend_reaches_the_gmv_target_at_least_cost(solver):
    # least spend for 8M GMV from two exponential curves: equal marginal returns again
    channels = [exponential("a", 10e6, 2e6), exponential("b", 6e6, 1e6)]
    objective = {"kind": "min_spend", "gmv_target_cny": 8e6}
    s = scenario(channels, 50e6, objective=objective)
    exact = plan(s, solver="dual")
    assert exact.total.gmv_cny == pytest.approx(8e6, rel=1e-10)
    problem = build_problem(s)
    spend = np.array([[exact.spend["a"]["Y"]], [exact.spend["b"]["Y"]]])
    slopes = problem.marginal_roas(spend)
    assert slopes[0, 0] == pytest.approx(slopes[1, 0], rel=1e-9)
    assert exact.solver.bound <= exact.objective_value  # a lower bound when minimising
    lp = plan(s, solver=solver)
    assert exact.objective_value == pytest.approx(lp.objective_value, rel=1e-6)


def test_per_period_limits_are_bounds_the_plan_keeps():
    channels = [
        exponential("a", 10e6, 2e6, period_max_spend_cny=[0.5e6, 3e6]),
        exponential("b", 6e6, 1e6, period_min_spend_cny=[1.5e6, 0]),
    ]
    s = scenario(channels, 6e6, periods=["H1", "H2"])
    exact = plan(s, solver="dual")
    assert exact.spend["a"]["H1"] == pytest.approx(0.5e6, rel=1e-12)
    assert exact.spend["b"]["H1"] >= 1.5e6 * (1 - 1e-12)
    assert all(r.holds for r in exact.rules)
    # a yuan more in a's H1 cap earns a's marginal return there, 5 e^(-0.25), less the budget's
    cap = next(r for r in exact.rules if r.name == "a.period_max_spend_cny[H1]")
    budget = next(r for r in exact.rules if r.name == "budget")
    assert cap.shadow_price == pytest.approx(5 * math.exp(-0.25) - budget.shadow_price, rel=1e-9)
    lp = plan(s, solver="highs")
    lp_cap = next(r for r in lp.rules if r.name == cap.name)
    assert cap.shadow_price == pytest.approx(lp_cap.shadow_price, rel=0.05)  # LP: segment slopes
    assert exact.objective_value == pytest.approx(lp.objective_value, rel=1e-6)


def test_when_no_plan_exists_auto_gives_the_lp_diagnosis():
    rules = [{"id": "brand_roas", "kind": "roas_floor", "min_roas": 50}]
    s = scenario([exponential("a", 500, 40)], budget=100, mode="spend_all", rules=rules)
    exact, why = solve_dual(build_problem(s), 1e-6)
    assert exact is None and "brand_roas" in why
    auto, lp = plan(s, solver="auto"), plan(s, solver="highs")
    assert auto.status == lp.status == "infeasible"
    assert auto.conflict == lp.conflict and auto.diagnosis == lp.diagnosis
    assert "dual: no multipliers make every rule hold (brand_roas)" in auto.message


def test_outside_its_shape_it_says_why_and_auto_falls_back():
    shaped = {"type": "hill", "max_gmv_cny": 900, "half_saturation_cny": 50, "shape": 2.5}
    floor = [{"kind": "roas_floor", "min_roas": 2.0}]
    s_curve = scenario([curve("launch", shaped)], 100, periods=["H1", "H2"], rules=floor)
    assert "S-shaped" in reason_not_applicable(build_problem(s_curve))
    forced = plan(s_curve, solver="dual")
    assert forced.status == "error" and "launch has an S-shaped curve" in forced.message
    linear_only = scenario([linear("a", 3.0, cap=50)], 100)
    assert "linear curve" in reason_not_applicable(build_problem(linear_only))
    switched = scenario([exponential("a", 500, 40, min_spend_if_used_cny=20)], 100)
    assert "binaries" in reason_not_applicable(build_problem(switched))


def test_commission_in_the_budget_and_a_kol_cap_are_certified_or_left_to_lp():
    tiers = [
        {**tier("head", 0.2, 6.0), "saturation": {"type": "exponential", "scale_cny": 2e6}},
        {**tier("tail", 0.1, 3.0), "saturation": {"type": "logistic", "scale_cny": 1e6}},
    ]
    s = scenario(
        [kol(tiers), exponential("e", 8e6, 1e6)],
        6e6,
        budget_fields={"commission_in_budget": True},
        rules=[{"kind": "commission_cap", "max_rate": 0.15}],
    )
    auto, lp = plan(s, solver="auto"), plan(s, solver="highs")
    assert auto.status == "optimal" and all(r.holds for r in auto.rules)
    assert auto.objective_value == pytest.approx(lp.objective_value, rel=1e-6)
    if auto.solver.solver == "auto: dual":
        assert auto.solver.bound >= lp.objective_value * (1 - 1e-12)


KINDS = st.sampled_from(["exponential", "logistic", "tanh", "michaelis_menten", "hill"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.lists(
        st.tuples(KINDS, st.floats(1e5, 5e6), st.floats(1e4, 1e6)), min_size=1, max_size=4
    ),
    periods=st.integers(1, 3),
    budget=st.floats(1e5, 5e6),
    roas_floor=st.one_of(st.none(), st.floats(1.2, 4.0)),
)
def test_random_problems_agree_with_lp_and_the_bound_is_never_below_it(
    params, periods, budget, roas_floor
):
    channels = [family(f"c{i}", k, m, w) for i, (k, m, w) in enumerate(params)]
    rules = [{"kind": "roas_floor", "min_roas": roas_floor}] if roas_floor else []
    s = scenario(channels, budget, periods=[f"P{t}" for t in range(periods)], rules=rules)
    exact, why = solve_dual(build_problem(s), 1e-6)
    lp = plan(s, solver="highs")
    if exact is None:  # only a problem with no plan at all goes back to the LP route
        assert lp.status == "infeasible", why
        return
    assert lp.status == "optimal"
    assert exact.gap <= 1e-6
    # the LP's plan may break a rule by up to the feasibility tolerance (1e-6 of the row),
    # which can buy it that much more than the true optimum: the bound is judged within it
    assert exact.bound >= lp.objective_value * (1 - 1e-6)
    assert exact.bound >= exact.objective
    assert exact.objective == pytest.approx(lp.objective_value, rel=1e-6, abs=1e-3)


def test_a_cpm_index_applies_the_curve_to_impressions_bought(solver):
    # GMV_t = M_t (1 - e^(-x / (index_t K))): Q2's CPM is twice Q1's, so a yuan buys half the
    # impressions; Q2's max GMV is given per period
    response = {"type": "exponential", "max_gmv_cny": [6e6, 9e6], "scale_cny": 1e6}
    s = scenario([curve("c", response, cpm_index=[1.0, 2.0])], 3e6, periods=["Q1", "Q2"])
    exact = plan(s, solver="dual")
    x1, x2 = exact.spend["c"]["Q1"], exact.spend["c"]["Q2"]
    gmv = 6e6 * (1 - math.exp(-x1 / 1e6)) + 9e6 * (1 - math.exp(-x2 / 2e6))
    assert exact.total.gmv_cny == pytest.approx(gmv, rel=1e-12)
    # equal marginal returns: 6 e^(-x1/1M) = 4.5 e^(-x2/2M), x1 + x2 = 3M
    assert 6 * math.exp(-x1 / 1e6) == pytest.approx(4.5 * math.exp(-x2 / 2e6), rel=1e-9)
    assert x1 + x2 == pytest.approx(3e6, rel=1e-12)
    lp = plan(s, solver=solver)
    assert lp.objective_value == pytest.approx(exact.objective_value, rel=1e-6)


@pytest.mark.parametrize(
    ("fields", "where", "words"),
    [
        ({"cpm_index": [1.0]}, ("cpm_index",), "expected 2 values, one per period"),
        ({"cpm_index": [1.0, 0.0]}, ("cpm_index", 1), "expected a positive number"),
        (
            {"response": {"type": "piecewise", "points": [[0, 0], [1, 2]]}, "cpm_index": 1.1},
            ("cpm_index",),
            "a piecewise response takes no cpm_index",
        ),
        (
            {"response": {"type": "tanh", "max_gmv_cny": [1e6], "scale_cny": 1e5}},
            ("response", "max_gmv_cny"),
            "expected 2 values",
        ),
    ],
)
def test_bad_per_period_curve_fields_name_the_field(fields, where, words):
    from pydantic import ValidationError

    base = {"type": "exponential", "max_gmv_cny": 1e6, "scale_cny": 1e5}
    channel = curve("c", fields.pop("response", base), **fields)
    with pytest.raises(ValidationError) as caught:
        scenario([channel], 1e6, periods=["Q1", "Q2"])
    (error,) = caught.value.errors()
    assert error["loc"] == ("channels", 0, *where) and words in error["msg"]

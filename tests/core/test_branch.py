"""S-shaped curves: the envelope and the concave-side root by hand, and branch and bound on the
Lagrangian bound that finds optima a person can check, agrees with the MILP route and proves its
gap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import curve, exponential, scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.core.curves import Curve
from optimizer.core.dual import reason_not_applicable, solve_dual
from optimizer.core.problem import build_problem
from optimizer.planner import plan


def hill(cid: str, max_gmv: float, half: float, shape: float, **fields: object) -> dict:
    """GMV = max_gmv * u^shape / (1 + u^shape), u = spend / half, per period."""
    response = {"type": "hill", "max_gmv_cny": max_gmv, "half_saturation_cny": half}
    return curve(cid, {**response, "shape": shape}, **fields)


def hill_gmv(x: np.ndarray | float, max_gmv: float, half: float, shape: float) -> np.ndarray:
    """The same curve, written out."""
    u = np.power(np.asarray(x, dtype=float) / half, shape)
    return max_gmv * u / (1.0 + u)


# --- the curve: inflection, concave-side root, tangent and envelope, by hand


def test_hill_of_shape_two_by_hand():
    # f = h u^2 / (1 + u^2), u = x / h: f'' = 0 at u = 1/sqrt(3); the line from 0 touches f where
    # f(x) / x = f'(x), i.e. u / (1 + u^2) = 2u / (1 + u^2)^2, so at u = 1, with slope 1/2
    h = 4.0
    f = Curve("hill", scale=h, shape=2.0)
    assert f.is_s_shaped() and not f.is_strictly_concave()
    assert float(f.inflection()) == pytest.approx(h / math.sqrt(3), rel=1e-15)
    assert float(f.tangent_from(0.0)) == pytest.approx(h, rel=1e-14)
    assert float(f.slope(h)) == pytest.approx(0.5, rel=1e-15)
    # the concave-side root of f' = 1/2 is u = 1 (the convex-side one, u = 0.3, is not wanted)
    assert float(f.spend_at_slope(np.array(0.5))) == pytest.approx(h, rel=1e-13)
    peak = 2 / math.sqrt(3) / (4 / 3) ** 2  # f' at the inflection
    assert float(f.spend_at_slope(np.array(peak * 1.001))) == 0.0
    # envelope on [0, 10h]: the line of slope 1/2 up to h, then f; f(h/2) = h/5 lies below h/4
    assert float(f.envelope(h / 2, 0.0, 10 * h)) == pytest.approx(h / 4, rel=1e-14)
    assert float(f.value(h / 2)) == pytest.approx(h / 5, rel=1e-15)
    assert float(f.envelope(3 * h, 0.0, 10 * h)) == pytest.approx(float(f.value(3 * h)))
    # on [0, h/2] the tangent point lies beyond the range: the envelope is the chord
    assert float(f.envelope(h / 4, 0.0, h / 2)) == pytest.approx(h / 10, rel=1e-14)
    # from the right of the inflection the curve is its own envelope
    assert float(f.tangent_from(h)) == h


@pytest.mark.parametrize("shape", [1.2, 1.5, 2.0, 2.5, 4.0])
def test_the_envelope_lies_on_or_above_the_curve_and_is_concave(shape):
    f = Curve("hill", scale=1.0, shape=shape)
    lo, hi = 0.1, 5.0
    x = np.linspace(lo, hi, 2001)
    env = f.envelope(x, lo, hi)
    assert np.all(env >= f.value(x) - 1e-15)
    assert np.all(np.diff(env, 2) <= 1e-12)  # concave: second differences are not positive
    t = float(f.tangent_from(lo))
    assert float(f.slope(t)) == pytest.approx((f.value(t) - f.value(lo)) / (t - lo), rel=1e-12)


@pytest.mark.parametrize("shape", [1.2, 2.0, 3.5])
def test_the_concave_side_root_has_the_slope_asked_for(shape):
    f = Curve("hill", scale=2.0, shape=shape)
    x = np.linspace(float(f.inflection()) * 1.01, 200.0, 500)
    back = f.spend_at_slope(f.slope(x))
    np.testing.assert_allclose(back, x, rtol=1e-10)


# --- plans a person can check


def two_channels(budget: float, **fields: object) -> object:
    return scenario(
        [hill("a", 10e6, 1e6, 2.0), hill("b", 10e6, 1e6, 2.0)],
        budget,
        **fields,
    )


def best_split(budget: float) -> float:
    """max over x of f(x) + f(budget - x) for the two channels above, by a dense search."""
    x = np.linspace(0.0, budget, 400_001)
    total = hill_gmv(x, 10e6, 1e6, 2.0) + hill_gmv(budget - x, 10e6, 1e6, 2.0)
    return float(total.max())


def test_a_small_budget_goes_to_one_channel_and_a_large_one_is_split():
    # budget 1M: all in one gives f(1M) = 10M / 2 = 5M; an even split 2 f(0.5M) = 4M
    small = plan(two_channels(1e6), solver="dual")
    assert sorted(small.spend[c]["Y"] for c in "ab") == pytest.approx([0.0, 1e6], abs=1e-6)
    assert small.total.gmv_cny == pytest.approx(5e6, rel=1e-12)
    assert small.total.gmv_cny >= best_split(1e6) * (1 - 1e-9)
    # budget 3M: an even split gives 2 f(1.5M) = 20M * 2.25 / 3.25; all in one only 9M
    large = plan(two_channels(3e6), solver="dual")
    assert large.spend["a"]["Y"] == pytest.approx(1.5e6, rel=1e-9)
    assert large.spend["b"]["Y"] == pytest.approx(1.5e6, rel=1e-9)
    assert large.total.gmv_cny == pytest.approx(20e6 * 2.25 / 3.25, rel=1e-12)
    for result in (small, large):
        assert result.solver.gap <= 1e-6 and result.solver.bound >= result.objective_value
        assert "branch and bound" in result.solver.message


@pytest.mark.parametrize("budget", [0.4e6, 1.2e6, 1.42e6, 1.6e6, 2.2e6])
def test_near_where_the_best_split_changes_it_matches_a_dense_search(budget):
    # the even split overtakes one channel at 2 f(B/2) = f(B), B = sqrt(2) M for shape 2
    result = plan(two_channels(budget), solver="dual")
    assert result.total.gmv_cny == pytest.approx(best_split(budget), rel=1e-8)
    assert result.solver.bound >= best_split(budget) * (1 - 1e-12)


def test_spend_all_holds_the_budget_exactly():
    result = plan(two_channels(2e6, mode="spend_all"), solver="dual")
    assert sum(result.spend[c]["Y"] for c in "ab") == pytest.approx(2e6, rel=1e-12)
    assert result.total.gmv_cny == pytest.approx(best_split(2e6), rel=1e-8)


def test_an_s_shaped_channel_is_off_until_it_pays_as_a_whole():
    # beside a concave channel, the S-shaped one gets money only once its average return over
    # what it gets beats what that money makes in the concave one: off at 0.6M, on at 2.5M
    for budget, off in ((0.6e6, True), (2.5e6, False)):
        s = scenario([hill("s", 6e6, 1e6, 3.0), exponential("e", 8e6, 4e6)], budget)
        result = plan(s, solver="dual")
        x = np.linspace(0.0, budget, 400_001)
        total = hill_gmv(x, 6e6, 1e6, 3.0) + 8e6 * -np.expm1(-(budget - x) / 4e6)
        assert result.total.gmv_cny == pytest.approx(float(total.max()), rel=1e-9)
        assert (result.spend["s"]["Y"] == 0.0) == off
        assert result.spend["s"]["Y"] == pytest.approx(float(x[np.argmax(total)]), abs=budget / 4e5)


# --- agreement with the MILP route, and the bound never below it


def seasonal(shape: float, budget: float, tolerance: float = 1e-6) -> object:
    return scenario(
        [hill("s", 4e6, 0.6e6, shape, period_max_spend_cny=1.5e6), exponential("e", 3e6, 0.8e6)],
        budget,
        periods=["Q1", "Q2", "Q3"],
        seasonality=[0.7, 1.0, 1.4],
        settings={"tolerance": tolerance},
    )


@pytest.mark.parametrize("shape", [1.5, 2.5])
def test_seasonal_s_shaped_problem_agrees_with_every_milp_route(solver, shape):
    # the MILP route at 1e-4 (at 1e-6 it takes 4-13 s here, and over a minute with two
    # S-shaped channels): the exact plan is at least as good and its bound covers the MILP's
    exact = plan(seasonal(shape, 5e6), solver="dual")
    other = plan(seasonal(shape, 5e6, tolerance=1e-4), solver=solver)
    assert exact.status == other.status == "optimal"
    assert exact.solver.gap <= 1e-12
    assert exact.objective_value >= other.objective_value
    assert exact.objective_value == pytest.approx(other.objective_value, rel=1e-4)
    assert exact.solver.bound >= other.objective_value


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.lists(
        st.tuples(st.floats(1e6, 8e6), st.floats(2e5, 2e6), st.floats(1.1, 3.0)),
        min_size=1,
        max_size=2,
    ),
    periods=st.integers(1, 2),
    budget=st.floats(2e5, 6e6),
)
def test_random_s_shaped_problems_beat_the_milp_route_and_bound_it(params, periods, budget):
    channels = [hill(f"c{i}", m, h, k) for i, (m, h, k) in enumerate(params)]
    s = scenario(channels, budget, periods=[f"P{t}" for t in range(periods)])
    exact, why = solve_dual(build_problem(s), 1e-6)
    assert exact is not None, why
    assert exact.gap <= 1e-6
    looser = s.model_copy(update={"settings": s.settings.model_copy(update={"tolerance": 1e-4})})
    milp = plan(looser, solver="highs")
    assert exact.objective >= milp.objective_value * (1 - 1e-9)
    assert exact.bound >= milp.objective_value * (1 - 1e-12)


# --- where it does not apply, and where no plan exists


def test_s_shaped_under_a_second_coupling_rule_goes_to_the_lp_route():
    rule = {"kind": "roas_floor", "min_roas": 2.0}
    s = two_channels(2e6, rules=[rule], settings={"tolerance": 1e-4})
    why = reason_not_applicable(build_problem(s))
    assert "a has an S-shaped curve and 2 rows couple the cells" in why
    auto = plan(s, solver="auto")
    assert auto.status == "optimal" and "dual: a has an S-shaped curve" in auto.message


def test_no_plan_gets_the_lp_routes_diagnosis():
    s = scenario(
        [
            hill("a", 10e6, 1e6, 2.0, min_spend_cny=1.5e6),
            hill("b", 8e6, 1e6, 1.5, min_spend_cny=1e6),
        ],
        2e6,
    )
    exact, why = solve_dual(build_problem(s), 1e-6)
    assert exact is None and "no multipliers make every rule hold (budget)" in why
    auto, lp = plan(s, solver="auto"), plan(s, solver="highs")
    assert auto.status == lp.status == "infeasible"
    assert auto.conflict == lp.conflict

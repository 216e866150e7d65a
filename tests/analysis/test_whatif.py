"""Sweeps, tornados and frontiers: every point agrees with a separate solve and with hand maths."""

from __future__ import annotations

import itertools
import math

import pytest

from optimizer.analysis.whatif import (
    MAX_POINTS,
    SolveOptions,
    budget_range,
    default_budgets,
    frontier,
    frontier_budgets,
    never_worse,
    parse_vary,
    sweep,
    tornado,
    vary_problems,
)
from optimizer.errors import RequestError, ScenarioError
from optimizer.planner import plan, score
from optimizer.results.whatif import Vary
from optimizer.schema.paths import PathError, get_value, parse_values, set_value, set_values
from tests.helpers import exponential, linear, scenario


def two_linear(budget: float = 2e6):
    """a returns 5 per yuan up to 1M, b returns 3 per yuan up to 2M: a is filled first."""
    return scenario([linear("a", 5.0, cap=1e6), linear("b", 3.0, cap=2e6)], budget)


def linear_gmv(budget: float, roas_a: float = 5.0) -> float:
    """Greedy fill of the better channel first: the optimum of two capped linear channels."""
    first, second = sorted([(roas_a, 1e6), (3.0, 2e6)], reverse=True)
    spend_first = min(budget, first[1])
    spend_second = min(max(budget - spend_first, 0.0), second[1])
    return first[0] * spend_first + second[0] * spend_second


# --- paths -----------------------------------------------------------------------------------


def test_paths_pick_items_by_id_period_and_position():
    s = scenario(
        [linear("a", 5.0), linear("b", 3.0)],
        1e6,
        periods=["Q1", "Q2"],
        rules=[{"id": "floor", "kind": "roas_floor", "min_roas": 2.0}],
    )
    assert set_value(s, "budget.total_cny", 2e6).budget.total_cny == 2e6
    assert set_value(s, "channels[b].response.roas", 4.0).channels[1].response.roas == 4.0
    assert set_value(s, "channels[0].response.roas", 6.0).channels[0].response.roas == 6.0
    assert set_value(s, "rules[floor].min_roas", 2.5).rules[0].min_roas == 2.5
    # one number for every period becomes a list when a single period is set
    assert set_value(s, "seasonality[Q2]", 1.5).seasonality == [1.0, 1.5]
    assert get_value(s, "seasonality[Q1]") == 1.0
    both = set_values(s, {"budget.total_cny": 3e6, "objective.kind": "max_new_customers"})
    assert (both.budget.total_cny, both.objective.kind) == (3e6, "max_new_customers")


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("channels[tv].ctr", "no item 'tv' in channels; known: a, b"),
        ("budget.totl_cny", "no field 'totl_cny' in budget; known: commission_in_budget"),
        ("seasonality[Q9]", "no period 'Q9' in seasonality; known: Y"),
        ("budget.total_cny.x", "budget.total_cny is a value"),
        ("budget..total_cny", "cannot read the path"),
        ("[0].x", "expected a field path"),
    ],
)
def test_unknown_paths_say_what_is_known(path, words):
    with pytest.raises(PathError) as caught:
        get_value(two_linear(), path)
    assert words in str(caught.value)


def test_values_parse_ranges_and_lists():
    assert parse_values("100e6:160e6:4") == [100e6, 120e6, 140e6, 160e6]
    assert parse_values("0.2, 0.25,1_000") == [0.2, 0.25, 1000.0]
    assert parse_values("max_gmv,max_profit") == ["max_gmv", "max_profit"]
    assert parse_values("true,false") == [True, False]
    for bad in ("", "1:2", "1:2:0", "a:2:3", "1:2:x", "1,,2", "nan,1", "1:2:1001"):
        with pytest.raises(ValueError):
            parse_values(bad)


def test_a_bad_vary_names_the_request_field():
    with pytest.raises(ValueError, match="expected PATH=VALUES"):
        parse_vary("budget.total_cny")
    with pytest.raises(RequestError) as caught:
        sweep(two_linear(), [parse_vary("budget.total_cny=1"), parse_vary("channels[tv].ctr=1,2")])
    assert "vary[1].path: no item 'tv' in channels; known: a, b" in str(caught.value)
    with pytest.raises(RequestError) as caught:
        sweep(two_linear(), [parse_vary("budget.total_cny=1,2"), parse_vary("budget.total_cny=3")])
    assert [p.path for p in caught.value.problems] == ["vary[1].path"]
    assert "budget.total_cny is given twice" in str(caught.value)


def test_relative_varies_parse():
    assert parse_vary("channels[*].response.roas*=0.8:1.2:3") == Vary(
        "channels[*].response.roas", (0.8, 1.0, 1.2), "scale"
    )
    assert parse_vary("budget.total_cny-=1e5,2e5") == Vary(
        "budget.total_cny", (-1e5, -2e5), "shift"
    )
    assert parse_vary("budget.total_cny+=1e5").label == "budget.total_cny+"
    with pytest.raises(ValueError, match="scale needs a number"):
        parse_vary("budget.total_cny*=max_gmv")


def test_a_scale_sweep_is_the_sweep_of_the_absolute_values():
    base = two_linear()  # budget 2M, roas a 5 b 3
    relative = sweep(
        base,
        [
            Vary("budget.total_cny", (0.5, 1.0, 1.5), "scale"),
            Vary("channels[*].response.roas", (1.0, 1.2), "scale"),
        ],
    )
    absolute = sweep(
        base,
        [Vary("budget.total_cny", (1e6, 2e6, 3e6)), Vary("channels[a].response.roas", (5.0, 6.0))],
    )  # b's ROAS moves too in the relative sweep: compare with a hand sum
    assert [list(p.values) for p in relative.points[:1]] == [
        ["budget.total_cny*", "channels[*].response.roas*"]
    ]
    for rel, ab in zip(relative.points, absolute.points, strict=True):
        budget = ab.values["budget.total_cny"]
        factor = rel.values["channels[*].response.roas*"]
        assert budget == pytest.approx(2e6 * rel.values["budget.total_cny*"])
        expected = factor * linear_gmv(budget)  # both ROAS scaled: the same split, GMV x factor
        assert rel.metrics["gmv_cny"] == pytest.approx(expected, rel=1e-6)
        if factor == 1.0:
            assert rel.metrics["gmv_cny"] == pytest.approx(ab.metrics["gmv_cny"], rel=1e-9)
    shifted = sweep(base, [Vary("budget.total_cny", (-1e6, 0.0, 1e6), "shift")])
    assert [p.metrics["gmv_cny"] for p in shifted.points] == pytest.approx(
        [p.metrics["gmv_cny"] for p in absolute.points[::2]], rel=1e-9
    )


def test_a_relative_tornado_is_centred_on_one_and_zero():
    result = tornado(
        two_linear(),
        [
            Vary("budget.total_cny", (0.5, 1.5), "scale"),
            Vary("channels[a].response.roas", (-1.0, 1.0), "shift"),
        ],
    )
    bars = {bar.path: bar for bar in result.bars}
    assert bars["budget.total_cny*"].base_value == 1.0
    assert bars["channels[a].response.roas+"].base_value == 0.0
    # budget 1M: a alone, 5M GMV; 3M: a 1M x 5 + b 2M x 3 = 11M
    assert [p.metrics["gmv_cny"] for p in bars["budget.total_cny*"].points] == pytest.approx(
        [5e6, 11e6], rel=1e-6
    )


def test_every_bad_path_is_listed_at_once():
    varies = [Vary("channels[tv].ctr", (1,)), Vary("budget.totl_cny", (1,)), Vary("x", (1,))]
    found = vary_problems(two_linear(), varies)
    assert [p.path for p in found] == ["vary[0].path", "vary[1].path", "vary[2].path"]


def test_frontier_budgets_name_the_range_field():
    base = two_linear()  # 2M: default budgets from 1M to 4M
    assert frontier_budgets(base, None, None, 4) == [1e6, 2e6, 3e6, 4e6]
    assert frontier_budgets(base, 2e6, 5e6, 4) == [2e6, 3e6, 4e6, 5e6]
    with pytest.raises(RequestError) as caught:
        frontier_budgets(base, 2e6, 1e6, 4)
    assert str(caught.value.problems[0]) == "to_cny: 1,000,000 must be above from_cny 2,000,000"
    with pytest.raises(RequestError) as caught:
        frontier_budgets(base, 5e6, None, 4)
    assert caught.value.problems[0].path == "from_cny"
    assert "must be below the default to_cny 4,000,000" in str(caught.value)
    with pytest.raises(RequestError) as caught:
        frontier_budgets(base, 1e6, 1e6 + 1e-9, 200)  # steps finer than a float's spacing at 1M
    assert caught.value.problems[0].path == "points"


def test_a_value_the_schema_refuses_is_an_error_before_any_solve():
    with pytest.raises(ScenarioError) as caught:
        sweep(two_linear(), [parse_vary("budget.total_cny=1e6,-5")])
    message = str(caught.value)
    assert "with budget.total_cny=-5" in message and "budget.total_cny" in message


def test_too_many_points_is_refused():
    varies = [
        Vary("budget.total_cny", tuple(range(1, 101))),
        Vary("channels[a].response.roas", tuple(range(1, 102))),
    ]
    assert MAX_POINTS < 100 * 101
    with pytest.raises(RequestError, match="at most") as caught:
        sweep(two_linear(), varies)
    assert [p.path for p in caught.value.problems] == ["vary"]


# --- sweep -------------------------------------------------------------------------------------


def test_sweep_points_are_the_hand_optimum_and_equal_separate_solves(solver):
    base = two_linear()
    varies = [
        parse_vary("budget.total_cny=0.5e6,2e6,4e6"),
        parse_vary("channels[a].response.roas=5,2"),
    ]
    result = sweep(base, varies, SolveOptions(solver=solver))
    assert [list(p.values.values()) for p in result.points] == [
        [0.5e6, 5.0],
        [0.5e6, 2.0],
        [2e6, 5.0],
        [2e6, 2.0],
        [4e6, 5.0],
        [4e6, 2.0],
    ]
    for point in result.points:
        budget, roas_a = point.values["budget.total_cny"], point.values["channels[a].response.roas"]
        assert point.metrics["gmv_cny"] == pytest.approx(linear_gmv(budget, roas_a), rel=1e-6)
        alone = plan(set_values(base, point.values), solver=solver)
        assert point.metrics["gmv_cny"] == pytest.approx(alone.total.gmv_cny, rel=1e-9)
        assert point.spend_by_channel == pytest.approx(
            {c: m.spend_cny for c, m in alone.by_channel.items()}, rel=1e-9, abs=1e-6
        )
        assert point.metrics["feasible"] is True
    # at 4M only 3M can be used (both caps): a 1M and b 2M
    assert result.points[4].spend_by_channel == pytest.approx({"a": 1e6, "b": 2e6}, rel=1e-6)


def test_sweep_in_two_processes_gives_the_same_points():
    varies = [parse_vary("budget.total_cny=0.5e6:3e6:3")]
    one = sweep(two_linear(), varies, workers=1)
    two = sweep(two_linear(), varies, workers=2)
    assert [p.metrics for p in one.points] == [p.metrics for p in two.points]


def test_an_infeasible_point_is_reported_not_fatal():
    base = scenario(
        [linear("a", 5.0, cap=1e6, min_spend_cny=5e5)],
        2e6,
        rules=[{"kind": "roas_floor", "min_roas": 4.0}],
    )
    result = sweep(base, [parse_vary("rules[0].min_roas=4,6")])  # ROAS 5 cannot reach 6
    statuses = [p.metrics["status"] for p in result.points]
    assert statuses == ["optimal", "infeasible"]
    assert result.points[1].metrics["feasible"] is False
    assert result.points[0].metrics["gmv_cny"] == pytest.approx(5e6, rel=1e-6)


# --- tornado -----------------------------------------------------------------------------------


def test_tornado_ranks_fields_by_swing(solver):
    varies = [parse_vary("channels[a].response.roas=4,6"), parse_vary("budget.total_cny=1e6,3e6")]
    result = tornado(two_linear(), varies, "gmv_cny", SolveOptions(solver=solver))
    assert result.base.metrics["gmv_cny"] == pytest.approx(8e6, rel=1e-6)  # 5 x 1M + 3 x 1M
    budget, roas = result.bars
    assert budget.path == "budget.total_cny" and roas.path == "channels[a].response.roas"
    assert (budget.low, budget.high) == pytest.approx((5e6, 11e6), rel=1e-6)
    assert (roas.low, roas.high) == pytest.approx((7e6, 9e6), rel=1e-6)
    assert budget.swing == pytest.approx(6e6, rel=1e-6) and budget.base_value == 2e6


def test_tornado_refuses_an_unknown_metric():
    with pytest.raises(RequestError, match="metric: unknown metric 'gmv'"):
        tornado(two_linear(), [parse_vary("budget.total_cny=1e6,3e6")], "gmv")


# --- frontier ----------------------------------------------------------------------------------

M, K = 10e6, 2e6  # GMV = M (1 - exp(-spend / K)): marginal ROAS (M / K) exp(-spend / K)


def exp_gmv(spend: float) -> float:
    return M * (1 - math.exp(-spend / K))


def test_frontier_marginal_roas_is_the_slope_between_budgets(solver):
    base = scenario([exponential("e", M, K)], 3e6)
    budgets = budget_range(1e6, 6e6, 11)
    result = frontier(base, budgets, options=SolveOptions(solver=solver))
    for before, point in zip(result.points, result.points[1:], strict=False):
        a, b = before.budget_total_cny, point.budget_total_cny
        assert point.point.metrics["gmv_cny"] == pytest.approx(exp_gmv(b), rel=1e-6)
        assert point.marginal_roas == pytest.approx((exp_gmv(b) - exp_gmv(a)) / (b - a), rel=1e-4)
    for point in result.points[::5]:  # and each point is the plan of that budget, solved alone
        alone = plan(set_value(base, "budget.total_cny", point.budget_total_cny), solver=solver)
        assert point.point.metrics["gmv_cny"] == pytest.approx(alone.total.gmv_cny, rel=1e-9)
    # marginal ROAS 5 exp(-s / 2M) falls below 1 at s = 2M ln 5 = 3.219M
    assert result.below_one_cny == pytest.approx(K * math.log(5), rel=0.01)
    assert result.roas_floor is None and result.below_floor_cny is None


def test_frontier_marks_the_roas_floor_and_stops_spending_where_it_binds(solver):
    base = scenario([exponential("e", M, K)], 3e6, rules=[{"kind": "roas_floor", "min_roas": 3.0}])
    result = frontier(base, budget_range(0.5e6, 3e6, 11), options=SolveOptions(solver=solver))
    assert result.roas_floor == 3.0
    # marginal ROAS 5 exp(-s / 2M) < 3 once s > 2M ln(5/3) = 1.022M
    assert result.below_floor_cny == pytest.approx(K * math.log(5 / 3), rel=0.03)
    # average ROAS M (1 - exp(-s/K)) / s = 3 caps spend near 2.25M: more budget buys nothing
    last = result.points[-1]
    cap = last.point.metrics["spend_cny"]
    assert exp_gmv(cap) / cap == pytest.approx(3.0, rel=1e-5)
    assert last.marginal_roas is None and last.marginal_gmv_per_budget == pytest.approx(0, abs=1e-3)


def test_frontier_notes_when_returns_are_already_low():
    base = scenario([exponential("e", M, K)], 3e6, rules=[{"kind": "roas_floor", "min_roas": 4.5}])
    result = frontier(base, budget_range(2e6, 3e6, 3))
    # the floor caps spend below the first budget: no extra yuan is spent, so no marginal ROAS
    assert result.below_floor_cny is None
    assert all(p.marginal_roas is None for p in result.points)
    assert any(
        n.startswith("from a total budget of 2,000,000 CNY on, extra budget is left unspent")
        and n.endswith("lower the lowest budget (--from) to see where returns fall off")
        for n in result.notes
    )


def test_frontier_text_agrees_with_its_points_and_gmv_never_falls(solver):
    # GMV 10M (1 - exp(-s / 2M)), spend capped at 4M: marginal ROAS 5 exp(-s / 2M) crosses 1 at
    # s = 2M ln 5 = 3.219M; past 4M nothing more is spent
    base = scenario([exponential("e", M, K, max_spend_cny=4e6)], 3e6)
    result = frontier(base, budget_range(1e6, 6e6, 11), options=SolveOptions(solver=solver))
    gmv = [p.point.metrics["gmv_cny"] for p in result.points]
    assert all(b >= a for a, b in itertools.pairwise(gmv))
    assert gmv[-1] == pytest.approx(exp_gmv(4e6), rel=1e-6)  # 8,646,647 CNY
    # the crossing lies between the midpoints of the two intervals whose returns straddle 1,
    # interpolated linearly: 2.5-3.0M returns 1.267, 3.0-3.5M returns 0.987: 3.227M
    marginal = {p.budget_total_cny - 0.25e6: p.marginal_roas for p in result.points[1:]}
    assert marginal[2.75e6] == pytest.approx((exp_gmv(3e6) - exp_gmv(2.5e6)) / 0.5e6, rel=1e-4)
    assert marginal[2.75e6] == pytest.approx(1.267, abs=1e-3)
    assert marginal[3.25e6] == pytest.approx(0.987, abs=1e-3)
    expected = 2.75e6 + 0.5e6 * (marginal[2.75e6] - 1) / (marginal[2.75e6] - marginal[3.25e6])
    assert result.below_one_cny == pytest.approx(expected, rel=1e-9)
    assert result.below_one_cny == pytest.approx(K * math.log(5), rel=0.01)
    assert all(marginal[b] is None for b in (4.25e6, 4.75e6, 5.25e6, 5.75e6))
    assert any(n.startswith("from a total budget of 4,000,000 CNY on") for n in result.notes)


def test_a_worse_plan_at_a_larger_budget_gives_way_to_the_smaller_budgets_plan():
    # at 1M the optimum fills a (ROAS 5): GMV 5M; a plan of 0.5M on a and 0.5M on b at 1.5M
    # makes 2.5M + 1.5M = 4M, so the 1M plan, still within every rule at 1.5M, is kept
    small, large = two_linear(1e6), two_linear(1.5e6)
    best = plan(small)
    worse = score(large, {"a": {"Y": 0.5e6}, "b": {"Y": 0.5e6}})
    kept, reused = never_worse([small, large], [best, worse])
    assert kept[0] is best and reused == {1: pytest.approx(1e6)}
    assert kept[1].total.gmv_cny == pytest.approx(5e6) and kept[1].is_feasible
    assert kept[1].spend == best.spend and kept[1].budget_total_cny == 1.5e6
    # the optimum at 1.5M (1M on a, 0.5M on b: 6.5M) is better and stays as the solver gave it
    optimum = plan(large)
    assert never_worse([small, large], [best, optimum]) == ([best, optimum], {})
    assert optimum.total.gmv_cny == pytest.approx(6.5e6)


def test_the_best_smaller_budgets_plan_is_reused_past_a_failed_point():
    # 1M: the optimum (5M GMV); 1.5M: the solver failed; 2M: a poor 4M plan. The 1M plan,
    # re-scored at 2M, still makes 5M and keeps every rule: it is shown at 2M.
    budgets = [two_linear(1e6), two_linear(1.5e6), two_linear(2e6)]
    best = plan(budgets[0])
    poor = score(budgets[2], {"a": {"Y": 0.5e6}, "b": {"Y": 0.5e6}})
    kept, reused = never_worse(budgets, [best, "solver failed", poor])
    assert kept[1] == "solver failed" and reused == {2: pytest.approx(1e6)}
    assert kept[2].total.gmv_cny == pytest.approx(5e6) and kept[2].budget_total_cny == 2e6


def test_a_plan_that_breaks_a_rule_at_the_larger_budget_is_not_reused():
    # spend_all: the 1M plan leaves 0.5M of the 1.5M budget unspent, which that mode forbids
    small, large = two_linear(1e6), two_linear(1.5e6)
    small = set_value(small, "budget.mode", "spend_all")
    large = set_value(large, "budget.mode", "spend_all")
    worse = score(large, {"a": {"Y": 0.5e6}, "b": {"Y": 0.5e6}})
    assert not score(large, plan(small).spend).is_feasible
    assert never_worse([small, large], [plan(small), worse])[1] == {}


def test_frontier_refuses_min_spend_and_unordered_budgets():
    base = two_linear()
    with pytest.raises(RequestError, match="objective: min_spend has no frontier"):
        frontier(base, [1e6, 2e6], objective="min_spend")
    with pytest.raises(RequestError, match="budgets: expected two or more budgets in increasing"):
        frontier(base, [2e6, 1e6])


def test_default_budgets_stay_above_fixed_costs():
    base = scenario([linear("a", 5.0)], 10e6, fixed_costs=[{"id": "f", "amount_cny": 8e6}])
    budgets = default_budgets(base, 4)
    assert budgets[0] == pytest.approx(8.5e6) and budgets[-1] == pytest.approx(20e6)


def test_a_tornado_ranks_by_a_band_over_the_draws():
    """ROAS drawn 1, 2, ..., 10 on the one channel: GMV's P10 is 1.9 x the spend (numpy's
    linear percentile of 1..10 is 1.9), so a budget of 100 / 300 gives 190 / 570."""
    drawn = linear("c", 5.0, draws={"response": {"roas": [float(k) for k in range(1, 11)]}})
    s = scenario([drawn], 200, mode="spend_all")
    result = tornado(s, [parse_vary("budget.total_cny=100,300")], "gmv_p10_cny")
    assert result.base.metrics["gmv_p10_cny"] == pytest.approx(380, rel=1e-9)
    (bar,) = result.bars
    assert (bar.low, bar.high) == pytest.approx((190, 570), rel=1e-9)


def test_a_band_metric_needs_curves_with_draws():
    with pytest.raises(RequestError, match="metric: 'roas_p10' is a band over the curves' draws"):
        tornado(two_linear(), [parse_vary("budget.total_cny=1e6,3e6")], "roas_p10")

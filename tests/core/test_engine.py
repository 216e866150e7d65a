"""Analytical optima a person can check by hand, on every available solver."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import bisect, exponential, kol, linear, scenario, tier

from optimizer.planner import plan


def spend(result, unit: str) -> float:
    """Total spend of a unit over all periods."""
    return sum(result.spend[unit].values())


def rule(result, name: str):
    """The re-checked rule with this name."""
    return next(r for r in result.rules if r.name == name)


def test_linear_channels_fill_best_roas_first(solver: str) -> None:
    s = scenario([linear("search", roas=6, cap=60), linear("kol", roas=4, cap=100)], budget=100)
    result = plan(s, solver=solver)
    assert result.status == "optimal"
    assert spend(result, "search") == pytest.approx(60)
    assert spend(result, "kol") == pytest.approx(40)
    assert result.total.gmv_cny == pytest.approx(6 * 60 + 4 * 40)
    assert result.solver.gap == pytest.approx(0, abs=1e-9)


def test_three_linear_channels_stop_where_budget_ends(solver: str) -> None:
    channels = [linear("a", 2, cap=30), linear("b", 5, cap=30), linear("c", 3, cap=30)]
    result = plan(scenario(channels, budget=50), solver=solver)
    assert [spend(result, c) for c in "abc"] == pytest.approx([0, 30, 20])
    assert result.total.gmv_cny == pytest.approx(5 * 30 + 3 * 20)


def test_two_identical_saturating_channels_split_evenly(solver: str) -> None:
    channels = [exponential("a", 500, 40), exponential("b", 500, 40)]
    result = plan(scenario(channels, budget=100, mode="spend_all"), solver=solver)
    assert spend(result, "a") == pytest.approx(50, rel=1e-6)
    assert spend(result, "b") == pytest.approx(50, rel=1e-6)
    assert result.total.gmv_cny == pytest.approx(2 * 500 * (1 - math.exp(-50 / 40)), rel=1e-9)


def test_interior_optimum_equalises_marginal_roas_as_bisection_says(solver: str) -> None:
    curves = {"a": (500.0, 40.0), "b": (300.0, 20.0), "c": (800.0, 120.0)}
    budget = 150.0

    def spend_at(multiplier: float) -> dict[str, float]:
        # d/dx M(1 - exp(-x/s)) = (M/s) exp(-x/s) = multiplier  =>  x = s ln(M / (s multiplier))
        return {k: max(s * math.log(m / (s * multiplier)), 0.0) for k, (m, s) in curves.items()}

    multiplier = bisect(lambda lam: sum(spend_at(lam).values()) - budget, 1e-6, 100.0)
    expected = spend_at(multiplier)

    channels = [exponential(k, m, s) for k, (m, s) in curves.items()]
    result = plan(scenario(channels, budget=budget, mode="spend_all"), solver=solver)
    for k in curves:
        assert spend(result, k) == pytest.approx(expected[k], rel=1e-6)
        assert result.by_channel[k].marginal_roas == pytest.approx(multiplier, rel=1e-6)


def test_binding_roas_floor_lowers_spend_below_the_budget(solver: str) -> None:
    # GMV(x) = 1000 (1 - exp(-x/100)); ROAS falls with spend, so the floor stops spending where
    # GMV(x) = 4 x, well before the budget of 500.
    s = scenario(
        [exponential("live", 1000, 100)], budget=500, rules=[{"kind": "roas_floor", "min_roas": 4}]
    )
    expected = bisect(lambda x: 1000 * (1 - math.exp(-x / 100)) - 4 * x, 1.0, 500.0)
    result = plan(s, solver=solver)
    assert spend(result, "live") == pytest.approx(expected, rel=1e-6)
    assert spend(result, "live") < 500
    assert result.total.roas == pytest.approx(4.0, rel=1e-6)
    floor = rule(result, "roas_floor[0]")
    assert floor.binds and floor.holds


def test_binding_cac_ceiling(solver: str) -> None:
    # New customers = GMV * 0.5 / AOV 100; CAC = x / new <= 40  <=>  GMV >= 5 x.
    channel = exponential("search", 1000, 100, new_customer_share=0.5)
    s = scenario([channel], budget=500, rules=[{"kind": "cac_ceiling", "max_cac_cny": 40}])
    expected = bisect(lambda x: 1000 * (1 - math.exp(-x / 100)) - 5 * x, 1.0, 500.0)
    result = plan(s, solver=solver)
    assert spend(result, "search") == pytest.approx(expected, rel=1e-6)
    assert result.total.cac_cny == pytest.approx(40.0, rel=1e-6)
    assert rule(result, "cac_ceiling[0]").binds


def kol_scenario(rules: list[dict]) -> object:
    """Head tier: 10 GMV per fee yuan, 32% commission, room for 50; mid: 6, 20%, room for 100."""
    tiers = [tier("head", 0.32, 10, cap=50), tier("mid", 0.20, 6, cap=100)]
    return scenario([kol(tiers)], budget=100, rules=rules)


def test_commission_cap_moves_gmv_from_head_to_mid_tier(solver: str) -> None:
    free = plan(kol_scenario([]), solver=solver)
    assert spend(free, "kol.head") == pytest.approx(50)
    assert spend(free, "kol.mid") == pytest.approx(50)
    assert free.total.commission_cny / free.total.gmv_cny == pytest.approx(220 / 800)

    # Blended rate <= 25%: 0.07 head_gmv <= 0.05 mid_gmv; with fees head/10 + mid/6 = 100 the
    # best split has head GMV 300 (fee 30) and mid GMV 420 (fee 70).
    capped = plan(kol_scenario([{"kind": "commission_cap", "max_rate": 0.25}]), solver=solver)
    assert spend(capped, "kol.head") == pytest.approx(30)
    assert spend(capped, "kol.mid") == pytest.approx(70)
    assert capped.total.gmv_cny == pytest.approx(720)
    assert capped.total.commission_cny == pytest.approx(0.25 * 720)
    assert rule(capped, "commission_cap[0].rate").binds


def test_total_commission_cap(solver: str) -> None:
    result = plan(kol_scenario([{"kind": "commission_cap", "max_total_cny": 120}]), solver=solver)
    assert result.total.commission_cny == pytest.approx(120)
    assert rule(result, "commission_cap[0].total").binds


def test_rising_cpm_moves_spend_to_earlier_periods_when_demand_is_flat(solver: str) -> None:
    paid = {
        "id": "qianchuan",
        "kind": "paid",
        "ctr": 0.02,
        "cvr": 0.05,
        "aov_cny": 200,
        "cpm": {"base_cny": 40, "trend": {"type": "index", "values": [1.0, 1.42]}},
        "saturation": {"type": "exponential", "scale_cny": 30},
    }
    s = scenario([paid], budget=100, mode="spend_all", periods=["H1", "H2"])
    result = plan(s, solver=solver)
    # Equal marginal ROAS: g1 exp(-x1/30) = g1/1.42 exp(-x2/30)  =>  x1 - x2 = 30 ln 1.42.
    expected_h1 = (100 + 30 * math.log(1.42)) / 2
    assert result.spend["qianchuan"]["H1"] == pytest.approx(expected_h1, rel=1e-6)
    assert result.spend["qianchuan"]["H2"] == pytest.approx(100 - expected_h1, rel=1e-6)
    assert result.by_period["H1"].impressions == pytest.approx(1000 * expected_h1 / 40, rel=1e-6)


def test_seasonality_moves_spend_to_the_peak(solver: str) -> None:
    s = scenario(
        [exponential("live", 100, 30)],
        budget=90,
        mode="spend_all",
        periods=["Q2", "Q3"],
        seasonality=[2.0, 1.0],
    )
    result = plan(s, solver=solver)
    # 2 exp(-x/30) = exp(-(90 - x)/30)  =>  x = (90 + 30 ln 2) / 2
    assert result.spend["live"]["Q2"] == pytest.approx((90 + 30 * math.log(2)) / 2, rel=1e-6)


def test_min_spend_reaches_the_gmv_target(solver: str) -> None:
    s = scenario(
        [exponential("live", 1000, 100)],
        budget=500,
        objective={"kind": "min_spend", "gmv_target_cny": 600},
    )
    result = plan(s, solver=solver)
    assert result.total.spend_cny == pytest.approx(-100 * math.log(1 - 0.6), rel=1e-6)
    assert result.total.gmv_cny == pytest.approx(600, rel=1e-6)


def test_max_profit_stops_where_marginal_margin_equals_one(solver: str) -> None:
    s = scenario(
        [exponential("live", 1000, 100)],
        budget=500,
        objective="max_profit",
        accounting={"gross_margin": 0.5},
    )
    result = plan(s, solver=solver)
    # 0.5 * 1000/100 * exp(-x/100) = 1  =>  x = 100 ln 5
    assert result.total.spend_cny == pytest.approx(100 * math.log(5), rel=1e-6)
    gmv = 1000 * (1 - math.exp(-math.log(5)))
    assert result.gross_profit_cny == pytest.approx(0.5 * gmv - 100 * math.log(5), rel=1e-6)


def test_max_profit_counts_commission_so_kol_gets_less_than_under_max_gmv(solver: str) -> None:
    tiers = [tier("head", 0.4, 5)]
    channels = [kol(tiers), linear("search", 4, cap=100)]
    by_gmv = plan(scenario(channels, budget=100), solver=solver)
    by_profit = plan(
        scenario(channels, budget=100, objective="max_profit", accounting={"gross_margin": 0.6}),
        solver=solver,
    )
    # GMV: KOL returns 5 > 4. Profit per yuan: KOL 5 (0.6 - 0.4) - 1 = 0; search 4 * 0.6 - 1 = 1.4
    assert spend(by_gmv, "kol.head") == pytest.approx(100)
    assert spend(by_profit, "search") == pytest.approx(100)
    assert by_profit.gross_profit_cny == pytest.approx(140)


def test_max_new_customers_prefers_the_channel_that_acquires(solver: str) -> None:
    channels = [
        linear("brand", 5, cap=100, new_customer_share=0.2),
        linear("prospecting", 3, cap=60, new_customer_share=0.6),
    ]
    result = plan(scenario(channels, budget=100, objective="max_new_customers"), solver=solver)
    # new per yuan: brand 5*0.2/100 = 0.01, prospecting 3*0.6/100 = 0.018
    assert spend(result, "prospecting") == pytest.approx(60)
    assert result.total.new_customers == pytest.approx(60 * 0.018 + 40 * 0.01)


def test_gmv_share_floor_binds(solver: str) -> None:
    channels = [linear("self_live", 3, groups=["self"]), linear("kol", 5)]
    rules = [{"kind": "gmv_share", "groups": ["self"], "min_share": 0.45}]
    result = plan(scenario(channels, budget=100, mode="spend_all", rules=rules), solver=solver)
    # 3a >= 0.45 (3a + 5b), a + b = 100  =>  a = 2.25/1.65 b
    b = 100 / (1 + 2.25 / 1.65)
    assert spend(result, "kol") == pytest.approx(b)
    assert rule(result, "gmv_share[0].min").value == pytest.approx(0.45)


def test_share_ceiling_on_concave_curves_holds_on_the_true_curves(solver: str) -> None:
    channels = [exponential("kol", 900, 50), exponential("live", 400, 60)]
    rules = [{"kind": "gmv_share", "channels": ["kol"], "max_share": 0.35}]
    result = plan(scenario(channels, budget=200, mode="spend_all", rules=rules), solver=solver)
    share = rule(result, "gmv_share[0].max")
    assert share.holds
    assert share.value == pytest.approx(0.35, rel=1e-4)
    gmv = {k: result.by_channel[k].gmv_cny for k in ("kol", "live")}
    assert gmv["kol"] == pytest.approx(900 * (1 - math.exp(-spend(result, "kol") / 50)))


def test_a_share_ceiling_that_only_wasted_segments_could_meet_is_not_a_fake_plan(
    solver: str,
) -> None:
    # Spending all 100 forces 80+ into KOL, whose true GMV then exceeds 35% of the total.
    channels = [exponential("kol", 900, 50), linear("live", 2, cap=20)]
    rules = [{"kind": "gmv_share", "channels": ["kol"], "max_share": 0.35}]
    result = plan(scenario(channels, budget=100, mode="spend_all", rules=rules), solver=solver)
    assert result.status == "infeasible"
    assert result.total is None


def test_s_shaped_curve_matches_enumeration(solver: str) -> None:
    hill = {"type": "hill", "max_gmv_cny": 1000, "half_saturation_cny": 50, "shape": 2.5}
    channels = [
        {"id": "launch", "kind": "curve", "response": hill, "aov_cny": 100},
        linear("search", 3),
    ]
    result = plan(scenario(channels, budget=120, mode="spend_all"), solver=solver)
    x = np.linspace(0, 120, 120_001)
    u = (x / 50) ** 2.5
    best = np.max(1000 * u / (1 + u) + 3 * (120 - x))
    assert result.solver.is_mip
    assert result.total.gmv_cny == pytest.approx(best, rel=1e-4)
    assert result.total.gmv_cny <= best * (1 + 1e-9)


def test_fixed_costs_and_contingency_leave_less_for_media(solver: str) -> None:
    s = scenario(
        [linear("a", 3)],
        budget=100,
        mode="spend_all",
        fixed_costs=[{"id": "compliance", "amount_cny": 10}],
        budget_fields={"contingency_cny": 5},
    )
    result = plan(s, solver=solver)
    assert result.total.spend_cny == pytest.approx(85)
    assert result.total.roas == pytest.approx(3)


def test_private_domain_is_bounded_by_its_member_base(solver: str) -> None:
    pd = {
        "id": "wecom",
        "kind": "private_domain",
        "members": 1000,
        "cost_per_reach_cny": 2,
        "repurchase_rate": 0.5,
        "orders_per_buyer": 2,
        "aov_cny": 100,
    }
    result = plan(scenario([pd], budget=1_000_000, periods=["H1", "H2"]), solver=solver)
    ceiling = 1000 * 0.5 * 2 * 100 / 2  # per half-year
    for period in ("H1", "H2"):
        assert result.by_period[period].gmv_cny <= ceiling
        assert result.by_period[period].gmv_cny == pytest.approx(ceiling, rel=1e-3)
    assert result.total.new_customers == 0
    assert result.total.cac_cny is None


def test_reported_metrics_equal_an_independent_recomputation(solver: str) -> None:
    paid = {
        "id": "search",
        "kind": "paid",
        "ctr": 0.03,
        "cvr": 0.04,
        "aov_cny": 150,
        "new_customer_share": 0.3,
        "cpm": {"base_cny": 50, "trend": {"type": "compound", "rate_per_period": 0.1}},
        "saturation": {"type": "hill", "half_saturation_cny": 40, "shape": 1},
    }
    s = scenario(
        [paid, exponential("kol", 400, 30)],
        budget=150,
        periods=["A", "B", "C"],
        seasonality=[1.0, 1.5, 0.8],
        rules=[{"kind": "roas_floor", "min_roas": 3}],
    )
    result = plan(s, solver=solver)
    total_gmv = total_new = 0.0
    for t, period in enumerate(["A", "B", "C"]):
        season = [1.0, 1.5, 0.8][t]
        x = result.spend["search"][period]
        cpm = 50 * 1.1**t
        gmv = season * 1000 * 0.03 * 0.04 * 150 / cpm * (40 * x / (40 + x))
        assert result.by_unit_period["search"][period].gmv_cny == pytest.approx(gmv, rel=1e-12)
        y = result.spend["kol"][period]
        kol_gmv = season * 400 * (1 - math.exp(-y / 30))
        total_gmv += gmv + kol_gmv
        total_new += gmv * 0.3 / 150 + kol_gmv * 0.5 / 100
    spent = sum(sum(v.values()) for v in result.spend.values())
    assert result.total.gmv_cny == pytest.approx(total_gmv, rel=1e-12)
    assert result.total.roas == pytest.approx(total_gmv / spent, rel=1e-12)
    assert result.total.cac_cny == pytest.approx(spent / total_new, rel=1e-12)
    assert result.total.roas >= 3 * (1 - 1e-6)


def test_spend_basis_with_commission_changes_roas(solver: str) -> None:
    tiers = [tier("mid", 0.2, 5)]
    channels = [kol(tiers)]
    media = plan(scenario(channels, budget=100), solver=solver)
    both = plan(
        scenario(channels, budget=100, accounting={"spend_basis": "media_plus_commission"}),
        solver=solver,
    )
    assert media.total.roas == pytest.approx(5)
    assert both.total.roas == pytest.approx(500 / (100 + 100))


def test_commission_in_budget_leaves_less_for_fees(solver: str) -> None:
    tiers = [tier("mid", 0.2, 5)]
    s = scenario(
        [kol(tiers)],
        budget=100,
        budget_fields={"commission_in_budget": True},
    )
    result = plan(s, solver=solver)
    # fee + 0.2 * 5 * fee = 100
    assert result.total.spend_cny == pytest.approx(50)


def test_budgets_in_the_hundreds_of_millions_stay_exact(solver: str) -> None:
    # A minimum equal to the only open period's cap at 3e7 CNY: solvers' absolute tolerances
    # once made this look infeasible; the program is now scaled.
    b = {
        "id": "b",
        "kind": "curve",
        "aov_cny": 100,
        "min_spend_cny": 30_000_000,
        "period_max_spend_cny": [0, 0, 30_000_000, 0],
        "response": {"type": "hill", "max_gmv_cny": 120e6, "half_saturation_cny": 20e6},
    }
    s = scenario([exponential("a", 100e6, 10e6), b], budget=120e6, periods=["Q1", "Q2", "Q3", "Q4"])
    result = plan(s, solver=solver)
    assert result.status == "optimal"
    assert spend(result, "b") == pytest.approx(30e6, rel=1e-9)
    assert result.spend["b"]["Q1"] == 0


def test_concave_hill_below_shape_one_with_a_closed_period(solver: str) -> None:
    hill = {"type": "hill", "max_gmv_cny": 500, "half_saturation_cny": 40, "shape": 0.9}
    channel = {
        "id": "a",
        "kind": "curve",
        "response": hill,
        "aov_cny": 100,
        "period_max_spend_cny": [0, 100],
    }
    result = plan(scenario([channel], budget=100, periods=["H1", "H2"]), solver=solver)
    assert result.status == "optimal"
    assert result.spend["a"] == pytest.approx({"H1": 0, "H2": 100})
    assert result.total.gmv_cny == pytest.approx(500 * 2.5**0.9 / (1 + 2.5**0.9))


def test_a_ratio_rule_over_an_unused_channel_does_not_bind(solver: str) -> None:
    channels = [linear("a", 5), linear("clips", 1, cap=0)]
    rules = [{"kind": "roas_floor", "min_roas": 2.5, "channels": ["clips"]}]
    result = plan(scenario(channels, budget=100, rules=rules), solver=solver)
    clips = rule(result, "roas_floor[0]")
    assert clips.value is None and clips.holds and not clips.binds


def test_a_group_may_share_its_name_with_a_channel(solver: str) -> None:
    # Rules name channels and groups in separate fields, so the same word is unambiguous.
    channels = [linear("self_live", 3, groups=["self_live"]), linear("kol", 5, cap=40)]
    rules = [{"kind": "gmv_share", "groups": ["self_live"], "min_share": 0.5}]
    result = plan(scenario(channels, budget=100, mode="spend_all", rules=rules), solver=solver)
    assert spend(result, "kol") == pytest.approx(100 * 3 / 8)  # 3a = 5b, a + b = 100


def test_a_plan_whose_gap_stays_above_tolerance_is_feasible_not_optimal(
    solver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optimizer.core.engine as engine
    import optimizer.core.nlp as nlp

    monkeypatch.setattr(engine, "MAX_ROUNDS", 1)
    monkeypatch.setattr(nlp, "MAX_POLISH_CELLS", 0)
    s = scenario([exponential("a", 500, 40), exponential("b", 300, 20)], budget=100)
    result = plan(s, solver=solver, tolerance=1e-9)
    assert result.status == "feasible"
    assert result.solver.gap > 1e-9
    assert "above the tolerance" in result.message
    assert all(r.holds for r in result.rules)

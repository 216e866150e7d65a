"""What each rule costs: dual-based values agree with re-solving with the rule relaxed."""

from __future__ import annotations

import math

import pytest
from helpers import bisect, exponential, kol, linear, scenario, tier

from optimizer.planner import plan


def value_of(result, name: str) -> float:
    """Objective gained per unit the named rule's limit is loosened."""
    return next(r.value_of_relaxing for r in result.rules if r.name == name)


def finite_difference(build, limit: float, step: float, solver: str) -> float:
    """(objective with the limit loosened by step - objective) / step, by two full solves."""
    base = plan(build(limit), solver=solver).objective_value
    return (plan(build(limit + step), solver=solver).objective_value - base) / abs(step)


def test_one_more_yuan_of_budget_returns_the_marginal_roas(solver: str) -> None:
    curves = {"a": (500.0, 40.0), "b": (300.0, 20.0), "c": (800.0, 120.0)}

    def spend_at(lam: float) -> float:
        return sum(max(s * math.log(m / (s * lam)), 0.0) for m, s in curves.values())

    multiplier = bisect(lambda lam: spend_at(lam) - 150.0, 1e-6, 100.0)
    channels = [exponential(k, m, s) for k, (m, s) in curves.items()]
    result = plan(scenario(channels, budget=150), solver=solver)
    assert value_of(result, "budget") == pytest.approx(multiplier, rel=1e-3)


def test_lowering_a_roas_floor_adds_what_its_dual_says(solver: str) -> None:
    def build(floor: float):
        return scenario(
            [exponential("live", 1000, 100)],
            budget=500,
            rules=[{"kind": "roas_floor", "min_roas": floor}],
        )

    result = plan(build(4.0), solver=solver)
    expected = finite_difference(build, 4.0, -0.001, solver)
    assert expected > 0
    assert value_of(result, "roas_floor[0]") == pytest.approx(expected, rel=1e-2)


def test_raising_a_cac_ceiling_adds_what_its_dual_says(solver: str) -> None:
    def build(ceiling: float):
        return scenario(
            [exponential("search", 1000, 100, new_customer_share=0.5)],
            budget=500,
            rules=[{"kind": "cac_ceiling", "max_cac_cny": ceiling}],
        )

    result = plan(build(40.0), solver=solver)
    expected = finite_difference(build, 40.0, 0.01, solver)
    assert value_of(result, "cac_ceiling[0]") == pytest.approx(expected, rel=1e-2)


def test_commission_cap_value_is_exact_on_linear_tiers(solver: str) -> None:
    def build(rate: float):
        tiers = [tier("head", 0.32, 10, cap=50), tier("mid", 0.20, 6, cap=100)]
        return scenario(
            [kol(tiers)], budget=100, rules=[{"kind": "commission_cap", "max_rate": rate}]
        )

    result = plan(build(0.25), solver=solver)
    expected = finite_difference(build, 0.25, 1e-4, solver)
    assert value_of(result, "commission_cap[0].rate") == pytest.approx(expected, rel=2e-3)


def test_share_floor_value_is_exact_on_linear_channels(solver: str) -> None:
    def build(share: float):
        channels = [linear("self_live", 3, groups=["self"]), linear("kol", 5)]
        return scenario(
            channels,
            budget=100,
            mode="spend_all",
            rules=[{"kind": "gmv_share", "groups": ["self"], "min_share": share}],
        )

    result = plan(build(0.45), solver=solver)
    expected = finite_difference(build, 0.45, -1e-4, solver)
    assert value_of(result, "gmv_share[0].min") == pytest.approx(expected, rel=2e-3)


def test_a_rule_with_slack_is_worth_nothing(solver: str) -> None:
    s = scenario(
        [exponential("live", 1000, 100)], budget=50, rules=[{"kind": "roas_floor", "min_roas": 1.0}]
    )
    result = plan(s, solver=solver)
    assert value_of(result, "roas_floor[0]") == pytest.approx(0, abs=1e-9)
    assert value_of(result, "budget") > 0


def test_under_min_spend_lowering_the_gmv_target_saves_spend(solver: str) -> None:
    def build(target: float):
        return scenario(
            [exponential("live", 1000, 100)],
            budget=500,
            objective={"kind": "min_spend", "gmv_target_cny": target},
        )

    result = plan(build(600.0), solver=solver)
    # spend = -100 ln(1 - target/1000): d spend / d target = 100 / (1000 - 600) = 0.25
    assert value_of(result, "gmv_target") == pytest.approx(0.25, rel=1e-2)

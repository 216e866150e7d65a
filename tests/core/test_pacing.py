"""Pacing and commitment rules: locked spend and period-to-period ramp limits."""

from __future__ import annotations

import pytest
from helpers import exponential, linear, scenario

from optimizer.planner import plan


def test_a_locked_channel_spends_exactly_its_commitment(solver: str) -> None:
    channels = [linear("search", 6, cap=100), linear("kol", 4, locked_spend_cny=30)]
    result = plan(scenario(channels, budget=100), solver=solver)
    assert sum(result.spend["kol"].values()) == pytest.approx(30)
    assert sum(result.spend["search"].values()) == pytest.approx(70)
    lock = next(r for r in result.rules if r.name == "kol.locked")
    # One more yuan locked into KOL (ROAS 4) comes out of search (ROAS 6): -2 GMV.
    assert lock.shadow_price == pytest.approx(-2)


def test_ramp_limit_spreads_a_peak_over_its_neighbours(solver: str) -> None:
    # GMV = s1 + 3 s2 + s3; at most +-50% per period: s2 = 1.5 s1, s3 = 0.5 s2, sum = 100.
    rules = [{"kind": "ramp_limit", "max_change": 0.5}]
    s = scenario(
        [linear("live", 1)],
        budget=100,
        mode="spend_all",
        periods=["A", "B", "C"],
        seasonality=[1, 3, 1],
        rules=rules,
    )
    result = plan(s, solver=solver)
    s1 = 100 / (1 + 1.5 + 0.75)
    assert result.spend["live"] == pytest.approx({"A": s1, "B": 1.5 * s1, "C": 0.75 * s1})
    assert all(r.holds for r in result.rules)


def test_ramp_allowance_lets_a_channel_start_from_zero(solver: str) -> None:
    rules = [{"kind": "ramp_limit", "max_change": 0.2, "allowance_cny": 10}]
    channel = linear("launch", 5, period_max_spend_cny=[0, 100, 100])
    s = scenario([channel], budget=100, periods=["A", "B", "C"], rules=rules)
    result = plan(s, solver=solver)
    # A closed at 0; B at most 0 * 1.2 + 10; C at most 1.2 * 10 + 10 = 22.
    assert result.spend["launch"] == pytest.approx({"A": 0, "B": 10, "C": 22})


def test_two_rules_of_one_kind_are_named_apart_in_a_conflict(solver: str) -> None:
    rules = [
        {"kind": "roas_floor", "min_roas": 1.0},
        {"kind": "roas_floor", "min_roas": 30.0, "channels": ["a"]},
    ]
    # a's ROAS never exceeds its initial 100/10 = 10, so it cannot spend 5 at ROAS 30.
    channels = [exponential("a", 100, 10, min_spend_cny=5), linear("b", 2)]
    result = plan(scenario(channels, budget=50, rules=rules), solver=solver)
    assert result.status == "infeasible"
    assert result.conflict == ["a.min_spend", "roas_floor[1]"]

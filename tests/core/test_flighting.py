"""Flighting and pacing over ISO weeks: dark weeks, locked bursts and week-to-week change
limits, each checked by hand on two or three weeks, on every route that solves them."""

from __future__ import annotations

import pytest
from helpers import exponential, scenario

from optimizer.core.solvers import available_solvers
from optimizer.planner import METHODS, plan
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario

ROUTES = [*METHODS, *available_solvers()]
# 2026 has 53 ISO weeks: these three cross the year boundary.
NEW_YEAR = {"iso_weeks": {"from": "2026-W52", "to": "2027-W01"}}
HOLIDAY = {"windows": [{"id": "new_year", "from": "2026-12-31", "to": "2027-01-01"}]}


def solved(s: Scenario, route: str) -> Plan:
    """The plan on one route, which must be optimal and keep every rule."""
    result = plan(s, solver=route)
    assert result.status == "optimal", result.message
    assert all(r.holds for r in result.rules), [r.name for r in result.rules if not r.holds]
    return result


def two_channels(rules: list[dict[str, object]], **fields: object) -> Scenario:
    """a (GMV 300 (1 - e^(-x/100)) a week) and b (200 (1 - e^(-x/50))) spending exactly 100."""
    channels = [exponential("a", 300, 100), exponential("b", 200, 50)]
    return scenario(
        channels,
        budget=100,
        mode="spend_all",
        periods=NEW_YEAR,
        calendar=HOLIDAY,
        rules=rules,
        **fields,
    )


@pytest.mark.parametrize("route", ROUTES)
def test_a_dark_window_spends_exactly_nothing(route: str) -> None:
    s = two_channels([{"id": "closed", "kind": "dark", "channels": ["a"], "periods": ["new_year"]}])
    result = solved(s, route)
    assert result.spend["a"]["2026-W53"] == 0.0  # Dec 31 and Jan 1 are in 2026-W53
    assert result.spend["a"]["2026-W52"] > 0 and result.spend["b"]["2026-W53"] > 0
    [row] = [r for r in result.rules if r.kind == "dark"]
    assert row.name == "closed[a.2026-W53]" and row.binds and row.holds


@pytest.mark.parametrize("route", ROUTES)
def test_a_locked_burst_spends_exactly_its_amount(route: str) -> None:
    rules = [
        {"kind": "locked_burst", "channels": ["b"], "periods": ["2026-W52"], "per_period_cny": 10},
        {
            "kind": "locked_burst",
            "channels": ["a"],
            "periods": ["new_year", "2027-W01"],
            "total_cny": 50,
        },
    ]
    result = solved(two_channels(rules), route)
    assert result.spend["b"]["2026-W52"] == pytest.approx(10, abs=1e-7)
    a = result.spend["a"]
    assert a["2026-W53"] + a["2027-W01"] == pytest.approx(50, abs=1e-7)
    # a's two burst weeks are alike, so the optimum splits its 50 evenly
    assert a["2026-W53"] == pytest.approx(25, rel=1e-5)
    assert {r.kind for r in result.rules if r.binds} >= {"locked_burst", "budget"}


def ramp(rule: dict[str, object]) -> Scenario:
    """One channel over two weeks, the second worth three times the first: spend_all 100."""
    return scenario(
        [exponential("live", 300, 100)],
        budget=100,
        mode="spend_all",
        periods={"iso_weeks": {"from": "2026-W22", "to": "2026-W23"}},
        seasonality=[1, 3],
        rules=[{"id": "pace", "kind": "ramp_limit", **rule}],
    )


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "rule",
    [{"max_change_cny": 20}, {"max_change": 0.5}],
    ids=["by CNY", "by share"],
)
def test_a_binding_change_limit_is_met_exactly(route: str, rule: dict[str, object]) -> None:
    # Unlimited, week 2 would take far more (its marginal GMV at 40/60 is 3 e^-0.6 = 1.65 vs
    # e^-0.4 = 0.67); the limit binds: x2 - x1 = 20 (or x2 = 1.5 x1) with x1 + x2 = 100.
    result = solved(ramp(rule), route)
    live = result.spend["live"]
    assert live["2026-W22"] == pytest.approx(40, rel=1e-6)
    assert live["2026-W23"] == pytest.approx(60, rel=1e-6)
    [up] = [r for r in result.rules if r.binds and r.kind == "ramp_limit"]
    assert up.name == (
        "pace.up_cny[live.2026-W23]" if "max_change_cny" in rule else "pace.up[live.2026-W23]"
    )


@pytest.mark.parametrize("route", ROUTES)
def test_a_change_limit_per_scope_limits_the_total(route: str) -> None:
    # Both channels alike: the pair moves by 30 at most, so weeks hold 35 and 65 in total.
    channels = [
        exponential("a", 300, 100, groups=["live"]),
        exponential("b", 300, 100, groups=["live"]),
    ]
    rules = [{"kind": "ramp_limit", "groups": ["live"], "per": "scope", "max_change_cny": 30}]
    s = scenario(
        channels,
        budget=100,
        mode="spend_all",
        periods=["W1", "W2"],
        seasonality=[1, 3],
        rules=rules,
    )
    result = solved(s, route)
    week = {p: result.spend["a"][p] + result.spend["b"][p] for p in ("W1", "W2")}
    assert week["W2"] - week["W1"] == pytest.approx(30, rel=1e-6)


@pytest.mark.parametrize("route", ROUTES)
def test_a_change_limit_keeps_to_its_window(route: str) -> None:
    # Only W2 -> W3 is limited (both in the window); W1 -> W2 may jump.
    periods = ["W1", "W2", "W3"]
    rules = [{"kind": "ramp_limit", "periods": ["peak"], "max_change_cny": 10}]
    s = scenario(
        [exponential("live", 300, 100)],
        budget=90,
        mode="spend_all",
        periods=periods,
        seasonality=[0.2, 1, 3],
        calendar={"windows": [{"id": "peak", "periods": ["W2", "W3"]}]},
        rules=rules,
    )
    result = solved(s, route)
    live = result.spend["live"]
    assert live["W3"] - live["W2"] == pytest.approx(10, rel=1e-6)
    assert [r.name for r in result.rules if r.kind == "ramp_limit"] == [
        "ramp_limit[0].up_cny[live.W3]",
        "ramp_limit[0].down_cny[live.W3]",
    ]


def test_every_route_agrees_on_a_flighted_plan() -> None:
    rules = [
        {"kind": "dark", "channels": ["a"], "periods": ["new_year"]},
        {"kind": "locked_burst", "channels": ["b"], "periods": ["2026-W52"], "per_period_cny": 10},
        {"kind": "ramp_limit", "channels": ["b"], "max_change": 1.0, "max_change_cny": 15},
    ]
    s = two_channels(rules, seasonality={"default": 1.0, "windows": {"new_year": 2.0}})
    objectives = {route: solved(s, route).objective_value for route in ROUTES}
    best = objectives["auto"]
    assert all(v == pytest.approx(best, rel=1e-6) for v in objectives.values()), objectives


def test_many_change_rows_still_plan_through_the_lp_route() -> None:
    # 6 channels x 52 weeks: 4 rows per channel and change = 1,224 rows, with the budget 1,225
    # coupling rows, above what the dual method takes (400): auto goes to lp and says why.
    channels = [exponential(f"c{k}", 300 + 10 * k, 100) for k in range(6)]
    rules = [{"kind": "ramp_limit", "max_change": 0.2, "max_change_cny": 15}]
    s = scenario(
        channels,
        budget=30_000,
        periods={"iso_weeks": {"from": "2026-W01", "to": "2026-W52"}},
        seasonality=[1 + (t % 13) / 6 for t in range(52)],
        rules=rules,
    )
    result = plan(s, solver="auto")
    assert result.status == "optimal", result.message
    assert result.message.startswith("auto chose lp: ")
    assert "(dual: 1225 rows couple the cells (at most 400))" in result.message
    assert all(r.holds for r in result.rules)

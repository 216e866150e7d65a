"""A per-channel split spread over units and periods, scored against the optimum, with the
verdict: tiny scenarios whose numbers a person can check by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import kol, linear, scenario, tier

from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario
from optimizer.planner import check_split, evaluate_split, plan

ANNUAL = Path(__file__).parents[2] / "scenarios" / "annual_2026.yaml"


def two_linear(**fields):
    """search 6 CNY of GMV per CNY up to 60, kol 4 per CNY: the optimum of 100 is 60 + 40."""
    return scenario([linear("search", 6, cap=60), linear("kol", 4)], budget=100, **fields)


def test_an_even_split_is_20_below_the_optimum(solver):
    s = two_linear()
    scored = evaluate_split(s, {"search": 50, "kol": 50}, optimum=plan(s, solver=solver))
    assert scored.objective_value == pytest.approx(500)  # 6 * 50 + 4 * 50
    assert scored.comparison["objective_gap"] == pytest.approx(20)  # 520 - 500
    assert scored.verdict == (
        "Your split makes 20 CNY (3.8%) less GMV than the best plan and keeps every rule."
    )
    assert scored.split == {
        "by_channel_cny": {"search": 50, "kol": 50},
        "spread": "optimal",
        "spread_evenly": [],
    }


def test_a_split_that_breaks_the_roas_floor_is_named_with_its_figure(solver):
    # The floor 5.5 stops the optimum at search 60 + kol 20 (GMV 440, ROAS 5.5); 40 + 60 makes
    # 240 + 240 = 480 GMV on 100: more GMV, ROAS 4.8.
    s = two_linear(rules=[{"kind": "roas_floor", "id": "roas_floor", "min_roas": 5.5}])
    scored = evaluate_split(s, {"search": 40, "kol": 60}, optimum=plan(s, solver=solver))
    assert not scored.is_feasible
    assert scored.verdict == (
        "Your split makes 40 CNY (9.1%) more GMV than the best plan but breaks rule "
        "roas_floor (ROAS 4.80 < 5.50)."
    )


def test_the_optimums_own_totals_give_the_optimum_back():
    s = two_linear()
    best = plan(s)
    scored = evaluate_split(s, {"search": 60, "kol": 40}, optimum=best)
    for unit in best.units:
        assert scored.spend[unit]["Y"] == pytest.approx(best.spend[unit]["Y"], rel=1e-12)
    assert scored.verdict == "Your split is within 0.01% of the best plan and keeps every rule."


def test_optimal_spread_keeps_the_optimums_shares_within_each_channel():
    s = load_scenario(ANNUAL)
    best = plan(s)
    split = {"live_traffic": 30e6, "kol": 20e6, "search": 10e6}
    scored = evaluate_split(s, split, spread="optimal", optimum=best)
    for channel, amount in split.items():
        units = [u for u in best.units if u == channel or u.startswith(f"{channel}.")]
        total = sum(best.spend[u][p] for u in units for p in best.periods)
        for unit in units:
            for period in best.periods:
                share = best.spend[unit][period] / total
                assert scored.spend[unit][period] == pytest.approx(amount * share, rel=1e-9)
    assert scored.by_channel["private_domain"].spend_cny == 0  # not in the split: nothing
    assert scored.verdict.startswith("Your split makes ") and "than the best plan" in scored.verdict


def test_even_spread_is_the_same_in_every_tier_and_period():
    s = scenario(
        [kol([tier("head", 0.3, 5), tier("mid", 0.2, 3)]), linear("search", 6)],
        budget=1000,
        periods=["H1", "H2"],
    )
    scored = evaluate_split(s, {"kol": 100}, spread="even", optimum=plan(s))
    assert scored.spend["kol.head"] == {"H1": 25, "H2": 25}
    assert scored.spend["kol.mid"] == {"H1": 25, "H2": 25}
    assert scored.spend["search"] == {"H1": 0, "H2": 0}


def test_a_channel_the_optimum_leaves_empty_is_spread_evenly_and_the_verdict_says_so():
    s = scenario(
        [linear("search", 6, cap=60), linear("kol", 4, cap=40), linear("tv", 1)],
        budget=100,
        periods=["H1", "H2"],
    )
    scored = evaluate_split(s, {"search": 60, "tv": 40}, optimum=plan(s))
    assert scored.spend["tv"] == {"H1": 20, "H2": 20}
    assert scored.split["spread_evenly"] == ["tv"]
    # 360 + 40 = 400 against 360 + 160 = 520: 120 less, 23.1%
    assert scored.verdict == (
        "Your split makes 120 CNY (23.1%) less GMV than the best plan and keeps every rule. "
        "tv spread evenly over units and periods (the best plan spends nothing there)."
    )


def test_min_spend_verdict_speaks_of_spend():
    # GMV 400 at least: the optimum spends 60 on search (360) + 10 on kol (40) = 70.
    s = two_linear(objective={"kind": "min_spend", "gmv_target_cny": 400})
    scored = evaluate_split(s, {"search": 40, "kol": 40}, optimum=plan(s))  # 240 + 160 = 400
    assert scored.verdict == (
        "Your split spends 10 CNY (14.3%) more than the best plan and keeps every rule."
    )


def test_unknown_channels_and_bad_amounts_are_named():
    with pytest.raises(ScenarioError) as caught:
        check_split(["search", "kol"], {"tv": 1.0, "kol": -5.0, "search": float("nan")}, "x")
    problems = {p.path: p.message for p in caught.value.problems}
    assert problems["tv"] == "unknown channel; known: search, kol"
    assert problems["kol"] == "expected a number >= 0 (CNY), got -5.0"
    assert "got nan" in problems["search"]


def test_against_a_best_plan_of_nothing_the_gap_has_no_percentage(solver):
    # A ROAS floor of 100 leaves the best plan at zero spend and zero GMV: 1 + 1 CNY make
    # 6 + 4 = 10 CNY more GMV, and a share of nothing would read 1000%.
    s = two_linear(rules=[{"kind": "roas_floor", "id": "roas_floor", "min_roas": 100}])
    best = plan(s, solver=solver)
    assert best.objective_value == pytest.approx(0, abs=1e-6)
    scored = evaluate_split(s, {"search": 1, "kol": 1}, spread="even", optimum=best)
    assert scored.verdict == (
        "Your split makes 10 CNY more GMV than the best plan but breaks rule "
        "roas_floor (ROAS 5.00 < 100.00)."
    )

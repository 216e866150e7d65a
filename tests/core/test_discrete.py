"""On/off rules: a minimum if a channel is used at all, and a fixed cost for using it."""

from __future__ import annotations

import itertools

import pytest
from helpers import linear, scenario

from optimizer.planner import plan

CHANNELS = {  # id: (ROAS, cap, activation cost, minimum if used)
    "kol": (8.0, 60.0, 20.0, 0.0),
    "search": (3.0, 100.0, 0.0, 0.0),
    "live": (4.0, 100.0, 0.0, 50.0),
}


def enumerate_best(budget: float) -> tuple[float, dict[str, float]]:
    """Try every set of used channels: pay activations, meet minimums, fill by ROAS."""
    best = (0.0, dict.fromkeys(CHANNELS, 0.0))
    for r in range(1, len(CHANNELS) + 1):
        for used in itertools.combinations(CHANNELS, r):
            money = budget - sum(CHANNELS[c][2] for c in used)
            spend = {c: CHANNELS[c][3] if c in used else 0.0 for c in CHANNELS}
            money -= sum(spend.values())
            if money < 0:
                continue
            for c in sorted(used, key=lambda c: -CHANNELS[c][0]):
                extra = min(money, CHANNELS[c][1] - spend[c])
                spend[c] += extra
                money -= extra
            if any(spend[c] <= 0 for c in used):
                continue  # the same as a smaller set, which is tried on its own
            gmv = sum(CHANNELS[c][0] * spend[c] for c in CHANNELS)
            if gmv > best[0]:
                best = (gmv, spend)
    return best


def discrete_scenario(budget: float):
    channels = [
        linear(c, roas, cap=cap, activation_cost_cny=cost, min_spend_if_used_cny=minimum)
        for c, (roas, cap, cost, minimum) in CHANNELS.items()
    ]
    return scenario(channels, budget=budget)


@pytest.mark.parametrize("budget", [100.0, 130.0, 75.0])
def test_on_off_rules_match_enumeration(budget: float, solver: str) -> None:
    gmv, spend = enumerate_best(budget)
    result = plan(discrete_scenario(budget), solver=solver)
    assert result.status == "optimal"
    assert result.solver.is_mip
    assert result.total.gmv_cny == pytest.approx(gmv)
    for channel, amount in spend.items():
        assert sum(result.spend[channel].values()) == pytest.approx(amount, abs=1e-6)
    assert all(rule.holds for rule in result.rules)


def test_known_cases_by_hand(solver: str) -> None:
    # 100: kol pays 20 to open, takes 60 at ROAS 8, search the last 20: 480 + 60 = 540.
    result = plan(discrete_scenario(100), solver=solver)
    assert result.total.gmv_cny == pytest.approx(540)
    assert result.activation_costs_cny == pytest.approx(20)
    # 130: kol 60 and live at exactly its 50 minimum (binding): 480 + 200 = 680.
    result = plan(discrete_scenario(130), solver=solver)
    assert sum(result.spend["live"].values()) == pytest.approx(50)
    assert next(r for r in result.rules if r.name == "live.if_used").binds


def test_activation_cost_counts_in_profit(solver: str) -> None:
    channels = [linear("kol", 3, cap=50, activation_cost_cny=10)]
    s = scenario(channels, budget=100, objective="max_profit", accounting={"gross_margin": 0.5})
    result = plan(s, solver=solver)
    # Profit per yuan 3 * 0.5 - 1 = 0.5 over 50 yuan = 25, less the 10 to open: 15 > 0.
    assert result.gross_profit_cny == pytest.approx(15)
    assert sum(result.spend["kol"].values()) == pytest.approx(50)


def test_nlp_refuses_on_off_rules() -> None:
    result = plan(discrete_scenario(100), solver="nlp")
    assert result.status == "error"
    assert "use lp" in result.message


def test_rules_of_a_milp_plan_are_priced_with_binaries_fixed(solver: str) -> None:
    # 100: kol open (60 at ROAS 8), search takes the last 20: one more yuan of budget goes to
    # search at ROAS 3.
    result = plan(discrete_scenario(100), solver=solver)
    budget = next(r for r in result.rules if r.name == "budget")
    assert budget.value_of_relaxing == pytest.approx(3)

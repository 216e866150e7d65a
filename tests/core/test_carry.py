"""Carry-over (adstock): optima a person can compute by hand, on every route that takes them.

The small cases use one curve channel, GMV = 1000 (1 - exp(-e / 100)) of its effective input
e, so f'(e) = 10 exp(-e / 100) and every first-order condition solves in closed form.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import exponential, scenario
from scipy.optimize import brentq

from optimizer.core.problem import build_problem
from optimizer.core.solvers import available_solvers
from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario, validate_scenario
from optimizer.planner import plan
from optimizer.results.plan import Plan
from optimizer.results.serialise import to_json
from optimizer.schema.carry import WeibullAdstock
from optimizer.schema.scenario import Scenario

ROUTES = ["dual", "nlp", "auto", *available_solvers()]
WEEKLY = Path(__file__).parents[2] / "scenarios" / "weekly_2026.yaml"


def f(e: float) -> float:
    """The test curve: 1000 (1 - exp(-e / 100))."""
    return 1000.0 * (1.0 - math.exp(-e / 100.0))


def carried(adstock: dict, **fields: object) -> dict:
    """The test channel with an adstock."""
    return exponential("c", 1000, 100, adstock=adstock, **fields)


GEOMETRIC = {"type": "geometric", "decay": 0.5, "max_lag": 1}


@pytest.mark.parametrize("route", ROUTES)
def test_decay_moves_spend_earlier_by_the_amount_computed_by_hand(route: str) -> None:
    # e1 = x1, e2 = x2 + x1 / 2, x1 + x2 = 200. d/dx1: f'(x1) + f'(e2)/2 - f'(e2) = 0, so
    # exp(-x1/100) = exp(-e2/100) / 2 with e2 = 200 - x1/2: x1 = (200 + 100 ln 2) / 1.5.
    s = scenario([carried(GEOMETRIC)], 200, periods=["w1", "w2"])
    result = plan(s, solver=route)
    x1 = (200 + 100 * math.log(2)) / 1.5
    assert result.status == "optimal", result.message
    assert result.spend["c"]["w1"] == pytest.approx(x1, rel=1e-6)  # 179.54, not 100
    assert result.spend["c"]["w2"] == pytest.approx(200 - x1, rel=1e-5)
    gmv = f(x1) + f(200 - x1 + x1 / 2)
    assert result.objective_value == pytest.approx(gmv, rel=1e-9)
    assert result.by_period["w2"].gmv_cny == pytest.approx(f(200 - x1 / 2), rel=1e-6)
    without = plan(scenario([exponential("c", 1000, 100)], 200, periods=["w1", "w2"]))
    assert without.spend["c"]["w1"] == pytest.approx(100, rel=1e-6)
    # what the plan reports after its end: f(x2 / 2), not counted in the objective
    assert result.carry_over["counted_in_objective"] is False
    assert result.carry_over["gmv_after_cny"] == pytest.approx(f((200 - x1) / 2), rel=1e-5)


@pytest.mark.parametrize("route", ROUTES)
def test_carry_in_from_history_lowers_the_first_weeks_spend(route: str) -> None:
    # History h = 60 the week before adds h/2 to e1: 1.5 x1 = 200 + 100 ln 2 - h / 2, so the
    # first week gets h / 3 = 20 less than without history.
    s = scenario([carried(GEOMETRIC, history_spend_cny=[60])], 200, periods=["w1", "w2"])
    result = plan(s, solver=route)
    x1 = (200 + 100 * math.log(2) - 30) / 1.5
    assert result.spend["c"]["w1"] == pytest.approx(x1, rel=1e-6)
    assert result.objective_value == pytest.approx(f(x1 + 30) + f(200 - x1 / 2), rel=1e-9)
    # the history alone would sell f(30) in week 1 (no plan spend)
    assert result.carry_over["gmv_from_history_cny"] == pytest.approx(f(30), rel=1e-12)


@pytest.mark.parametrize("route", ROUTES)
def test_carry_out_counted_or_not(route: str) -> None:
    # One week, two channels: c carries half its input into the week after, d does not.
    # Not counted: symmetric, 100 each. Counted: c's marginal GMV is f'(x) + f'(x/2)/2, and it
    # equals d's f'(200 - x) at the root found below.
    channels = [carried(GEOMETRIC), exponential("d", 1000, 100)]
    reported = plan(scenario(channels, 200), solver=route)
    assert reported.spend["c"]["Y"] == pytest.approx(100, rel=1e-6)
    assert reported.carry_over["gmv_after_cny"] == pytest.approx(f(50), rel=1e-5)
    assert reported.objective_value == pytest.approx(2 * f(100), rel=1e-9)

    counted = plan(
        scenario(channels, 200, objective={"kind": "max_gmv", "count_carry_out": True}),
        solver=route,
    )
    x = brentq(
        lambda x: math.exp(-x / 100) + 0.5 * math.exp(-x / 200) - math.exp(-(200 - x) / 100),
        0,
        200,
        xtol=1e-12,
    )
    assert counted.spend["c"]["Y"] == pytest.approx(x, rel=1e-6)  # 132.1
    assert counted.carry_over["counted_in_objective"] is True
    assert counted.objective_value == pytest.approx(f(x) + f(x / 2) + f(200 - x), rel=1e-9)
    assert counted.total.gmv_cny == pytest.approx(f(x) + f(200 - x), rel=1e-6)  # window only


@pytest.mark.parametrize("route", ROUTES)
def test_carry_after_saturation_weighs_the_first_weeks_response(route: str) -> None:
    # After saturation: week 1's response f(x1) also sells half again in week 2, so
    # 1.5 f'(x1) = f'(x2): x1 - x2 = 100 ln 1.5 and x1 + x2 = 200.
    adstock = {**GEOMETRIC, "order": "after_saturation"}
    result = plan(scenario([carried(adstock)], 200, periods=["w1", "w2"]), solver=route)
    x1 = 100 + 50 * math.log(1.5)
    assert result.spend["c"]["w1"] == pytest.approx(x1, rel=1e-6)
    assert result.objective_value == pytest.approx(1.5 * f(x1) + f(200 - x1), rel=1e-9)


def weekly_slice(weeks: int, total_cny: float) -> Scenario:
    """The weekly example's first ``weeks`` weeks with the same channels, carry-over, history
    and rules: the campaign windows those weeks hold (the Spring Festival dip) and a budget
    that still binds."""
    data = yaml.safe_load(WEEKLY.read_text(encoding="utf-8"))
    data["periods"] = {"iso_weeks": {"from": "2026-W01", "to": f"2026-W{weeks:02d}"}}
    last_day = date.fromisocalendar(2026, weeks, 7)
    windows = data["calendar"]["windows"]
    data["calendar"]["windows"] = [
        w for w in windows if date.fromisoformat(str(w["from"])) <= last_day
    ]
    kept = {w["id"] for w in data["calendar"]["windows"]}
    data["seasonality"]["windows"] = {
        k: v for k, v in data["seasonality"]["windows"].items() if k in kept
    }
    data["budget"]["total_cny"] = total_cny
    return validate_scenario(data, f"{WEEKLY.name}, weeks 1-{weeks}")


def assert_routes_agree(dual: Plan, others: tuple[Plan, ...]) -> None:
    """Each other route's plan matches the dual's proven optimum: objective, bound, spend."""
    assert dual.status == "optimal", dual.message
    assert all(other.status == "optimal" for other in others), [o.message for o in others]
    assert dual.solver.gap < 1e-9  # proven
    for other in others:
        assert other.objective_value == pytest.approx(dual.objective_value, rel=1e-6)
        assert other.objective_value <= dual.solver.bound * (1 + 1e-6)
        for unit, weeks in dual.spend.items():
            total = sum(weeks.values())
            assert sum(other.spend[unit].values()) == pytest.approx(total, rel=2e-3, abs=1e3)
    assert all(rule.holds for rule in dual.rules)


def test_routes_agree_on_the_weekly_example() -> None:
    example = load_scenario(WEEKLY)
    dual = plan(example, solver="dual")
    assert_routes_agree(dual, (plan(example, solver="nlp"),))
    # spend before 618 (W21-W25) keeps selling during it: the KOL tiers build up in W19-W20
    kol = [dual.spend["kol.head"][f"2026-W{w:02d}"] for w in range(17, 26)]
    assert max(kol[2:4]) > kol[0]


def test_the_lp_agrees_on_the_weekly_example_first_weeks() -> None:
    # The piecewise-linear route on the year took 65 s (a MIP: the commission cap fills chord
    # segments out of order); 8 weeks of the same model cross-check it in a fraction of that.
    # Media budget 15M of 30M (fixed costs and contingency as in the year): the budget, CAC
    # ceiling, self-live share and KOL commission cap all bind, as in the year's plan.
    example = weekly_slice(8, 30_000_000)
    dual = plan(example, solver="dual")
    lp = plan(example, solver="highs-direct", time_limit_s=300)
    assert_routes_agree(dual, (plan(example, solver="nlp"), lp))
    assert lp.solver.is_mip  # the chord program's ordering binaries: the MIP route
    assert {rule.name for rule in dual.rules if rule.binds} == {
        "budget",
        "cac_ceiling",
        "self_live_share.min",
        "kol_commission.rate",
    }
    assert dual.carry_over["gmv_from_history_cny"] > 0  # December 2025 sells into January


def test_a_carried_plan_gives_the_same_bytes_twice() -> None:
    example = load_scenario(WEEKLY)
    assert to_json(plan(example)) == to_json(plan(example))


def test_robyn_weibull_weights_follow_its_formulas() -> None:
    # window 10, scale 0.1: lambda = round(quantile(1:10, 0.1)) = round(1.9) = 2; CDF weights
    # are cumprod(c(1, 1 - pweibull(1:9, shape, 2))): w1 = exp(-(1/2)^shape).
    cdf = WeibullAdstock(type="weibull_cdf", shape=0.5, scale=0.1, window=10).weights(0)
    assert len(cdf) == 10
    assert cdf[0] == 1.0
    assert cdf[1] == pytest.approx(math.exp(-(0.5**0.5)), rel=1e-15)
    assert cdf[2] == pytest.approx(cdf[1] * math.exp(-(1.0**0.5)), rel=1e-15)
    # PDF weights: dweibull(1:10, 2, 2) rescaled from its least (0) to its peak (1)
    pdf = WeibullAdstock(type="weibull_pdf", shape=2, scale=0.1, window=10).weights(0)
    raw = [(2 / 2) * (x / 2) * math.exp(-((x / 2) ** 2)) for x in range(1, 11)]
    expected = [(v - min(raw)) / (max(raw) - min(raw)) for v in raw]
    assert pdf == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert max(pdf) == 1.0 and min(pdf) == 0.0


def test_the_model_matches_a_weekly_loop_for_every_adstock() -> None:
    # A 5-week plan after 3 weeks of history, for each adstock kind: Problem.gmv equals the
    # weighted sums computed here week by week.
    spend = np.array([[30.0, 0.0, 80.0, 10.0, 55.0]])
    history = [40.0, 0.0, 25.0]
    kinds = [
        {"type": "geometric", "decay": 0.6, "max_lag": 3, "normalize": True},
        {"type": "weibull_cdf", "shape": 1.3, "scale": 0.2},
        {"type": "weibull_pdf", "shape": 2.5, "scale": 0.3, "window": 6},
        {"type": "weights", "weights_by_lag": [0.0, 0.7, 0.3]},
    ]
    for adstock in kinds:
        for order in ("before_saturation", "after_saturation"):
            channel = carried({**adstock, "order": order}, history_spend_cny=history)
            s = scenario([channel], 1000, periods=[f"w{i}" for i in range(5)])
            w = s.channels[0].adstock.weights(8)
            inputs = history + list(spend[0])
            expected = []
            for t in range(5):
                lags = [(lag, inputs[3 + t - lag]) for lag in range(len(w)) if 3 + t - lag >= 0]
                if order == "before_saturation":
                    expected.append(f(sum(w[lag] * u for lag, u in lags)))
                else:
                    expected.append(sum(w[lag] * f(u) for lag, u in lags))
            got = build_problem(s).gmv(spend)[0]
            assert got == pytest.approx(expected, rel=1e-12), (adstock, order)


def test_s_shaped_carry_goes_to_the_lp_route_and_says_why() -> None:
    hill = {"type": "hill", "max_gmv_cny": 1000, "half_saturation_cny": 100, "shape": 2}
    channel = {"id": "c", "kind": "curve", "aov_cny": 100, "response": hill, "adstock": GEOMETRIC}
    loose = {"tolerance": 1e-3}  # an S-curve's MILP takes long to prove 1e-6, carried or not
    result = plan(scenario([channel], 200, periods=["w1", "w2"], settings=loose))
    assert result.status == "optimal"
    assert result.spend["c"]["w1"] > 150  # the first week's spend carries: 173, not 100
    assert "S-shaped" in result.message or "shape 2" in result.message
    assert result.solver.solver.startswith("auto: ")
    assert "dual" not in result.solver.solver


@pytest.mark.parametrize(
    ("channel", "where", "words"),
    [
        (
            exponential("c", 1000, 100, history_spend_cny=[10]),
            "channels[0].history_spend_cny",
            "only matters with carry-over",
        ),
        (
            carried({"type": "geometric", "decay": 1.0, "max_lag": 2}),
            "channels[0].adstock.geometric.decay",
            "less than 1",
        ),
        (carried({"type": "weights", "weights_by_lag": [0, 0]}), "channels[0].adstock", "all 0"),
        (
            carried({"type": "geometric", "decay": 0.5}),
            "channels[0].adstock.geometric.max_lag",
            "required",
        ),
        (carried({"type": "carry", "decay": 0.5}), "channels[0].adstock", "geometric"),
        (
            {
                "id": "k",
                "kind": "kol",
                "adstock": GEOMETRIC,
                "history_spend_cny": [5],
                "tiers": [
                    {
                        "id": "t",
                        "commission_rate": 0.1,
                        "fee_roas": 5,
                        "aov_cny": 100,
                        "saturation": {"type": "linear"},
                    }
                ],
            },
            "channels[0].history_spend_cny",
            "per tier",
        ),
    ],
)
def test_bad_carry_over_is_refused_naming_the_field(channel: dict, where: str, words: str) -> None:
    data = json.loads(scenario([exponential("x", 10, 10)], 100).model_dump_json())
    data["channels"] = [channel]
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data, "s.yaml")
    text = str(caught.value)
    assert where in text and words in text, text


def test_a_carried_plan_is_the_same_over_http_and_from_python(database_url: str) -> None:
    from api_helpers import running_api

    data = json.loads(scenario([carried(GEOMETRIC, history_spend_cny=[60])], 200).model_dump_json())
    data["periods"] = ["w1", "w2"]
    with running_api(database_url) as api:
        answer = api.call("POST", "/v1/plans", json={"scenario": data})
        assert answer.status_code == 201, answer.text
        result = answer.json()["result"]
    here = json.loads(to_json(plan(validate_scenario(data, "body"))))
    assert result["carry_over"] == here["carry_over"]
    assert result["spend"] == here["spend"]
    assert result["spend"]["c"]["w1"] == pytest.approx((200 + 100 * math.log(2) - 30) / 1.5)


def test_a_carried_plan_with_no_coupling_rule_is_exact_on_the_dual() -> None:
    # One channel, one week: the budget bounds the one cell and nothing couples cells.
    s = scenario([carried(GEOMETRIC, history_spend_cny=[60])], 200)
    result = plan(s, solver="dual")
    assert result.status == "optimal", result.message
    assert result.spend["c"]["Y"] == 200.0
    assert result.objective_value == pytest.approx(f(200 + 30), rel=1e-12)

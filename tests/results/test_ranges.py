"""Ranges over the curves' draws: percentiles and rule odds a person can compute by hand.

The hand case: one linear channel, 100 CNY spent, ROAS drawn as 1, 2, ..., 10. GMV in draw k
is 100 k, so (numpy's linear percentiles) P10 = 190, P50 = 550, P90 = 910; new customers are
GMV / AOV 100 x 0.5, so CAC = 100 / (k / 2) = 200 / k.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import curve, exponential, linear, scenario

from optimizer.core.draws import gmv_by_draw
from optimizer.core.problem import build_problem
from optimizer.errors import ScenarioError
from optimizer.inputs.files import validate_scenario
from optimizer.planner import plan, score
from optimizer.results.serialise import to_json

TEN = [float(k) for k in range(1, 11)]


def test_bands_of_a_linear_channel_by_hand() -> None:
    s = scenario([linear("c", 5.0, draws={"response": {"roas": TEN}})], 100, mode="spend_all")
    p = plan(s)
    total = p.ranges["total"]
    assert p.ranges["draws"] == 10
    assert total["gmv_cny"] == pytest.approx({"p10": 190, "p50": 550, "p90": 910, "mean": 550})
    assert total["roas"] == pytest.approx({"p10": 1.9, "p50": 5.5, "p90": 9.1, "mean": 5.5})
    cac = sorted(200.0 / k for k in TEN)  # 20, 22.2, ..., 100, 200
    assert total["cac_cny"]["p90"] == pytest.approx(cac[8] + 0.1 * (cac[9] - cac[8]))
    assert total["cac_cny"]["p10"] == pytest.approx(cac[0] + 0.9 * (cac[1] - cac[0]))
    assert "gross_profit_cny" not in total  # no margin, no profit
    assert p.ranges["by_channel"]["c"]["gmv_cny"]["p90"] == pytest.approx(910)
    assert p.ranges["by_period"]["Y"]["gmv_cny"]["p50"] == pytest.approx(550)
    assert p.total.gmv_cny == pytest.approx(500)  # the plan's own numbers: the curve's roas 5


def test_profit_band_by_hand() -> None:
    s = scenario(
        [linear("c", 5.0, draws={"response": {"roas": TEN}})],
        100,
        mode="spend_all",
        accounting={"gross_margin": 0.5},
    )
    band = plan(s).ranges["total"]["gross_profit_cny"]
    # profit in draw k: 0.5 x 100 k - 100 = 50 k - 100
    assert band == pytest.approx({"p10": -5, "p50": 175, "p90": 355, "mean": 175})


def roas_floor_plan(draws: list[float]) -> object:
    """GMV = 1000 (1 - e^(-x/100)) on the curve, and a ROAS floor of 6 that binds."""
    channel = exponential("c", 1000, 100, draws={"response": {"max_gmv_cny": draws}})
    rules = [{"id": "floor", "kind": "roas_floor", "min_roas": 6}]
    return plan(scenario([channel], 1000, rules=rules))


def odds(p: object, name: str) -> float:
    """A rule's probability in a plan's ranges."""
    return next(r["probability"] for r in p.ranges["rules"] if r["name"] == name)


def test_a_binding_floor_holds_in_no_draw_below_the_curve_and_every_draw_above() -> None:
    below, above = roas_floor_plan([800.0, 900.0]), roas_floor_plan([1100.0, 1200.0])
    assert next(r for r in below.rules if r.name == "floor").binds
    assert odds(below, "floor") == 0.0
    assert odds(above, "floor") == 1.0
    # a rule on spend alone holds in every draw
    assert odds(below, "budget") == 1.0


def test_a_floor_holds_in_the_share_of_draws_above_it() -> None:
    p = roas_floor_plan([800.0, 900.0, 1100.0, 1200.0, 1300.0])
    assert odds(p, "floor") == pytest.approx(0.6)
    floor = next(r for r in p.ranges["rules"] if r["name"] == "floor")
    spend = p.total.spend_cny
    values = [m * (1 - np.exp(-spend / 100)) / spend for m in (800, 900, 1100, 1200, 1300)]
    assert floor["value"]["p50"] == pytest.approx(values[2])


def test_no_draws_no_ranges_and_the_json_carries_them() -> None:
    assert plan(scenario([exponential("c", 1000, 100)], 100)).ranges is None
    s = scenario([linear("c", 5.0, draws={"response": {"roas": TEN}})], 100, mode="spend_all")
    data = json.loads(to_json(plan(s)))
    assert data["ranges"]["total"]["gmv_cny"]["p10"] == pytest.approx(190)
    assert to_json(plan(s)) == to_json(plan(s))


def test_a_scored_split_has_ranges_too() -> None:
    s = scenario([linear("c", 5.0, draws={"response": {"roas": TEN}})], 100)
    scored = score(s, {"c": {"Y": 40.0}})
    assert scored.ranges["total"]["gmv_cny"]["p90"] == pytest.approx(9.1 * 40)


def test_adstock_draws_give_each_draws_own_carry_over() -> None:
    adstock = {"type": "geometric", "decay": 0.5, "max_lag": 2}
    channel = exponential("c", 1000, 100, adstock=adstock, draws={"adstock": {"decay": [0.2, 0.7]}})
    s = scenario([channel], 300, periods=["w1", "w2", "w3"])
    problem = build_problem(s)
    spend = np.array([[100.0, 50.0, 25.0]])
    by_draw = gmv_by_draw(problem, spend)
    for k, decay in enumerate((0.2, 0.7)):
        alone = exponential("c", 1000, 100, adstock=adstock | {"decay": decay})
        expected = build_problem(scenario([alone], 300, periods=["w1", "w2", "w3"])).gmv(spend)
        np.testing.assert_allclose(by_draw[k], expected, rtol=1e-14)
    assert not np.allclose(by_draw[0], by_draw[1])


def test_a_plan_warns_when_it_spends_far_above_the_fitted_history() -> None:
    fit = {"family": "exponential", "weeks": 52, "spend_min_cny": 10, "spend_max_cny": 40}
    s = scenario([exponential("c", 1000, 100, fit=fit)], 100, mode="spend_all")
    p = plan(s)
    assert len(p.warnings) == 1
    assert p.warnings[0].startswith("c: the plan spends up to 100 CNY")
    assert "40" in p.warnings[0]
    quiet = scenario([exponential("c", 1000, 100, fit=fit)], 55, mode="spend_all")
    assert plan(quiet).warnings == []  # 55 <= 1.5 x 40


# --- bad draws: the error names the field ---------------------------------------------------


def refused(channels: list[dict]) -> str:
    """The message validation gives for these channels."""
    data = {
        "version": "1",
        "name": "x",
        "periods": ["Y", "Z"],
        "budget": {"total_cny": 100},
        "objective": {"kind": "max_gmv"},
        "channels": channels,
    }
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data, "x.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("draws", "where", "says"),
    [
        ({"response": {"roas": [1, 2]}}, "draws.response.roas", "has no parameter 'roas'"),
        (
            {"response": {"max_gmv_cny": [1, 2], "scale_cny": [5]}},
            "draws.response.scale_cny",
            "expected 2 values, one per draw",
        ),
        ({"response": {"scale_cny": [5, 0.001]}}, "draws.response.scale_cny[1]", "at least 0.01"),
        ({"adstock": {"decay": [0.5]}}, "draws.adstock.decay", "a channel without adstock"),
        ({}, "draws", "name no parameter"),
        ({"response": {"max_gmv_cny": [1, float("nan")]}}, "draws.response.max_gmv_cny", ""),
    ],
)
def test_bad_draws_are_refused_naming_the_field(draws: dict, where: str, says: str) -> None:
    message = refused([exponential("c", 1000, 100, draws=draws)])
    assert f"channels[0].{where}" in message
    assert says in message


def test_draws_of_a_per_period_parameter_are_refused() -> None:
    channel = exponential("c", [1000, 900], 100, draws={"response": {"max_gmv_cny": [1, 2]}})
    assert "per period" in refused([channel])


def test_every_channel_has_the_same_number_of_draws() -> None:
    message = refused(
        [
            exponential("a", 1000, 100, draws={"response": {"max_gmv_cny": [1, 2, 3]}}),
            curve(
                "b",
                {"type": "exponential", "max_gmv_cny": 10, "scale_cny": 5},
                draws={"response": {"max_gmv_cny": [1, 2]}},
            ),
        ]
    )
    assert "channels[1].draws" in message
    assert "expected 3 draws, as channel 'a' has" in message


def test_a_plan_with_draws_is_the_same_over_http_and_from_python(database_url: str) -> None:
    from api_helpers import running_api

    s = scenario([linear("c", 5.0, draws={"response": {"roas": TEN}})], 100, mode="spend_all")
    data = json.loads(s.model_dump_json())
    with running_api(database_url) as api:
        answer = api.call("POST", "/v1/plans", json={"scenario": data})
        assert answer.status_code == 201, answer.text
        result = answer.json()["result"]
    here = json.loads(to_json(plan(validate_scenario(data, "body"))))
    assert result["ranges"] == here["ranges"]
    assert result["ranges"]["total"]["gmv_cny"]["p10"] == pytest.approx(190)

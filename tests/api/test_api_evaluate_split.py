"""POST /v1/scenarios/{id}/evaluations with a per-channel split: the verdict, spreads, 422s.

small_scenario: live ROAS 5 up to 400,000, search ROAS 3; the best of 1,000,000 makes
5 x 400,000 + 3 x 600,000 = 3,800,000 GMV.
"""

from __future__ import annotations

import pytest
from api_helpers import GMV, errors, queued, run, stored_scenario

SPLIT = {"live": 200_000, "search": 800_000}  # 1,000,000 + 2,400,000 = 3,400,000
VERDICT = "Your split makes 400,000 CNY (10.5%) less GMV than the best plan and keeps every rule."


def evaluate(api, sid, body, **params):
    return api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=body, params=params)


def test_a_split_is_scored_with_its_gap_and_verdict(api):
    sid = stored_scenario(api)
    response = evaluate(api, sid, {"split": SPLIT})
    assert response.status_code == 201, response.text
    evaluation = response.json()
    assert evaluation["kind"] == "evaluation"
    assert evaluation["objective_value"] == pytest.approx(3_400_000, rel=1e-9)
    assert evaluation["verdict"] == VERDICT == evaluation["result"]["verdict"]
    assert evaluation["result"]["comparison"]["objective_gap"] == pytest.approx(400_000)
    assert evaluation["result"]["split"] == {
        "by_channel_cny": SPLIT,
        "spread": "optimal",
        "spread_evenly": [],
    }
    stored = api.call("GET", f"/v1/plans/{evaluation['id']}", role="viewer").json()
    assert stored["verdict"] == VERDICT
    listed = api.call("GET", "/v1/plans", role="viewer").json()["items"]
    assert listed[0]["verdict"] == VERDICT


def test_plans_have_no_verdict(api):
    sid = stored_scenario(api)
    plan = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()
    assert plan["verdict"] is None and plan["result"]["verdict"] is None


def test_an_allocation_gets_the_same_verdict(api):
    sid = stored_scenario(api)
    allocation = {c: {"Y": v} for c, v in SPLIT.items()}
    assert evaluate(api, sid, {"allocation": allocation}).json()["verdict"] == VERDICT


def test_a_split_that_breaks_a_rule_is_named(api):
    sid = stored_scenario(api)
    evaluation = evaluate(api, sid, {"split": {"live": 500_000, "search": 600_000}}).json()
    assert not evaluation["feasible"]
    # 5 x 500,000 + 3 x 600,000 = 4,300,000, 500,000 (13.2%) above the best plan, by live
    # breaking its cap 400,000 and the whole 1,100,000 the budget
    assert evaluation["verdict"] == (
        "Your split makes 500,000 CNY (13.2%) more GMV than the best plan but breaks rules "
        "budget (spend 1,100,000 > 1,000,000 CNY) and live.max_spend "
        "(spend 500,000 > 400,000 CNY)."
    )


def test_even_without_the_optimum_solves_nothing(api):
    sid = stored_scenario(api)
    body = {"split": SPLIT, "spread": "even", "compare_to_optimum": False}
    evaluation = evaluate(api, sid, body).json()
    assert evaluation["result"]["comparison"] is None
    assert evaluation["verdict"] == (
        "Your split makes 3,400,000 CNY of GMV (not compared with a best plan) and keeps "
        "every rule."
    )


def test_optimal_spread_solves_the_optimum_even_without_comparison_asked(api):
    sid = stored_scenario(api)
    body = {"split": SPLIT, "compare_to_optimum": False}
    evaluation = evaluate(api, sid, body).json()
    assert evaluation["result"]["comparison"]["optimum_objective"] == pytest.approx(GMV)


def test_a_queued_split_evaluation_runs_on_the_worker(api):
    sid = stored_scenario(api)
    job = queued(api, sid, "evaluations?async=true", {"split": SPLIT})
    done = run(api, job["id"])
    assert done["status"] == "succeeded", done
    plan = api.call("GET", done["links"]["plan"], role="viewer").json()
    assert plan["verdict"] == VERDICT


@pytest.mark.parametrize(
    ("body", "path", "fragment"),
    [
        ({}, "body.allocation", "give allocation {unit: {period: CNY}} or split"),
        (
            {"split": SPLIT, "allocation": {"live": {"Y": 1}}},
            "body.split",
            "got both",
        ),
        ({"split": {"tv": 5, "live": 1}}, "body.split.tv", "unknown channel; known: live, search"),
        ({"split": {"live": -1}}, "body.split.live", "greater than or equal to 0"),
        ({"split": {"live": 1}, "spread": "lumpy"}, "body.spread", "'optimal' or 'even'"),
        ({"split": ["live"]}, "body.split", "valid dictionary"),
    ],
)
def test_bad_splits_are_422_naming_the_field(api, body, path, fragment):
    sid = stored_scenario(api)
    found = errors(evaluate(api, sid, body))
    assert path in found, found
    assert fragment in found[path], found


def test_infinite_amounts_are_refused(api):
    sid = stored_scenario(api)
    response = api.client.post(
        f"/v1/scenarios/{sid}/evaluations",
        content=b'{"split": {"live": 1e400}}',
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert "body.split.live" in errors(response)

"""What-if changes on plan and evaluation requests: applied to a copy, recorded, checked.

small_scenario by hand: live returns 5 per yuan up to 400k, search 3 per yuan unlimited.
"""

from __future__ import annotations

import pytest
from api_helpers import errors, small_scenario, stored_scenario

LINKED = [
    {"path": "budget.total_cny", "op": "scale", "value": 0.9},
    {"path": "channels[live].max_spend_cny", "op": "shift", "value": 100_000},
]


def plan(api, sid, body):
    response = api.call("POST", f"/v1/scenarios/{sid}/plans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_plan_with_changes_records_them_and_leaves_the_version_alone(api):
    sid = stored_scenario(api)
    base = plan(api, sid, {})
    changed = plan(api, sid, {"changes": LINKED})
    # budget 900k, live up to 500k: 5 x 500k + 3 x 400k = 3.7M (3.8M as stored)
    assert base["result"]["total"]["gmv_cny"] == pytest.approx(3_800_000, rel=1e-9)
    assert changed["result"]["total"]["gmv_cny"] == pytest.approx(3_700_000, rel=1e-9)
    assert changed["changes"] == LINKED and base["changes"] == []
    assert changed["scenario_id"] == sid and changed["scenario_version"] == 1
    assert changed["result"]["fingerprint"] != base["result"]["fingerprint"]
    assert changed["result"]["budget_total_cny"] == pytest.approx(900_000)
    # the same as planning the hand-edited scenario
    doc = small_scenario(budget=900_000.0)
    doc["channels"][0]["max_spend_cny"] = 500_000.0
    by_hand = api.call("POST", "/v1/plans", json={"scenario": doc}).json()
    assert by_hand["result"]["fingerprint"] == changed["result"]["fingerprint"]
    assert round(by_hand["result"]["total"]["gmv_cny"], 2) == round(
        changed["result"]["total"]["gmv_cny"], 2
    )
    stored = api.call("GET", f"/v1/scenarios/{sid}", role="viewer").json()
    assert stored["latest_version"] == 1
    assert stored["latest"]["scenario"]["budget"]["total_cny"] == 1_000_000
    again = api.call("GET", f"/v1/plans/{changed['id']}", role="viewer").json()
    assert again["changes"] == LINKED


def test_an_inline_plan_takes_changes(api):
    body = {
        "scenario": small_scenario(),
        "changes": [{"path": "channels[*].response.roas", "op": "scale", "value": 2}],
    }
    response = api.call("POST", "/v1/plans", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["result"]["total"]["gmv_cny"] == pytest.approx(7_600_000, rel=1e-9)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"path": "channels[tv].max_spend_cny", "value": 0},
            "body.changes[0].path",
            "known: live, search",
        ),
        (
            {"path": "fixed_costs[*].amount_cny", "op": "scale", "value": 2},
            "body.changes[0].path",
            "selects nothing",
        ),
        ({"path": "name", "op": "scale", "value": 2}, "body.changes[0].path", "cannot scale name"),
        ({"path": "budget.total_cny", "op": "double", "value": 2}, "body.changes.0.op", ""),
        ({"path": "budget.total_cny", "value": -1}, "body.changes[0].value", "greater than 0"),
        (
            {"path": "channels[*].max_spend_cny", "op": "scale", "value": 2},
            "body.changes[0].path",
            "channels[search].max_spend_cny: it is not set",
        ),
    ],
)
def test_refused_changes_name_the_body_field(api, change, field, words):
    sid = stored_scenario(api)
    found = errors(api.call("POST", f"/v1/scenarios/{sid}/plans", json={"changes": [change]}))
    (path,) = [p for p in found if p.startswith("body.changes")]
    assert path.replace("[", ".").replace("]", "") == field.replace("[", ".").replace("]", "")
    assert words in found[path]


def test_an_evaluation_takes_changes(api):
    sid = stored_scenario(api)
    body = {
        "allocation": {"live": {"Y": 400_000}, "search": {"Y": 400_000}},
        "changes": [{"path": "channels[search].response.roas", "op": "shift", "value": 1}],
    }
    response = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=body)
    assert response.status_code == 201, response.text
    scored = response.json()
    # 5 x 400k + (3 + 1) x 400k
    assert scored["result"]["total"]["gmv_cny"] == pytest.approx(3_600_000, rel=1e-9)
    assert scored["changes"] == [{**body["changes"][0]}]


def test_a_plan_with_changes_is_not_the_versions_plan(api):
    sid = stored_scenario(api)
    changed = plan(api, sid, {"changes": LINKED})
    by_ref = {"scenarios": [{"scenario_id": sid}, {"scenario_id": sid}]}
    assert api.call("POST", "/v1/compare", json=by_ref).status_code == 409
    split = {"allocation": {"live": {"Y": 400_000}}, "optimum_plan_id": changed["id"]}
    response = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=split)
    assert "body.optimum_plan_id" in errors(response)
    same = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json={**split, "changes": LINKED})
    assert same.status_code == 201, same.text


def test_set_takes_lists_objects_and_null_of_the_fields_own_type(api):
    sid = stored_scenario(api)
    # null clears live's 400k cap: all 1M goes to live at 5 per yuan
    uncapped = plan(
        api, sid, {"changes": [{"path": "channels[live].max_spend_cny", "value": None}]}
    )
    assert uncapped["result"]["total"]["gmv_cny"] == pytest.approx(5_000_000, rel=1e-9)
    # a per-period list, as the page sends a CPM index: the same plan as the edited file
    index = [{"path": "channels[live].cpm_index", "value": [2.0]}]
    changed = plan(api, sid, {"changes": index})
    doc = small_scenario()
    doc["channels"][0]["cpm_index"] = [2.0]
    by_hand = api.call("POST", "/v1/plans", json={"scenario": doc}).json()
    assert changed["result"]["fingerprint"] == by_hand["result"]["fingerprint"]
    assert changed["result"]["total"]["gmv_cny"] < 3_800_000
    # an object where the schema wants a number is refused, naming the field
    wrong = {"path": "channels[live].max_spend_cny", "value": {"amount": 1}}
    response = api.call("POST", f"/v1/scenarios/{sid}/plans", json={"changes": [wrong]})
    message = errors(response)["body.changes[0].value"]
    assert "channels[0].max_spend_cny: expected a number, got a mapping" in message
    # scale and shift still need a number
    bad = {"path": "budget.total_cny", "op": "scale", "value": [2.0]}
    refused = api.call("POST", f"/v1/scenarios/{sid}/plans", json={"changes": [bad]})
    assert errors(refused)["body.changes[0].value"].startswith("scale needs a finite number")

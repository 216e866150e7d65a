"""Scenario bodies take the calendar like files do: ISO weeks, windows, values by window."""

from __future__ import annotations

import pytest
from api_helpers import errors

SCENARIO = {
    "version": "1",
    "name": "weekly",
    "periods": {"iso_weeks": {"from": "2026-W22", "to": "2026-W23"}},
    "calendar": {"windows": [{"id": "618", "from": "2026-06-01", "to": "2026-06-18"}]},
    "seasonality": {"default": 1, "windows": {"618": 3}},
    "budget": {"total_cny": 100, "mode": "spend_all"},
    "objective": {"kind": "max_gmv"},
    "channels": [
        {
            "id": "live",
            "kind": "curve",
            "aov_cny": 100,
            "response": {"type": "exponential", "max_gmv_cny": 300, "scale_cny": 100},
        }
    ],
    "rules": [{"id": "pace", "kind": "ramp_limit", "max_change_cny": 20}],
}


def test_a_weekly_scenario_plans_over_http(api):
    response = api.call("POST", "/v1/plans", json={"scenario": SCENARIO})
    assert response.status_code == 201, response.text
    spend = response.json()["result"]["spend"]["live"]
    # W23 (June 1 to 7) is in 618 at 3x; the change limit binds: 40 then 60
    assert spend == {"2026-W22": pytest.approx(40), "2026-W23": pytest.approx(60)}


def test_a_calendar_mistake_names_its_field_over_http(api):
    body = {**SCENARIO, "seasonality": {"default": 1, "windows": {"619": 3}}}
    response = api.call("POST", "/v1/scenarios", json={"scenario": body, "tags": []})
    assert response.status_code == 422, response.text
    assert errors(response) == {
        "body.scenario.seasonality.windows.619": "unknown window '619'; known: 618"
    }


def test_the_openapi_document_shows_the_calendar_forms(api):
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    scenario = schemas["Scenario"]["properties"]
    assert {"$ref": "#/components/schemas/IsoWeeks"} in scenario["periods"]["anyOf"]
    assert {"$ref": "#/components/schemas/ByWindow"} in scenario["seasonality"]["anyOf"]
    assert {"Calendar", "Window", "ByWindow", "IsoWeeks", "Dark", "LockedBurst"} <= set(schemas)

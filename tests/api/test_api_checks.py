"""Numbers a solver cannot take are refused wherever the API takes a scenario: 422 naming the
body field, before anything is stored, solved or queued (optimizer.planner.check_numbers runs
right after validation, which checks fields and the rules between them)."""

from __future__ import annotations

from typing import Any

from api_helpers import errors, post, stored_scenario
from sqlalchemy import update

from api.db.engine import transaction
from api.db.models import ScenarioVersion

FIELD = "body.scenario.channels[0].response.max_gmv_cny"
TOO_MUCH = "more than a solver can take"


def derived(max_gmv_cny: float) -> dict[str, Any]:
    """One exponential channel at seasonality 1000: its GMV per yuan is 1000 x max / 0.01,
    beyond a solver at a max_gmv_cny of 1e12 (1e17 per yuan), fine at 1e9."""
    return {
        "version": "1",
        "name": "derived",
        "periods": ["Y"],
        "seasonality": 1000,
        "budget": {"total_cny": 1_000},
        "objective": {"kind": "max_gmv"},
        "channels": [
            {
                "id": "c",
                "kind": "curve",
                "aov_cny": 100,
                "response": {"type": "exponential", "max_gmv_cny": max_gmv_cny, "scale_cny": 0.01},
            }
        ],
    }


def refused(response: Any, path: str = FIELD) -> None:
    found = errors(response)
    assert list(found) == [path], found
    assert TOO_MUCH in found[path]


def test_stored_scenarios_and_versions(api):
    refused(api.call("POST", "/v1/scenarios", json={"scenario": derived(1e12)}))
    assert api.call("GET", "/v1/scenarios").json()["total"] == 0
    sid = stored_scenario(api, derived(1e9))
    refused(api.call("POST", f"/v1/scenarios/{sid}/versions", json={"scenario": derived(1e12)}))
    assert api.call("GET", f"/v1/scenarios/{sid}").json()["latest_version"] == 1


def test_ad_hoc_plans(api):
    refused(api.call("POST", "/v1/plans", json={"scenario": derived(1e12)}))
    refused(api.call("POST", "/v1/plans?async=true", json={"scenario": derived(1e12)}))
    assert api.call("GET", "/v1/plans").json()["total"] == 0
    assert api.call("GET", "/v1/jobs").json()["total"] == 0


def test_each_point_of_a_sweep(api):
    sid = stored_scenario(api, derived(1e9))
    vary = {"path": "channels[c].response.max_gmv_cny", "values": [1e9, 1e12]}
    for mode in ("grid", "tornado"):
        refused(post(api, sid, "sweeps", {"mode": mode, "vary": [vary]}), "body.vary[0].values[1]")
    assert api.call("GET", "/v1/jobs").json()["total"] == 0


def test_a_version_stored_before_the_check_is_refused_not_solved(api):
    """A stored document is checked again when it is used: plans, evaluations and what-if
    requests of it are a 422 naming the field (never a 500, never blamed on the split)."""
    sid = stored_scenario(api, derived(1e9))
    with transaction(api.resources.factory) as session:
        session.execute(
            update(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == sid)
            .values(body=derived(1e12))
        )
    refused(api.call("POST", f"/v1/scenarios/{sid}/plans", json={}))
    split = {"allocation": {"c": {"Y": 500}}, "compare_to_optimum": False}
    refused(api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=split))
    sweep = {"vary": [{"path": "budget.total_cny", "values": [1_000]}]}
    refused(post(api, sid, "sweeps", sweep))
    refused(post(api, sid, "frontiers", {"points": 2}))
    assert api.call("GET", "/v1/plans").json()["total"] == 0
    assert api.call("GET", "/v1/jobs").json()["total"] == 0

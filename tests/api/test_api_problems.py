"""Bad requests: problem+json with the field path, limits named, nothing stored."""

from __future__ import annotations

import json

from api_helpers import assert_problem, running_api, small_scenario


def test_scenario_errors_name_the_field_path(api):
    doc = small_scenario()
    doc["channels"][1]["response"]["roas"] = "three"
    doc["budget"]["total_cny"] = -5
    body = assert_problem(
        api.call("POST", "/v1/scenarios", json={"scenario": doc}), 422, "validation-error"
    )
    paths = {e["path"] for e in body["errors"]}
    assert "body.scenario.channels[1].response.roas" in paths
    assert "body.scenario.budget.total_cny" in paths
    assert api.call("GET", "/v1/scenarios").json()["total"] == 0


def test_cross_field_errors_and_unknown_fields(api):
    doc = small_scenario(rules=[{"kind": "roas_floor", "min_roas": 2, "channels": ["tv"]}])
    body = assert_problem(
        api.call("POST", "/v1/scenarios", json={"scenario": doc}), 422, "validation-error"
    )
    assert body["errors"][0]["path"].startswith("body.scenario.rules[0].channels")
    assert "tv" in body["errors"][0]["message"]
    typo = api.call("POST", "/v1/scenarios", json={"scenario": small_scenario(), "tag": ["x"]})
    body = assert_problem(typo, 422, "validation-error")
    assert body["errors"] == [{"path": "body.tag", "message": "unknown field"}]
    inline = api.call("POST", "/v1/plans", json={"scenario": small_scenario(), "x": 1})
    assert assert_problem(inline, 422, "validation-error")["errors"][0]["path"] == "body.x"
    sid = api.call("POST", "/v1/scenarios", json={"scenario": small_scenario()}).json()["id"]
    misplaced = api.call("POST", f"/v1/scenarios/{sid}/plans", json={"scenario": {}})
    body = assert_problem(misplaced, 422, "validation-error")
    assert body["errors"] == [{"path": "body.scenario", "message": "unknown field"}]


def test_broken_json_and_wrong_types(api):
    broken = api.client.post(
        "/v1/scenarios",
        content=b'{"scenario": {',
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    body = assert_problem(broken, 422, "validation-error")
    assert "not valid JSON" in body["errors"][0]["message"]
    listed = api.call("POST", "/v1/scenarios", json=[1, 2])
    assert_problem(listed, 422, "validation-error")
    page = assert_problem(api.call("GET", "/v1/scenarios?page=zero"), 422, "validation-error")
    assert page["errors"][0]["path"] == "query.page"


def test_unknown_route_and_method(api):
    assert_problem(api.call("GET", "/v1/nothing"), 404, "not-found")
    assert_problem(api.call("DELETE", "/v1/scenarios"), 405, "http-error")
    assert_problem(api.call("GET", "/v1/plans/pln_0000"), 404, "not-found")


def test_limits_are_named(database_url):
    with running_api(
        database_url, workers=0, max_body_bytes=4000, max_channels=1, max_solve_seconds=5
    ) as api:
        huge = {"scenario": small_scenario(name="x" * 5000)}
        body = assert_problem(api.call("POST", "/v1/scenarios", json=huge), 413, "limit-exceeded")
        assert body["limit"] == "max_body_bytes" and body["maximum"] == 4000
        # A chunked body without Content-Length is counted too.
        chunks = iter([json.dumps(huge).encode()[i : i + 1000] for i in range(0, 6000, 1000)])
        streamed = api.client.post(
            "/v1/scenarios",
            content=chunks,
            headers={**api.headers(), "Content-Type": "application/json"},
        )
        assert_problem(streamed, 413, "limit-exceeded")
        channels = api.call("POST", "/v1/scenarios", json={"scenario": small_scenario()})
        body = assert_problem(channels, 422, "limit-exceeded")
        assert body["limit"] == "max_channels" and body["errors"][0]["path"] == (
            "body.scenario.channels"
        )
        one = small_scenario()
        one["channels"] = one["channels"][:1]
        slow = api.call("POST", "/v1/plans", json={"scenario": one, "time_limit_s": 60})
        body = assert_problem(slow, 422, "limit-exceeded")
        assert body["limit"] == "max_solve_seconds" and "body.time_limit_s" in body["detail"]
        default_limit = api.call("POST", "/v1/plans", json={"scenario": one})
        body = assert_problem(default_limit, 422, "limit-exceeded")
        assert body["errors"][0]["path"] == "body.scenario.settings.time_limit_s"
        assert api.call("GET", "/v1/scenarios").json()["total"] == 0


def test_periods_limit(database_url):
    with running_api(database_url, workers=0, max_periods=2) as api:
        doc = small_scenario(periods=["Q1", "Q2", "Q3"])
        body = assert_problem(
            api.call("POST", "/v1/scenarios", json={"scenario": doc}), 422, "limit-exceeded"
        )
        assert body["limit"] == "max_periods"


def test_unknown_solver_is_a_422(api):
    response = api.call("POST", "/v1/plans", json={"scenario": small_scenario(), "solver": "x"})
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["path"] == "body.solver"


def test_finished_job_cannot_be_cancelled_and_archived_scenario_keeps_plans(api):
    sid = api.call("POST", "/v1/scenarios", json={"scenario": small_scenario()}).json()["id"]
    job = api.call("POST", f"/v1/scenarios/{sid}/plans?async=true", json={}).json()
    assert api.call("POST", f"/v1/jobs/{job['id']}/cancel").json()["status"] == "cancelled"
    assert_problem(api.call("POST", f"/v1/jobs/{job['id']}/cancel"), 409, "job-finished")

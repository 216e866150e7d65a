"""Bad requests: problem+json with the field path, limits named, nothing stored."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import uvicorn
from api_helpers import running_api, small_scenario

from api.main import create_app
from api.services import plans as service_module
from api.settings import ServiceSettings

PROBLEM = "application/problem+json"


def assert_problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://budgetopt.dev/problems/{slug}"
    assert body["title"] and body["detail"] and body["request_id"]
    return body


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


# --- unexpected errors -------------------------------------------------------------------------


def crash(*args, **kwargs):
    raise RuntimeError("a bug, not the caller's mistake")


def test_unexpected_error_is_a_problem_carrying_the_request_id(api, monkeypatch):
    monkeypatch.setattr(service_module, "execute", crash)
    body = {"scenario": small_scenario()}
    response = api.call("POST", "/v1/plans", json=body)
    problem = assert_problem(response, 500, "internal-error")
    assert problem["request_id"] is not None
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert "quote the request_id" in problem["detail"]
    assert "a bug" not in response.text  # the exception stays in the log
    headers = {**api.headers(), "X-Request-ID": "support-42"}
    given = api.client.post("/v1/plans", json=body, headers=headers)
    assert assert_problem(given, 500, "internal-error")["request_id"] == "support-42"
    assert given.headers["X-Request-ID"] == "support-42"
    # The same client goes on: the next request is answered normally.
    listed = api.call("GET", "/v1/plans")
    assert listed.status_code == 200 and listed.json()["total"] == 0


def test_unexpected_error_keeps_the_keep_alive_connection(tmp_path, monkeypatch):
    """Over a real server: the 500 is a complete answer and the connection stays open."""
    monkeypatch.setattr(service_module, "execute", crash)
    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path}/api.db", dev_mode=True, workers=0
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        payload = json.dumps({"scenario": small_scenario()})
        headers = {"Content-Type": "application/json", "X-Request-ID": "crash-1"}
        connection.request("POST", "/v1/plans", body=payload, headers=headers)
        first = connection.getresponse()
        problem = json.loads(first.read())
        assert first.status == 500
        assert first.getheader("Content-Type") == PROBLEM
        assert first.getheader("X-Request-ID") == "crash-1" == problem["request_id"]
        assert (first.getheader("Connection") or "").lower() != "close"
        sock = connection.sock
        assert sock is not None
        connection.request("GET", "/healthz")  # on the same connection: no reset, no reopen
        second = connection.getresponse()
        assert second.status == 200 and json.loads(second.read()) == {"status": "ok"}
        assert connection.sock is sock
        connection.close()
    finally:
        server.should_exit = True
        thread.join(30)

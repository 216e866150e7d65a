"""Access control: every route against every role, and from another workspace."""

from __future__ import annotations

import pytest
from api_helpers import small_scenario


@pytest.fixture
def objects(api):
    """acme's scenario, plan, evaluation, queued job and a spare key."""
    sid = api.call("POST", "/v1/scenarios", json={"scenario": small_scenario()}).json()["id"]
    pid = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()["id"]
    job = api.call("POST", f"/v1/scenarios/{sid}/plans?async=true", json={}).json()
    assert job["status"] == "queued"  # no worker runs in this app
    kid = api.call("POST", "/v1/keys", role="admin", json={"role": "viewer"}).json()["id"]
    return {"sid": sid, "pid": pid, "jid": job["id"], "kid": kid}


def routes(o):
    """(method, path, body, least role). Archive and revoke last: they change later answers."""
    split = {"allocation": {"live": {"Y": 1.0}}, "compare_to_optimum": False}
    return [
        ("GET", "/v1/scenarios", None, "viewer"),
        ("GET", f"/v1/scenarios/{o['sid']}", None, "viewer"),
        ("GET", f"/v1/scenarios/{o['sid']}/versions", None, "viewer"),
        ("GET", f"/v1/scenarios/{o['sid']}/versions/1", None, "viewer"),
        ("GET", "/v1/plans", None, "viewer"),
        ("GET", f"/v1/plans/{o['pid']}", None, "viewer"),
        ("GET", f"/v1/plans/{o['pid']}/export?format=csv", None, "viewer"),
        ("GET", f"/v1/plans/{o['pid']}/export?format=xlsx", None, "viewer"),
        ("POST", "/v1/compare", {"plan_ids": [o["pid"], o["pid"]]}, "viewer"),
        ("GET", "/v1/jobs", None, "viewer"),
        ("GET", f"/v1/jobs/{o['jid']}", None, "viewer"),
        ("POST", "/v1/scenarios", {"scenario": small_scenario()}, "planner"),
        ("POST", f"/v1/scenarios/{o['sid']}/versions", {"scenario": small_scenario()}, "planner"),
        ("POST", f"/v1/scenarios/{o['sid']}/plans", {}, "planner"),
        ("POST", "/v1/plans", {"scenario": small_scenario()}, "planner"),
        ("POST", f"/v1/scenarios/{o['sid']}/evaluations", split, "planner"),
        ("POST", f"/v1/jobs/{o['jid']}/cancel", None, "planner"),
        ("GET", "/v1/keys", None, "admin"),
        ("POST", "/v1/keys", {"role": "viewer"}, "admin"),
        ("POST", f"/v1/scenarios/{o['sid']}/archive", None, "planner"),
        ("POST", f"/v1/keys/{o['kid']}/revoke", None, "admin"),
    ]


ROLES = ("viewer", "planner", "admin")


def test_each_route_needs_its_role(api, objects):
    for method, path, body, least in routes(objects):
        for role in ROLES:
            if ROLES.index(role) < ROLES.index(least):
                response = api.call(method, path, role=role, json=body)
                assert response.status_code == 403, (method, path, role, response.text)
                assert least in response.json()["detail"]
        response = api.call(method, path, role=least, json=body)
        assert response.status_code < 300, (method, path, least, response.text)


def test_no_key_or_a_bad_key_is_401_on_every_route(api, objects):
    for method, path, body, _ in routes(objects):
        anonymous = api.client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        forged = api.client.request(
            method, path, json=body, headers={"Authorization": "Bearer bo_not-a-key"}
        )
        assert forged.status_code == 401, (method, path)


ID_ROUTES = {
    "sid": [
        ("GET", "/v1/scenarios/{}", None),
        ("GET", "/v1/scenarios/{}/versions", None),
        ("GET", "/v1/scenarios/{}/versions/1", None),
        ("POST", "/v1/scenarios/{}/versions", {"scenario": small_scenario()}),
        ("POST", "/v1/scenarios/{}/plans", {}),
        ("POST", "/v1/scenarios/{}/evaluations", {"allocation": {"live": {"Y": 1.0}}}),
        ("POST", "/v1/scenarios/{}/archive", None),
    ],
    "pid": [
        ("GET", "/v1/plans/{}", None),
        ("GET", "/v1/plans/{}/export?format=csv", None),
        ("GET", "/v1/plans/{}/export?format=xlsx", None),
    ],
    "jid": [("GET", "/v1/jobs/{}", None), ("POST", "/v1/jobs/{}/cancel", None)],
    "kid": [("POST", "/v1/keys/{}/revoke", None)],
}


def test_another_workspace_gets_404_on_every_route_with_an_id(api, objects):
    for ident, entries in ID_ROUTES.items():
        for method, template, body in entries:
            path = template.format(objects[ident])
            response = api.call(method, path, role="admin", workspace="rival", json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert objects[ident] in response.json()["detail"]
    compare = {"plan_ids": [objects["pid"], objects["pid"]]}
    assert api.call("POST", "/v1/compare", workspace="rival", json=compare).status_code == 404
    by_ref = {"scenarios": [{"scenario_id": objects["sid"]}, {"scenario_id": objects["sid"]}]}
    assert api.call("POST", "/v1/compare", workspace="rival", json=by_ref).status_code == 404
    optimum = {"allocation": {"live": {"Y": 1.0}}, "optimum_plan_id": objects["pid"]}
    rival_sid = api.call(
        "POST", "/v1/scenarios", workspace="rival", json={"scenario": small_scenario()}
    ).json()["id"]
    stolen = api.call(
        "POST", f"/v1/scenarios/{rival_sid}/evaluations", workspace="rival", json=optimum
    )
    assert stolen.status_code == 404
    # Nothing of acme's was touched.
    scenario = api.call("GET", f"/v1/scenarios/{objects['sid']}").json()
    assert scenario["latest_version"] == 1 and not scenario["archived"]
    assert api.call("GET", f"/v1/jobs/{objects['jid']}").json()["status"] == "queued"


def test_lists_show_only_the_own_workspace(api, objects):
    for path in ("/v1/scenarios", "/v1/plans", "/v1/jobs"):
        rival = api.call("GET", path, role="viewer", workspace="rival").json()
        assert rival["total"] == 0 and rival["items"] == [], path
        assert api.call("GET", path, role="viewer").json()["total"] >= 1, path
    keys = api.call("GET", "/v1/keys", role="admin", workspace="rival").json()
    assert {k["workspace"] for k in keys} == {"rival"}
    assert all(k["key"] is None for k in keys)  # the secret is never listed


def test_revoked_key_is_refused_and_keys_are_stored_hashed(api, objects):
    created = api.call("POST", "/v1/keys", role="admin", json={"role": "planner", "name": "ci"})
    key = created.json()["key"]
    assert key.startswith("bo_") and created.json()["prefix"] == key[:10]
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/v1/scenarios", headers=headers).status_code == 200
    with api.resources.factory() as session:
        from sqlalchemy import text

        stored = [row[0] for row in session.execute(text("SELECT key_hash FROM api_keys"))]
    assert key not in stored and all(len(h) == 64 for h in stored)
    api.call("POST", f"/v1/keys/{created.json()['id']}/revoke", role="admin")
    assert api.client.get("/v1/scenarios", headers=headers).status_code == 401


def test_dev_mode_acts_as_admin_of_default_without_a_key(database_url):
    from api_helpers import running_api

    with running_api(database_url, workers=0, dev_mode=True) as dev:
        created = dev.client.post("/v1/scenarios", json={"scenario": small_scenario()})
        assert created.status_code == 201
        assert dev.client.get("/v1/scenarios").json()["total"] == 1
        # A key still counts: acme's planner does not see default's scenario.
        assert dev.call("GET", "/v1/scenarios").json()["total"] == 0

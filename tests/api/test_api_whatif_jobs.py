"""What-if jobs on the worker: listed by kind, cancelled, rerun after a crash, their results
read only when they have one, scoped by role and workspace, and readable after an upgrade."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from alembic import command
from api_helpers import GMV, post, queued, recording, result, run, running_api, stored_scenario
from sqlalchemy import text

from api.db.engine import make_engine, transaction
from api.db.migrate import alembic_config
from api.db.models import Job, utcnow
from api.worker import claim, recover_stale


def test_runs_on_a_worker_thread_and_lists_by_kind(database_url):
    with running_api(database_url, workers=1) as api:
        sid = stored_scenario(api)
        job = queued(api, sid, "sweeps", {"vary": [{"path": "budget.total_cny", "values": [1e6]}]})
        deadline = time.monotonic() + 30
        while (done := api.call("GET", f"/v1/jobs/{job['id']}").json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, done
            time.sleep(0.05)
        assert done["status"] == "succeeded" and done["progress"] == 1.0
        point = result(api, done).json()["points"][0]
        assert point["metrics"]["objective_value"] == pytest.approx(GMV, rel=1e-6)
        frontier = queued(api, sid, "frontiers", {"points": 2})
        api.call("POST", f"/v1/jobs/{frontier['id']}/cancel")
        kinds = {
            kind: [j["id"] for j in api.call("GET", f"/v1/jobs?kind={kind}").json()["items"]]
            for kind in ("sweep", "frontier", "plan")
        }
        assert kinds == {"sweep": [job["id"]], "frontier": [frontier["id"]], "plan": []}
        both = api.call("GET", "/v1/jobs?kind=sweep&status=cancelled").json()
        assert both["total"] == 0
        assert api.call("GET", "/v1/jobs?kind=nonsense").status_code == 422


def test_cancel_a_queued_whatif_job(api):
    sid = stored_scenario(api)
    job = queued(api, sid, "frontiers", {"points": 2})
    cancelled = api.call("POST", f"/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and "result" not in cancelled["links"]
    assert claim(api.resources.factory, "w") is None
    response = api.call("GET", f"/v1/jobs/{job['id']}/result")
    assert response.status_code == 409 and "cancelled" in response.json()["detail"]


def test_cancel_a_running_whatif_job_stops_after_the_current_point(api):
    sid = stored_scenario(api)
    body = {
        "vary": [{"path": "budget.total_cny", "range": {"start": 5e5, "stop": 1e6, "count": 5}}]
    }
    job_id = queued(api, sid, "sweeps", body)["id"]
    claimed = claim(api.resources.factory, "w")
    response = api.call("POST", f"/v1/jobs/{job_id}/cancel").json()
    assert response["status"] == "running"
    assert response["message"] == "cancel requested; stops after the current point"
    worker = recording(api)
    worker.run(claimed)
    assert worker.seen == [(0.2, "point 1 of 5")]
    job = api.call("GET", f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["progress"] == pytest.approx(0.2)
    assert api.call("GET", f"/v1/jobs/{job_id}/result").status_code == 409


def test_an_interrupted_whatif_job_reruns(api):
    sid = stored_scenario(api)
    job_id = queued(api, sid, "sweeps", {"vary": [{"path": "budget.total_cny", "values": [1e6]}]})[
        "id"
    ]
    assert claim(api.resources.factory, "crashed") is not None
    with transaction(api.resources.factory) as session:
        job = session.get(Job, job_id)
        job.heartbeat_at = utcnow() - timedelta(seconds=api.settings.job_stale_seconds + 5)
        job.progress = 0.5
    assert recover_stale(api.resources.factory, api.settings) == 1
    again = api.call("GET", f"/v1/jobs/{job_id}").json()
    assert again["status"] == "queued" and again["progress"] == 0
    done = run(api, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2
    assert len(result(api, done).json()["points"]) == 1


def test_result_of_an_unfinished_job_and_of_a_plan_job(api):
    sid = stored_scenario(api)
    job = queued(api, sid, "sweeps", {"vary": [{"path": "budget.total_cny", "values": [1e6]}]})
    response = api.call("GET", f"/v1/jobs/{job['id']}/result", role="viewer")
    assert response.status_code == 409
    assert response.json()["job_status"] == "queued" and "is queued" in response.json()["detail"]
    api.call("POST", f"/v1/jobs/{job['id']}/cancel")
    plan_job = api.call("POST", f"/v1/scenarios/{sid}/plans?async=true", json={}).json()
    assert plan_job["kind"] == "plan"
    early = api.call("GET", f"/v1/jobs/{plan_job['id']}/result")
    assert early.status_code == 409 and "plan job" in early.json()["detail"]
    done = run(api, plan_job["id"])
    response = api.call("GET", f"/v1/jobs/{done['id']}/result")
    assert response.status_code == 409
    assert response.json()["links"]["plan"] == done["links"]["plan"]
    assert "result" not in done["links"]


def test_roles_and_workspaces(api):
    sid = stored_scenario(api)
    sweep = {"vary": [{"path": "budget.total_cny", "values": [1e6]}]}
    assert post(api, sid, "sweeps", sweep, role="viewer").status_code == 403
    assert post(api, sid, "frontiers", {}, role="viewer").status_code == 403
    assert (
        api.call("POST", f"/v1/scenarios/{sid}/sweeps", workspace="rival", json=sweep).status_code
        == 404
    )
    assert (
        api.call("POST", f"/v1/scenarios/{sid}/frontiers", workspace="rival", json={}).status_code
        == 404
    )
    assert post(api, sid, "sweeps", {**sweep, "version": 2}).status_code == 404
    done = run(api, queued(api, sid, "sweeps", sweep)["id"])
    for path in (f"/v1/jobs/{done['id']}", f"/v1/jobs/{done['id']}/result"):
        assert api.call("GET", path, role="admin", workspace="rival").status_code == 404
        assert api.call("GET", path, role="viewer").status_code == 200
    assert api.call("GET", "/v1/jobs?kind=sweep", workspace="rival").json()["total"] == 0


def test_jobs_from_before_the_upgrade_still_read(database_url):
    engine = make_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO jobs (id, workspace, kind, status, request, progress, message,"
                " attempts, max_attempts, cancel_requested, created_at, created_by) VALUES"
                " ('job_0ld', 'acme', 'plan', 'failed', '{}', 0.5, 'failed', 2, 2, false,"
                " CURRENT_TIMESTAMP, 'key_x')"
            )
        )
    engine.dispose()
    with running_api(database_url) as api:  # migrates to the newest schema at start
        job = api.call("GET", "/v1/jobs/job_0ld").json()
        assert job["kind"] == "plan" and job["status"] == "failed"
        assert api.call("GET", "/v1/jobs?kind=plan").json()["total"] == 1
        assert api.call("GET", "/v1/jobs/job_0ld/result").status_code == 409

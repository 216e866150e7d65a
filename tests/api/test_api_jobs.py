"""Jobs: queued in the database, run by a worker, cancellable, recovered after a crash."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from api_helpers import GMV, running_api, small_scenario
from sqlalchemy import select

from api.db.engine import transaction
from api.db.models import Job, utcnow
from api.worker import Worker, claim, recover_stale


def wait_for(api, job_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.call("GET", f"/v1/jobs/{job_id}", role="viewer").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def queue(api, path="/v1/plans?async=true", body=None):
    body = {"scenario": small_scenario()} if body is None else body
    response = api.call("POST", path, json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    return job


def set_job(api, job_id, **values):
    with transaction(api.resources.factory) as session:
        job = session.get(Job, job_id)
        for key, value in values.items():
            setattr(job, key, value)


def test_async_plan_runs_on_the_worker_and_links_its_plan(database_url):
    with running_api(database_url, workers=1) as api:
        job = queue(api)
        assert job["status"] == "queued" and job["progress"] == 0
        done = wait_for(api, job["id"])
        assert done["status"] == "succeeded" and done["progress"] == 1.0
        assert done["attempts"] == 1 and done["error"] is None
        plan = api.call("GET", done["links"]["plan"]).json()
        assert plan["objective_value"] == pytest.approx(GMV, rel=1e-6)
        listed = api.call("GET", "/v1/jobs?status=succeeded").json()
        assert [j["id"] for j in listed["items"]] == [job["id"]]


def test_large_problems_answer_202_without_asking(database_url):
    with running_api(database_url, workers=1, sync_max_cells=1) as api:
        sid = api.call("POST", "/v1/scenarios", json={"scenario": small_scenario()}).json()["id"]
        job = queue(api, f"/v1/scenarios/{sid}/plans", {})
        done = wait_for(api, job["id"])
        plan = api.call("GET", f"/v1/plans/{done['plan_id']}").json()
        assert plan["scenario_id"] == sid and plan["scenario_version"] == 1
        split = {"allocation": {"live": {"Y": 100_000}}}
        evaluation = queue(api, f"/v1/scenarios/{sid}/evaluations", split)
        scored = api.call("GET", f"/v1/plans/{wait_for(api, evaluation['id'])['plan_id']}")
        assert scored.json()["kind"] == "evaluation"
        assert scored.json()["objective_value"] == pytest.approx(500_000, rel=1e-9)
        # Against a stored optimum nothing is solved, so it answers at once whatever the size.
        quick = {**split, "optimum_plan_id": plan["id"]}
        direct = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=quick)
        assert direct.status_code == 201
        gap = direct.json()["result"]["comparison"]["objective_gap"]
        assert gap == pytest.approx(GMV - 500_000, rel=1e-6)


def test_cancel_a_queued_job(api):
    job = queue(api)
    cancelled = api.call("POST", f"/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"]
    assert claim(api.resources.factory, "w") is None  # nothing left to run


def test_cancel_a_running_job_stops_it_after_the_round(api):
    job_id = queue(api)["id"]
    claimed = claim(api.resources.factory, "test-worker")
    assert claimed is not None and claimed.id == job_id and claimed.attempts == 1
    response = api.call("POST", f"/v1/jobs/{job_id}/cancel")
    assert (
        response.json()["status"] == "running" and "cancel requested" in response.json()["message"]
    )
    Worker(api.resources.factory, api.settings).run(claimed)
    job = api.call("GET", f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["plan_id"] is None
    assert api.call("GET", "/v1/plans").json()["total"] == 0


def test_a_job_is_claimed_once(api):
    queue(api)
    first = claim(api.resources.factory, "a")
    second = claim(api.resources.factory, "b")
    assert first is not None and second is None


def test_interrupted_jobs_are_retried_then_failed_with_a_reason(api):
    settings = api.settings
    retried, exhausted, alive = (queue(api)["id"] for _ in range(3))
    for _ in (retried, exhausted, alive):
        assert claim(api.resources.factory, "crashed-worker") is not None
    old = utcnow() - timedelta(seconds=settings.job_stale_seconds + 5)
    set_job(api, retried, heartbeat_at=old, attempts=1)
    set_job(api, exhausted, heartbeat_at=old, attempts=settings.job_max_attempts)
    assert recover_stale(api.resources.factory, settings) == 2
    again = api.call("GET", f"/v1/jobs/{retried}").json()
    assert again["status"] == "queued" and "crashed-worker stopped responding" in again["message"]
    failed = api.call("GET", f"/v1/jobs/{exhausted}").json()
    assert failed["status"] == "failed"
    assert failed["error"].startswith(f"interrupted {settings.job_max_attempts} times")
    assert api.call("GET", f"/v1/jobs/{alive}").json()["status"] == "running"
    # The retried job then runs to the end on a live worker.
    claimed = claim(api.resources.factory, "new-worker")
    assert claimed is not None and claimed.id == retried and claimed.attempts == 2
    Worker(api.resources.factory, settings).run(claimed)
    done = api.call("GET", f"/v1/jobs/{retried}").json()
    assert done["status"] == "succeeded" and done["plan_id"]


def test_progress_is_recorded_while_running(api):
    job_id = queue(api)["id"]
    claimed = claim(api.resources.factory, "w")
    worker = Worker(api.resources.factory, api.settings)
    assert worker._progress(job_id, 1, 0.01, 1e-4) is False
    job = api.call("GET", f"/v1/jobs/{job_id}").json()
    assert job["progress"] == pytest.approx(0.5)  # gap 1e-2 is half way to 1e-4 on a log scale
    assert job["message"] == "round 1, gap 1.00e-02"
    worker.run(claimed)
    with api.resources.factory() as session:
        status = session.scalar(select(Job.status).where(Job.id == job_id))
    assert status == "succeeded"

"""Sweeps, tornados and frontiers as API jobs, on SQLite and PostgreSQL.

Every point must be the plan ``POST /v1/plans`` makes of the same scenario; bad requests are
refused before anything is queued, with the body field that is wrong.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import openpyxl
import pytest
from alembic import command
from api_helpers import running_api, small_scenario
from sqlalchemy import text

from api.db.engine import make_engine, transaction
from api.db.migrate import alembic_config
from api.db.models import Job, utcnow
from api.worker import Worker, claim, recover_stale
from optimizer.analysis.whatif import MAX_POINTS

GMV = 5 * 400_000 + 3 * 600_000  # small_scenario's optimum on its 1,000,000 budget


# --- helpers -----------------------------------------------------------------------------------


def create(api, doc=None):
    response = api.call("POST", "/v1/scenarios", json={"scenario": doc or small_scenario()})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def post(api, sid, what, body, role="planner"):
    return api.call("POST", f"/v1/scenarios/{sid}/{what}", role=role, json=body)


def queued(api, sid, what, body):
    response = post(api, sid, what, body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["progress"] == 0
    return job


def run(api, job_id, worker=None):
    """Run the job on a worker in this thread, as a worker thread would."""
    claimed = claim(api.resources.factory, "test-worker")
    assert claimed is not None and claimed.id == job_id
    (worker or Worker(api.resources.factory, api.settings)).run(claimed)
    return api.call("GET", f"/v1/jobs/{job_id}", role="viewer").json()


def result(api, job, **params):
    response = api.call("GET", job["links"]["result"], role="viewer", params=params)
    assert response.status_code == 200, response.text
    return response


def plan_of(api, doc):
    """Objective, GMV and spend by channel of the plan POST /v1/plans makes of ``doc``."""
    response = api.call("POST", "/v1/plans", json={"scenario": doc})
    assert response.status_code == 201, response.text
    plan = response.json()
    spend = {c: sum(p.values()) for c, p in plan["result"]["spend"].items()}
    return plan["objective_value"], plan["result"]["total"]["gmv_cny"], spend


def errors(response, status=422):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["path"]: e["message"] for e in response.json()["errors"]}


class Recording(Worker):
    """A worker that notes each point's progress as stored in the database."""

    seen: list[tuple[float, str]]

    def _point_progress(self, job_id, done, total):
        cancel = super()._point_progress(job_id, done, total)
        with self.factory() as session:
            job = session.get(Job, job_id)
            self.seen.append((job.progress, job.message))
        return cancel


def recording(api):
    worker = Recording(api.resources.factory, api.settings)
    worker.seen = []
    return worker


# --- sweeps ------------------------------------------------------------------------------------


def test_sweep_points_are_the_plans_of_each_scenario(api):
    sid = create(api)
    body = {
        "vary": [
            {
                "path": "budget.total_cny",
                "range": {"start": 500_000, "stop": 1_500_000, "count": 3},
            },
            {"path": "channels[live].max_spend_cny", "values": [300_000, 400_000]},
        ]
    }
    job = queued(api, sid, "sweeps", body)
    assert job["kind"] == "sweep" and "result" not in job["links"]
    worker = recording(api)
    done = run(api, job["id"], worker)
    assert done["status"] == "succeeded" and done["progress"] == 1.0, done
    assert done["message"] == "6 points solved, 6 with a plan that keeps every rule"
    assert done["links"]["result"] == f"/v1/jobs/{job['id']}/result"
    assert done["plan_id"] is None and "plan" not in done["links"]
    # progress is points done / total, stored after each point
    assert worker.seen == [(k / 6, f"point {k} of 6") for k in range(1, 7)]

    data = result(api, done).json()
    assert data["scenario"] == "two channels" and data["channels"] == ["live", "search"]
    assert [v["path"] for v in data["varies"]] == [
        "budget.total_cny",
        "channels[live].max_spend_cny",
    ]
    points = data["points"]
    grid = [(b, m) for b in (500_000, 1_000_000, 1_500_000) for m in (300_000, 400_000)]
    assert [tuple(p["values"].values()) for p in points] == grid  # first field slowest
    for (budget, cap), point in zip(grid, points, strict=True):
        doc = small_scenario(budget=budget)
        doc["channels"][0]["max_spend_cny"] = cap
        objective, gmv, spend = plan_of(api, doc)
        assert point["metrics"]["objective_value"] == pytest.approx(objective, rel=1e-6)
        assert point["metrics"]["gmv_cny"] == pytest.approx(gmv, rel=1e-6)
        assert point["metrics"]["gmv_cny"] == pytest.approx(5 * cap + 3 * (budget - cap), rel=1e-6)
        for channel, amount in spend.items():
            assert point["spend_by_channel"][channel] == pytest.approx(amount, rel=1e-6, abs=1e-3)
        assert point["metrics"]["status"] == "optimal" and point["error"] is None
    assert points[3]["metrics"]["objective_value"] == pytest.approx(GMV, rel=1e-6)


def test_sweep_result_as_csv_and_xlsx(api):
    sid = create(api)
    body = {"vary": [{"path": "budget.total_cny", "values": [800_000, 1_000_000]}]}
    done = run(api, queued(api, sid, "sweeps", body)["id"])
    response = result(api, done, format="csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    assert f"{done['id']}-sweep.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [float(r["budget.total_cny"]) for r in rows] == [800_000, 1_000_000]
    assert float(rows[1]["gmv_cny"]) == pytest.approx(GMV, rel=1e-6)
    assert float(rows[0]["spend_cny:search"]) == pytest.approx(400_000, rel=1e-6)
    assert rows[0]["status"] == "optimal" and rows[0]["feasible"] in ("True", "true", "1")
    book = openpyxl.load_workbook(io.BytesIO(result(api, done, format="xlsx").content))
    assert book.sheetnames == ["sweep"]
    assert book["sweep"]["A1"].value == "budget.total_cny"


def test_tornado_ranks_fields_by_swing(api):
    sid = create(api)
    body = {
        "mode": "tornado",
        "vary": [
            {"path": "channels[live].response.roas", "values": [4.9, 5.1]},  # swing 80k
            {"path": "channels[search].response.roas", "values": [2.5, 3.5]},  # swing 600k
            {"path": "budget.total_cny", "values": [800_000, 1_200_000]},  # swing 1.2M
        ],
    }
    job = queued(api, sid, "sweeps", body)
    assert job["kind"] == "tornado"
    worker = recording(api)
    done = run(api, job["id"], worker)
    assert done["status"] == "succeeded" and len(worker.seen) == 7  # as given + 2 per field
    assert worker.seen[-1] == (1.0, "point 7 of 7")
    data = result(api, done).json()
    assert data["metric"] == "objective_value"
    assert data["base"]["metrics"]["objective_value"] == pytest.approx(GMV, rel=1e-6)
    bars = data["bars"]
    assert [b["path"] for b in bars] == [
        "budget.total_cny",
        "channels[search].response.roas",
        "channels[live].response.roas",
    ]
    assert [b["swing"] for b in bars] == pytest.approx([1_200_000, 600_000, 80_000], rel=1e-6)
    assert bars[0]["low"] == pytest.approx(5 * 400_000 + 3 * 400_000, rel=1e-6)
    assert bars[0]["base_value"] == 1_000_000
    rows = list(csv.DictReader(io.StringIO(result(api, done, format="csv").text.lstrip("\ufeff"))))
    assert [r["field"] for r in rows][:3] == ["(as given)", "budget.total_cny", "budget.total_cny"]
    assert len(rows) == 7


def test_a_tornado_on_another_metric(api):
    sid = create(api)
    body = {
        "mode": "tornado",
        "metric": "spend_cny",
        "vary": [{"path": "budget.total_cny", "values": [500_000, 700_000]}],
    }
    data = result(api, run(api, queued(api, sid, "sweeps", body)["id"])).json()
    assert data["metric"] == "spend_cny"
    assert data["bars"][0]["swing"] == pytest.approx(200_000, rel=1e-6)


# --- frontiers ---------------------------------------------------------------------------------


def capped():
    """small_scenario with search capped at 1,000,000: more budget stops paying at 1.4M."""
    doc = small_scenario()
    doc["channels"][1]["max_spend_cny"] = 1_000_000
    doc["rules"] = [{"id": "floor", "kind": "roas_floor", "min_roas": 2.0}]
    return doc


def test_frontier_of_budgets_with_marginal_roas_and_summary(api):
    sid = create(api, capped())
    body = {"from_cny": 500_000, "to_cny": 2_000_000, "points": 4}
    job = queued(api, sid, "frontiers", body)
    assert job["kind"] == "frontier"
    worker = recording(api)
    done = run(api, job["id"], worker)
    assert done["status"] == "succeeded" and done["progress"] == 1.0
    assert [s for _, s in worker.seen] == [f"point {k} of 4" for k in range(1, 5)]
    data = result(api, done).json()
    points = data["points"]
    assert [p["budget_total_cny"] for p in points] == [500_000, 1_000_000, 1_500_000, 2_000_000]
    gmv = [p["point"]["metrics"]["gmv_cny"] for p in points]
    assert gmv == pytest.approx([2_300_000, 3_800_000, 5_000_000, 5_000_000], rel=1e-6)
    marginal = [p["marginal_roas"] for p in points]
    assert marginal[0] is None and marginal[3] is None  # the last 500k bought nothing
    assert marginal[1:3] == pytest.approx([3.0, 3.0], rel=1e-6)
    assert points[3]["marginal_gmv_per_budget"] == pytest.approx(0.0, abs=1e-6)
    summary = data["summary"]
    assert summary["objective"] == "max_gmv" and summary["roas_floor"] == 2.0
    # return 3 at the 1.25M midpoint, 0 at 1.75M: crosses 1 at 1.25M + 0.5M x 2/3
    assert summary["marginal_roas_below_1_at_budget_cny"] == pytest.approx(1_583_333.33, rel=1e-6)
    assert summary["marginal_roas_below_floor_at_budget_cny"] == pytest.approx(
        1_416_666.67, rel=1e-6
    )
    # the same figures as the plan of each budget
    objective, _, _ = plan_of(
        api, {**capped(), "budget": {"total_cny": 1_500_000, "mode": "up_to"}}
    )
    assert points[2]["point"]["metrics"]["objective_value"] == pytest.approx(objective, rel=1e-6)
    rows = list(csv.DictReader(io.StringIO(result(api, done, format="csv").text.lstrip("\ufeff"))))
    assert len(rows) == 4 and float(rows[1]["marginal_roas"]) == pytest.approx(3.0, rel=1e-6)
    book = openpyxl.load_workbook(io.BytesIO(result(api, done, format="xlsx").content))
    assert book.sheetnames == ["frontier", "summary"]


def test_frontier_defaults_follow_the_cli(api):
    sid = create(api, small_scenario(accounting={"gross_margin": 0.4}))
    body = {"points": 3, "objective": "max_profit"}
    data = result(api, run(api, queued(api, sid, "frontiers", body)["id"])).json()
    # half to twice the scenario's budget (no fixed costs here)
    assert [p["budget_total_cny"] for p in data["points"]] == [500_000, 1_250_000, 2_000_000]
    assert data["objective"] == "max_profit"
    assert data["notes"] == ["solved as max_profit (the scenario itself is max_gmv)"]


# --- jobs --------------------------------------------------------------------------------------


def test_runs_on_a_worker_thread_and_lists_by_kind(database_url):
    with running_api(database_url, workers=1) as api:
        sid = create(api)
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
    sid = create(api)
    job = queued(api, sid, "frontiers", {"points": 2})
    cancelled = api.call("POST", f"/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and "result" not in cancelled["links"]
    assert claim(api.resources.factory, "w") is None
    response = api.call("GET", f"/v1/jobs/{job['id']}/result")
    assert response.status_code == 409 and "cancelled" in response.json()["detail"]


def test_cancel_a_running_whatif_job_stops_after_the_current_point(api):
    sid = create(api)
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
    sid = create(api)
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
    sid = create(api)
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


# --- refusals ----------------------------------------------------------------------------------


def test_bad_paths_values_and_sizes_are_422_naming_the_body_field(api):
    sid = create(api, small_scenario(fixed_costs=[{"id": "team", "amount_cny": 200_000}]))
    bad_path = post(
        api,
        sid,
        "sweeps",
        {
            "vary": [
                {"path": "budget.total_cny", "values": [1e6]},
                {"path": "channels[tv].cpm", "values": [1]},
                {"path": "budget.totl_cny", "values": [1]},
                {"path": "budget.total_cny", "values": [2e6]},
            ]
        },
    )
    found = errors(bad_path)
    assert set(found) == {"body.vary[1].path", "body.vary[2].path", "body.vary[3].path"}
    assert "no item 'tv' in channels; known: live, search" in found["body.vary[1].path"]
    assert "no field 'totl_cny' in budget" in found["body.vary[2].path"]
    assert "given twice" in found["body.vary[3].path"]

    bad_value = post(
        api,
        sid,
        "sweeps",
        {"vary": [{"path": "budget.total_cny", "values": [1e6, 100_000, -1]}]},
    )
    found = errors(bad_value)
    assert set(found) == {"body.vary[0].values[1]", "body.vary[0].values[2]"}
    assert "less than fixed costs 200,000" in found["body.vary[0].values[1]"]

    in_range = post(
        api,
        sid,
        "sweeps",
        {"vary": [{"path": "budget.total_cny", "range": {"start": 0, "stop": 1e6, "count": 3}}]},
    )
    assert list(errors(in_range)) == ["body.vary[0].range"]

    wrong_type = post(
        api,
        sid,
        "sweeps",
        {
            "mode": "tornado",
            "vary": [{"path": "channels[live].response.roas", "values": [4, "high"]}],
        },
    )
    assert list(errors(wrong_type)) == ["body.vary[0].values[1]"]

    # a combination where each value is fine alone
    combined = post(
        api,
        sid,
        "sweeps",
        {
            "vary": [
                {"path": "budget.total_cny", "values": [300_000, 1e6]},
                {"path": "fixed_costs[team].amount_cny", "values": [200_000, 400_000]},
            ]
        },
    )
    found = errors(combined)
    assert list(found) == ["body.vary"]
    assert "budget.total_cny=300000, fixed_costs[team].amount_cny=400000" in found["body.vary"]

    too_big = post(
        api,
        sid,
        "sweeps",
        {
            "vary": [
                {"path": "budget.total_cny", "range": {"start": 1e6, "stop": 2e6, "count": 101}},
                {
                    "path": "channels[live].response.roas",
                    "range": {"start": 4, "stop": 6, "count": 100},
                },
            ]
        },
    )
    assert list(errors(too_big)) == ["body.vary"]
    assert too_big.json()["limit"] == "max_points" and too_big.json()["maximum"] == MAX_POINTS

    shapes = post(
        api,
        sid,
        "sweeps",
        {
            "metric": "gmv_cny",
            "vary": [
                {
                    "path": "budget.total_cny",
                    "values": [1e6],
                    "range": {"start": 1, "stop": 2, "count": 2},
                }
            ],
        },
    )
    assert "body.vary[0]" in errors(shapes)
    grid_metric = post(
        api,
        sid,
        "sweeps",
        {"metric": "gmv_cny", "vary": [{"path": "budget.total_cny", "values": [1e6]}]},
    )
    assert list(errors(grid_metric)) == ["body.metric"]
    for body in (
        {"vary": []},
        {"vary": [{"path": "budget.total_cny"}]},
        {"vary": [{"path": "budget.total_cny", "values": [1e6]}] * 11},
        {"vary": [{"path": "budget.total_cny", "range": {"start": 1, "stop": 2, "count": 0}}]},
        {
            "mode": "tornado",
            "metric": "status",
            "vary": [{"path": "budget.total_cny", "values": [1]}],
        },
    ):
        assert post(api, sid, "sweeps", body).status_code == 422, body

    backwards = post(api, sid, "frontiers", {"from_cny": 2e6, "to_cny": 1e6})
    assert list(errors(backwards)) == ["body.to_cny"]
    assert "must be above from_cny 2,000,000" in errors(backwards)["body.to_cny"]
    above_default = errors(post(api, sid, "frontiers", {"from_cny": 3e6}))
    assert "must be below the default to_cny 2,000,000" in above_default["body.from_cny"]
    below_costs = post(api, sid, "frontiers", {"from_cny": 100_000, "to_cny": 1e6})
    assert "less than fixed costs" in errors(below_costs)["body.from_cny"]
    assert list(errors(post(api, sid, "frontiers", {"points": 201}))) == ["body.points"]
    assert list(errors(post(api, sid, "frontiers", {"points": 1}))) == ["body.points"]
    assert "body.objective" in errors(post(api, sid, "frontiers", {"objective": "min_spend"}))
    no_margin = errors(post(api, sid, "frontiers", {"objective": "max_profit"}))
    assert "needs accounting.gross_margin" in no_margin["body.objective"]
    # nothing was queued by any of them
    assert api.call("GET", "/v1/jobs").json()["total"] == 0


def test_roles_and_workspaces(api):
    sid = create(api)
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


# --- storage -----------------------------------------------------------------------------------


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

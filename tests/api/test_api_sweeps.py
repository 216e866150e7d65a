"""Sweeps and tornados as API jobs, on SQLite and PostgreSQL.

Every point must be the plan ``POST /v1/plans`` makes of the same scenario; bad requests are
refused before anything is queued, with the body field that is wrong.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from api_helpers import (
    GMV,
    errors,
    plan_of,
    post,
    queued,
    recording,
    result,
    run,
    small_scenario,
    stored_scenario,
)

from optimizer.analysis.whatif import MAX_POINTS


def test_sweep_points_are_the_plans_of_each_scenario(api):
    sid = stored_scenario(api)
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
    sid = stored_scenario(api)
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
    sid = stored_scenario(api)
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
    sid = stored_scenario(api)
    body = {
        "mode": "tornado",
        "metric": "spend_cny",
        "vary": [{"path": "budget.total_cny", "values": [500_000, 700_000]}],
    }
    data = result(api, run(api, queued(api, sid, "sweeps", body)["id"])).json()
    assert data["metric"] == "spend_cny"
    assert data["bars"][0]["swing"] == pytest.approx(200_000, rel=1e-6)


def test_bad_paths_values_and_sizes_are_422_naming_the_body_field(api):
    sid = stored_scenario(api, small_scenario(fixed_costs=[{"id": "team", "amount_cny": 200_000}]))
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
    # nothing was queued by any of them
    assert api.call("GET", "/v1/jobs").json()["total"] == 0


def test_a_scale_sweep_with_changes_is_the_sweep_of_the_absolute_values(api):
    sid = stored_scenario(api)
    changes = [{"path": "channels[live].max_spend_cny", "value": 300_000}]
    relative = {
        "vary": [{"path": "budget.total_cny", "op": "scale", "values": [0.8, 1.2]}],
        "changes": changes,
    }
    absolute = {
        "vary": [{"path": "budget.total_cny", "values": [800_000, 1_200_000]}],
        "changes": changes,
    }
    job = queued(api, sid, "sweeps", relative)
    data = result(api, run(api, job["id"])).json()
    other = result(api, run(api, queued(api, sid, "sweeps", absolute)["id"])).json()
    assert data["varies"][0]["op"] == "scale"
    assert [p["values"] for p in data["points"]] == [
        {"budget.total_cny*": 0.8},
        {"budget.total_cny*": 1.2},
    ]
    gmv = [p["metrics"]["gmv_cny"] for p in data["points"]]
    # live capped at 300k by the change: 5 x 300k + 3 x (budget - 300k)
    assert gmv == pytest.approx([1_500_000 + 1_500_000, 1_500_000 + 2_700_000], rel=1e-6)
    assert gmv == pytest.approx([p["metrics"]["gmv_cny"] for p in other["points"]], rel=1e-12)


def test_relative_varies_and_changes_are_checked_before_queueing(api):
    sid = stored_scenario(api)
    bad_op = {"vary": [{"path": "budget.total_cny", "op": "scale", "values": ["x"]}]}
    assert "body.vary[0].values[0]" in errors(post(api, sid, "sweeps", bad_op))
    text = {"vary": [{"path": "name", "op": "shift", "values": [1]}]}
    assert "cannot shift name" in errors(post(api, sid, "sweeps", text))["body.vary[0].path"]
    body = {
        "vary": [{"path": "budget.total_cny", "values": [1e6]}],
        "changes": [{"path": "channels[tv].max_spend_cny", "value": 0}],
    }
    assert "no item 'tv'" in errors(post(api, sid, "sweeps", body))["body.changes[0].path"]
    frontier = {"changes": [{"path": "channels[live].max_spend_cny", "op": "scale", "value": -1}]}
    found = errors(post(api, sid, "frontiers", frontier))
    assert "greater than or equal to 0, got -400000" in found["body.changes[0].value"]

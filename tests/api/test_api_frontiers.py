"""Budget frontiers as API jobs, on SQLite and PostgreSQL: the best plan at each budget, the
marginal ROAS between them, the CLI's defaults; bad budgets are refused before queueing."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from api_helpers import (
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


def capped():
    """small_scenario with search capped at 1,000,000: more budget stops paying at 1.4M."""
    doc = small_scenario()
    doc["channels"][1]["max_spend_cny"] = 1_000_000
    doc["rules"] = [{"id": "floor", "kind": "roas_floor", "min_roas": 2.0}]
    return doc


def test_frontier_of_budgets_with_marginal_roas_and_summary(api):
    sid = stored_scenario(api, capped())
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
    # every yuan spent returns 3 (above 1 and the floor 2); past 1.5M nothing more is spent,
    # which the notes say instead of a crossing no point shows
    assert summary["marginal_roas_below_1_at_budget_cny"] is None
    assert summary["marginal_roas_below_floor_at_budget_cny"] is None
    assert any(
        n.startswith("from a total budget of 1,500,000 CNY on, extra budget is left unspent")
        for n in summary["notes"]
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
    sid = stored_scenario(api, small_scenario(accounting={"gross_margin": 0.4}))
    body = {"points": 3, "objective": "max_profit"}
    data = result(api, run(api, queued(api, sid, "frontiers", body)["id"])).json()
    # half to twice the scenario's budget (no fixed costs here)
    assert [p["budget_total_cny"] for p in data["points"]] == [500_000, 1_250_000, 2_000_000]
    assert data["objective"] == "max_profit"
    assert data["notes"] == ["solved as max_profit (the scenario itself is max_gmv)"]


def test_bad_frontier_budgets_and_objectives_are_422_naming_the_body_field(api):
    sid = stored_scenario(api, small_scenario(fixed_costs=[{"id": "team", "amount_cny": 200_000}]))
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

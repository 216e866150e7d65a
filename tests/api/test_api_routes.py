"""HTTP routes on SQLite and PostgreSQL: numbers a person can check, versions, exports."""

from __future__ import annotations

import io

import openpyxl
import pytest
from api_helpers import GMV, errors, small_scenario

from optimizer.core.solvers import available_solvers


def create(api, doc=None, tags=None):
    body = {"scenario": doc or small_scenario(), "tags": tags or []}
    response = api.call("POST", "/v1/scenarios", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("solver", available_solvers())
def test_plan_of_a_stored_scenario_is_the_hand_optimum(api, solver):
    scenario = create(api)
    response = api.call("POST", f"/v1/scenarios/{scenario['id']}/plans", json={"solver": solver})
    assert response.status_code == 201, response.text
    plan = response.json()
    assert response.headers["location"] == f"/v1/plans/{plan['id']}"
    assert plan["status"] == "optimal" and plan["feasible"]
    assert plan["objective_value"] == pytest.approx(GMV, rel=1e-6)
    assert plan["scenario_version"] == 1
    spend = plan["result"]["spend"]
    assert spend["live"]["Y"] == pytest.approx(400_000, rel=1e-6)
    assert spend["search"]["Y"] == pytest.approx(600_000, rel=1e-6)
    assert plan["result"]["total"]["roas"] == pytest.approx(3.8, rel=1e-6)
    # Stored: the same figures come back on a read.
    again = api.call("GET", f"/v1/plans/{plan['id']}", role="viewer").json()
    assert again["result"] == plan["result"]


def test_ad_hoc_plan_keeps_its_scenario_and_no_scenario_record(api):
    response = api.call("POST", "/v1/plans", json={"scenario": small_scenario(budget=200_000)})
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["scenario_id"] is None and plan["scenario_version"] is None
    assert plan["objective_value"] == pytest.approx(5 * 200_000, rel=1e-6)
    assert api.call("GET", "/v1/scenarios").json()["total"] == 0


def test_versions_are_immutable_and_plans_point_at_the_version_they_solved(api):
    scenario = create(api)
    sid = scenario["id"]
    first = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()
    bigger = small_scenario(budget=2_000_000)
    response = api.call("POST", f"/v1/scenarios/{sid}/versions", json={"scenario": bigger})
    assert response.status_code == 201, response.text
    assert response.json()["latest_version"] == 2
    second = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()
    assert second["scenario_version"] == 2
    assert second["objective_value"] == pytest.approx(5 * 400_000 + 3 * 1_600_000, rel=1e-6)
    # Version 1 and its plan are untouched.
    v1 = api.call("GET", f"/v1/scenarios/{sid}/versions/1", role="viewer").json()
    assert v1["scenario"]["budget"]["total_cny"] == 1_000_000
    assert api.call("GET", f"/v1/plans/{first['id']}").json()["scenario_version"] == 1
    old = api.call("POST", f"/v1/scenarios/{sid}/plans", json={"version": 1}).json()
    assert old["objective_value"] == pytest.approx(GMV, rel=1e-6)
    versions = api.call("GET", f"/v1/scenarios/{sid}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["fingerprint"] != versions[1]["fingerprint"]
    missing = api.call("GET", f"/v1/scenarios/{sid}/versions/3")
    assert missing.status_code == 404 and "latest is 2" in missing.json()["detail"]


def test_list_is_paginated_and_filtered_by_name_and_tag(api):
    for i in range(5):
        create(api, small_scenario(name=f"plan {i}"), tags=["q1"] if i % 2 == 0 else ["q2"])
    create(api, small_scenario(name="双11 push"), tags=["q4", "promo"])
    page = api.call("GET", "/v1/scenarios?per_page=2&page=2", role="viewer").json()
    assert page["total"] == 6 and len(page["items"]) == 2 and page["page"] == 2
    assert api.call("GET", "/v1/scenarios?tag=q1").json()["total"] == 3
    named = api.call("GET", "/v1/scenarios?name=双11").json()
    assert [s["name"] for s in named["items"]] == ["双11 push"]
    assert named["items"][0]["tags"] == ["promo", "q4"]
    # LIKE wildcards in a name filter are literal.
    assert api.call("GET", "/v1/scenarios?name=%25").json()["total"] == 0
    assert api.call("GET", "/v1/scenarios?per_page=101").status_code == 422


def test_archive_hides_the_scenario_and_refuses_new_versions(api):
    sid = create(api)["id"]
    plan = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()
    assert api.call("POST", f"/v1/scenarios/{sid}/archive").json()["archived"] is True
    assert api.call("GET", "/v1/scenarios").json()["total"] == 0
    assert api.call("GET", "/v1/scenarios?archived=true").json()["total"] == 1
    refused = api.call("POST", f"/v1/scenarios/{sid}/versions", json={"scenario": small_scenario()})
    assert refused.status_code == 409
    assert api.call("GET", f"/v1/plans/{plan['id']}").status_code == 200


def test_exports_carry_the_plan_figures(api):
    sid = create(api)["id"]
    pid = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()["id"]
    csv = api.call("GET", f"/v1/plans/{pid}/export?format=csv", role="viewer")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("\ufefflevel,unit,channel,period")
    total = next(line for line in csv.text.splitlines() if line.startswith("total"))
    assert total.split(",")[4] == "1000000"  # spend_cny
    xlsx = api.call("GET", f"/v1/plans/{pid}/export?format=xlsx", role="viewer")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Summary", "Allocation", "Metrics", "Rules"]
    allocation = {
        row[0]: row[2] for row in book["Allocation"].iter_rows(min_row=2, values_only=True)
    }
    assert allocation["live"] == pytest.approx(400_000, rel=1e-6)
    assert allocation["search"] == pytest.approx(600_000, rel=1e-6)
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert summary["GMV (CNY)"] == pytest.approx(GMV, rel=1e-6)
    assert api.call("GET", f"/v1/plans/{pid}/export?format=pdf").status_code == 422


def test_evaluation_scores_a_split_and_its_gap_to_the_optimum(api):
    sid = create(api)["id"]
    split = {"live": {"Y": 200_000}, "search": {"Y": 800_000}}
    response = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json={"allocation": split})
    assert response.status_code == 201, response.text
    evaluation = response.json()
    assert evaluation["kind"] == "evaluation"
    scored = 5 * 200_000 + 3 * 800_000  # 3.4M
    assert evaluation["objective_value"] == pytest.approx(scored, rel=1e-9)
    comparison = evaluation["result"]["comparison"]
    assert comparison["objective_gap"] == pytest.approx(GMV - scored, rel=1e-6)
    assert comparison["spend_delta_cny"]["live"]["Y"] == pytest.approx(-200_000, rel=1e-6)
    # Against a stored optimum: no solve, the same gap.
    pid = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()["id"]
    body = {"allocation": split, "optimum_plan_id": pid}
    again = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=body).json()
    assert again["result"]["comparison"]["objective_gap"] == pytest.approx(GMV - scored, rel=1e-6)


def test_evaluation_names_unknown_channels_and_periods(api):
    sid = create(api)["id"]
    split = {"tv": {"Y": 1.0}, "live": {"Q9": 5.0}}
    response = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json={"allocation": split})
    assert response.status_code == 422
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths == ["body.allocation.tv", "body.allocation.live/Q9"]
    assert "known: live, search" in response.json()["errors"][0]["message"]
    negative = {"allocation": {"live": {"Y": -1}}}
    bad = api.call("POST", f"/v1/scenarios/{sid}/evaluations", json=negative)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.allocation.live.Y"


def two_versions_planned(api):
    """A scenario's plans at a 1M budget (version 1) and at 1.5M (version 2)."""
    sid = create(api)["id"]
    low = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()
    bigger = small_scenario(budget=1_500_000)
    api.call("POST", f"/v1/scenarios/{sid}/versions", json={"scenario": bigger})
    high = api.call("POST", f"/v1/scenarios/{sid}/plans", json={}).json()
    return sid, low, high


def test_compare_shows_channel_and_period_deltas(api):
    sid, low, high = two_versions_planned(api)
    body = {"plan_ids": [low["id"], high["id"]]}
    response = api.call("POST", "/v1/compare", json=body, role="viewer")
    assert response.status_code == 200, response.text
    result = response.json()
    # labelled by scenario name and version, each with its plan id
    assert result["labels"] == ["two channels v1", "two channels v2"]
    assert [p["plan_id"] for p in result["plans"]] == [low["id"], high["id"]]
    search = result["by_channel"]["search"]["spend_cny"]
    assert search["values"] == pytest.approx([600_000, 1_100_000], rel=1e-6)
    assert search["delta"] == pytest.approx([0, 500_000], abs=1e-3)
    assert result["by_channel"]["live"]["spend_cny"]["delta"][1] == pytest.approx(0, abs=1e-3)
    assert result["by_period"]["Y"]["gmv_cny"]["delta"][1] == pytest.approx(1_500_000, rel=1e-6)
    # By scenario version: each version's newest plan.
    refs = {"scenarios": [{"scenario_id": sid, "version": 1}, {"scenario_id": sid}]}
    by_ref = api.call("POST", "/v1/compare", json=refs).json()
    assert by_ref["labels"] == ["two channels v1", "two channels v2"]
    same = api.call("POST", "/v1/compare", json={"plan_ids": [low["id"], low["id"]]}).json()
    assert same["labels"] == ["two channels v1", "two channels v1 (2)"]
    assert by_ref["total"]["gmv_cny"]["delta"][1] == pytest.approx(1_500_000, rel=1e-6)
    one = api.call("POST", "/v1/compare", json={"plan_ids": [low["id"]]})
    assert one.status_code == 422
    # the caller's own names (the page's: what each what-if changed), made unique
    named = {**body, "labels": ["budget 1M", "budget 1M"]}
    labelled = api.call("POST", "/v1/compare", json=named, role="viewer").json()
    assert labelled["labels"] == ["budget 1M", "budget 1M (2)"]
    for labels in (["only one"], ["a", "b", "c"]):
        wrong = api.call("POST", "/v1/compare", json={**body, "labels": labels})
        assert errors(wrong) == {
            "body.labels": f"expected one label per plan (2), got {len(labels)}"
        }
    assert "body.labels[0]" in errors(
        api.call("POST", "/v1/compare", json={**body, "labels": ["", "b"]})
    )


def test_compare_of_a_version_without_plan_says_what_to_do(api):
    sid = create(api)["id"]
    other = create(api)["id"]
    api.call("POST", f"/v1/scenarios/{sid}/plans", json={})
    refs = {"scenarios": [{"scenario_id": sid}, {"scenario_id": other}]}
    response = api.call("POST", "/v1/compare", json=refs)
    assert response.status_code == 409
    assert f"POST /v1/scenarios/{other}/plans" in response.json()["detail"]
    assert response.json()["errors"][0]["path"] == "body.scenarios[1]"


def test_infeasible_scenario_is_stored_with_its_conflict(api):
    doc = small_scenario(
        budget={"total_cny": 1_000_000, "mode": "spend_all"},
        rules=[{"kind": "roas_floor", "min_roas": 6.0}],
    )
    response = api.call("POST", "/v1/plans", json={"scenario": doc})
    assert response.status_code == 201
    plan = response.json()
    assert plan["status"] == "infeasible" and not plan["feasible"]
    assert plan["objective_value"] is None
    assert plan["result"]["conflict"]


def test_health_and_readiness(api):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "workers": "ok"}


def test_request_id_is_echoed_or_made(api):
    given = api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = api.client.get("/healthz", headers={"X-Request-ID": "bad id;" * 20})
    assert len(made.headers["x-request-id"]) == 32


def test_compare_as_a_workbook_and_as_csv(api):
    _, low, high = two_versions_planned(api)
    body = {"plan_ids": [low["id"], high["id"]]}
    answer = api.call("POST", "/v1/compare?format=xlsx", json=body, role="viewer")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "comparison.xlsx" in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book["compare"]
    header = [c.value for c in sheet[1]]
    assert header[3:5] == ["two channels v1", "two channels v2"]  # names, not plan ids
    rows = {(r[0].value, r[2].value): r for r in sheet.iter_rows(min_row=2)}
    gmv = rows[("total", "gmv_cny")]
    assert gmv[header.index("delta:two channels v2")].value == pytest.approx(1_500_000, rel=1e-6)
    assert gmv[3].number_format == '"¥"#,##0'
    plans = book["plans"]
    at = [c.value for c in plans[1]].index("plan_id")
    ids = [r[at].value for r in plans.iter_rows(min_row=2)]
    assert ids == [low["id"], high["id"]]
    csv_answer = api.call("POST", "/v1/compare?format=csv", json=body, role="viewer")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = csv_answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("level,key,metric,two channels v1,two channels v2")
    # a label Excel would run as a formula stays text
    named = {**body, "labels": ["=HYPERLINK(1)", "-10% CPM"]}
    hostile = api.call("POST", "/v1/compare?format=csv", json=named, role="viewer")
    header = hostile.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("level,key,metric,'=HYPERLINK(1),'-10% CPM,")
    bad = api.call("POST", "/v1/compare?format=pdf", json=body, role="viewer")
    assert bad.status_code == 422

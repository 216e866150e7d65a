"""Small plans answered on the event loop by the dual method, and the same plan from every
other path: a worker thread, a queued job."""

from __future__ import annotations

import math
import time

import pytest
from api_helpers import GMV, running_api, small_scenario

from api.services.work import Work
from optimizer import planner
from optimizer.planner import NeedsGeneralMethod, plan
from optimizer.schema.scenario import Scenario

TWINS_GMV = 2 * 10e6 * (1 - math.exp(-1))  # two equal curves share 2M: 1M each, by hand


def twins() -> dict:
    """Two equal exponential channels (10M GMV at saturation, scale 1M) on a 2M budget."""
    channel = {"kind": "curve", "aov_cny": 100.0}
    response = {"type": "exponential", "max_gmv_cny": 10e6, "scale_cny": 1e6}
    return {
        "version": "1",
        "name": "twins",
        "periods": ["Y"],
        "budget": {"total_cny": 2_000_000},
        "objective": {"kind": "max_gmv"},
        "channels": [{**channel, "id": c, "response": response} for c in ("live", "kol")],
    }


def _wait(api, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.call("GET", f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def _comparable(result: dict) -> dict:
    """A plan's result without what differs between two solves of one scenario: the time."""
    solver = {k: v for k, v in result["solver"].items() if k != "seconds"}
    return {**result, "solver": solver}


@pytest.mark.parametrize("quick_max_cells", [200, 0], ids=["event-loop", "thread"])
def test_a_small_concave_plan_is_exact_on_either_path(database_url, quick_max_cells):
    with running_api(database_url, quick_max_cells=quick_max_cells) as api:
        answer = api.call("POST", "/v1/plans", json={"scenario": twins()})
        assert answer.status_code == 201, answer.text
        plan = answer.json()
        assert answer.headers["location"] == f"/v1/plans/{plan['id']}"
        assert plan["objective_value"] == pytest.approx(TWINS_GMV, rel=1e-9)
        assert plan["result"]["spend"] == {
            "live": {"Y": pytest.approx(1e6, rel=1e-9)},
            "kol": {"Y": pytest.approx(1e6, rel=1e-9)},
        }
        assert plan["result"]["solver"]["solver"] == "auto: dual"
        stored = api.call("GET", f"/v1/plans/{plan['id']}").json()
        assert stored["result"] == plan["result"]


def test_the_event_loop_the_thread_and_a_job_give_the_same_plan(database_url):
    results = []
    for quick_max_cells in (200, 0):
        with running_api(database_url, quick_max_cells=quick_max_cells, workers=1) as api:
            plan = api.call("POST", "/v1/plans", json={"scenario": twins()}).json()
            results.append(_comparable(plan["result"]))
            job = api.call("POST", "/v1/plans?async=true", json={"scenario": twins()}).json()
            done = _wait(api, job["id"])
            assert done["status"] == "succeeded", done
            queued = api.call("GET", done["links"]["plan"]).json()
            results.append(_comparable(queued["result"]))
    assert all(r == results[0] for r in results[1:])


def test_a_small_plan_the_dual_cannot_certify_is_solved_in_a_thread(api):
    # linear curves: the dual method declines, so the LP route answers, in a worker thread
    answer = api.call("POST", "/v1/plans", json={"scenario": small_scenario()})
    assert answer.status_code == 201, answer.text
    assert answer.json()["objective_value"] == pytest.approx(GMV, rel=1e-6)
    assert "dual:" in answer.json()["result"]["solver"]["message"]


def test_a_chosen_lp_backend_is_not_run_on_the_event_loop(api):
    answer = api.call("POST", "/v1/plans", json={"scenario": twins(), "solver": "lp"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["result"]["solver"]["solver"] != "auto: dual"
    assert answer.json()["objective_value"] == pytest.approx(TWINS_GMV, rel=1e-6)


def test_a_stored_scenario_is_planned_on_the_quick_path_too(api):
    sid = api.call("POST", "/v1/scenarios", json={"scenario": twins()}).json()["id"]
    answer = api.call("POST", f"/v1/scenarios/{sid}/plans", json={})
    assert answer.status_code == 201, answer.text
    assert answer.json()["scenario_version"] == 1
    assert answer.json()["objective_value"] == pytest.approx(TWINS_GMV, rel=1e-9)


def test_a_queued_work_stores_the_scenario_as_json_not_the_model():
    scenario = Scenario.model_validate(twins())
    work = Work("plan", "w", "k", scenario.model_dump(mode="json"), validated=scenario)
    stored = work.to_json()
    assert "validated" not in stored
    assert Work(**stored).validated is None
    assert Scenario.model_validate(stored["scenario"]) == scenario


def test_the_planner_says_when_a_plan_needs_more_than_the_dual():
    concave = Scenario.model_validate(twins())
    quick = plan(concave, dual_only=True)
    full = plan(concave)
    assert quick.to_dict() == full.to_dict()  # the same plan, timing aside (to_dict drops it)
    with pytest.raises(NeedsGeneralMethod, match="dual method did not certify"):
        plan(Scenario.model_validate(small_scenario()), dual_only=True)  # linear: LP
    with pytest.raises(NeedsGeneralMethod, match="'lp'"):
        plan(concave, solver="lp", dual_only=True)


def test_a_dual_that_runs_past_its_short_budget_goes_to_a_thread(api, monkeypatch):
    monkeypatch.setattr(planner, "DUAL_ONLY_SECONDS", 0.0)  # the event loop's budget is spent
    with pytest.raises(NeedsGeneralMethod, match="time limit"):
        plan(Scenario.model_validate(twins()), dual_only=True)
    answer = api.call("POST", "/v1/plans", json={"scenario": twins()})
    assert answer.status_code == 201, answer.text  # solved in a thread, with its full time
    assert answer.json()["result"]["solver"]["solver"] == "auto: dual"
    assert answer.json()["objective_value"] == pytest.approx(TWINS_GMV, rel=1e-9)


def test_a_dual_that_certifies_only_after_its_budget_is_not_taken(monkeypatch):
    # branch and bound stopped by the deadline returns its best plan so far, which a full
    # run might improve on: the event loop must not store it
    real = planner._dual

    def slow(*args, **kwargs):
        found = real(*args, **kwargs)
        time.sleep(0.02)
        return found

    monkeypatch.setattr(planner, "DUAL_ONLY_SECONDS", 0.01)
    monkeypatch.setattr(planner, "_dual", slow)
    with pytest.raises(NeedsGeneralMethod, match="budget"):
        plan(Scenario.model_validate(twins()), dual_only=True)

"""A time limit is a promise: it covers the whole solve (building the problem and every
program, each refinement round, polishing, checking) and is kept within 10% + 0.5 s.

The problem is the benchmarks' 50 channels x 52 weeks, which takes far longer than the
limits here (about 20 s with the default backend). These are the only timed assertions in
the suite: the time limit is a behaviour users rely on, not a performance figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from api_helpers import running_api
from helpers import scenario

from optimizer.core.solvers import available_solvers
from optimizer.planner import plan

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_solve import synthetic

LIMIT = 2.0
BUDGETOPT = str(Path(sys.executable).parent / "budgetopt")


def promised(limit: float) -> float:
    return 1.1 * limit + 0.5


@pytest.fixture(scope="module")
def weekly():
    return synthetic(50, 52)


@pytest.mark.parametrize("solver", available_solvers())
def test_python_plan_keeps_the_limit(weekly, solver):
    started = time.perf_counter()
    result = plan(weekly, solver=solver, time_limit_s=LIMIT)
    elapsed = time.perf_counter() - started
    assert elapsed <= promised(LIMIT), f"{solver} took {elapsed:.2f} s for a {LIMIT} s limit"
    assert result.status == "time_limit"
    assert f"time limit of {LIMIT:g} s" in result.message
    if result.total is not None:  # the best plan found so far keeps every rule
        assert result.is_feasible


def test_cli_keeps_the_limit_and_says_so(weekly, tmp_path):
    path = tmp_path / "weekly.yaml"
    path.write_text(yaml.safe_dump(weekly.model_dump(mode="json")), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([BUDGETOPT, "validate", str(path)], capture_output=True, check=True)
    start_up = time.perf_counter() - started
    started = time.perf_counter()
    done = subprocess.run(
        # the LP route: the dual method (auto's first choice) plans this one in well under 1 s
        [
            BUDGETOPT,
            "plan",
            str(path),
            "--solver",
            "highs",
            "--time-limit",
            str(LIMIT),
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert elapsed <= promised(LIMIT) + start_up, f"{elapsed:.2f} s (start-up {start_up:.2f} s)"
    data = json.loads(done.stdout)
    assert data["status"] == "time_limit"
    assert data["settings"]["time_limit_s"] == LIMIT
    assert done.returncode == (0 if data["total"] is not None else 1)


def test_api_job_keeps_the_limit(weekly, tmp_path):
    with running_api(f"sqlite:///{tmp_path}/api.db", workers=1) as api:
        body = {
            "scenario": weekly.model_dump(mode="json"),
            "time_limit_s": LIMIT,
            "solver": "highs",
        }
        started = time.perf_counter()
        queued = api.call("POST", "/v1/plans?async=true", json=body)
        assert queued.status_code == 202, queued.text
        while True:
            job = api.call("GET", f"/v1/jobs/{queued.json()['id']}", role="viewer").json()
            if job["status"] not in ("queued", "running"):
                break
            assert time.perf_counter() - started < 60
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        # the request itself (validating and storing 2,600 cells) and polling come on top
        assert elapsed <= promised(LIMIT) + 1.0, f"{elapsed:.2f} s"
        assert job["status"] == "succeeded", job
        result = api.call("GET", job["links"]["plan"]).json()["result"]
        assert result["status"] == "time_limit"
        assert result["settings"]["time_limit_s"] == LIMIT


def large_s_curve_milp():
    """30 S-shaped channels over 12 periods with a share ceiling: thousands of binaries."""
    channels = []
    for i in range(30):
        hill = {
            "type": "hill",
            "max_gmv_cny": 1000 + 37 * i,
            "half_saturation_cny": 40 + i,
            "shape": 2.0 + (i % 5) * 0.3,
        }
        channels.append(
            {
                "id": f"c{i}",
                "kind": "curve",
                "response": hill,
                "aov_cny": 100,
                "groups": ["g"] if i % 2 else [],
            }
        )
    rules = [{"kind": "gmv_share", "groups": ["g"], "max_share": 0.4}]
    return scenario(channels, budget=3000, periods=[f"P{t}" for t in range(12)], rules=rules)


def test_time_limit_returns_the_best_plan_so_far_with_its_gap(solver: str) -> None:
    started = time.perf_counter()
    result = plan(large_s_curve_milp(), solver=solver, time_limit_s=2)
    assert time.perf_counter() - started <= promised(2)
    assert result.status == "time_limit"
    assert result.solver.is_mip
    assert "time limit of 2 s" in result.message
    if result.total is None:  # a loaded machine may find no plan in 2 s: said plainly
        assert "no plan found within the time limit of 2 s" in result.message
        return
    assert all(rule.holds for rule in result.rules)
    if result.solver.gap is None:
        # No bound proven in time (CBC's is not exposed through PuLP): said, not guessed.
        assert "gap unknown" in result.message
    else:
        assert result.solver.gap > 0
        assert result.solver.bound >= result.objective_value

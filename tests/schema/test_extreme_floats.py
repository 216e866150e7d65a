"""Extreme numbers in every numeric field: a plan, a verdict or an error naming the field.

One numeric field of a small valid scenario at a time is set to an extreme value (1e308, a
denormal 5e-324, 0, -0.0, a negative, NaN, infinity) and the scenario goes through
``budgetopt plan FILE -f json`` and ``POST /v1/plans``. The command exits 0 or 1 with JSON on
stdout, or 2 with ``error:`` and the field path; the API answers 2xx, or 4xx problem+json naming
``body.scenario...``. Never a traceback, a NaN handed to a solver, or a 500.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from api_helpers import running_api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.core.numbers import SMALLEST_NORMAL, SOLVER_LIMIT
from optimizer.core.problem import build_problem
from optimizer.errors import ScenarioError
from optimizer.inputs.files import validate_scenario
from optimizer.planner import check_numbers
from optimizer.schema.messages import format_path
from optimizer.schema.scenario import Scenario

Path_ = tuple[str | int, ...]

# Two channels and two periods each, small time limits: every kind of channel, curve, trend and
# rule between them, every optional number given so that every numeric field is there.
PAID_AND_KOL: dict[str, Any] = {
    "version": "1",
    "name": "paid and kol",
    "periods": ["H1", "H2"],
    "seasonality": [1.0, 1.2],
    "budget": {"total_cny": 1_000_000, "contingency_cny": 10_000},
    "accounting": {"spend_basis": "media_plus_commission", "gross_margin": 0.4},
    "objective": {"kind": "max_gmv", "gmv_target_cny": 100_000},
    "fixed_costs": [{"id": "systems", "amount_cny": 20_000}],
    "channels": [
        {
            "id": "live",
            "kind": "paid",
            "cpm": {"base_cny": 30, "trend": {"type": "compound", "rate_per_period": 0.1}},
            "ctr": 0.03,
            "cvr": 0.05,
            "aov_cny": 130,
            "new_customer_share": 0.6,
            "saturation": {"type": "hill", "half_saturation_cny": 100_000, "shape": 1.2},
            "min_spend_cny": 1_000,
            "max_spend_cny": 900_000,
            "period_min_spend_cny": [100, 100],
            "period_max_spend_cny": 600_000,
            "seasonality": [1.0, 1.5],
            "min_spend_if_used_cny": 500,
            "activation_cost_cny": 100,
        },
        {
            "id": "kol",
            "kind": "kol",
            "locked_spend_cny": 200_000,
            "tiers": [
                {
                    "id": "head",
                    "commission_rate": 0.2,
                    "fee_roas": 4,
                    "aov_cny": 200,
                    "capacity_fee_cny": [300_000, 400_000],
                    "saturation": {"type": "exponential", "scale_cny": 50_000},
                }
            ],
        },
    ],
    "rules": [
        {"kind": "roas_floor", "min_roas": 1.5},
        {"kind": "cac_ceiling", "max_cac_cny": 500},
        {"kind": "commission_cap", "max_rate": 0.3, "max_total_cny": 200_000},
        {"kind": "gmv_share", "channels": ["kol"], "min_share": 0.1, "max_share": 0.9},
        {"kind": "spend_limit", "min_cny": 1_000, "max_cny": 950_000},
        {"kind": "ramp_limit", "max_change": 0.5, "allowance_cny": 10_000},
    ],
    "settings": {"tolerance": 1e-3, "time_limit_s": 1},
}
MEMBERS_AND_CURVE: dict[str, Any] = {
    "version": "1",
    "name": "members and curve",
    "periods": ["H1", "H2"],
    "seasonality": 1.1,
    "budget": {"total_cny": 500_000, "mode": "spend_all"},
    "accounting": {"gross_margin": 0.5},
    "objective": {"kind": "max_profit"},
    "channels": [
        {
            "id": "crm",
            "kind": "private_domain",
            "members": 200_000,
            "cost_per_reach_cny": 0.1,
            "repurchase_rate": 0.3,
            "orders_per_buyer": 2.0,
            "aov_cny": 180,
        },
        {
            "id": "search",
            "kind": "curve",
            "aov_cny": 100,
            "response": {
                "type": "piecewise",
                "points": [[0, 0], [100_000, 400_000], [400_000, 900_000]],
            },
        },
    ],
    "settings": {"tolerance": 1e-3, "time_limit_s": 1},
}
CURVES: dict[str, Any] = {
    "version": "1",
    "name": "curves",
    "periods": ["H1", "H2"],
    "budget": {"total_cny": 300_000},
    "objective": {"kind": "max_new_customers"},
    "channels": [
        {
            "id": "brand",
            "kind": "curve",
            "aov_cny": 120,
            "response": {
                "type": "hill",
                "max_gmv_cny": 800_000,
                "half_saturation_cny": 100_000,
                "shape": 0.8,
            },
        },
        {
            "id": "search",
            "kind": "paid",
            "cpm": {"base_cny": 20, "trend": {"type": "linear", "rate_per_period": 0.05}},
            "ctr": 0.02,
            "cvr": 0.04,
            "aov_cny": 150,
            "saturation": {
                "type": "piecewise",
                "points": [[0, 0], [50_000, 45_000], [200_000, 120_000]],
            },
        },
    ],
    "settings": {"tolerance": 1e-3, "time_limit_s": 1},
}
BASES = {"paid_and_kol": PAID_AND_KOL, "members_and_curve": MEMBERS_AND_CURVE, "curves": CURVES}

EXTREMES = [
    1e308,
    1e300,
    1e15,
    1e12,  # the largest amount of money
    1e9,
    1e7,
    1000.0,
    0.01,
    1e-9,  # the smallest nonzero rate or multiplier
    1e-300,
    1e-320,
    5e-324,  # the smallest denormal
    0.0,
    -0.0,
    -1.0,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
]


def numeric_paths(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every number in a scenario document (true/false are not numbers)."""
    if isinstance(data, bool):
        return
    if isinstance(data, int | float):
        yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from numeric_paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from numeric_paths(value, (*path, i))


# The documents as validated and dumped: defaults (shape, tolerance, new_customer_share...) too.
DUMPS = {
    name: Scenario.model_validate(base).model_dump(mode="json") for name, base in BASES.items()
}
TARGETS = [(name, path) for name, dump in DUMPS.items() for path in numeric_paths(dump)]


def with_value(name: str, path: Path_, value: float) -> dict[str, Any]:
    """A copy of base ``name`` with the number at ``path`` replaced."""
    data = copy.deepcopy(DUMPS[name])
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def resolves(data: Any, path: str) -> bool:
    """Whether a dotted path from an error message names a place in the document."""
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if name:
            if not isinstance(data, dict) or name not in data:
                return False
            data = data[name]
        else:
            if not isinstance(data, list) or int(index) >= len(data):
                return False
            data = data[int(index)]
    return True


def test_every_numeric_field_is_a_target() -> None:
    paths = {format_path(p) for _, p in TARGETS}
    for expected in (
        "seasonality[1]",
        "channels[0].cpm.base_cny",
        "channels[0].saturation.half_saturation_cny",
        "channels[1].tiers[0].capacity_fee_cny[1]",
        "channels[0].cost_per_reach_cny",
        "channels[1].response.points[2][1]",
        "channels[0].response.shape",
        "rules[1].max_cac_cny",
        "settings.tolerance",
        "settings.time_limit_s",
        "objective.gmv_target_cny",
    ):
        assert expected in paths


def test_every_field_and_extreme_value_reaches_the_solver_in_range() -> None:
    """No solve: whatever validation accepts builds a problem of finite, in-range numbers."""
    for name, path in TARGETS:
        for value in EXTREMES:
            data = with_value(name, path, value)
            try:
                scenario = Scenario.model_validate(data)
                check_numbers(scenario)  # validation's second step: the derived numbers
            except ValidationError as exc:
                assert exc.errors(), (path, value)
                continue
            except ScenarioError as exc:
                assert exc.problems, (path, value)
                continue
            problem = build_problem(scenario)  # raises ScenarioError if anything is out of range
            assert np.all(problem.gain >= SMALLEST_NORMAL), (path, value)
            forms = [problem.objective] + [row.linear()[0] for row in problem.rows]
            arrays = [problem.gain, problem.lo, problem.hi]
            arrays += [a for f in forms for a in (f.spend_coef, f.gmv_coef)]
            for array in arrays:
                size = np.abs(array)
                assert np.all(size <= SOLVER_LIMIT), (path, value)
                assert np.all((size == 0) | (size >= SMALLEST_NORMAL)), (path, value)
            for form in forms:  # what the solver gets per GMV column
                assert np.all(np.abs(form.gmv_coef * problem.gain) <= SOLVER_LIMIT), (path, value)


def small(channel: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """One channel, one period, max GMV: a document to push one derived number out of range."""
    return {
        "version": "1",
        "name": "derived",
        "periods": ["Y"],
        "budget": {"total_cny": 1_000},
        "objective": {"kind": "max_gmv"},
        "channels": [{"id": "c", "kind": "curve", "aov_cny": 100, **channel}],
        **fields,
    }


@pytest.mark.parametrize(
    ("data", "path", "fragments"),
    [
        (
            small(
                {"response": {"type": "linear", "roas": 1000}, "aov_cny": 0.01},
                seasonality=1000,
                rules=[{"kind": "cac_ceiling", "max_cac_cny": 1e12}],
            ),
            "rules[0].max_cac_cny",
            ["gives c a CAC ceiling coefficient", "of 5e+19", "more than a solver can take"],
        ),
        (
            small(
                {"response": {"type": "exponential", "max_gmv_cny": 1e12, "scale_cny": 0.01}},
                seasonality=1000,
            ),
            "channels[0].response.max_gmv_cny",
            ["GMV per yuan (seasonality x max_gmv_cny / scale_cny) of 1e+17 in period Y"],
        ),
        (
            small(
                {
                    "response": {
                        "type": "hill",
                        "max_gmv_cny": 1e12,
                        "half_saturation_cny": 1e12,
                        "shape": 0.1,
                    }
                },
                budget={"total_cny": 1},
            ),
            "channels[0].response.shape",
            [
                "at the curve's steepest of 7.82e+17 in period Y: more than a solver can take",
                "got a slope near zero spend of 7.81857e+17 here",
            ],
        ),
        (
            small(
                {"response": {"type": "linear", "roas": 2}},
                fixed_costs=[{"id": "systems", "amount_cny": 999.999}],
            ),
            "budget.total_cny",
            ["leaves 0.001 CNY for media", "expected 0 or at least 0.01 CNY (one fen)"],
        ),
        (
            small({"response": {"type": "exponential", "max_gmv_cny": 5e-324, "scale_cny": 1}}),
            "channels[0].response.max_gmv_cny",
            [
                "GMV per yuan",
                "of 4.94e-324 in period Y: too small to compute with",
                "got 4.94066e-324",
            ],
        ),
    ],
    ids=["CAC ceiling", "GMV per yuan", "steep Hill curve", "media budget", "underflow"],
)
def test_derived_numbers_out_of_range_name_the_field(
    data: dict[str, Any], path: str, fragments: list[str]
) -> None:
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data, "derived.yaml")
    problems = {p.path: p.message for p in caught.value.problems}
    assert list(problems) == [path], problems
    for fragment in fragments:
        assert fragment in problems[path], problems[path]


# --- through the command line ------------------------------------------------------------------

runner = CliRunner()
ERROR_LINE = re.compile(r"^  - (\S+?)(?: \(line \d+\))?: ", re.MULTILINE)


def check_cli(tmp_path: Path, data: dict[str, Any], suffix: str) -> None:
    """Exit 0/1 with a JSON plan, or 2 with ``error:`` naming fields of the document."""
    path = tmp_path / f"scenario{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data), encoding="utf-8")  # NaN and Infinity, as Python writes
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")  # .nan, .inf
    result = runner.invoke(app, ["plan", str(path), "-f", "json"])
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: "), result.stderr
        named = ERROR_LINE.findall(result.stderr)
        assert named, result.stderr
        assert all(resolves(data, field) for field in named), result.stderr
    else:
        plan = json.loads(result.stdout)
        assert plan["status"], result.stdout


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    target=st.sampled_from(TARGETS),
    value=st.sampled_from(EXTREMES),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_cli_plan_never_crashes_on_an_extreme_number(
    tmp_path: Path, target: tuple[str, Path_], value: float, suffix: str
) -> None:
    name, path = target
    check_cli(tmp_path, with_value(name, path, value), suffix)


@pytest.mark.parametrize(
    ("name", "path", "value", "field"),
    [
        ("paid_and_kol", ("seasonality", 0), 1e308, "seasonality[0]"),
        ("paid_and_kol", ("channels", 0, "cpm", "base_cny"), 5e-324, "channels[0].cpm.base_cny"),
        (
            "paid_and_kol",
            ("channels", 0, "saturation", "half_saturation_cny"),
            5e-324,
            "channels[0].saturation.half_saturation_cny",
        ),
        ("paid_and_kol", ("channels", 0, "aov_cny"), 1e300, "channels[0].aov_cny"),
        (
            "paid_and_kol",
            ("channels", 0, "cpm", "trend", "rate_per_period"),
            9.9,
            None,  # valid: 11x growth per period stays within the CPM bounds over two periods
        ),
    ],
    ids=["seasonality 1e308", "denormal CPM", "denormal half saturation", "AOV 1e300", "growth"],
)
def test_known_extremes_name_their_field(
    tmp_path: Path, name: str, path: Path_, value: float, field: str | None
) -> None:
    data = with_value(name, path, value)
    check_cli(tmp_path, data, ".yaml")
    result = runner.invoke(app, ["validate", str(tmp_path / "scenario.yaml")])
    if field is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2
        assert f"  - {field} (line " in result.stderr, result.stderr


# --- through the API ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plans_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app for the whole module (a SQLite file), without job workers."""
    url = f"sqlite:///{tmp_path_factory.mktemp('extreme')}/api.db"
    with running_api(url, workers=0) as api:
        yield api


def check_api(api: Any, data: dict[str, Any]) -> None:
    """2xx, or a 4xx problem+json naming body fields that exist; never a 500."""
    body = json.dumps({"scenario": data})  # NaN and Infinity as Python writes them
    headers = {**api.headers(), "Content-Type": "application/json"}
    response = api.client.post("/v1/plans", content=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        body = response.json()
        assert body["errors"], body
        for error in body["errors"]:
            assert error["path"].startswith("body.scenario"), body
            inside = error["path"].removeprefix("body.scenario").removeprefix(".")
            assert not inside or resolves(data, inside), body
    else:
        assert response.json()["status"], response.text


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(target=st.sampled_from(TARGETS), value=st.sampled_from(EXTREMES))
def test_api_plan_never_answers_500_on_an_extreme_number(
    plans_api: Any, target: tuple[str, Path_], value: float
) -> None:
    name, path = target
    check_api(plans_api, with_value(name, path, value))


def test_api_huge_order_value_with_a_gmv_target_is_a_422(plans_api: Any) -> None:
    """Once an IndexError inside PuLP's HiGHS interface: now the field, before any solve."""
    data = with_value("paid_and_kol", ("channels", 0, "aov_cny"), 1e300)
    response = plans_api.call("POST", "/v1/plans", json={"scenario": data})
    assert response.status_code == 422, response.text
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths == ["body.scenario.channels[0].aov_cny"]


def test_api_derived_number_out_of_range_is_a_422_naming_the_body_field(plans_api: Any) -> None:
    response_curve = {"type": "exponential", "max_gmv_cny": 1e12, "scale_cny": 0.01}
    data = small({"response": response_curve}, seasonality=1000)
    response = plans_api.call("POST", "/v1/plans", json={"scenario": data})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["path"] for e in errors] == ["body.scenario.channels[0].response.max_gmv_cny"]
    assert "more than a solver can take" in errors[0]["message"]

"""A user's mistakes in a scenario: exit code 2, the dotted field path, the line, no traceback.

Every case edits one line of a valid scenario (BASE) and runs ``budgetopt validate`` in process.
The expected line is found in the edited text by a marker, so it is the line the user changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario

# Every channel kind, tiers, a piecewise curve, fixed costs and three kinds of rule.
BASE = """\
version: "1"
name: probe
periods: [H1, H2]
seasonality: [1.0, 1.2]
budget:
  total_cny: 1000000
  contingency_cny: 10000
objective:
  kind: max_gmv
channels:
  - id: search
    name: 搜索广告
    kind: paid
    groups: [media]
    cpm:
      base_cny: 40
      trend:
        type: index
        values: [1.0, 1.1]
    ctr: 0.02
    cvr: 0.03
    aov_cny: 200
    saturation:
      type: hill
      half_saturation_cny: 200000
      shape: 1.5
  - id: kol
    name: 达人
    kind: kol
    tiers:
      - id: head
        commission_rate: 0.2
        fee_roas: 3
        aov_cny: 150
        capacity_fee_cny: [300000, 300000]
        saturation:
          type: exponential
          scale_cny: 100000
      - id: tail
        commission_rate: 0.1
        fee_roas: 2
        aov_cny: 120
        saturation:
          type: linear
  - id: members
    kind: private_domain
    members: 100000
    cost_per_reach_cny: 0.1
    repurchase_rate: 0.3
    aov_cny: 180
  - id: brand
    kind: curve
    min_spend_cny: 1000
    max_spend_cny: 500000
    response:
      type: piecewise
      points: [[0, 0], [100000, 400000], [300000, 900000]]
    aov_cny: 200
fixed_costs:
  - id: systems
    amount_cny: 50000
rules:
  - id: floor
    kind: roas_floor
    min_roas: 1.5
    channels: [search, brand]
    periods: [H1]
  - id: share
    kind: gmv_share
    groups: [media]
    max_share: 0.8
  - id: comm
    kind: commission_cap
    channels: [kol]
    max_rate: 0.3
"""

runner = CliRunner()


def edit(old: str, new: str) -> str:
    """BASE with one exact, unique piece of text replaced."""
    assert BASE.count(old) == 1, f"not unique in BASE: {old!r}"
    return BASE.replace(old, new)


def line_of(text: str, marker: str) -> int:
    """1-based line of the only occurrence of ``marker`` in ``text``."""
    assert text.count(marker) == 1, f"marker not unique: {marker!r}"
    return text[: text.index(marker)].count("\n") + 1


def validate(tmp_path: Path, text: str, name: str = "scenario.yaml") -> tuple[int, str]:
    """Run ``budgetopt validate`` on ``text``; return the exit code and the error output."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def test_base_scenario_is_valid(tmp_path: Path) -> None:
    code, err = validate(tmp_path, BASE)
    assert code == 0, err


# (case, old text, new text, field path, marker on the expected line, message fragments)
CASES = [
    (
        "wrong type",
        "total_cny: 1000000",
        'total_cny: "lots"',
        "budget.total_cny",
        '"lots"',
        ["expected a number", "got 'lots'"],
    ),
    (
        "thousands separators",
        "total_cny: 1000000",
        'total_cny: "1,000,000"',
        "budget.total_cny",
        "1,000,000",
        ["expected a number", "thousands separators"],
    ),
    (
        "yes for a number",
        "contingency_cny: 10000",
        "contingency_cny: yes",
        "budget.contingency_cny",
        "contingency_cny: yes",
        ["expected a number", "got true"],
    ),
    (
        "negative budget",
        "total_cny: 1000000",
        "total_cny: -5",
        "budget.total_cny",
        "-5",
        ["greater than 0", "got -5"],
    ),
    (
        "not a finite number",
        "total_cny: 1000000",
        "total_cny: .nan",
        "budget.total_cny",
        ".nan",
        ["finite number", "got nan"],
    ),
    (
        "zero CPM",
        "base_cny: 40",
        "base_cny: 0",
        "channels[0].cpm.base_cny",
        "base_cny: 0",
        ["greater than 0", "got 0"],
    ),
    (
        "negative CPM",
        "base_cny: 40",
        "base_cny: -40",
        "channels[0].cpm.base_cny",
        "base_cny: -40",
        ["greater than 0", "got -40"],
    ),
    (
        "CTR above 1",
        "ctr: 0.02",
        "ctr: 1.5",
        "channels[0].ctr",
        "ctr: 1.5",
        ["less than or equal to 1", "got 1.5"],
    ),
    (
        "negative commission rate",
        "commission_rate: 0.2",
        "commission_rate: -0.2",
        "channels[1].tiers[0].commission_rate",
        "-0.2",
        ["greater than or equal to 0", "got -0.2"],
    ),
    (
        "unknown channel in a rule",
        "channels: [search, brand]",
        "channels: [search, tv]",
        "rules[0].channels[1]",
        "[search, tv]",
        ["unknown channel 'tv'", "known: brand, kol, members, search"],
    ),
    (
        "unknown group in a rule",
        "groups: [media]\n    max_share",
        "groups: [medai]\n    max_share",
        "rules[1].groups[0]",
        "[medai]",
        ["unknown group 'medai'", "known: media"],
    ),
    (
        "unknown period in a rule",
        "periods: [H1]",
        "periods: [H3]",
        "rules[0].periods[0]",
        "[H3]",
        ["unknown period 'H3'", "known: H1, H2"],
    ),
    (
        "duplicated channel id",
        "id: members",
        "id: search  # again",
        "channels[2].id",
        "# again",
        ["duplicated id 'search'", "channels[0]"],
    ),
    (
        "duplicated tier id",
        "id: tail",
        "id: head  # again",
        "channels[1].tiers[1].id",
        "# again",
        ["duplicated id 'head'", "tiers[0]"],
    ),
    (
        "duplicated rule id",
        "id: comm",
        "id: floor  # again",
        "rules[2].id",
        "# again",
        ["duplicated id 'floor'", "rules[0]"],
    ),
    (
        "duplicated period",
        "periods: [H1, H2]",
        "periods: [H1, H1]",
        "periods[1]",
        "[H1, H1]",
        ["duplicated id 'H1'"],
    ),
    (
        "seasonality of the wrong length",
        "seasonality: [1.0, 1.2]",
        "seasonality: [1.0, 1.2, 1.3]",
        "seasonality",
        "1.3]",
        ["expected 2 values, one per period (H1, H2), got 3"],
    ),
    (
        "seasonality item not a number",
        "seasonality: [1.0, 1.2]",
        "seasonality: [1.0, x]",
        "seasonality[1]",
        "[1.0, x]",
        ["expected a number", "got 'x'"],
    ),
    (
        "CPM trend of the wrong length",
        "values: [1.0, 1.1]",
        "values: [1.0]",
        "channels[0].cpm.trend.values",
        "values: [1.0]",
        ["expected 2 values", "got 1"],
    ),
    (
        "capacity fees of the wrong length",
        "capacity_fee_cny: [300000, 300000]",
        "capacity_fee_cny: [300000]",
        "channels[1].tiers[0].capacity_fee_cny",
        "capacity_fee_cny",
        ["expected 2 values", "got 1"],
    ),
    (
        "negative per-period limit",
        "max_spend_cny: 500000",
        "max_spend_cny: 500000\n    period_max_spend_cny: [1, -1]",
        "channels[3].period_max_spend_cny[1]",
        "[1, -1]",
        ["non-negative", "got -1"],
    ),
    (
        "hill shape 0",
        "shape: 1.5",
        "shape: 0",
        "channels[0].saturation.shape",
        "shape: 0",
        ["greater than 0", "got 0"],
    ),
    (
        "hill shape above 10",
        "shape: 1.5",
        "shape: 11",
        "channels[0].saturation.shape",
        "shape: 11",
        ["less than or equal to 10", "got 11"],
    ),
    (
        "negative curve scale",
        "scale_cny: 100000",
        "scale_cny: -1",
        "channels[1].tiers[0].saturation.scale_cny",
        "scale_cny: -1",
        ["greater than 0", "got -1"],
    ),
    (
        "unknown curve type",
        "type: hill",
        "type: sigmoid",
        "channels[0].saturation.type",
        "sigmoid",
        [
            "unknown type 'sigmoid'",
            "linear, exponential, hill, logistic, tanh, michaelis_menten, piecewise",
        ],
    ),
    (
        "curve type missing",
        "      type: hill\n",
        "",
        "channels[0].saturation.type",
        "saturation:\n      half",
        [
            "required field is missing",
            "linear, exponential, hill, logistic, tanh, michaelis_menten, piecewise",
        ],
    ),
    (
        "piecewise not starting at (0, 0)",
        "[[0, 0], [100000",
        "[[10, 0], [100000",
        "channels[3].response.points[0]",
        "points:",
        ["first point must be (0, 0)"],
    ),
    (
        "piecewise spend decreasing",
        "[300000, 900000]",
        "[50000, 900000]",
        "channels[3].response.points[2]",
        "points:",
        ["spend must increase", "got 50000"],
    ),
    (
        "piecewise slopes increasing",
        "[300000, 900000]",
        "[300000, 2000000]",
        "channels[3].response.points[2]",
        "points:",
        ["returns must diminish", "8 after 4"],
    ),
    (
        "piecewise point not a number",
        "[100000, 400000]",
        "[abc, 400000]",
        "channels[3].response.points[1][0]",
        "points:",
        ["expected a number", "got 'abc'"],
    ),
    (
        "unknown field (typo)",
        "cvr: 0.03",
        "cvrr: 0.03",
        "channels[0].cvrr",
        "cvrr",
        ["unknown field 'cvrr'", "did you mean 'cvr'?", "expected one of:"],
    ),
    (
        "unknown top-level field",
        "fixed_costs:",
        "fixed_cost:",
        "fixed_cost",
        "fixed_cost:",
        ["unknown field 'fixed_cost'", "did you mean 'fixed_costs'?"],
    ),
    (
        "missing required field",
        "    cvr: 0.03\n",
        "",
        "channels[0].cvr",
        "- id: search",
        ["required field is missing", "Orders per click"],
    ),
    (
        "unknown channel kind",
        "kind: private_domain",
        "kind: privatedomain",
        "channels[2].kind",
        "privatedomain",
        ["unknown kind 'privatedomain'", "expected one of: paid, kol, private_domain, curve"],
    ),
    (
        "id with a space",
        "id: members",
        "id: my members",
        "channels[2].id",
        "my members",
        ["letters, digits", "got 'my members'"],
    ),
    (
        "version missing",
        'version: "1"\n',
        "",
        "version",
        "name: probe",
        ["required field is missing"],
    ),
    (
        "version 2",
        'version: "1"',
        'version: "2"',
        "version",
        'version: "2"',
        ["expected '1'", "got '2'"],
    ),
    (
        "version as a number",
        'version: "1"',
        "version: 1",
        "version",
        "version: 1",
        ["expected '1'", "got 1"],
    ),
    (
        "fixed costs and contingency above the total",
        "amount_cny: 50000",
        "amount_cny: 995000",
        "budget.total_cny",
        "total_cny",
        ["1,000,000 is less than fixed costs 995,000 plus contingency 10,000"],
    ),
    (
        "min spend above max spend",
        "min_spend_cny: 1000",
        "min_spend_cny: 600000",
        "channels[3].min_spend_cny",
        "min_spend_cny: 600000",
        ["min_spend_cny 600000 exceeds max_spend_cny 500000"],
    ),
    (
        "min_spend objective without a GMV target",
        "kind: max_gmv",
        "kind: min_spend",
        "objective.gmv_target_cny",
        "objective:",
        ["min_spend needs gmv_target_cny", "got none"],
    ),
    (
        "max_profit without gross margin",
        "objective:\n  kind: max_gmv",
        "accounting: {spend_basis: media}\nobjective:\n  kind: max_profit",
        "accounting.gross_margin",
        "accounting:",
        ["max_profit needs accounting.gross_margin", "got none"],
    ),
    (
        "gmv_share without scope",
        "    groups: [media]\n    max_share: 0.8",
        "    max_share: 0.8",
        "rules[1]",
        "- id: share",
        ["gmv_share needs channels or groups", "got neither"],
    ),
    (
        "gmv_share without bounds",
        "    max_share: 0.8\n",
        "",
        "rules[1]",
        "- id: share",
        ["gmv_share needs min_share or max_share", "got neither"],
    ),
    (
        "gmv_share bounds crossed",
        "    max_share: 0.8\n",
        "    min_share: 0.9\n    max_share: 0.8\n",
        "rules[1].min_share",
        "min_share",
        ["min_share 0.9 is above max_share 0.8"],
    ),
    (
        "commission_cap on a non-KOL channel",
        "channels: [kol]",
        "channels: [search]",
        "rules[2].channels[0]",
        "channels: [search]",
        ["commission_cap applies to KOL channels", "'search', a paid channel", "KOL channels: kol"],
    ),
    (
        "a number where a mapping goes",
        "budget:\n  total_cny: 1000000\n  contingency_cny: 10000",
        "budget: 1000000",
        "budget",
        "budget:",
        ["expected a mapping of fields", "got 1000000"],
    ),
    (
        "a date as a period name",
        "periods: [H1, H2]",
        "periods: [2026-01-01, H2]",
        "periods[0]",
        "2026-01-01",
        ["expected text", "2026-01-01 (a date)", "quotes"],
    ),
    (
        "a key given twice",
        "ctr: 0.02",
        "ctr: 0.02\n    ctr: 0.03",
        "channels[0].ctr",
        "ctr: 0.03",
        ["given twice (first on line 20)"],
    ),
    (
        "a key YAML reads as true",
        "fixed_costs:",
        "on: 1\nfixed_costs:",
        "on",
        "on: 1",
        ["expected a field name", "true/false", "quotes"],
    ),
    (
        "a name too long",
        "name: probe",
        "name: " + "x" * 201,
        "name",
        "name: x",
        ["at most 200 characters, got 201"],
    ),
    # Extreme numbers: bounds that keep every product the solver sees finite and in range.
    (
        "seasonality near the largest float",
        "seasonality: [1.0, 1.2]",
        "seasonality: [1.0, 1.0e+308]",
        "seasonality[1]",
        "1.0e+308",
        ["expected a number of at most 1,000, got 1e+308"],
    ),
    (
        "denormal half saturation",
        "half_saturation_cny: 200000",
        "half_saturation_cny: 5.0e-324",
        "channels[0].saturation.half_saturation_cny",
        "5.0e-324",
        ["expected at least 0.01 CNY (one fen)", "too small to compute with"],
    ),
    (
        "denormal CPM",
        "base_cny: 40",
        "base_cny: 5.0e-324",
        "channels[0].cpm.base_cny",
        "5.0e-324",
        ["expected at least 0.01 CNY (one fen)", "got 4.94066e-324"],
    ),
    (
        "tiny CTR",
        "ctr: 0.02",
        "ctr: 1.0e-300",
        "channels[0].ctr",
        "1.0e-300",
        ["expected at least 1e-09, got 1e-300: too small to compute with"],
    ),
    (
        "huge order value",
        "aov_cny: 180",
        "aov_cny: 1.0e+300",
        "channels[2].aov_cny",
        "1.0e+300",
        ["expected a number less than or equal to 10,000,000, got 1e+300"],
    ),
    (
        "budget above a trillion",
        "total_cny: 1000000",
        "total_cny: 1.0e+13",
        "budget.total_cny",
        "1.0e+13",
        ["less than or equal to 1,000,000,000,000, got 1e+13"],
    ),
    (
        "CPM index below a fen",
        "values: [1.0, 1.1]",
        "values: [1.0, 1.0e-300]",
        "channels[0].cpm.trend.values[1]",
        "1.0e-300",
        ["gives a CPM of 4e-299 CNY in period H2", "between 0.01 and 1e+12 CNY"],
    ),
    (
        "CPM falling below zero",
        "type: index\n        values: [1.0, 1.1]",
        "type: linear\n        rate_per_period: -0.99999",
        "channels[0].cpm.trend.rate_per_period",
        "rate_per_period",
        ["gives a CPM of 0.0004 CNY in period H2", "linear trend"],
    ),
    (
        "GMV per yuan beyond what a solver takes",
        "kind: curve\n    min_spend_cny: 1000\n    max_spend_cny: 500000\n    response:\n"
        "      type: piecewise\n      points: [[0, 0], [100000, 400000], [300000, 900000]]",
        "kind: curve\n    seasonality: [1000, 1000]\n    min_spend_cny: 1000\n"
        "    max_spend_cny: 500000\n    response:\n      type: piecewise\n"
        "      points: [[0, 0], [0.01, 1.0e+12]]",
        "channels[3].response.points",
        "[0.01, 1.0e+12]",
        [
            "gives brand a GMV per yuan (seasonality x the slope of the points) of 1e+17 in "
            "period H1: more than a solver can take (at most 1e+15)",
            "got a slope of 1e+14 here",
        ],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "path", "marker", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_mistake_names_field_and_line(
    tmp_path: Path, old: str, new: str, path: str, marker: str, fragments: list[str]
) -> None:
    text = edit(old, new)
    code, err = validate(tmp_path, text)
    assert code == 2, err
    assert err.startswith("error: "), err
    assert "invalid" in err
    assert f"  - {path} (line {line_of(text, marker)}): " in err, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in:\n{err}"


def test_a_mistake_gives_exactly_one_problem(tmp_path: Path) -> None:
    """A list where a number may go: the scalar branch of the union adds no second error."""
    code, err = validate(tmp_path, edit("seasonality: [1.0, 1.2]", "seasonality: [1.0, x]"))
    assert code == 2
    assert err.count("\n  - ") == 1, err
    code, err = validate(tmp_path, edit("seasonality: [1.0, 1.2]", "seasonality: lots"))
    assert code == 2
    assert "  - seasonality (line 4): expected a number, or a list" in err, err
    assert err.count("\n  - ") == 1, err


def test_max_profit_without_accounting_names_the_field(tmp_path: Path) -> None:
    code, err = validate(tmp_path, edit("kind: max_gmv", "kind: max_profit"))
    assert code == 2
    assert "  - accounting.gross_margin (line " in err
    assert "max_profit needs accounting.gross_margin" in err


def test_every_mistake_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = BASE.replace("total_cny: 1000000", "total_cny: -5").replace("cvr: 0.03", "cvrr: 0.03")
    text = text.replace("channels: [search, brand]", "channels: [search, tv]")
    code, err = validate(tmp_path, text)
    assert code == 2
    assert f"budget.total_cny (line {line_of(text, '-5')})" in err
    assert f"channels[0].cvrr (line {line_of(text, 'cvrr')})" in err


def test_cross_reference_errors_are_all_reported(tmp_path: Path) -> None:
    text = BASE.replace("channels: [search, brand]", "channels: [search, tv]")
    text = text.replace("periods: [H1]", "periods: [H9]").replace("id: comm", "id: floor")
    code, err = validate(tmp_path, text)
    assert code == 2
    for path in ("rules[0].channels[1]", "rules[0].periods[0]", "rules[2].id"):
        assert f"  - {path} (line " in err, err


def test_yaml_anchors_and_merge_keys_keep_lines(tmp_path: Path) -> None:
    """'<<: *defaults' is allowed; a mistake next to it still gets its own line."""
    text = """\
version: "1"
name: merged
periods: [Y]
budget: {total_cny: 100}
objective: {kind: max_gmv}
channels:
  - &a {id: a, kind: curve, response: {type: linear, roas: 2}, aov_cny: 100}
  - <<: *a
    id: b
    aov_cny: -1
"""
    code, err = validate(tmp_path, text)
    assert code == 2
    assert (
        "  - channels[1].aov_cny (line 10): expected a number greater than or equal to 0.01, got -1"
        in err
    )
    code, err = validate(tmp_path, text.replace("aov_cny: -1", "aov_cny: 50"))
    assert code == 0, err


def test_json_scenario_errors_have_lines(tmp_path: Path) -> None:
    data = {
        "version": "1",
        "name": "json",
        "periods": ["Y"],
        "budget": {"total_cny": -1},
        "objective": {"kind": "max_gmv"},
        "channels": [{"id": "a", "kind": "curve", "response": {"type": "linear", "roas": 2}}],
    }
    text = json.dumps(data, indent=2)
    code, err = validate(tmp_path, text, "scenario.json")
    assert code == 2
    assert f"  - budget.total_cny (line {line_of(text, '-1')}): " in err, err
    assert "  - channels[0].aov_cny (line " in err, err


def test_json_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = '{\n  "version": "1",\n  "name": "a",\n  "name": "b"\n}\n'
    code, err = validate(tmp_path, text, "scenario.json")
    assert code == 2
    assert "  - name (line 4): given twice (first on line 3)" in err


def test_load_scenario_raises_scenario_error_with_problems(tmp_path: Path) -> None:
    """The library API (used by the HTTP layer) gives structured problems, not just text."""
    path = tmp_path / "s.yaml"
    path.write_text(edit("ctr: 0.02", "ctr: 1.5"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert (problem.path, problem.line) == ("channels[0].ctr", 20)
    assert problem.message == "expected a number less than or equal to 1, got 1.5"

"""budgetopt import: a media-mix model's curves as scenario YAML on stdout (data only) or in a
file, messages on stderr, a broken model file an exit 2 naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.inputs.files import load_scenario
from optimizer.schema.scenario import Scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mmm"
BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))


def test_stdout_is_the_scenario_yaml_and_nothing_else():
    done = subprocess.run(
        [
            BUDGETOPT,
            "import",
            "robyn",
            str(FIXTURES / "robyn_geometric_v3_12.json"),
            "--weeks",
            "8",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    scenario = Scenario.model_validate(yaml.safe_load(done.stdout))
    assert scenario.periods == [f"W{i:02d}" for i in range(1, 9)]
    assert scenario.channel_ids() == ["tv_S", "facebook_S", "search_S"]
    assert "imported 3 channel(s) from robyn" in done.stderr


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("pymc-marketing", "pymc_geometric_logistic.nc"),
        ("meridian", "meridian_binomial.nc"),
        ("params", "curves.csv"),
    ],
)
def test_out_writes_a_scenario_file_that_loads(tmp_path, source, name):
    out = tmp_path / "plan.yaml"
    result = CliRunner().invoke(
        app,
        [
            "import",
            source,
            str(FIXTURES / name),
            "-o",
            str(out),
            "--periods",
            "2026-W01,2026-W02,2026-W03",
            "--budget-cny",
            "3e6",
            "--aov-cny",
            "120",
            "--objective",
            "max_profit",
            "--gross-margin",
            "0.45",
            "--name",
            "导入 import",
        ],
    )
    assert result.exit_code == 0, result.output
    scenario = load_scenario(out)
    assert scenario.name == "导入 import" and scenario.periods[-1] == "2026-W03"
    assert scenario.budget.total_cny == 3e6 and scenario.objective.kind == "max_profit"
    assert {c.aov_cny for c in scenario.channels if c.id != "live"} == {120}


def test_a_broken_model_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"InputCollect": {"version": ["Robyn (stable) v3.12.1"]}}')
    result = CliRunner().invoke(app, ["import", "robyn", str(bad)])
    assert result.exit_code == 2
    assert "error:" in result.output and "ExportedModel: missing" in result.output
    unknown = CliRunner().invoke(app, ["import", "sas", str(bad)])
    assert unknown.exit_code == 2 and "sas" in unknown.output


def test_help_says_what_aov_is_for():
    result = CliRunner().invoke(app, ["import", "--help"])
    assert result.exit_code == 0
    assert "orders and CAC" in result.output and "pymc-marketing" in result.output


def test_draws_are_written_in_flow_style_and_stdout_still_parses():
    result = CliRunner().invoke(
        app,
        [
            "import",
            "meridian",
            str(FIXTURES / "meridian_binomial.nc"),
            "--weeks",
            "4",
            "--draws",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    scenario = Scenario.model_validate(yaml.safe_load(text))
    assert {c.draws.count() for c in scenario.channels} == {3}
    assert "half_saturation_cny: [" in text  # one list, not one value a line
    assert "meridian_binomial.nc, 3 draws" in result.stderr
    assert "note: the adstock of tv-north, tv-south is written lag by lag" in result.stderr


def test_draws_0_writes_none_and_robyn_says_it_has_none():
    result = CliRunner().invoke(
        app,
        ["import", "pymc-marketing", str(FIXTURES / "pymc_geometric_logistic.nc"), "--draws", "0"],
    )
    assert result.exit_code == 0, result.output
    assert all("draws" not in c for c in yaml.safe_load(result.stdout)["channels"])
    robyn = CliRunner().invoke(
        app, ["import", "robyn", str(FIXTURES / "robyn_geometric_v3_12.json")]
    )
    assert robyn.exit_code == 0, robyn.output
    assert "no posterior samples: no draws written" in robyn.stderr
    too_many = CliRunner().invoke(app, ["import", "robyn", "x.json", "--draws", "2001"])
    assert too_many.exit_code == 2


def test_a_scenario_too_large_to_read_back_is_said(monkeypatch):
    monkeypatch.setattr("optimizer.cli.importer.MAX_FILE_BYTES", 1000)
    result = CliRunner().invoke(app, ["import", "params", str(FIXTURES / "curves.csv")])
    assert result.exit_code == 0, result.output
    assert "more than the 1,000 a scenario file may be: import with fewer --draws" in result.stderr

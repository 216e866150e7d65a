"""budgetopt fit: the fitted scenario as YAML on stdout (data only) or in a file, the fit report
on stderr or as JSON, the plot; a bad history exits 2 naming column and line, writing nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.inputs.files import load_scenario
from optimizer.schema.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "history_2025.csv"
BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))
QUICK = ["--families", "michaelis_menten,exponential", "--draws", "10"]  # fits in < 1 s


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BUDGETOPT, "fit", *args], capture_output=True, text=True, encoding="utf-8", timeout=120
    )


def test_stdout_is_the_scenario_yaml_and_nothing_else():
    done = run(str(EXAMPLE), "--weeks", "6", *QUICK)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# budgetopt fit history_2025.csv: 104 weeks")
    scenario = Scenario.model_validate(yaml.safe_load(done.stdout))
    assert scenario.channel_ids() == ["live_traffic", "kol", "private_domain", "search"]
    assert scenario.periods == [f"W{i:02d}" for i in range(1, 7)]
    assert {c.draws.count() for c in scenario.channels} == {10}
    assert "fitted 4 channel(s) from" in done.stderr and "live_traffic:" in done.stderr


def test_out_report_and_plot_are_written_and_the_scenario_plans(tmp_path):
    out, report, plot = tmp_path / "curves.yaml", tmp_path / "fit.json", tmp_path / "fit.png"
    args = [str(EXAMPLE), "-o", str(out), "--report", str(report), "--plot", str(plot)]
    args += [*QUICK, "--periods", "2026-W23,2026-W24,2026-W25", "--budget-cny", "6e6"]
    result = CliRunner().invoke(app, ["fit", *args])
    assert result.exit_code == 0, result.output
    scenario = load_scenario(out)
    assert scenario.budget.total_cny == 6e6
    live = scenario.channels[0]
    assert live.cpm_index is not None and len(live.cpm_index) == 3
    assert min(live.cpm_index) > 1.2  # the 618 window's dearer CPM (x1.25 in the example)
    body = json.loads(report.read_text(encoding="utf-8"))
    channel = body["channels"][0]
    assert channel["chosen"] == f"{live.response.type}+adstock"
    assert len(channel["candidates"]) == 4 and channel["cpm"]["window_multipliers"]["618"] > 1.1
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    planned = CliRunner().invoke(app, ["plan", str(out), "-f", "json"])
    assert planned.exit_code == 0, planned.output


def test_report_dash_puts_only_json_on_stdout(tmp_path):
    done = run(str(EXAMPLE), *QUICK, "--report", "-", "-o", str(tmp_path / "c.yaml"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["weeks"] == 104
    assert CliRunner().invoke(app, ["fit", str(EXAMPLE), "--report", "-"]).exit_code == 2


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("2024-W01,kol,-5,10\n", "spend_cny (line 2): expected a number >= 0, got '-5'"),
        ("2024-W01,kol,5,ten\n", "gmv_cny (line 2): expected a number, got 'ten'"),
        ("2024-W01,kol,5,10\n2024-W01,kol,6,11\n", "week (line 3): a second row for channel"),
        ("2024-W01,,5,10\n", "channel (line 2): expected a channel name, got a blank"),
        ("2024-W01,kol,5,10\n2024-W03,kol,5,10\n", "has no row for week(s) 2024-W02"),
        ("2024-W01,kol,5,10\n2024-W02,kol,6,11\n", "week: expected at least 16 weeks"),
    ],
)
def test_a_bad_history_exits_2_naming_column_and_line_and_writes_nothing(tmp_path, rows, expected):
    path = tmp_path / "bad.csv"
    path.write_text("week,channel,spend_cny,gmv_cny\n" + rows, encoding="utf-8")
    out, report = tmp_path / "curves.yaml", tmp_path / "fit.json"
    result = CliRunner().invoke(app, ["fit", str(path), "-o", str(out), "--report", str(report)])
    assert result.exit_code == 2
    assert f"error: {path}: invalid history file" in result.output and expected in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists() and not report.exists()


def test_a_bad_history_prints_no_traceback_and_no_data(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("week,channel,spend_cny,gmv_cny\n2024-W01,kol,x,1\n", encoding="utf-8")
    done = run(str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert "spend_cny (line 2): expected a number, got 'x'" in done.stderr
    assert "Traceback" not in done.stderr


def test_too_little_spend_variation_is_refused_not_fitted(tmp_path):
    lines = [f"2024-W{k:02d},flat,{100000 + (k % 2) * 10},{400000 + k}\n" for k in range(1, 21)]
    path = tmp_path / "flat.csv"
    path.write_text("week,channel,spend_cny,gmv_cny\n" + "".join(lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["fit", str(path)])
    assert result.exit_code == 2
    assert "spend_cny (line 2): channel 'flat' has too little variation in spend" in result.output
    assert "2 distinct weekly amount(s)" in result.output


def test_unknown_family_is_a_bad_option():
    result = CliRunner().invoke(app, ["fit", str(EXAMPLE), "--families", "hill,spline"])
    assert result.exit_code == 2 and "--families" in result.output


def test_the_same_file_and_seed_give_the_same_bytes(tmp_path):
    outputs = []
    for k in range(2):
        out = tmp_path / f"curves{k}.yaml"
        result = CliRunner().invoke(
            app, ["fit", str(EXAMPLE), *QUICK, "--seed", "5", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]

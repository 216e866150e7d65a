"""budgetopt sweep, frontier, compare and plan --format xlsx from the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from optimizer.cli.main import app
from tests.helpers import T1 as TWO_LINEAR

T1 = TWO_LINEAR + "settings: {tolerance: 1.0e-6}\n"


def t1_gmv(budget: float) -> float:
    search = min(budget, 60.0)
    return 6.0 * search + 4.0 * min(budget - search, 100.0)


@pytest.fixture
def t1(tmp_path: Path) -> Path:
    path = tmp_path / "t1.yaml"
    path.write_text(T1, encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_sweep_writes_reports_with_the_hand_optimum(t1, tmp_path, solver):
    out = tmp_path / "sweep"
    done = run(
        "sweep", t1, "--vary", "budget.total_cny=50:150:3", "--vary",
        "channels[search].response.roas=6,3", "--solver", solver, "--out", out, "-f", "csv",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rows = csv_rows(done.stdout)
    assert len(rows) == 6
    for row in rows:
        budget = float(row["budget.total_cny"])
        roas = float(row["channels[search].response.roas"])
        # with search at 3, kol (4) comes first up to 100, then search
        second = 4.0 * min(budget, 100) + 3.0 * min(max(budget - 100, 0), 60)
        expected = t1_gmv(budget) if roas == 6 else second
        assert float(row["gmv_cny"]) == pytest.approx(expected, rel=1e-6)
    assert {p.name for p in out.iterdir()} == {"sweep.csv", "sweep.json", "sweep.xlsx", "sweep.png"}
    book = openpyxl.load_workbook(out / "sweep.xlsx")
    assert book.sheetnames == ["sweep", "Charts"] and len(book["Charts"]._images) == 1
    data = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert len(data["points"]) == 6 and data["varies"][0]["path"] == "budget.total_cny"


def test_tornado_table_ranks_the_budget_first(t1, tmp_path):
    out = tmp_path / "tornado"
    done = run(
        "sweep", t1, "--tornado", "--metric", "gmv_cny",
        "--vary", "channels[kol].response.roas=3,5", "--vary", "budget.total_cny=60,140",
        "--out", out,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    table = done.stdout
    # budget moves GMV from 360 to 520 (swing 160); kol's ROAS from 480 to 560 (swing 80)
    assert table.index("budget.total_cny") < table.index("channels[kol].response.roas")
    rows = csv_rows((out / "tornado.csv").read_text(encoding="utf-8-sig"))
    assert rows[0]["field"] == "(as given)" and float(rows[0]["gmv_cny"]) == pytest.approx(520)
    assert (out / "tornado.png").stat().st_size > 0


def test_frontier_reports_where_returns_fall(t1, tmp_path):
    out = tmp_path / "frontier"
    done = run(
        "frontier", t1, "--from", 20, "--to", 200, "--points", 10, "--out", out, "-f", "json"
    )
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    marginal = [p["marginal_roas"] for p in data["points"]]
    # budgets 20, 40, ... 200: search (6) to 60, kol (4) to 160, then nothing more to buy
    assert marginal[1:3] == pytest.approx([6.0, 6.0], rel=1e-6)
    assert marginal[4:8] == pytest.approx([4.0] * 4, rel=1e-6)
    assert marginal[8:] == [None, None]
    # every yuan spent returns 4 or more: no crossing of 1, and the budget where spending stops
    assert data["summary"]["marginal_roas_below_1_at_budget_cny"] is None
    assert any(
        n.startswith("from a total budget of 160 CNY on, extra budget is left unspent")
        for n in data["summary"]["notes"]
    )
    assert {p.name for p in out.iterdir()} >= {"frontier.csv", "frontier.xlsx", "frontier.png"}
    assert openpyxl.load_workbook(out / "frontier.xlsx").sheetnames == [
        "frontier",
        "summary",
        "Charts",
    ]


def test_compare_a_plan_file_a_scenario_and_a_hand_split(t1, tmp_path):
    plan_json = tmp_path / "optimum.json"
    assert run("plan", t1, "-f", "json", "-o", plan_json).exit_code == 0
    split = tmp_path / "even.csv"
    split.write_text("unit,period,spend_cny\nsearch,Y,50\nkol,Y,50\n", encoding="utf-8")
    done = run("compare", plan_json, t1, "--split", split, "-f", "json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["labels"] == ["optimum", "t1", "even"]
    gmv = data["total"]["gmv_cny"]
    # optimum: 6 x 60 + 4 x 40 = 520; the even split: 6 x 50 + 4 x 50 = 500
    assert gmv["values"] == pytest.approx([520, 520, 500], rel=1e-6)
    assert gmv["delta"] == pytest.approx([0, 0, -20], abs=1e-4)
    assert data["by_channel"]["search"]["spend_cny"]["delta"][2] == pytest.approx(-10, abs=1e-4)
    table = run("compare", plan_json, t1, "--split", split, "--label", "best")
    assert table.exit_code == 0 and "Δ even" in table.stdout and "best" in table.stdout


def test_compare_writes_a_workbook_with_a_chart(t1, tmp_path):
    out = tmp_path / "cmp.xlsx"
    done = run("compare", t1, t1, "-f", "xlsx", "-o", out)
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["compare", "plans", "Charts"]
    assert (tmp_path / "cmp.png").exists()
    header = [c.value for c in book["compare"][1]]
    assert header[:5] == ["level", "key", "metric", "t1", "t1 (2)"]
    rows = {(r[0].value, r[2].value): r for r in book["compare"].iter_rows(min_row=2)}
    gmv = rows[("total", "gmv_cny")]
    assert gmv[3].value == pytest.approx(520, rel=1e-6)  # 6 x 60 + 4 x 40, by hand
    assert gmv[3].number_format == '"¥"#,##0' and rows[("total", "roas")][3].number_format == "0.00"
    assert book["compare"].print_title_rows == "$1:$1"


def test_plan_workbook_embeds_its_charts(t1, tmp_path):
    out = tmp_path / "plan.xlsx"
    assert run("plan", t1, "-f", "xlsx", "-o", out).exit_code == 0
    assert (tmp_path / "plan-allocation.png").exists() and (tmp_path / "plan-response.png").exists()
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[-1] == "Charts" and len(book["Charts"]._images) == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sweep", "{t1}", "--vary", "channels[tv].x=1"], "no item 'tv' in channels"),
        (["sweep", "{t1}", "--vary", "budget.total_cny"], "expected PATH=VALUES"),
        (["sweep", "{t1}", "--vary", "budget.total_cny=1:2"], "start:stop:count"),
        (["sweep", "{t1}", "--vary", "budget.total_cny=-1,5"], "budget.total_cny"),
        (["sweep", "{t1}", "--tornado", "--metric", "x", "--vary", "budget.total_cny=1,2"], "x"),
        (["frontier", "{t1}", "--from", "100", "--to", "50"], "--to: 50 must be above --from 100"),
        (
            ["frontier", "{t1}", "--from", "9e9"],
            "--from: 9,000,000,000 must be below the default --to",
        ),
        (
            ["sweep", "{t1}", "--vary", "budget.total_cny=1", "--vary", "budget.total_cny=2"],
            "--vary budget.total_cny=2: budget.total_cny is given twice",
        ),
        (["compare", "{t1}"], "two or more items"),
        (["compare", "{t1}", "{t1}", "--split", "{t1}"], "exactly one scenario"),
        (["compare", "{t1}", "missing.json"], "no such file"),
        (["compare", "{t1}", "{t1}", "-f", "xlsx"], "needs --out"),
        (["plan", "{t1}", "-f", "xlsx"], "needs --out"),
        (["frontier", "{t1}", "--out", "{t1}"], "is a file, not a folder"),
        (["sweep", "{t1}", "--vary", "budget.total_cny=1,2", "-o", "{t1}/x"], "cannot write"),
    ],
)
def test_bad_options_exit_2_with_a_reason(t1, tmp_path, args, words):
    done = run(*[a.format(t1=t1) for a in args])
    assert done.exit_code == 2, done.output
    assert words in done.output and "Traceback" not in done.output

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


# --- what-if changes (--set) and relative --vary -----------------------------------------------


def test_plan_with_linked_sets_is_the_hand_edited_plan(t1, tmp_path):
    done = run(
        "plan",
        t1,
        "-f",
        "json",
        "--set",
        "budget.total_cny*=0.9",
        "--set",
        "channels[search].max_spend_cny-=10",
    )
    assert done.exit_code == 0, done.output
    changed = json.loads(done.stdout)
    # budget 90, search up to 50: 6 x 50 + 4 x 40 = 460
    assert changed["total"]["gmv_cny"] == pytest.approx(460.0, rel=1e-9)
    hand = tmp_path / "hand.yaml"
    text = T1.replace("total_cny: 100", "total_cny: 90").replace(
        "max_spend_cny: 60", "max_spend_cny: 50"
    )
    hand.write_text(text, encoding="utf-8")
    by_hand = json.loads(run("plan", hand, "-f", "json").stdout)
    assert by_hand["fingerprint"] == changed["fingerprint"]
    assert by_hand["total"]["gmv_cny"] == changed["total"]["gmv_cny"]
    base = json.loads(run("plan", t1, "-f", "json").stdout)
    assert base["fingerprint"] != changed["fingerprint"]


def test_every_roas_scaled_and_a_channel_switched_off(t1):
    done = run("plan", t1, "-f", "json", "--set", "channels[*].response.roas*=1.5")
    assert json.loads(done.stdout)["total"]["gmv_cny"] == pytest.approx(1.5 * t1_gmv(100), rel=1e-9)
    off = run("plan", t1, "-f", "json", "--set", "channels[search].max_spend_cny=0")
    plan = json.loads(off.stdout)
    assert plan["by_channel"]["search"]["spend_cny"] == pytest.approx(0.0, abs=1e-9)
    assert plan["total"]["gmv_cny"] == pytest.approx(400.0, rel=1e-9)


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("channels[tv].max_spend_cny=0", "no item 'tv' in channels; known: search, kol"),
        ("channels[*].groups*=2", "cannot scale channels[search].groups"),
        ("name*=2", "cannot scale name: it is text"),
        ("budget.total_cny=-1", "expected a number greater than 0"),
        ("budget.total_cny", "expected PATH=VALUES"),
        ("objective.kind*=max_gmv", "scale needs a number"),
    ],
)
def test_a_bad_set_exits_2_naming_the_option(t1, option, words):
    done = run("plan", t1, "--set", option)
    assert done.exit_code == 2
    assert f"--set {option}: " in done.stderr and words in done.stderr
    assert done.stdout == ""


def test_evaluate_takes_sets(t1, tmp_path):
    split = tmp_path / "split.csv"
    split.write_text("unit,period,spend_cny\nsearch,Y,60\nkol,Y,40\n", encoding="utf-8")
    done = run(
        "evaluate",
        t1,
        "--allocation",
        split,
        "-f",
        "json",
        "--set",
        "channels[kol].response.roas+=1",
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["total"]["gmv_cny"] == pytest.approx(6 * 60 + 5 * 40, rel=1e-9)


def test_a_relative_sweep_is_the_absolute_sweep(t1):
    relative = run("sweep", t1, "--vary", "budget.total_cny*=0.5:1.5:3", "-f", "json")
    absolute = run("sweep", t1, "--vary", "budget.total_cny=50,100,150", "-f", "json")
    assert relative.exit_code == absolute.exit_code == 0, relative.output
    rel, ab = json.loads(relative.stdout), json.loads(absolute.stdout)
    assert rel["varies"][0] == {
        "path": "budget.total_cny",
        "values": [0.5, 1.0, 1.5],
        "op": "scale",
    }
    assert [p["metrics"]["gmv_cny"] for p in rel["points"]] == pytest.approx(
        [t1_gmv(b) for b in (50, 100, 150)], rel=1e-9
    )
    assert [p["metrics"] for p in rel["points"]] == [p["metrics"] for p in ab["points"]]
    shifted = run(
        "sweep",
        t1,
        "--set",
        "budget.total_cny=50",
        "--vary",
        "budget.total_cny-=0,-50",
        "-f",
        "csv",
    )
    assert [float(r["gmv_cny"]) for r in csv_rows(shifted.stdout)] == pytest.approx(
        [t1_gmv(50), t1_gmv(100)]
    )

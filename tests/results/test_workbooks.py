"""Workbooks finance prints: formats, frozen headers, widths for Chinese names, print set-up,
the reason on every row without a plan, and comparisons labelled by name. Read back with
openpyxl, as Excel would open them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import linear, scenario
from openpyxl import load_workbook

from optimizer.analysis.compare import side_by_side
from optimizer.outputs.comparison import comparison_rows
from optimizer.outputs.excel import (
    COUNT,
    GAP,
    MONEY,
    PERCENT,
    RATIO,
    display_width,
    tables_xlsx,
    to_xlsx,
)
from optimizer.planner import plan as solve
from optimizer.schema.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))


def two_channels(budget: float = 1_000_000, **fields) -> Scenario:
    """ROAS 5 on live up to 400k, ROAS 3 on search: 3,800,000 GMV on 1M, by hand."""
    live = linear("live", 5.0, cap=400_000, name="自营直播 (live)")
    search = linear("search", 3.0, name="品牌关键词搜索 (search)")
    return scenario([live, search], budget=budget, mode="spend_all", **fields)


def plan(s: Scenario):
    """The LP route: it proves its gap (auto takes SLSQP for these linear curves)."""
    return solve(s, solver="lp")


def book(content: bytes):
    return load_workbook(io.BytesIO(content))


def by_label(sheet) -> dict[str, object]:
    return {row[0].value: row[1] for row in sheet.iter_rows() if row[0].value}


def test_plan_workbook_reads_as_money_ratios_and_counts():
    found = plan(two_channels())
    workbook = book(to_xlsx(found))
    summary = by_label(workbook["Summary"])
    assert summary["GMV (CNY)"].value == pytest.approx(3_800_000, rel=1e-9)
    assert summary["GMV (CNY)"].number_format == MONEY
    assert summary["ROAS"].value == pytest.approx(3.8, rel=1e-9)
    assert summary["ROAS"].number_format == RATIO
    assert summary["new customers"].number_format == COUNT
    assert found.solver is not None and found.solver.gap is not None
    assert summary["proven gap"].number_format == GAP
    assert "why there is no plan" not in summary
    allocation = workbook["Allocation"]
    rows = {r[0].value: r for r in allocation.iter_rows(min_row=2)}
    assert rows["live"][2].value == pytest.approx(400_000, rel=1e-9)
    assert rows["total"][-1].value == pytest.approx(1_000_000, rel=1e-9)  # the budget, by hand
    assert rows["total"][-1].font.bold and rows["live"][2].number_format == MONEY
    assert allocation.freeze_panes == "C2"


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_repeated():
    workbook = book(to_xlsx(plan(two_channels())))
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    for title in ("Allocation", "Metrics", "Rules"):
        assert workbook[title].print_title_rows == "$1:$1", title
        assert workbook[title].freeze_panes is not None, title


def test_chinese_names_get_columns_wide_enough():
    workbook = book(to_xlsx(plan(two_channels())))
    allocation = workbook["Allocation"]
    name = "品牌关键词搜索 (search)"
    assert display_width(name) == 7 * 2 + 9  # seven wide characters, nine narrow ones
    assert allocation.column_dimensions["B"].width >= display_width(name)
    metrics = workbook["Metrics"]
    header = [c.value for c in metrics[1]]
    names = [r[header.index("name")].value for r in metrics.iter_rows(min_row=2)]
    assert name in names  # the Metrics sheet names its channels too


def test_rules_read_in_their_own_units():
    roas = {"id": "floor", "kind": "roas_floor", "min_roas": 3.5}  # 3.8 reached, by hand
    workbook = book(to_xlsx(plan(two_channels(rules=[roas]))))
    rules = workbook["Rules"]
    header = [c.value for c in rules[1]]
    formats = {
        r[0].value: (r[header.index("value")].number_format, r[header.index("limit")].value)
        for r in rules.iter_rows(min_row=2)
    }
    assert formats["floor"] == (RATIO, 3.5)
    assert formats["budget"][0] == MONEY


def test_a_plan_without_allocation_says_why_on_every_sheet():
    floor = {"id": "floor", "kind": "roas_floor", "min_roas": 6.0}  # the best is 3.8
    found = plan(two_channels(rules=[floor]))
    assert found.total is None
    workbook = book(to_xlsx(found))
    reason = by_label(workbook["Summary"])["why there is no plan"].value
    assert reason and found.message.split(":")[0] in reason
    allocation_text = [c.value for row in workbook["Allocation"].iter_rows() for c in row]
    assert reason in allocation_text


def test_comparison_sheet_formats_each_row_by_its_metric():
    low, high = plan(two_channels()), plan(two_channels(budget=1_500_000))
    data = side_by_side([low, high], ["一月 plan", "二月 plan"])
    workbook = book(tables_xlsx({"compare": comparison_rows(data), "plans": data["plans"]}))
    sheet = workbook["compare"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["level", "key", "metric", "一月 plan", "二月 plan"]
    rows = {(r[0].value, r[2].value): r for r in sheet.iter_rows(min_row=2)}
    gmv = rows[("total", "gmv_cny")]
    assert gmv[4].value == pytest.approx(5_300_000, rel=1e-9)  # + 500k at ROAS 3
    assert gmv[header.index("delta:二月 plan")].value == pytest.approx(1_500_000, rel=1e-9)
    assert gmv[3].number_format == MONEY
    assert rows[("total", "roas")][3].number_format == RATIO
    assert rows[("total", "new_customers")][3].number_format == COUNT
    assert sheet.freeze_panes == "A2" and sheet.print_title_rows == "$1:$1"


def test_shares_read_as_percentages():
    workbook = book(tables_xlsx({"t": [{"self_live_share": 0.45, "gap": 2e-12}]}))
    sheet = workbook["t"]
    assert sheet["A2"].number_format == PERCENT
    assert sheet["B2"].number_format == GAP


def test_batch_summary_gives_a_reason_on_rows_without_a_plan(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text((ROOT / "scenarios/annual_2026.yaml").read_text(encoding="utf-8"))
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: '1'\nname: broken\nperiods: [Y]\n", encoding="utf-8")
    infeasible = tmp_path / "infeasible.yaml"
    infeasible.write_text(
        (ROOT / "scenarios/infeasible_2026.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    done = subprocess.run(
        [BUDGETOPT, "batch", str(tmp_path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr  # some files have no plan
    summary = load_workbook(tmp_path / "out/summary.xlsx")["Summary"]
    header = [c.value for c in summary[1]]
    rows = {Path(r[0].value).name: r for r in summary.iter_rows(min_row=2)}
    reason = header.index("reason")
    assert rows["good.yaml"][reason].value is None
    assert "channels" in rows["broken.yaml"][reason].value  # the missing field, named
    assert rows["infeasible.yaml"][reason].value  # the solver's verdict and diagnosis
    gmv = rows["good.yaml"][header.index("gmv_cny")]
    assert gmv.number_format == MONEY and gmv.value > 5e8
    assert rows["good.yaml"][header.index("objective_value")].number_format == MONEY
    assert summary.freeze_panes == "B2" and summary.page_setup.orientation == "landscape"


def test_labels_are_unique_and_never_a_column_of_the_table():
    from optimizer.analysis.compare import unique_labels

    assert unique_labels(["a v1", "a v1", "a v1 (2)"]) == ["a v1", "a v1 (2)", "a v1 (2) (2)"]
    assert unique_labels(["metric", "key"]) == ["metric (2)", "key (2)"]


def test_text_that_looks_like_a_formula_stays_text():
    workbook = book(tables_xlsx({"t": [{"=HYPERLINK(1)": "=1+1", "cac_cny": 34.994}]}))
    sheet = workbook["t"]
    assert sheet["A1"].value == "=HYPERLINK(1)" and sheet["A1"].data_type == "s"
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].number_format == '"¥"#,##0.00'  # CAC keeps its fen

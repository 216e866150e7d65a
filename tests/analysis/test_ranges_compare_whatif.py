"""Ranges carried into comparisons and what-if points: each plan's own bands, deltas to the
baseline, and nothing added where no plan has draws."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from ranges_helpers import annual_doc, ranged_plan, ranged_scenario

from optimizer.analysis.compare import side_by_side
from optimizer.analysis.whatif import sweep
from optimizer.outputs.comparison import comparison_rows, comparison_table
from optimizer.outputs.excel import MONEY, PER_HEAD, RATIO, tables_xlsx
from optimizer.outputs.text import money
from optimizer.outputs.whatif_rows import sweep_rows, to_csv_text, to_table_text
from optimizer.planner import plan as solve
from optimizer.results.whatif import Vary, from_json_data, to_json_data
from optimizer.schema.scenario import Scenario


@pytest.fixture(scope="module")
def plain():
    """The annual example as given: no draws."""
    return solve(Scenario.model_validate(annual_doc()))


def test_compare_shows_each_plans_bands_beside_its_metrics(plain):
    ranged = ranged_plan()
    data = side_by_side([plain, ranged], ["plain", "ranged"])
    total = ranged.ranges["total"]
    assert data["total"]["gmv_p10_cny"]["values"] == [None, total["gmv_cny"]["p10"]]
    assert data["total"]["roas_p90"]["values"] == [None, total["roas"]["p90"]]
    assert data["total"]["gmv_p10_cny"]["delta"] == [None, None]  # the baseline has none
    launches = ranged.ranges["by_channel"]["launches"]["gmv_cny"]
    assert data["by_channel"]["launches"]["gmv_p90_cny"]["values"][1] == launches["p90"]
    q3 = ranged.ranges["by_period"]["Q3"]["gmv_cny"]
    assert data["by_period"]["Q3"]["gmv_p50_cny"]["values"][1] == q3["p50"]
    assert [p["draws"] for p in data["plans"]] == [None, 200]
    text = comparison_table(data)
    assert "ranges over 200 draws" in text
    assert money(total["gmv_cny"]["p10"]) in text and money(launches["p10"]) in text
    lines = text.splitlines()
    assert any(line.startswith("│ launches ") and "gmv_p10_cny" in line for line in lines)
    assert not any(line.startswith("│ live_traffic ") and "gmv_p10" in line for line in lines)
    rows = comparison_rows(data)
    read = list(csv.DictReader(io.StringIO(to_csv_text(rows).removeprefix("\ufeff"))))
    p10 = next(r for r in read if r["level"] == "total" and r["metric"] == "gmv_p10_cny")
    assert p10["plain"] == "" and float(p10["ranged"]) == pytest.approx(total["gmv_cny"]["p10"])
    sheet = load_workbook(io.BytesIO(tables_xlsx({"compare": rows})))["compare"]
    formats = {(r[0].value, r[2].value): r[4].number_format for r in sheet.iter_rows(min_row=2)}
    assert formats[("total", "gmv_p10_cny")] == MONEY
    assert formats[("total", "roas_p10")] == RATIO
    assert formats[("total", "cac_p90_cny")] == PER_HEAD


def test_two_ranged_plans_compare_their_bands_with_deltas():
    ranged = ranged_plan()
    data = side_by_side([ranged, ranged], ["a", "b"])
    assert data["total"]["gmv_p50_cny"]["delta"] == [0.0, 0.0]


def test_compare_without_draws_adds_nothing(plain):
    data = side_by_side([plain, plain], ["a", "b"])
    assert "gmv_p10_cny" not in data["total"] and "draws" not in data["plans"][0]


def test_sweep_points_carry_their_plans_bands():
    budgets = (120e6, 135e6)
    found = sweep(ranged_scenario(spend_max_cny=2e6), [Vary("budget.total_cny", budgets)])
    same = ranged_plan()  # the 135M point is this plan
    point = found.points[1]
    total = same.ranges["total"]
    assert point.metrics["gmv_p10_cny"] == pytest.approx(total["gmv_cny"]["p10"], rel=1e-9)
    assert point.metrics["gmv_p90_cny"] == pytest.approx(total["gmv_cny"]["p90"], rel=1e-9)
    assert point.metrics["roas_p10"] == pytest.approx(total["roas"]["p10"], rel=1e-9)
    low = found.points[0].metrics
    assert (
        low["gmv_p10_cny"] < low["gmv_p50_cny"] < low["gmv_p90_cny"] < point.metrics["gmv_p90_cny"]
    )
    rows = sweep_rows(found)
    text = to_table_text("sweep", rows, ["budget.total_cny"])
    assert "GMV P10-P90" in text
    band = f"{money(total['gmv_cny']['p10'])}-{money(total['gmv_cny']['p90'])}"
    assert band in text
    assert "gmv_p10_cny" in to_csv_text(rows).splitlines()[0]
    again = from_json_data("sweep", to_json_data(found))  # a stored job's result
    assert again.points[1].metrics["gmv_p90_cny"] == point.metrics["gmv_p90_cny"]


def test_sweep_without_draws_has_no_band_columns():
    doc = annual_doc()
    found = sweep(Scenario.model_validate(doc), [Vary("budget.total_cny", (135e6,))])
    rows = sweep_rows(found)
    assert "gmv_p10_cny" not in rows[0]
    assert "P10" not in to_table_text("sweep", rows, ["budget.total_cny"])

"""A plan's ranges in the table, the CSV and the workbook: the same numbers as ``plan.ranges``,
and nothing of them for a plan without draws."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from ranges_helpers import annual_doc, ranged_plan

from optimizer.outputs.excel import MONEY, PER_HEAD, PERCENT, RATIO, to_xlsx
from optimizer.outputs.ranges import odds_text
from optimizer.outputs.text import CSV_COLUMNS, money, to_csv, to_table
from optimizer.planner import plan as solve
from optimizer.schema.scenario import Scenario


@pytest.fixture(scope="module")
def plain():
    """The annual example as given: no draws."""
    return solve(Scenario.model_validate(annual_doc()))


def test_table_shows_the_bands_the_odds_and_the_warning():
    found = ranged_plan()
    text = to_table(found)
    total = found.ranges["total"]
    assert "Ranges over 200 draws" in text
    gmv_line = next(line for line in text.splitlines() if line.startswith("│ GMV "))
    for p in ("p10", "p50", "p90"):
        assert money(total["gmv_cny"][p]) in gmv_line
    assert f"{total['cac_cny']['p90']:.2f}" in text
    assert money(total["gross_profit_cny"]["p10"]) in text
    odds = {r["name"]: r["probability"] for r in found.ranges["rules"]}
    sentence = (
        f"cac_ceiling: CAC of all channels (acquisition channels) <= 35 CNY holds in "
        f"{odds_text(odds['cac_ceiling'])} of draws"
    )
    assert sentence in text and "%" in odds_text(odds["cac_ceiling"])
    assert "other rule(s) do not depend on the draws" in text  # budget, launch caps: steady
    launches = found.ranges["by_channel"]["launches"]["gmv_cny"]
    rows = [line for line in text.splitlines() if line.startswith("│ launches ")]
    assert f"{money(launches['p10'])}-{money(launches['p90'])}" in rows[1]  # by channel
    assert "Warnings" in text and "extrapolation" in text


def test_odds_are_never_rounded_to_a_certainty():
    assert [odds_text(p) for p in (1.0, 0.999, 0.83, 0.004, 0.0)] == [
        "100%",
        ">99%",
        "83%",
        "<1%",
        "0%",
    ]


def test_csv_carries_the_bands_of_channels_periods_and_the_total():
    found = ranged_plan()
    rows = list(csv.DictReader(io.StringIO(to_csv(found).removeprefix("\ufeff"))))
    total = next(r for r in rows if r["level"] == "total")
    assert float(total["gmv_p10_cny"]) == pytest.approx(found.ranges["total"]["gmv_cny"]["p10"])
    assert float(total["cac_p90_cny"]) == pytest.approx(found.ranges["total"]["cac_cny"]["p90"])
    launches = next(r for r in rows if r["level"] == "channel" and r["channel"] == "launches")
    band = found.ranges["by_channel"]["launches"]
    assert float(launches["gmv_p90_cny"]) == pytest.approx(band["gmv_cny"]["p90"])
    assert float(launches["roas_p10"]) == pytest.approx(band["roas"]["p10"])
    q3 = next(r for r in rows if r["level"] == "period" and r["period"] == "Q3")
    assert float(q3["gmv_p50_cny"]) == pytest.approx(
        found.ranges["by_period"]["Q3"]["gmv_cny"]["p50"]
    )
    assert q3["roas_p10"] == ""  # periods have GMV bands only
    cell = next(r for r in rows if r["level"] == "unit_period")
    assert cell["gmv_p10_cny"] == ""


def test_a_plan_without_draws_shows_no_ranges(plain):
    assert plain.ranges is None
    assert "Ranges over" not in to_table(plain) and "P10" not in to_table(plain)
    header = to_csv(plain).removeprefix("\ufeff").splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)  # the CSV as before
    assert "Ranges" not in load_workbook(io.BytesIO(to_xlsx(plain))).sheetnames


def test_workbook_ranges_sheet_holds_numbers_in_their_formats():
    found = ranged_plan()
    book = load_workbook(io.BytesIO(to_xlsx(found)))
    sheet = book["Ranges"]
    rows = {r[0].value: r for r in sheet.iter_rows() if r[0].value}
    assert sheet["A1"].value == "total over 200 draws"
    gmv = rows["GMV (CNY)"]
    assert [c.value for c in gmv[1:4]] == pytest.approx(
        [found.ranges["total"]["gmv_cny"][p] for p in ("p10", "p50", "p90")]
    )
    assert gmv[1].number_format == MONEY and rows["ROAS"][1].number_format == RATIO
    assert rows["CAC (CNY)"][3].number_format == PER_HEAD
    launches = rows["launches"]
    band = found.ranges["by_channel"]["launches"]
    assert launches[2].value == pytest.approx(band["gmv_cny"]["p10"])
    assert launches[6].value == pytest.approx(band["roas"]["p10"])
    assert launches[6].number_format == RATIO
    assert rows["Q3"][3].value == pytest.approx(found.ranges["by_period"]["Q3"]["gmv_cny"]["p90"])
    odds = {r["name"]: r["probability"] for r in found.ranges["rules"]}
    cac = rows["cac_ceiling"]
    assert cac[2].value == pytest.approx(odds["cac_ceiling"]) and cac[2].number_format == PERCENT
    assert isinstance(cac[3].value, float) and cac[3].number_format == PER_HEAD
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows() if r[0].value}
    assert "extrapolation" in summary["warnings"]
    metrics = book["Metrics"]
    assert "gmv_p10_cny" in [c.value for c in metrics[1]]

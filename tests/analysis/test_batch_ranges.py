"""The batch summary's range columns: the plan's own bands, empty for a scenario without draws."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from ranges_helpers import annual_doc, with_draws, write_yaml
from test_batch import variant

from optimizer.analysis.batch import SUMMARY_COLUMNS, BatchOptions, run_file, write_summary_csv
from optimizer.outputs.excel import MONEY, PERCENT, batch_xlsx

BEFORE = [
    "file",
    "name",
    "fingerprint",
    "status",
    "feasible",
    "objective_kind",
    "objective_value",
    "budget_total_cny",
    "spend_cny",
    "gmv_cny",
    "roas",
    "cac_cny",
    "new_customers",
    "gross_profit_cny",
    "solver",
    "gap",
    "result",
    "error",
    "reason",
]
ADDED = [
    "gmv_p10_cny",
    "gmv_p50_cny",
    "gmv_p90_cny",
    "roas_p10",
    "roas_p90",
    "cac_p90_cny",
    "profit_p10_cny",
    "weakest_rule",
    "weakest_rule_probability",
]


def test_summary_appends_the_range_columns_after_the_old_ones():
    assert list(SUMMARY_COLUMNS) == BEFORE + ADDED


def test_summary_rows_carry_the_plans_bands_and_its_weakest_rule(tmp_path: Path):
    ranged = write_yaml(with_draws(annual_doc()), tmp_path / "ranged.yaml")
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(variant(1)))
    out = tmp_path / "out"
    rows = [run_file(str(path), str(out), BatchOptions()) for path in (ranged, plain)]
    write_summary_csv(rows, out / "summary.csv")
    with (out / "summary.csv").open(encoding="utf-8-sig") as handle:
        read = {Path(r["file"]).name: r for r in csv.DictReader(handle)}
    stored = json.loads((out / read["ranged.yaml"]["result"]).read_text(encoding="utf-8"))
    total = stored["ranges"]["total"]
    row = read["ranged.yaml"]
    assert float(row["gmv_p10_cny"]) == pytest.approx(total["gmv_cny"]["p10"], rel=1e-6)
    assert float(row["gmv_p50_cny"]) == pytest.approx(total["gmv_cny"]["p50"], rel=1e-6)
    assert float(row["gmv_p90_cny"]) == pytest.approx(total["gmv_cny"]["p90"], rel=1e-6)
    assert float(row["roas_p10"]) == pytest.approx(total["roas"]["p10"], rel=1e-6)
    assert float(row["roas_p90"]) == pytest.approx(total["roas"]["p90"], rel=1e-6)
    assert float(row["cac_p90_cny"]) == pytest.approx(total["cac_cny"]["p90"], rel=1e-6)
    assert float(row["profit_p10_cny"]) == pytest.approx(total["gross_profit_cny"]["p10"], rel=1e-6)
    least = min(r["probability"] for r in stored["ranges"]["rules"])
    assert float(row["weakest_rule_probability"]) == pytest.approx(least)
    weakest = [r for r in stored["ranges"]["rules"] if r["name"] == row["weakest_rule"]]
    assert weakest and weakest[0]["probability"] == least < 1.0
    assert all(read["plain.json"][c] == "" for c in ADDED)  # no draws: empty
    assert read["plain.json"]["gmv_cny"] != ""
    book = load_workbook(io.BytesIO(batch_xlsx(rows, SUMMARY_COLUMNS, {}, {})))
    sheet = book["Summary"]
    header = [c.value for c in sheet[1]]
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value.endswith("ranged.yaml"))
    assert cells[header.index("gmv_p10_cny")].number_format == MONEY
    assert cells[header.index("weakest_rule_probability")].number_format == PERCENT

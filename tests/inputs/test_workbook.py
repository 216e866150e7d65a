"""Excel input workbooks: round trips, the committed template, the CLI, and clear errors.

Broken workbooks are made by editing a written template with openpyxl; every error must name
the sheet and cell (``Channels!N3``) and the field (``channels[1].cpm.base_cny``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner, Result

import optimizer.inputs.workbook.tables as workbook_tables
from optimizer.cli.main import app
from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario
from optimizer.inputs.workbook import load_workbook_scenario, read_workbook, write_template
from optimizer.schema.scenario import Scenario

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml"))
ANNUAL = ROOT / "scenarios" / "annual_2026.yaml"
TEMPLATE = ROOT / "scenarios" / "template.xlsx"

Edit = Callable[[openpyxl.Workbook], object]

# Every channel kind and curve type, per-period lists and single numbers, every rule kind,
# text that looks like a formula and period names Excel would turn into dates.
EVERY_FIELD = """\
version: "1"
name: 全字段 · every field
description: "=starts like a formula, stays text"
tags: [a, b]
periods: ["2026-01", "2026-02", "2026-03"]
seasonality: 1.1
budget: {total_cny: 1000000, mode: spend_all, contingency_cny: 1000, commission_in_budget: true}
accounting: {spend_basis: media_plus_commission, gross_margin: 0.4}
objective: {kind: max_profit, gmv_target_cny: 500000}
settings: {solver: cbc, tolerance: 0.001, time_limit_s: 30}
fixed_costs: [{id: it, name: 系统, amount_cny: 500}]
channels:
  - id: search
    kind: paid
    groups: [media, brand]
    min_spend_cny: 10
    max_spend_cny: 500000
    period_min_spend_cny: [0, 5, 0]
    period_max_spend_cny: 300000
    seasonality: [1.0, 0.9, 1.2]
    counts_toward_cac: true
    min_spend_if_used_cny: 100
    activation_cost_cny: 50
    cpm: {base_cny: 40, trend: {type: linear, rate_per_period: 0.02}}
    ctr: 0.02
    cvr: 0.03
    aov_cny: 200
    new_customer_share: 0.4
    saturation: {type: piecewise, points: [[0, 0], [1000, 3000], [5000.5, 9000]]}
  - id: feed
    kind: paid
    cpm: {base_cny: 20, trend: {type: index, values: [1, 1.25, 0.8]}}
    ctr: 0.01
    cvr: 0.02
    aov_cny: 99.9
    saturation: {type: hill, half_saturation_cny: 20000, shape: 1.5}
  - id: kol
    kind: kol
    locked_spend_cny: 20000
    tiers:
      - id: head
        name: 头部
        commission_rate: 0.2
        fee_roas: 3
        aov_cny: 150
        new_customer_share: 0.7
        capacity_fee_cny: [1000, 2000, 3000]
        saturation: {type: linear}
      - id: tail
        commission_rate: 0.1
        fee_roas: 2
        aov_cny: 80
        capacity_fee_cny: 5000
        saturation: {type: exponential, scale_cny: 4000}
  - id: members
    kind: private_domain
    members: 10000
    cost_per_reach_cny: 0.5
    repurchase_rate: 0.3
    orders_per_buyer: 1.5
    aov_cny: 180
    new_customer_share: 0.05
  - id: mmm
    kind: curve
    response: {type: piecewise, points: [[0, 0], [100, 400], [1000, 2000]]}
    aov_cny: 100
  - id: fitted
    kind: curve
    response: {type: exponential, max_gmv_cny: 1000000, scale_cny: 100000}
    aov_cny: 100
  - id: lin
    kind: curve
    response: {type: linear, roas: 2.5}
    aov_cny: 100
rules:
  - {kind: roas_floor, min_roas: 2}
  - {id: cac, kind: cac_ceiling, max_cac_cny: 50, channels: [search, feed]}
  - {id: comm, kind: commission_cap, max_rate: 0.2, max_total_cny: 10000}
  - {id: share, kind: gmv_share, groups: [media], min_share: 0.1, max_share: 0.9}
  - {id: cap, kind: spend_limit, periods: ["2026-02"], max_cny: 400000, min_cny: 1}
  - {id: ramp, kind: ramp_limit, max_change: 0.5, allowance_cny: 1000}
"""

runner = CliRunner()


def save(tmp_path: Path, scenario: Scenario, name: str = "s.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(write_template(scenario))
    return path


def edited(tmp_path: Path, *edits: Edit, name: str = "edited.xlsx") -> Path:
    """The committed template with some cells changed, saved as a new workbook."""
    book = openpyxl.load_workbook(TEMPLATE)
    for edit in edits:
        edit(book)
    path = tmp_path / name
    book.save(path)
    return path


def letter(book: openpyxl.Workbook, sheet: str, header: str) -> str:
    """The column letter of a header on row 1."""
    for cell in book[sheet][1]:
        if cell.value == header:
            return cell.column_letter
    raise KeyError(header)


def field_row(book: openpyxl.Workbook, field: str) -> int:
    return next(r[0].row for r in book["Scenario"].iter_rows(min_row=2) if r[0].value == field)


def set_field(field: str, value: object) -> Edit:
    return lambda book: setattr(book["Scenario"][f"B{field_row(book, field)}"], "value", value)


def set_cell(sheet: str, header: str, row: int, value: object) -> Edit:
    return lambda book: setattr(book[sheet][f"{letter(book, sheet, header)}{row}"], "value", value)


def problems(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_workbook_scenario(path)
    return str(caught.value)


def template_book() -> openpyxl.Workbook:
    return openpyxl.load_workbook(TEMPLATE)


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_round_trips(tmp_path: Path, path: Path) -> None:
    scenario = load_scenario(path)
    assert load_workbook_scenario(save(tmp_path, scenario)).model_dump() == scenario.model_dump()


def test_every_kind_of_field_round_trips(tmp_path: Path) -> None:
    scenario = Scenario.model_validate(yaml.safe_load(EVERY_FIELD))
    back = load_workbook_scenario(save(tmp_path, scenario))
    assert back.model_dump() == scenario.model_dump()


def test_template_is_the_annual_example() -> None:
    assert load_scenario(TEMPLATE).model_dump() == load_scenario(ANNUAL).model_dump()


def test_writing_is_deterministic() -> None:
    scenario = load_scenario(ANNUAL)
    raw = write_template(scenario)
    assert write_template(scenario) == raw
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 1, 0, 0, 0)}
        assert b"2026-01-01T00:00:00Z" in archive.read("docProps/core.xml")


def test_layout_is_table_shaped_with_help() -> None:
    book = template_book()
    sheets = ["Help", "Scenario", "Periods", "Channels", "KolTiers", "Rules", "FixedCosts"]
    assert book.sheetnames == sheets
    assert [c.value for c in book["Scenario"][1]] == ["field", "value", "description"]
    assert book["Scenario"]["A1"].font.bold
    assert book["Channels"].freeze_panes == "B2"
    periods = [c.value for c in book["Periods"][1]]
    assert periods[:3] == ["period", "seasonality", "live_traffic.cpm.trend.values"]
    assert "kol.head.capacity_fee_cny" in periods
    assert [book["Periods"][f"A{r}"].value for r in range(2, 6)] == ["Q1", "Q2", "Q3", "Q4"]
    channels = [c.value for c in book["Channels"][1]]
    assert channels[:4] == ["id", "kind", "name", "groups"]
    assert "saturation.points" in channels and "cpm.trend.values" not in channels
    help_rows = {(r[0], r[1]): r[2] for r in book["Help"].iter_rows(values_only=True)}
    assert "Total marketing budget" in help_rows["Scenario", "budget.total_cny"]
    assert "Only for kind paid" in help_rows["Channels", "ctr"]


def test_read_workbook_names_the_cell_of_each_field() -> None:
    book = template_book()
    data, cells = read_workbook(TEMPLATE)
    assert data["budget"]["total_cny"] == 135_000_000
    assert data["channels"][0]["groups"] == ["self_live"]
    assert data["channels"][0]["cpm"]["trend"]["values"] == [1, 1.14, 1.28, 1.42]
    row = field_row(book, "budget.total_cny")
    assert cells[("budget", "total_cny")] == f"Scenario!B{row}"
    base = letter(book, "Channels", "cpm.base_cny")
    assert cells[("channels", 1, "cpm", "base_cny")] == f"Channels!{base}3"
    assert cells[("channels", 2, "tiers", 0, "capacity_fee_cny", 3)].startswith("Periods!")
    assert cells[("channels", 1)] == "Channels row 3"


def test_cells_are_trimmed_and_lists_split_on_any_comma(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        set_cell("Channels", "groups", 5, " self_live，extra、more , "),
        set_cell("Rules", "groups", 4, "self_live"),
        set_field("name", "  padded name  "),
        set_field("budget.total_cny", " 135000000 "),
    )
    scenario = load_workbook_scenario(path)
    assert scenario.name == "padded name"
    assert scenario.channels[3].groups == ["self_live", "extra", "more"]


def test_note_columns_and_other_sheets_are_not_read(tmp_path: Path) -> None:
    def notes(book: openpyxl.Workbook) -> None:
        book["Channels"]["AZ1"] = "# comment"
        book["Channels"]["AZ3"] = "checked with finance"
        book["Channels"]["AZ20"] = "a row with a note only"
        book.create_sheet("Notes")["A1"] = "anything"

    assert load_workbook_scenario(edited(tmp_path, notes)) == load_scenario(ANNUAL)


# --- the command line -------------------------------------------------------------------------


def gmv(*args: str) -> float:
    result = runner.invoke(app, ["plan", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["total"]["gmv_cny"]


def test_plan_the_template_through_the_cli() -> None:
    assert gmv(str(TEMPLATE)) == pytest.approx(gmv(str(ANNUAL)), rel=1e-9)


def test_cli_rejects_a_broken_workbook_with_exit_2(tmp_path: Path) -> None:
    path = edited(tmp_path, set_field("budget.total_cny", "abc"), name="broken.xlsx")
    result: Result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    row = field_row(template_book(), "budget.total_cny")
    assert f"Scenario!B{row} (budget.total_cny): expected a number, got 'abc'" in result.stderr


# --- errors: sheet, cell and field --------------------------------------------------------------


def test_text_in_a_number_cell(tmp_path: Path) -> None:
    row = field_row(template_book(), "budget.total_cny")
    text = problems(edited(tmp_path, set_field("budget.total_cny", "abc")))
    assert f"Scenario!B{row} (budget.total_cny): expected a number, got 'abc'" in text


def test_negative_value(tmp_path: Path) -> None:
    base = letter(template_book(), "Channels", "cpm.base_cny")
    text = problems(edited(tmp_path, set_cell("Channels", "cpm.base_cny", 3, -5)))
    assert f"Channels!{base}3 (channels[1].cpm.base_cny): expected a number greater than 0" in text
    assert "got -5" in text


def test_unknown_column_header(tmp_path: Path) -> None:
    text = problems(
        edited(tmp_path, lambda book: setattr(book["Channels"]["AZ1"], "value", "ctrr"))
    )
    assert "Channels!AZ1: unknown column 'ctrr' (did you mean 'ctr'?); expected one of: id," in text


def test_repeated_column_header(tmp_path: Path) -> None:
    ctr = letter(template_book(), "Channels", "ctr")
    text = problems(edited(tmp_path, lambda book: setattr(book["Channels"]["AZ1"], "value", "ctr")))
    assert f"Channels!AZ1: column 'ctr' given twice (also Channels!{ctr}1)" in text


def test_unknown_channel_in_a_periods_column(tmp_path: Path) -> None:
    rename = set_cell("Periods", "live_traffic.cpm.trend.values", 1, "live_trafic.seasonality")
    text = problems(edited(tmp_path, rename))
    assert "Periods!C1: unknown column 'live_trafic.seasonality': 'live_trafic' is not a " in text
    assert "(did you mean 'live_traffic'?)" in text


def test_missing_required_sheet(tmp_path: Path) -> None:
    text = problems(edited(tmp_path, lambda book: book.remove(book["Channels"])))
    assert "file: missing sheet(s) Channels; expected sheets Scenario, Periods, Channels" in text


def test_misspelled_optional_sheet(tmp_path: Path) -> None:
    text = problems(edited(tmp_path, lambda book: setattr(book["Rules"], "title", "Rule")))
    assert "Rule: sheet not read: did you mean 'Rules'?" in text


def test_empty_workbook(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    assert "missing sheet(s) Scenario, Periods, Channels" in problems(path)


def test_random_bytes_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "random.xlsx"
    path.write_bytes(os.urandom(4096))
    assert "file: expected an .xlsx workbook, got a file that is not one" in problems(path)


def test_truncated_workbook(tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(TEMPLATE.read_bytes()[:-500])
    assert "file: " in problems(path)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "file: cannot read the workbook" in problems(path)


def test_password_protected_workbook(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"  # an encrypted .xlsx is an OLE file with EncryptionInfo
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    path.write_bytes(ole + bytes(500) + "EncryptionInfo".encode("utf-16-le"))
    assert "password-protected" in problems(path)


def test_old_xls_file(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(ScenarioError, match=r"old-format Excel file \(\.xls\)"):
        load_scenario(path)


def test_excel_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "~$template.xlsx"
    path.write_bytes(b"\x05finance" + bytes(157))
    assert "an Excel lock file, not a workbook" in problems(path)


def test_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_tables, "MAX_FILE_BYTES", 1000)
    assert "file: too large: expected at most 1,000 bytes" in problems(TEMPLATE)


def test_too_many_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_tables, "MAX_ROWS", 5)
    text = problems(edited(tmp_path))
    assert "Channels!A7: too many rows: expected at most 5 below the header" in text


def test_formula_without_a_saved_result(tmp_path: Path) -> None:
    row = field_row(template_book(), "budget.contingency_cny")
    text = problems(edited(tmp_path, set_field("budget.contingency_cny", "=2500000*2")))
    assert f"Scenario!B{row} (budget.contingency_cny): a formula (=2500000*2) with no saved" in text


def test_missing_required_value_names_the_empty_cell(tmp_path: Path) -> None:
    ctr = letter(template_book(), "Channels", "ctr")
    text = problems(edited(tmp_path, set_cell("Channels", "ctr", 3, None)))
    assert f"Channels!{ctr}3 (channels[1].ctr): required field is missing" in text


def test_column_that_does_not_apply_to_the_kind(tmp_path: Path) -> None:
    members = letter(template_book(), "Channels", "members")
    text = problems(edited(tmp_path, set_cell("Channels", "members", 2, 100)))
    assert f"Channels!{members}2 (channels[0].members): 'members' does not apply" in text
    assert "only for kind private_domain, and this row has kind paid" in text


def test_tier_of_a_channel_that_is_not_kol(tmp_path: Path) -> None:
    text = problems(edited(tmp_path, set_cell("KolTiers", "channel", 4, "search")))
    assert "KolTiers!A4: 'search' is a paid channel, not kol; KOL channels: kol" in text


def test_value_given_per_period_and_as_one_number(tmp_path: Path) -> None:
    column = letter(template_book(), "Channels", "period_max_spend_cny")
    text = problems(edited(tmp_path, set_cell("Channels", "period_max_spend_cny", 7, 5)))
    expected = f"given twice: as one number in Channels!{column}7 and per period here"
    assert f"Periods!G1 (channels[5].period_max_spend_cny): {expected}" in text


def test_period_name_turned_into_a_date(tmp_path: Path) -> None:
    text = problems(edited(tmp_path, set_cell("Periods", "period", 3, dt.datetime(2026, 2, 1))))
    assert "Periods!A3 (periods[1]): expected text, got 2026-02-01T00:00:00 (a date)" in text


def test_gap_in_a_periods_column(tmp_path: Path) -> None:
    text = problems(edited(tmp_path, set_cell("Periods", "seasonality", 4, None)))
    assert "Periods!B4 (seasonality[2]): expected a number, got nothing (empty)" in text


def test_unknown_field_on_the_scenario_sheet(tmp_path: Path) -> None:
    def add(book: openpyxl.Workbook) -> None:
        book["Scenario"]["A30"], book["Scenario"]["B30"] = "budget.totl_cny", 5

    text = problems(edited(tmp_path, add))
    assert (
        "Scenario!A30: unknown field 'budget.totl_cny' (did you mean 'budget.total_cny'?)" in text
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = problems(
        edited(
            tmp_path,
            set_field("budget.total_cny", "abc"),
            set_cell("Channels", "ctr", 2, 2),
            set_cell("Rules", "min_roas", 2, -1),
        )
    )
    assert "(budget.total_cny)" in text
    assert "(channels[0].ctr)" in text
    assert "(rules[0].min_roas)" in text

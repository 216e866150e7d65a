"""Writing the input template: a scenario as a Help sheet and one table per part of it.

The bytes depend only on the scenario: the file's dates and the zip entries' times are fixed.
Choice columns get dropdowns; cells of a column that does not apply to a row's kind are grey.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from optimizer.inputs.workbook.columns import (
    CHANNEL_COLUMNS,
    PERIOD,
    SCENARIO_COLUMNS,
    SHEET_COLUMNS,
    TIER_COLUMNS,
    Column,
    channel_series,
    column_help,
    number_text,
    series_columns,
    walk,
)
from optimizer.schema.scenario import Scenario

HELP_SHEET = "Help"
FIXED_TIME = dt.datetime(2026, 1, 1)  # in the file's properties and zip entries: same bytes
FILL_ROWS = 500  # dropdowns and grey-out rules reach this row, for rows finance adds

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_GREY = PatternFill("solid", fgColor="E7E6E6", bgColor="E7E6E6")
_WRAP = Alignment(wrap_text=True, vertical="top")


def write_template(scenario: Scenario) -> bytes:
    """The scenario as an .xlsx input workbook finance can fill in (see its Help sheet)."""
    data = scenario.model_dump(exclude_defaults=True)  # an empty cell is the default
    book = Workbook()
    _help_sheet(book.active)
    _scenario_sheet(book.create_sheet("Scenario"), data)
    _periods_sheet(book.create_sheet("Periods"), data)
    tiers = [
        {"channel": c["id"], **tier} for c in data["channels"] for tier in c.get("tiers") or []
    ]
    rows = {"Channels": data["channels"], "KolTiers": tiers}
    rows |= {"Rules": data.get("rules", []), "FixedCosts": data.get("fixed_costs", [])}
    rows["Windows"] = (data.get("calendar") or {}).get("windows", [])
    for sheet, columns in SHEET_COLUMNS.items():
        _table_sheet(book.create_sheet(sheet), columns, rows[sheet])
    return _save(book)


def _save(book: Workbook) -> bytes:
    """The workbook's bytes, the same for the same content: fixed dates, fixed zip times."""
    book.properties.creator = "budgetopt"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    ExcelWriter(book, _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return buffer.getvalue()


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry FIXED_TIME instead of the time of writing."""

    def writestr(self, name: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(name, str):
            name = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            name.compress_type = zipfile.ZIP_DEFLATED
            name.external_attr = 0o600 << 16
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        with open(filename, "rb") as source:  # openpyxl streams worksheets to temporary files
            self.writestr(str(arcname or Path(filename).name), source.read())


def _help_sheet(sheet: Worksheet) -> None:
    sheet.title = HELP_SHEET
    for row, line in enumerate(_HELP_LINES, start=1):
        sheet.cell(row, 1, line).font = Font(bold=row == 1, size=14 if row == 1 else 11)
    start = len(_HELP_LINES) + 2
    _header(sheet, ["sheet", "column", "description"], row=start)
    for row, (name, column, text) in enumerate(_help_rows(), start=start + 1):
        sheet.cell(row, 1, name)
        sheet.cell(row, 2, column)
        sheet.cell(row, 3, text).alignment = _WRAP
    for letter, width in zip("ABC", (12, 42, 110), strict=True):
        sheet.column_dimensions[letter].width = width


_HELP_LINES = (
    "budgetopt scenario workbook",
    "Fill in the sheets, save, then check and plan the file in a terminal:",
    "    budgetopt validate FILE.xlsx     lists every problem with its sheet, cell and field",
    "    budgetopt plan FILE.xlsx         the best split (add --format xlsx --out plan.xlsx)",
    "    budgetopt batch FOLDER --out DIR every scenario file (.xlsx, .yaml) in a folder",
    "Scenario: one row per setting (field, value); the description column says what it means.",
    "Periods: one row per period, in time order, named in the 'period' column. Other columns "
    "hold one value per period: 'seasonality', '<channel id>.<field>' (e.g. "
    "live_traffic.period_max_spend_cny) or '<channel id>.<tier id>.capacity_fee_cny'.",
    "Channels: one row per channel. Its kind (paid, kol, private_domain, curve) says which "
    "columns apply: grey cells do not apply to the row's kind or type.",
    "KolTiers: one row per influencer tier; 'channel' is the id of its KOL channel.",
    "Rules: one row per rule; its kind says which value columns apply. FixedCosts: one row "
    "per fixed cost. Money is in CNY.",
    "Windows: one row per calendar window (618, 双11, Spring Festival): from and to dates (with "
    "ISO-week periods such as 2026-W23) or its periods; rules' periods may name windows.",
    "An empty cell means 'not given': the default in the table below applies.",
    "A per-period field takes one number for every period on its own sheet, or a Periods "
    "column with one value per period; fill one of the two, not both.",
    "Lists (groups, tags, a rule's channels, groups and periods) are comma-separated text. "
    "Curve points are spend:value pairs separated by ';', e.g. 0:0; 1000000:3000000.",
    "Columns whose header starts with # are not read (use them for notes); nor are sheets "
    "with other names.",
)


def _help_rows() -> Iterator[tuple[str, str, str]]:
    for column in SCENARIO_COLUMNS:
        yield "Scenario", column.name, column_help(column)
    yield "Periods", "period", column_help(PERIOD)
    seasonality = next(c for c in SCENARIO_COLUMNS if c.path == ("seasonality",))
    yield "Periods", "seasonality", column_help(seasonality)
    for column in series_columns(CHANNEL_COLUMNS):
        yield "Periods", f"<channel id>.{column.name}", column_help(column)
    for column in series_columns(TIER_COLUMNS):
        yield "Periods", f"<channel id>.<tier id>.{column.name}", column_help(column)
    for sheet, columns in SHEET_COLUMNS.items():
        for column in columns:
            yield sheet, column.name, column_help(column)


def _header(
    sheet: Worksheet, names: list[str], row: int = 1, notes: list[str] | None = None
) -> None:
    for index, name in enumerate(names, start=1):
        cell = sheet.cell(row, index, name)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        if notes and notes[index - 1]:
            cell.comment = Comment(notes[index - 1], "budgetopt", width=320, height=140)


def _scenario_sheet(sheet: Worksheet, data: dict[str, Any]) -> None:
    _header(sheet, ["field", "value", "description"])
    for row, column in enumerate(SCENARIO_COLUMNS, start=2):
        sheet.cell(row, 1, column.name)
        _write_cell(sheet.cell(row, 2), _cell_out(walk(data, column.path), column), column)
        sheet.cell(row, 2).alignment = Alignment(wrap_text=True, horizontal="left")
        sheet.cell(row, 3, column_help(column)).alignment = _WRAP
        if column.form == "choice":
            _dropdown(sheet, column, f"B{row}")
    for letter, width in zip("ABC", (28, 40, 100), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"


def _periods_sheet(sheet: Worksheet, data: dict[str, Any]) -> None:
    series = list(_period_series(data))
    notes = [column_help(PERIOD), *(column_help(c) for _, c, _ in series)]
    _header(sheet, ["period", *(n for n, _, _ in series)], notes=notes)
    for row, period in enumerate(data["periods"], start=2):
        _write_cell(sheet.cell(row, 1), period, PERIOD)
        for index, (_, column, values) in enumerate(series, start=2):
            _write_cell(sheet.cell(row, index), values[row - 2], column)
    _fit_widths(sheet)
    sheet.freeze_panes = "B2"


def _period_series(data: dict[str, Any]) -> Iterator[tuple[str, Column, list[Any]]]:
    """Every per-period list of the scenario: (Periods header, column, values)."""
    for column in SCENARIO_COLUMNS:
        if isinstance(data.get(column.path[0]), list) and column.form == "per_period":
            yield column.name, column, data[column.path[0]]
    for index, channel in enumerate(data["channels"]):
        for name, (loc, column) in channel_series(index, channel):
            value = walk(data, loc)
            if isinstance(value, list):
                yield f"{channel['id']}.{name}", column, value


def _table_sheet(sheet: Worksheet, columns: list[Column], rows: list[dict[str, Any]]) -> None:
    _header(sheet, [c.name for c in columns], notes=[column_help(c) for c in columns])
    for row, item in enumerate(rows, start=2):
        for index, column in enumerate(columns, start=1):
            value = _cell_out(walk(item, column.path), column)
            _write_cell(sheet.cell(row, index), value, column)
    last = max(FILL_ROWS, len(rows) + 1)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.form == "choice":
            _dropdown(sheet, column, f"{letter}2:{letter}{last}")
        _grey_when_not_applicable(sheet, columns, column, f"{letter}2:{letter}{last}")
    _fit_widths(sheet)
    keys = sum(1 for c in columns if c.path in (("id",), ("channel",)))
    sheet.freeze_panes = f"{get_column_letter(keys + 1)}2"


def _cell_out(value: Any, column: Column) -> Any:
    """What a cell shows for a field's value; lists per period go to the Periods sheet."""
    if value is None or (
        isinstance(value, list) and column.form not in ("ids", "numbers", "points")
    ):
        return None
    if column.form == "ids":
        return ", ".join(value) or None
    if column.form == "numbers":
        return ", ".join(number_text(v) for v in value) or None
    if column.form == "points":
        return "; ".join(f"{number_text(a)}:{number_text(b)}" for a, b in value)
    return value


def _write_cell(cell: Cell, value: Any, column: Column) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    money = column.path[-1].endswith("_cny")
    if money and isinstance(value, int | float) and not isinstance(value, bool):
        cell.number_format = "#,##0" if float(value).is_integer() else "#,##0.00"


def _dropdown(sheet: Worksheet, column: Column, cells: str) -> None:
    choices = ",".join(column.choices)
    check = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
    check.showErrorMessage = True
    check.error = f"Choose one of: {', '.join(column.choices)}"
    sheet.add_data_validation(check)
    check.add(cells)


def _grey_when_not_applicable(
    sheet: Worksheet, columns: list[Column], column: Column, cells: str
) -> None:
    """Grey the cells of a column that does not apply to the row's kind or type."""
    letters = {c.path: get_column_letter(i) for i, c in enumerate(columns, start=1)}
    tests = []
    for path, tags in column.only:
        if path in letters:
            ref = f"${letters[path]}2"
            tests.append("AND(" + ",".join([f'{ref}<>""', *(f'{ref}<>"{t}"' for t in tags)]) + ")")
    if tests:
        rule = FormulaRule(formula=[f"OR({','.join(tests)})"], fill=_GREY)
        sheet.conditional_formatting.add(cells, rule)


def _fit_widths(sheet: Worksheet) -> None:
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                shown = f"{cell.value:,}" if isinstance(cell.value, int | float) else cell.value
                width = _display_width(str(shown))
                widths[cell.column] = max(widths.get(cell.column, 0), width)
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

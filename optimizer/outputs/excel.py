"""Plan -> XLSX workbook for finance: summary, allocation grid, tidy metrics and rules."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.outputs.text import CSV_COLUMNS, csv_rows
from optimizer.results.plan import Plan

MONEY = "#,##0.00"
RATIO = "0.0000"
BOLD = Font(bold=True)


def to_xlsx(plan: Plan, images: Sequence[Path] = ()) -> bytes:
    """The plan as an .xlsx workbook (Summary, Allocation, Metrics, Rules, Charts sheets)."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _summary(summary, plan)
    _allocation(book.create_sheet("Allocation"), plan)
    _metrics(book.create_sheet("Metrics"), plan)
    _rules(book.create_sheet("Rules"), plan)
    if images:
        _images(book.create_sheet("Charts"), images, row=1)
    return _bytes(book)


def tables_xlsx(sheets: dict[str, Sequence[dict[str, Any]]], images: Sequence[Path] = ()) -> bytes:
    """A workbook with one table per sheet (columns from the rows' keys) and a Charts sheet."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for title, rows in sheets.items():
        sheet = book.create_sheet(_sheet_title(title, taken))
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_cell(row.get(c)) for c in columns])
        _header(sheet)
        _number_formats(sheet, list(columns))
        _widths(sheet, [max(12, min(40, len(c) + 2)) for c in columns])
        sheet.freeze_panes = "A2"
    if images:
        _images(book.create_sheet(_sheet_title("Charts", taken)), images, row=1)
    return _bytes(book)


def _number_formats(sheet: Worksheet, columns: list[str]) -> None:
    for j, name in enumerate(columns, start=1):
        fmt = MONEY if name.endswith("_cny") or name.startswith("spend_cny:") else None
        if name in ("roas", "marginal_roas", "marginal_gmv_per_budget"):
            fmt = RATIO
        if fmt is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
            cell.number_format = fmt


def _images(sheet: Worksheet, images: Sequence[Path], row: int) -> None:
    """Pictures one under the other, starting at ``row`` of column A."""
    for path in images:
        picture = Image(str(path))
        sheet.add_image(picture, f"A{row}")
        row += int(picture.height / 20) + 2  # default rows are 20 pixels high


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary(sheet: Worksheet, plan: Plan) -> None:
    total = plan.total
    rows: list[tuple[str, Any]] = [
        ("scenario", plan.scenario),
        ("status", plan.status),
        ("message", plan.message),
        ("objective", plan.objective_kind),
        ("objective value", plan.objective_value),
        ("budget total (CNY)", plan.budget_total_cny),
        ("media spend (CNY)", total.spend_cny if total else None),
        ("commission (CNY)", total.commission_cny if total else None),
        ("GMV (CNY)", total.gmv_cny if total else None),
        ("ROAS", total.roas if total else None),
        ("CAC (CNY)", total.cac_cny if total else None),
        ("new customers", total.new_customers if total else None),
        ("fixed costs (CNY)", plan.fixed_costs_cny),
        ("contingency (CNY)", plan.contingency_cny),
        ("gross profit (CNY)", plan.gross_profit_cny),
        ("solver", plan.solver.solver if plan.solver else "evaluation (no solve)"),
        ("gap", plan.solver.gap if plan.solver else None),
        ("fingerprint", plan.fingerprint),
        ("budgetopt version", plan.version),
    ]
    for name, value in rows:
        sheet.append([name, _cell(value)])
        sheet.cell(sheet.max_row, 1).font = BOLD
        if isinstance(value, float):
            sheet.cell(sheet.max_row, 2).number_format = RATIO if "ROAS" in name else MONEY
    _widths(sheet, [24, 60])


def _allocation(sheet: Worksheet, plan: Plan) -> None:
    sheet.append(["unit", "name", *plan.periods, "total"])
    for unit, by_period in plan.spend.items():
        values = [by_period[p] for p in plan.periods]
        sheet.append([unit, plan.names.get(unit, unit), *values, sum(values)])
    _header(sheet)
    for row in sheet.iter_rows(min_row=2, min_col=3):
        for cell in row:
            cell.number_format = MONEY
    _widths(sheet, [22, 22, *[14] * (len(plan.periods) + 1)])
    sheet.freeze_panes = "C2"


def _metrics(sheet: Worksheet, plan: Plan) -> None:
    sheet.append(list(CSV_COLUMNS))
    for row in csv_rows(plan):
        sheet.append([_cell(row[c]) for c in CSV_COLUMNS])
    _header(sheet)
    _widths(sheet, [12, 22, 18, 10, *[16] * (len(CSV_COLUMNS) - 4)])
    sheet.freeze_panes = "E2"


def _rules(sheet: Worksheet, plan: Plan) -> None:
    columns = ["name", "kind", "description", "value", "limit", "sense", "slack", "binds", "holds"]
    columns += ["shadow_price", "value_of_relaxing"]
    sheet.append(columns)
    for rule in plan.rules:
        sheet.append([_cell(getattr(rule, c)) for c in columns])
    _header(sheet)
    _widths(sheet, [28, 16, 50, *[14] * (len(columns) - 3)])


def _cell(value: Any) -> Any:
    """Excel has no NaN or infinity: those become empty cells."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _header(sheet: Worksheet) -> None:
    for cell in sheet[1]:
        cell.font = BOLD


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def batch_xlsx(
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    plans: dict[str, Plan],
    charts: dict[str, list[Path]],
) -> bytes:
    """Batch workbook: a Summary sheet (one row per file), then a sheet per plan with its chart."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(list(columns))
    for row in rows:
        summary.append([_cell(row.get(c)) for c in columns])
    _header(summary)
    summary.freeze_panes = "B2"
    _widths(summary, [40, 30, 18, *[14] * (len(columns) - 3)])
    names: set[str] = {"Summary"}
    for i, row in enumerate(rows, start=1):
        plan = plans.get(row.get("fingerprint") or "")
        if plan is None:
            continue
        title = _sheet_title(f"{i} {plan.scenario}", names)
        sheet = book.create_sheet(title)
        _allocation(sheet, plan)
        sheet.append([])
        sheet.append(["file", row["file"]])
        sheet.append(["status", plan.status])
        sheet.append(["GMV (CNY)", plan.total.gmv_cny if plan.total else None])
        _images(sheet, charts.get(row["fingerprint"], []), row=sheet.max_row + 2)
    return _bytes(book)


def _sheet_title(text: str, taken: set[str]) -> str:
    """An Excel-safe sheet name (31 characters, no []:*?/\\), unique in the workbook."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in text)[:31]
    title, n = clean, 2
    while title in taken:
        suffix = f"~{n}"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title

"""Plan -> XLSX workbook for finance: summary, allocation grid, tidy metrics and rules."""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.outputs.ranges import rule_odds
from optimizer.outputs.text import csv_columns, csv_rows
from optimizer.results.plan import Plan, RuleCheck

MONEY = '"¥"#,##0'  # whole yuan with thousands separators: 581,227,282 reads at a glance
PER_HEAD = '"¥"#,##0.00'  # yuan per customer (CAC): 34.99 is not 35
RATIO = "0.00"  # ROAS and marginal ROAS: GMV per yuan
COUNT = "#,##0"  # orders, customers, impressions
PERCENT = "0.0%"  # shares and rates
GAP = "0.0E+00"  # a proven gap of 1e-12 is not 0.00%
BOLD = Font(bold=True)
WIDEST = 60  # characters: longer text wraps in the cell instead


def to_xlsx(plan: Plan, images: Sequence[Path] = ()) -> bytes:
    """The plan as an .xlsx workbook (Summary, Allocation, Metrics, Rules, with draws Ranges,
    Charts sheets)."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _summary(summary, plan)
    _allocation(book.create_sheet("Allocation"), plan)
    _metrics(book.create_sheet("Metrics"), plan)
    _rules(book.create_sheet("Rules"), plan)
    if plan.ranges:
        _ranges(book.create_sheet("Ranges"), plan)
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
        _objective_formats(sheet, list(columns), rows)
        _widths(sheet)
        sheet.freeze_panes = "A2"
    if images:
        _images(book.create_sheet(_sheet_title("Charts", taken)), images, row=1)
    return _bytes(book)


def number_format(name: str) -> str | None:
    """The Excel format of a figure by its field name (None: as it comes)."""
    key = name.split(":", 1)[-1] if name.startswith("delta:") else name
    if key in ("cac_cny", "max_cac_cny", "CAC (CNY)") or key.startswith("cac_p"):
        return PER_HEAD
    if key.startswith("roas_p"):
        return RATIO
    if key.endswith("_probability"):
        return PERCENT
    if key.endswith("_cny") or key.startswith("spend_cny:") or key.endswith("(CNY)"):
        return MONEY
    if key in ("roas", "marginal_roas", "marginal_gmv_per_budget", "min_roas") or "ROAS" in key:
        return RATIO
    if key in ("orders", "new_customers", "impressions", "new customers"):
        return COUNT
    if key in ("gap", "mip_gap", "proven gap"):
        return GAP
    if key.endswith("_share") or key.endswith("_rate"):
        return PERCENT
    return None


def _number_formats(sheet: Worksheet, columns: list[str]) -> None:
    """Each figure column its format by name; in a table of metrics by row (a ``metric``
    column, as comparisons have), each row's figures by that metric."""
    by_row = "metric" in columns
    metric_col = columns.index("metric") + 1 if by_row else 0
    for j, name in enumerate(columns, start=1):
        fmt = number_format(name)
        if fmt is None and not by_row:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
            if by_row and j > metric_col:
                fmt = number_format(str(sheet.cell(cell.row, metric_col).value))
            if fmt is not None and isinstance(cell.value, int | float):
                cell.number_format = fmt


def _objective_formats(
    sheet: Worksheet, columns: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Each row's objective value in yuan, but a number of new customers as a count."""
    if "objective_value" not in columns or "objective_kind" not in columns:
        return
    at = columns.index("objective_value") + 1
    for r, row in enumerate(rows, start=2):
        fmt = COUNT if row.get("objective_kind") == "max_new_customers" else MONEY
        sheet.cell(r, at).number_format = fmt


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


def _carry_rows(plan: Plan) -> list[tuple[str, Any, str | None]]:
    """Carry-over rows of the summary (none without adstock)."""
    carry = plan.carry_over
    if carry is None:
        return []
    counted = "yes" if carry["counted_in_objective"] else "no (reported only)"
    return [
        ("GMV after the plan from its spend (CNY)", carry["gmv_after_cny"], MONEY),
        ("  counted in the objective", counted, None),
        ("GMV in the plan from spend before it (CNY)", carry["gmv_from_history_cny"], MONEY),
    ]


def _range_rows(plan: Plan) -> list[tuple[str, Any, str | None]]:
    """The summary's GMV band and warnings (none without draws or warnings)."""
    rows: list[tuple[str, Any, str | None]] = []
    if plan.ranges and plan.ranges["total"].get("gmv_cny"):
        gmv = plan.ranges["total"]["gmv_cny"]
        rows.append((f"GMV P10 over {plan.ranges['draws']} draws (CNY)", gmv["p10"], MONEY))
        rows.append(("GMV P90 (CNY)", gmv["p90"], MONEY))
        rows.append(("  ranges", "see the Ranges sheet", None))
    if plan.warnings:
        rows.append(("warnings", "\n".join(plan.warnings), None))
    return rows


def _summary(sheet: Worksheet, plan: Plan) -> None:
    total = plan.total
    money_objective = plan.objective_kind in ("max_gmv", "max_profit", "min_spend")
    rows: list[tuple[str, Any, str | None]] = [
        ("scenario", plan.scenario, None),
        ("status", plan.status, None),
        ("message", plan.message, None),
        ("why there is no plan", no_plan_reason(plan), None),
        ("objective", plan.objective_kind, None),
        ("objective value", plan.objective_value, MONEY if money_objective else COUNT),
        ("budget total (CNY)", plan.budget_total_cny, MONEY),
        ("media spend (CNY)", total.spend_cny if total else None, MONEY),
        ("commission (CNY)", total.commission_cny if total else None, MONEY),
        ("GMV (CNY)", total.gmv_cny if total else None, MONEY),
        ("ROAS", total.roas if total else None, RATIO),
        ("CAC (CNY)", total.cac_cny if total else None, PER_HEAD),
        ("new customers", total.new_customers if total else None, COUNT),
        ("fixed costs (CNY)", plan.fixed_costs_cny, MONEY),
        ("contingency (CNY)", plan.contingency_cny, MONEY),
        ("gross profit (CNY)", plan.gross_profit_cny, MONEY),
        *_carry_rows(plan),
        *_range_rows(plan),
        ("solver", plan.solver.solver if plan.solver else "evaluation (no solve)", None),
        ("proven gap", plan.solver.gap if plan.solver else None, GAP),
        ("fingerprint", plan.fingerprint, None),
        ("budgetopt version", plan.version, None),
    ]
    for name, value, fmt in rows:
        if name == "why there is no plan" and not value:
            continue
        if name == "message" and total is None:
            continue  # the reason below starts with it
        sheet.append([name, _cell(value)])
        sheet.cell(sheet.max_row, 1).font = BOLD
        if fmt is not None and isinstance(value, int | float):
            sheet.cell(sheet.max_row, 2).number_format = fmt
    _widths(sheet, [24, 16])


def no_plan_reason(plan: Plan) -> str:
    """Why a plan has no allocation: its verdict, then each change the diagnosis found that
    would restore one, a line each; empty when it has an allocation."""
    if plan.total is not None:
        return ""
    return reason_text(plan.message or plan.status, plan.diagnosis)


def reason_text(verdict: str, diagnosis: Sequence[Any]) -> str:
    """The verdict and the diagnosis's suggestions (objects or their dicts), a line each."""
    texts = [
        getattr(d, "text", None) or (d.get("text") if isinstance(d, dict) else None)
        for d in diagnosis
    ]
    return "\n".join([verdict, *(text for text in texts if text)])


def _allocation(sheet: Worksheet, plan: Plan) -> None:
    sheet.append(["unit", "name", *plan.periods, "total"])
    for unit, by_period in plan.spend.items():
        values = [by_period[p] for p in plan.periods]
        sheet.append([unit, plan.names.get(unit, unit), *values, sum(values)])
    if plan.spend:
        columns = [plan.spend[u] for u in plan.spend]
        sums = [sum(c[p] for c in columns) for p in plan.periods]
        sheet.append(["total", "", *sums, sum(sums)])
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD
    else:
        sheet.append(["", no_plan_reason(plan)])
    _header(sheet)
    for row in sheet.iter_rows(min_row=2, min_col=3):
        for cell in row:
            cell.number_format = MONEY
    _widths(sheet, [10, 12])
    sheet.freeze_panes = "C2"


def _metrics(sheet: Worksheet, plan: Plan) -> None:
    every = csv_columns(plan)
    columns = [*every[:3], "name", *every[3:]]
    sheet.append(columns)
    for row in csv_rows(plan):
        key = row["unit"] or row["channel"]
        named = {**row, "name": plan.names.get(key, key) if key else ""}
        sheet.append([_cell(named.get(c)) for c in columns])
    _header(sheet)
    _number_formats(sheet, columns)
    _widths(sheet)
    sheet.freeze_panes = "F2"


RULE_FORMATS = {"roas_floor": RATIO, "gmv_share": PERCENT, "cac_ceiling": PER_HEAD}


def _rule_format(kind: str, name: str) -> str:
    """How a rule's value, limit and slack read: a ROAS, a share or rate, else yuan."""
    if kind == "commission_cap":
        return PERCENT if name.endswith(".rate") else MONEY
    return RULE_FORMATS.get(kind, MONEY)


def _rules(sheet: Worksheet, plan: Plan) -> None:
    columns = ["name", "kind", "description", "value", "limit", "sense", "slack", "binds", "holds"]
    columns += ["shadow_price", "value_of_relaxing"]
    sheet.append(columns)
    for rule in plan.rules:
        sheet.append([_cell(getattr(rule, c)) for c in columns])
        fmt = _rule_format(rule.kind, rule.name)
        for name in ("value", "limit", "slack"):
            sheet.cell(sheet.max_row, columns.index(name) + 1).number_format = fmt
        for name in ("shadow_price", "value_of_relaxing"):
            sheet.cell(sheet.max_row, columns.index(name) + 1).number_format = "#,##0.00"
    _header(sheet)
    _widths(sheet)
    sheet.freeze_panes = "B2"


PERCENTILES = ("p10", "p50", "p90", "mean")
PERCENTILES_SHOWN = ("P10", "P50", "P90", "mean")
TOTAL_BANDS = (
    ("GMV (CNY)", "gmv_cny", MONEY),
    ("ROAS", "roas", RATIO),
    ("CAC (CNY)", "cac_cny", PER_HEAD),
    ("gross profit (CNY)", "gross_profit_cny", MONEY),
)


def _ranges(sheet: Worksheet, plan: Plan) -> None:
    """P10 / P50 / P90 / mean over the draws: totals, by channel, by period, then each rule's
    odds (least likely first); every figure a number in its format, probabilities as %."""
    ranges = plan.ranges
    assert ranges is not None
    total = plan.total
    own = {
        "gmv_cny": total.gmv_cny if total else None,
        "roas": total.roas if total else None,
        "cac_cny": total.cac_cny if total else None,
        "gross_profit_cny": plan.gross_profit_cny,
    }
    _block_header(sheet, [f"total over {ranges['draws']} draws", *PERCENTILES_SHOWN, "plan"])
    for label, key, fmt in TOTAL_BANDS:
        band = ranges["total"].get(key)
        if band is not None:
            _band_row(sheet, [label], band, fmt, own[key])
    sheet.append([])
    gmv = ["GMV P10", "GMV P50", "GMV P90", "GMV mean"]
    _block_header(sheet, ["channel", "name", *gmv, "ROAS P10", "ROAS P50", "ROAS P90"])
    for channel, bands in ranges["by_channel"].items():
        roas = bands.get("roas") or {}
        _band_row(sheet, [channel, plan.names.get(channel, channel)], bands.get("gmv_cny"), MONEY)
        for j, p in enumerate(("p10", "p50", "p90"), start=7):
            cell = sheet.cell(sheet.max_row, j, _cell(roas.get(p)))
            cell.number_format = RATIO
    sheet.append([])
    _block_header(sheet, ["period", "GMV P10", "GMV P50", "GMV P90", "GMV mean", "plan GMV"])
    for period, bands in ranges["by_period"].items():
        m = plan.by_period.get(period)
        _band_row(sheet, [period], bands.get("gmv_cny"), MONEY, m.gmv_cny if m else None)
    sheet.append([])
    values = ["value P10", "value P50", "value P90"]
    _block_header(sheet, ["rule", "description", "holds in draws", *values, "holds in the plan"])
    for odds in rule_odds(ranges, plan.rules):
        _odds_row(sheet, odds)
    _widths(sheet, [22, 20])
    sheet.print_title_rows = "1:1"


def _block_header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def _band_row(
    sheet: Worksheet, keys: list[Any], band: dict[str, Any] | None, fmt: str, own: Any = None
) -> None:
    """Keys, then a band's P10, P50, P90 and mean (and the plan's own figure) in ``fmt``."""
    values = [None] * 4 if band is None else [_cell(band.get(p)) for p in PERCENTILES]
    extra = [] if own is None else [_cell(own)]
    sheet.append([*keys, *values, *extra])
    for cell in sheet[sheet.max_row][len(keys) :]:
        cell.number_format = fmt


def _odds_row(sheet: Worksheet, odds: dict[str, Any]) -> None:
    rule: RuleCheck | None = odds["rule"]
    band = odds.get("value") or {}
    holds = None if rule is None else ("yes" if rule.holds else "NO")
    values = [_cell(band.get(p)) for p in ("p10", "p50", "p90")]
    sheet.append([odds["name"], odds.get("description"), odds["probability"], *values, holds])
    row = sheet.max_row
    sheet.cell(row, 3).number_format = PERCENT
    fmt = _rule_format(rule.kind, rule.name) if rule is not None else MONEY
    for j in (4, 5, 6):
        sheet.cell(row, j).number_format = fmt


def _cell(value: Any) -> Any:
    """Excel has no NaN or infinity: those become empty cells."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _header(sheet: Worksheet, row: int = 1) -> None:
    """Bold header on ``row``, repeated on every printed page."""
    for cell in sheet[row]:
        cell.font = BOLD
    sheet.print_title_rows = f"{row}:{row}"


def _widths(sheet: Worksheet, widths: list[int] | None = None) -> None:
    """Columns as wide as their longest entry (a Chinese character counts two), at least
    ``widths`` where given, text starting with "=" kept as text, and the sheet set up to
    print: landscape, A4, fit to one page wide (every sheet ends here)."""
    fitted: dict[int, float] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # these workbooks hold no formulas: a name like "=x"
                cell.data_type = "s"  # is text, never something Excel would run
            if cell.value is not None:
                shown = _shown(cell.value, cell.number_format).split("\n")
                size = max(display_width(line) for line in shown)
                fitted[cell.column] = max(fitted.get(cell.column, 0.0), size)
    for i, size in fitted.items():
        least = widths[i - 1] if widths and i <= len(widths) else 8
        sheet.column_dimensions[get_column_letter(i)].width = min(max(size + 2, least), WIDEST)
    for row in sheet.iter_rows():
        lines = 1
        for cell in row:
            if isinstance(cell.value, str) and (
                display_width(cell.value) > WIDEST - 2 or "\n" in cell.value
            ):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                lines = max(lines, _lines(cell.value))
        if lines > 1:  # neither Excel nor LibreOffice grows a row for wrapped text on opening
            sheet.row_dimensions[row[0].row].height = min(15 * lines, 409)  # Excel's highest
            for cell in row:  # the row's other cells at its top, beside the text's start
                if not cell.alignment.wrap_text:
                    cell.alignment = Alignment(vertical="top")
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _lines(text: str) -> int:
    """Lines a wrapped text takes in a column ``WIDEST`` wide."""
    return sum(max(1, math.ceil(display_width(part) / (WIDEST - 2))) for part in text.split("\n"))


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: two for a wide (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(value: Any, fmt: str) -> str:
    """A cell's value about as Excel shows it in its number format."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if fmt == MONEY:
        return f"¥{value:,.0f}"
    if fmt == COUNT:
        return f"{value:,.0f}"
    if fmt == RATIO:
        return f"{value:.2f}"
    if fmt in (PERCENT, GAP):
        return f"{value:.1e}" if fmt == GAP else f"{100 * value:.1f}%"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


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
    _number_formats(summary, list(columns))
    _objective_formats(summary, list(columns), rows)
    summary.freeze_panes = "B2"
    _widths(summary)
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
        sheet.cell(sheet.max_row, 2).number_format = MONEY
        _widths(sheet, [10, 12])
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

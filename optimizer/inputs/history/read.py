"""Reading a weekly history (CSV or XLSX) into per-channel arrays, refusing what cannot be fitted.

One row per week and channel: ``week`` (ISO week ``2025-W07`` or a date in that week),
``channel``, ``spend_cny``, ``gmv_cny`` and optionally ``impressions``, ``new_customers`` and
``window`` (the promotion that week belongs to). Every channel needs a row for every week of the
file's range (spend 0 for a week without spend), so the weeks line up across channels.
Problems are collected and raised together, each naming the column and the line.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.mmm.build import channel_id

REQUIRED = ("week", "channel", "spend_cny", "gmv_cny")
OPTIONAL = ("impressions", "new_customers", "window")
ALIASES = {
    "week": ("week", "周", "date", "week_start"),
    "channel": ("channel", "渠道"),
    "spend_cny": ("spend_cny", "spend", "花费", "消耗"),
    "gmv_cny": ("gmv_cny", "gmv", "成交额"),
    "impressions": ("impressions", "展现", "曝光"),
    "new_customers": ("new_customers", "新客"),
    "window": ("window", "promo", "活动"),
}
MAX_PROBLEMS = 20
ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


@dataclass(frozen=True)
class ChannelHistory:
    """One channel's weekly series, aligned with ``History.weeks``."""

    id: str
    name: str
    spend_cny: np.ndarray
    gmv_cny: np.ndarray
    impressions: np.ndarray | None  # None when the file gives none for this channel
    new_customers: float | None
    windows: tuple[str, ...]  # "" outside a promotion window
    lines: np.ndarray  # line of each week's row in the file


@dataclass(frozen=True)
class History:
    """A weekly history: the weeks (Mondays, consecutive) and every channel's series."""

    source: str
    weeks: tuple[date, ...]
    channels: tuple[ChannelHistory, ...]

    def week_names(self) -> list[str]:
        """The weeks as ISO week names (2025-W07)."""
        return [week_name(w) for w in self.weeks]


def week_name(monday: date) -> str:
    """ISO week name of a Monday: 2025-W07."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(value: Any) -> date | None:
    """The Monday of the ISO week a cell names (2025-W07, 2025-02-10, a spreadsheet date)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value - timedelta(days=value.weekday())
    text = str(value).strip()
    try:
        if m := ISO_WEEK.match(text):
            return date.fromisocalendar(int(m[1]), int(m[2]), 1)
        if m := DATE.match(text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return day - timedelta(days=day.weekday())
    except ValueError:
        return None
    return None


def read_history(
    path: str | Path, source: str | None = None, channels: tuple[str, ...] = ()
) -> History:
    """The history in a CSV or XLSX file; ScenarioError naming each bad column and line.
    ``channels``, when given, are the only channel names allowed, and each must have rows."""
    path = Path(path)
    source = source or str(path)
    header, rows = _rows(path, source)
    columns = _columns(header, source)
    return _collect(rows, columns, source, channels)


def _fail(source: str, problems: list[FieldProblem]) -> ScenarioError:
    return ScenarioError(source, problems[:MAX_PROBLEMS], subject="history file")


def _rows(path: Path, source: str) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """The header and the data rows with their line numbers (blank rows skipped)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(source, [FieldProblem("file", f"cannot read it: {exc.strerror}")]) from None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = _xlsx_rows(raw, source)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            where = f"byte {exc.start}"
            message = f"expected UTF-8 text (a CSV saved as UTF-8), got an invalid {where}"
            raise _fail(source, [FieldProblem("file", message)]) from None
        table = list(csv.reader(io.StringIO(text, newline="")))
    numbered = [(k + 1, row) for k, row in enumerate(table)]
    numbered = [(n, r) for n, r in numbered if any(str(c).strip() for c in r if c is not None)]
    if not numbered:
        raise _fail(
            source, [FieldProblem("file", "expected a header row and weekly rows, got none")]
        )
    return numbered[0][1], numbered[1:]


def _xlsx_rows(raw: bytes, source: str) -> list[list[Any]]:
    """The first sheet's rows of a workbook."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        message = "expected an Excel workbook (.xlsx), could not open it"
        raise _fail(source, [FieldProblem("file", message)]) from None
    sheet = book.worksheets[0]
    return [["" if c is None else c for c in row] for row in sheet.iter_rows(values_only=True)]


def _columns(header: list[Any], source: str) -> dict[str, int]:
    """Column index of each known field (header names case-insensitive, a few aliases)."""
    names = [str(h).strip().lower() for h in header]
    found: dict[str, int] = {}
    for field, aliases in ALIASES.items():
        for k, name in enumerate(names):
            if name in aliases and field not in found:
                found[field] = k
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        got = ", ".join(str(h) for h in header) or "nothing"
        message = f"expected columns {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)}); "
        message += f"missing {', '.join(missing)}; the header has {got}"
        raise _fail(source, [FieldProblem("header", message, line=1)])
    return found


def _cell(row: list[Any], columns: dict[str, int], field: str) -> Any:
    k = columns.get(field)
    if k is None or k >= len(row) or row[k] is None:
        return ""
    return row[k]


def _number(value: Any, field: str, line: int, problems: list[FieldProblem]) -> float | None:
    """A finite number >= 0, or a problem naming the column and line."""
    if isinstance(value, bool):
        value = str(value)
    text = value if isinstance(value, int | float) else str(value).strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        problems.append(FieldProblem(field, f"expected a number, got {str(value)!r}", line))
        return None
    if not math.isfinite(number) or number < 0:
        problems.append(FieldProblem(field, f"expected a number >= 0, got {str(value)!r}", line))
        return None
    return number


@dataclass
class _Row:
    line: int
    spend: float
    gmv: float
    impressions: float | None
    new_customers: float | None
    window: str


def _collect(
    rows: list[tuple[int, list[Any]]],
    columns: dict[str, int],
    source: str,
    known: tuple[str, ...] = (),
) -> History:
    """Rows by channel and week, checked: numbers, duplicates, weeks covered by every channel."""
    problems: list[FieldProblem] = []
    by_channel: dict[str, dict[date, _Row]] = {}
    names: dict[str, str] = {}
    unknown: set[str] = set()
    for line, row in rows:
        week = parse_week(_cell(row, columns, "week"))
        if week is None:
            got = str(_cell(row, columns, "week"))
            message = f"expected an ISO week (2025-W07) or a date (2025-02-10), got {got!r}"
            problems.append(FieldProblem("week", message, line))
        label = str(_cell(row, columns, "channel")).strip()
        if not label:
            problems.append(FieldProblem("channel", "expected a channel name, got a blank", line))
        spend = _number(_cell(row, columns, "spend_cny"), "spend_cny", line, problems)
        gmv = _number(_cell(row, columns, "gmv_cny"), "gmv_cny", line, problems)
        impressions = _optional(row, columns, "impressions", line, problems)
        new = _optional(row, columns, "new_customers", line, problems)
        if label and known and label not in known:
            if label not in unknown:  # once, at its first row
                unknown.add(label)
                message = f"unknown channel {label!r}: expected one of {', '.join(known)}"
                problems.append(FieldProblem("channel", message, line))
            continue
        if week is None or not label or spend is None or gmv is None:
            continue
        ident = channel_id(label)
        if names.setdefault(ident, label) != label:
            message = f"channel {label!r} and {names[ident]!r} both become id {ident!r}: rename one"
            problems.append(FieldProblem("channel", message, line))
            continue
        series = by_channel.setdefault(ident, {})
        if week in series:
            message = f"a second row for channel {label!r} in week {week_name(week)} "
            message += f"(the first is line {series[week].line})"
            problems.append(FieldProblem("week", message, line))
            continue
        window = str(_cell(row, columns, "window")).strip()
        series[week] = _Row(line, spend, gmv, impressions, new, window)
    if not problems and not by_channel:
        problems.append(FieldProblem("file", "expected weekly rows after the header, got none"))
    for name in known:
        if not problems and channel_id(name) not in by_channel:
            problems.append(FieldProblem("channel", f"expected rows of channel {name!r}, got none"))
    if problems:
        raise _fail(source, problems)
    return _aligned(by_channel, names, source)


def _optional(
    row: list[Any], columns: dict[str, int], field: str, line: int, problems: list[FieldProblem]
) -> float | None:
    value = _cell(row, columns, field)
    if field not in columns or str(value).strip() == "":
        return None
    return _number(value, field, line, problems)


def _aligned(
    by_channel: dict[str, dict[date, _Row]], names: dict[str, str], source: str
) -> History:
    """Every channel over the same consecutive weeks, first to last week of the file."""
    first = min(min(s) for s in by_channel.values())
    last = max(max(s) for s in by_channel.values())
    weeks = tuple(first + timedelta(weeks=k) for k in range((last - first).days // 7 + 1))
    problems = []
    channels = []
    for ident, series in by_channel.items():
        missing = [w for w in weeks if w not in series]
        if missing:
            shown = ", ".join(week_name(w) for w in missing[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            message = (
                f"channel {names[ident]!r} has no row for week(s) {shown}{more}; every channel "
                f"needs a row for every week from {week_name(first)} to {week_name(last)} "
                "(spend_cny 0 for a week without spend)"
            )
            problems.append(FieldProblem("week", message, series[min(series)].line))
            continue
        rows = [series[w] for w in weeks]
        channels.append(_channel(ident, names[ident], rows, problems))
    if problems:
        raise _fail(source, problems)
    return History(source, weeks, tuple(channels))


def _channel(
    ident: str, name: str, rows: list[_Row], problems: list[FieldProblem]
) -> ChannelHistory:
    """One channel's arrays; impressions all given (where spend > 0) or none."""
    spend = np.array([r.spend for r in rows])
    given = [r.impressions is not None for r in rows]
    impressions = None
    if any(given):
        lacking = [r for r in rows if (r.impressions or 0) <= 0 and r.spend > 0]
        if lacking:
            message = (
                f"channel {name!r} gives impressions in some weeks: expected impressions above 0 "
                "in every week with spend (or none at all), got none here"
            )
            problems.append(FieldProblem("impressions", message, lacking[0].line))
        impressions = np.array([r.impressions or 0.0 for r in rows])
    new = [r.new_customers for r in rows if r.new_customers is not None]
    return ChannelHistory(
        id=ident,
        name=name,
        spend_cny=spend,
        gmv_cny=np.array([r.gmv for r in rows]),
        impressions=impressions,
        new_customers=float(sum(new)) if new else None,
        windows=tuple(r.window for r in rows),
        lines=np.array([r.line for r in rows]),
    )

"""Sweeps, tornados and frontiers as rows: for a console table, CSV and Excel (JSON is
``optimizer.results.whatif``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer.outputs.text import csv_value, money, ratio
from optimizer.results.whatif import Frontier, Sweep, Tornado, WhatIf, frontier_summary

Rows = list[dict[str, Any]]
SHOWN = ("status", "objective_value", "spend_cny", "gmv_cny", "roas", "cac_cny")


def sweep_rows(sweep: Sweep) -> Rows:
    """One row per grid point: the values set, the plan's figures, spend by channel."""
    return [point.row() for point in sweep.points]


def tornado_rows(tornado: Tornado) -> Rows:
    """The scenario as given, then one row per value of each field (widest swing first)."""
    rows = [{"field": "(as given)", "value": None, **_without_values(tornado.base.row())}]
    for bar in tornado.bars:
        for point in bar.points:
            value = point.values[bar.path]
            rows.append(
                {"field": bar.path, "value": value, **_without_values(point.row(), bar.path)}
            )
    return rows


def _without_values(row: dict[str, Any], path: str | None = None) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != path}


def frontier_rows(frontier: Frontier) -> Rows:
    """One row per budget: the plan's figures and the return on the money added."""
    rows = []
    for p in frontier.points:
        row = p.point.row()
        error = row.pop("error")
        row["spend_basis_cny"] = p.spend_basis_cny
        row["marginal_roas"] = p.marginal_roas
        row["marginal_gmv_per_budget"] = p.marginal_gmv_per_budget
        rows.append({**row, "error": error})
    return rows


def columns_of(rows: Rows) -> list[str]:
    """Every key of the rows in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def to_csv_text(rows: Rows, columns: Sequence[str] | None = None) -> str:
    """CSV (UTF-8 with BOM so Excel reads Chinese names), numbers without thousands separators."""
    columns = list(columns or columns_of(rows))
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writerow({k: csv_value(k) for k in columns})  # columns may be user labels
    for row in rows:
        writer.writerow({k: csv_value(row.get(k)) for k in columns})
    return buffer.getvalue()


def to_table_text(title: str, rows: Rows, keys: Iterable[str], notes: Sequence[str] = ()) -> str:
    """A console table of the rows: the given key columns, then the headline figures."""
    console = Console(record=True, width=200, file=io.StringIO(), force_terminal=False)
    table = Table(title=escape(title), title_justify="left")
    keys = list(keys)
    extra = [c for c in ("marginal_roas",) if any(c in r for r in rows)]
    bands = [b for b in BANDS_SHOWN if any(row.get(b[1]) is not None for row in rows)]
    for name in (*keys, *SHOWN, *extra, *(b[0] for b in bands)):
        table.add_column(escape(name), justify="left" if name in (*keys, "status") else "right")
    for row in rows:
        cells = [escape(_cell(row.get(k))) for k in keys]
        cells.append(str(row["status"]))
        cells += [_metric(name, row.get(name)) for name in (*SHOWN[1:], *extra)]
        cells += [_band(row, low, high, shown) for _, low, high, shown in bands]
        table.add_row(*cells)
    console.print(table)
    for note in notes:
        console.print(note, markup=False)
    return console.export_text()


# with draws: each point's GMV and ROAS from P10 to P90 (label, low column, high column, format)
BANDS_SHOWN = (
    ("GMV P10-P90", "gmv_p10_cny", "gmv_p90_cny", money),
    ("ROAS P10-P90", "roas_p10", "roas_p90", ratio),
)


def _band(row: dict[str, Any], low: str, high: str, shown: Any) -> str:
    """'571,371,127-594,898,748', or '' for a point without that band."""
    if row.get(low) is None or row.get(high) is None:
        return ""
    return f"{shown(row[low])}-{shown(row[high])}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e5 else money(value)
    return str(value)


def _metric(name: str, value: Any) -> str:
    return ratio(value) if name in ("roas", "cac_cny", "marginal_roas") else money(value)


def report_sheets(result: WhatIf) -> dict[str, Rows]:
    """The result as named tables (the first is the CSV): points, and a frontier's summary."""
    if isinstance(result, Tornado):
        return {"tornado": tornado_rows(result)}
    if isinstance(result, Sweep):
        return {"sweep": sweep_rows(result)}
    items = frontier_summary(result).items()
    return {
        "frontier": frontier_rows(result),
        "summary": [
            {"item": k, "value": "; ".join(v) if isinstance(v, list) else v} for k, v in items
        ],
    }

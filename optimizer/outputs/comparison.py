"""Plans side by side (``optimizer.analysis.compare.side_by_side``) as tidy rows and as
console tables with deltas to the baseline."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer.outputs.ranges import varies
from optimizer.outputs.text import money, ratio

LEVELS = (("total", "total"), ("by_channel", "channel"), ("by_period", "period"))
# The console tables show every compared metric of the totals, and these per channel and period.
# With draws, channels and periods also show GMV's P10 and P90.
TABLE_METRICS = {
    "channel": ("spend_cny", "gmv_cny", "roas", "gmv_p10_cny", "gmv_p90_cny"),
    "period": ("spend_cny", "gmv_cny", "gmv_p10_cny", "gmv_p90_cny"),
}
RATIOS = ("roas", "cac_cny", "roas_p10", "roas_p90", "cac_p90_cny")


def comparison_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Tidy rows of a side_by_side result: level, key, metric, a value per plan, deltas."""
    labels = data["labels"]
    rows = []
    for field, level in LEVELS:
        blocks = {"": data[field]} if field == "total" else data[field]
        for key, block in blocks.items():
            for metric, entry in block.items():
                row: dict[str, Any] = {"level": level, "key": key, "metric": metric}
                row.update(zip(labels, entry["values"], strict=True))
                for name, delta in zip(labels[1:], entry["delta"][1:], strict=True):
                    row[f"delta:{name}"] = delta
                rows.append(row)
    return rows


def comparison_table(data: dict[str, Any]) -> str:
    """Console tables: totals, then per channel and per period, with deltas to the baseline."""
    labels = data["labels"]
    console = Console(record=True, width=200, file=io.StringIO(), force_terminal=False)
    for plan in data["plans"]:
        state = "keeps every rule" if plan["feasible"] else "breaks a rule or has no plan"
        line = f"{plan['label']}: {plan['scenario']} ({plan['status']}, {state})"
        if plan.get("draws"):
            line += f"; ranges over {plan['draws']} draws"
        console.print(line, markup=False)
    by_level: dict[str, list[dict[str, Any]]] = {}
    rows = comparison_rows(data)
    moved = _moved_by_draws(rows, labels)
    for row in rows:
        if row["level"] != "total" and row["metric"] not in TABLE_METRICS[row["level"]]:
            continue
        banded = row["metric"].startswith("gmv_p") and row["level"] != "total"
        if banded and (row["level"], row["key"]) not in moved:
            continue  # the draws do not move this channel's or period's GMV: noise
        by_level.setdefault(row["level"], []).append(row)
    for level, rows in by_level.items():
        title = f"{level}: values, and change against {labels[0]}"
        table = Table(title=escape(title), title_justify="left")
        for name in ("" if level == "total" else level, "metric", *labels):
            justify = "left" if name in ("metric", level, "") else "right"
            table.add_column(escape(name), justify=justify)
        for name in labels[1:]:
            table.add_column(escape(f"Δ {name}"), justify="right")
        for row in rows:
            shown = ratio if row["metric"] in RATIOS else money
            cells = [shown(row[name]) for name in labels]
            cells += [_signed(shown(row[f"delta:{name}"])) for name in labels[1:]]
            table.add_row(escape(row["key"]), row["metric"], *cells)
        console.print(table)
    return console.export_text()


def _moved_by_draws(rows: list[dict[str, Any]], labels: list[str]) -> set[tuple[str, str]]:
    """Channels and periods whose GMV P10 and P90 differ in some plan."""
    p10 = {(r["level"], r["key"]): r for r in rows if r["metric"] == "gmv_p10_cny"}
    moved = set()
    for r in rows:
        low = p10.get((r["level"], r["key"]))
        if r["metric"] != "gmv_p90_cny" or low is None:
            continue
        pairs = [(low[name], r[name]) for name in labels]
        if any(a is not None and b is not None and varies({"p10": a, "p90": b}) for a, b in pairs):
            moved.add((r["level"], r["key"]))
    return moved


def _signed(text: str) -> str:
    return text if text.startswith("-") or text in ("-", "0", "0.00") else f"+{text}"

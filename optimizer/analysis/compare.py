"""Plans side by side: totals, per-channel and per-period metrics, deltas against the first."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from optimizer.results.plan import Metrics, Plan

COMPARED = ("spend_cny", "commission_cny", "gmv_cny", "new_customers", "roas", "cac_cny")


def side_by_side(plans: Sequence[Plan], labels: Sequence[str]) -> dict[str, Any]:
    """Compare plans: each metric per plan and its delta to the first plan (the baseline).

    Channels or periods missing from a plan count as no spend there (ratios are then None).
    """
    if len(plans) != len(labels) or len(plans) < 2:
        raise ValueError("side_by_side needs two or more plans, one label each")
    channels = _union(list(p.by_channel) for p in plans)
    periods = _union(p.periods for p in plans)
    return {
        "baseline": labels[0],
        "labels": list(labels),
        "plans": [_summary(plan, label) for plan, label in zip(plans, labels, strict=True)],
        "total": _block([p.total for p in plans]),
        "by_channel": {c: _block([p.by_channel.get(c) for p in plans]) for c in channels},
        "by_period": {t: _block([p.by_period.get(t) for p in plans]) for t in periods},
    }


def _union(keys: Any) -> list[str]:
    seen: dict[str, None] = {}
    for group in keys:
        seen.update(dict.fromkeys(group))
    return list(seen)


def _summary(plan: Plan, label: str) -> dict[str, Any]:
    return {
        "label": label,
        "scenario": plan.scenario,
        "status": plan.status,
        "feasible": plan.is_feasible,
        "objective_kind": plan.objective_kind,
        "objective_value": plan.objective_value,
    }


def _block(metrics: list[Metrics | None]) -> dict[str, dict[str, list[float | None]]]:
    """{metric: {"values": per plan, "delta": per plan minus the baseline}}."""
    out: dict[str, dict[str, list[float | None]]] = {}
    for name in COMPARED:
        values = [_value(m, name) for m in metrics]
        base = values[0]
        delta = [None if v is None or base is None else v - base for v in values]
        out[name] = {"values": values, "delta": delta}
    return out


def _value(m: Metrics | None, name: str) -> float | None:
    if m is None:
        return 0.0 if name in ("spend_cny", "commission_cny", "gmv_cny", "new_customers") else None
    return getattr(m, name)


LEVELS = (("total", "total"), ("by_channel", "channel"), ("by_period", "period"))
TABLE_METRICS = {
    "total": COMPARED,
    "channel": ("spend_cny", "gmv_cny", "roas"),
    "period": ("spend_cny", "gmv_cny"),
}


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
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from optimizer.outputs.text import money, ratio

    labels = data["labels"]
    console = Console(record=True, width=200, file=io.StringIO(), force_terminal=False)
    for plan in data["plans"]:
        state = "keeps every rule" if plan["feasible"] else "breaks a rule or has no plan"
        line = f"{plan['label']}: {plan['scenario']} ({plan['status']}, {state})"
        console.print(line, markup=False)
    by_level: dict[str, list[dict[str, Any]]] = {}
    for row in comparison_rows(data):
        if row["metric"] in TABLE_METRICS[row["level"]]:
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
            shown = ratio if row["metric"] in ("roas", "cac_cny") else money
            cells = [shown(row[name]) for name in labels]
            cells += [_signed(shown(row[f"delta:{name}"])) for name in labels[1:]]
            table.add_row(escape(row["key"]), row["metric"], *cells)
        console.print(table)
    return console.export_text()


def _signed(text: str) -> str:
    return text if text.startswith("-") or text in ("-", "0", "0.00") else f"+{text}"

"""Plan -> text for people (rich table) and for spreadsheets (CSV); JSON is results.serialise."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.table import Table

from optimizer.outputs.ranges import (
    BAND_NAMES,
    band_values,
    is_uncertain,
    odds_sentence,
    rule_odds,
    steady_summary,
    varies,
)
from optimizer.results.plan import METRICS, Metrics, Plan, RuleCheck

CSV_COLUMNS = ("level", "unit", "channel", "period", *METRICS)


def csv_columns(plan: Plan) -> tuple[str, ...]:
    """The CSV's columns: with ranges, each slice's bands (gmv_p10_cny, ...) after its metrics."""
    return CSV_COLUMNS + (BAND_NAMES if plan.ranges else ())


def csv_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    """One tidy row per unit-period, then per channel, per period and the total; with ranges,
    the channel, period and total rows carry their bands (unit-periods have none)."""
    ranges = plan.ranges
    for unit, by_period in plan.by_unit_period.items():
        channel = unit.split(".", 1)[0]
        for period, m in by_period.items():
            yield _row("unit_period", unit, channel, period, m)
    for channel, m in plan.by_channel.items():
        yield _row("channel", "", channel, "", m, ranges and ranges["by_channel"].get(channel))
    for period, m in plan.by_period.items():
        yield _row("period", "", "", period, m, ranges and ranges["by_period"].get(period))
    if plan.total is not None:
        yield _row("total", "", "", "", plan.total, ranges and ranges["total"])


def _row(
    level: str, unit: str, channel: str, period: str, m: Metrics, bands: Any = None
) -> dict[str, Any]:
    values = {k: getattr(m, k) for k in METRICS}
    row = {"level": level, "unit": unit, "channel": channel, "period": period, **values}
    return {**row, **band_values(bands)} if bands is not None else row


def to_csv(plan: Plan) -> str:
    """Tidy CSV (comma, UTF-8 with BOM so Excel reads Chinese names) of every metric."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=csv_columns(plan), lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(plan):
        writer.writerow({k: csv_value(row.get(k)) for k in csv_columns(plan)})
    return buffer.getvalue()


# a text cell starting with one of these is a formula to Excel: kept as text by a leading '
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> Any:
    """A CSV cell: floats with up to six decimals and no trailing zeros, None empty, and text
    that Excel would run as a formula (``=HYPERLINK(...)`` as a name) kept as text."""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def money(value: float | None) -> str:
    """12,345,678 style, or '-' when missing (never '-0')."""
    return ratio(value, 0)


def ratio(value: float | None, digits: int = 2) -> str:
    """A number with fixed digits, or '-' when missing (never '-0.00')."""
    if value is None:
        return "-"
    text = f"{value:,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def to_table(plan: Plan, width: int = 160) -> str:
    """Human-readable report: headline, allocation, metrics by channel and period, rules."""
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=False)
    console.print(f"[bold]{plan.scenario}[/bold]  status: [bold]{plan.status}[/bold]")
    if plan.message:
        console.print(plan.message)
    if plan.conflict:
        console.print("Conflicting rules: " + ", ".join(plan.conflict))
    for suggestion in plan.diagnosis:
        check = ""
        if suggestion.suggested is not None:
            verdict = "feasible" if suggestion.verified else "NOT confirmed"
            check = f" (re-planned: {verdict})"
        console.print(f"  - {suggestion.text}{check}", markup=False)
    if plan.total is not None:
        console.print(f"objective {plan.objective_kind}: {money(plan.objective_value)}")
        console.print(_allocation_table(plan, width))
        by_channel, by_period = _slice_bands(plan)
        console.print(
            _metrics_table("By channel", plan.by_channel, plan.total, plan.names, by_channel)
        )
        console.print(_metrics_table("By period", plan.by_period, plan.total, None, by_period))
        console.print(_budget_line(plan))
        if plan.carry_over is not None:
            console.print(_carry_line(plan.carry_over))
        console.print(_rules_table(plan))
        if plan.ranges:
            _print_ranges(console, plan)
    if plan.warnings:
        console.print("[bold]Warnings[/bold]")
        for warning in plan.warnings:
            console.print(f"  - {warning}", markup=False)
    if plan.comparison:
        c = plan.comparison
        console.print(
            f"Gap to the optimum: {money(c['objective_gap'])} "
            f"({c['objective_gap_relative']:.2%} of the optimum {money(c['optimum_objective'])})"
        )
    if plan.solver is not None:
        console.print(_solver_line(plan))
    console.print(f"fingerprint {plan.fingerprint} (budgetopt {plan.version})")
    if plan.verdict:  # last, where the eye lands
        console.print(f"Verdict: {plan.verdict}", markup=False, soft_wrap=True)
    return console.export_text()


def _carry_line(carry: dict) -> str:
    """Carry-over in one line: GMV after the plan (counted or not) and from before it."""
    counted = "counted in the objective" if carry["counted_in_objective"] else "not counted"
    return (
        f"Carry-over: GMV after the last period from this plan's spend "
        f"{money(carry['gmv_after_cny'])} ({counted}); GMV in the plan from spend before it "
        f"{money(carry['gmv_from_history_cny'])}"
    )


CELL_WIDTH = 14  # a money cell with its borders: "| 12,345,678 |"


def _allocation_table(plan: Plan, width: int) -> Table:
    """Spend with a row per channel and a column per period; when those columns would not fit
    the width (a 52-week plan) and the channels are fewer, a row per period instead."""
    wide = (len(plan.periods) + 3) * CELL_WIDTH > width
    if wide and len(plan.spend) < len(plan.periods):
        return _allocation_by_period(plan)
    table = Table(title="Spend by channel and period (CNY)", title_justify="left")
    table.add_column("channel")
    table.add_column("name")
    for period in plan.periods:
        table.add_column(period, justify="right")
    table.add_column("total", justify="right")
    for unit, by_period in plan.spend.items():
        cells = [money(by_period[p]) for p in plan.periods]
        table.add_row(unit, plan.names.get(unit, ""), *cells, money(sum(by_period.values())))
    totals = [plan.by_period[p].spend_cny for p in plan.periods]
    table.add_row("total", "", *(money(v) for v in totals), money(sum(totals)), style="bold")
    return table


def _allocation_by_period(plan: Plan) -> Table:
    """Spend with a row per period and a column per channel (the transpose, for long plans)."""
    table = Table(title="Spend by period and channel (CNY)", title_justify="left")
    table.add_column("period")
    for unit in plan.spend:
        table.add_column(unit, justify="right")
    table.add_column("total", justify="right")
    for period in plan.periods:
        cells = [money(by_period[period]) for by_period in plan.spend.values()]
        table.add_row(period, *cells, money(plan.by_period[period].spend_cny))
    totals = [sum(by_period.values()) for by_period in plan.spend.values()]
    table.add_row("total", *(money(v) for v in totals), money(sum(totals)), style="bold")
    return table


def _print_ranges(console: Console, plan: Plan) -> None:
    """Totals P10 / P50 / P90 over the draws and each rule's odds, least likely first."""
    ranges = plan.ranges
    assert ranges is not None and plan.total is not None
    caption = "at this plan's spend; the cautious end is P10 (for CAC, P90)"
    table = Table(
        title=f"Ranges over {ranges['draws']} draws",
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    for name in ("", "P10", "P50", "P90", "mean", "plan"):
        table.add_column(name, justify="right" if name else "left")
    figures = (
        ("GMV", "gmv_cny", plan.total.gmv_cny, money),
        ("ROAS", "roas", plan.total.roas, ratio),
        ("CAC", "cac_cny", plan.total.cac_cny, ratio),
        ("gross profit", "gross_profit_cny", plan.gross_profit_cny, money),
    )
    for label, key, own, shown in figures:
        band = ranges["total"].get(key)
        if band is None:
            continue
        cells = [shown(band[p]) for p in ("p10", "p50", "p90", "mean")]
        table.add_row(label, *cells, shown(own))
    console.print(table)
    odds = rule_odds(ranges, plan.rules)
    console.print("Rules over the draws (least likely first):")
    for entry in odds:
        if is_uncertain(entry):
            console.print(f"  {odds_sentence(entry, entry['rule'])}", markup=False)
    steady = steady_summary(odds)
    if steady:
        console.print(f"  {steady}", markup=False)


def _slice_bands(plan: Plan) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Bands by channel and by period, each with the total's under "total" (None: no draws)."""
    if not plan.ranges:
        return None, None
    total = {"total": plan.ranges["total"]}
    return {**plan.ranges["by_channel"], **total}, {**plan.ranges["by_period"], **total}


def _band_cell(bands: dict[str, Any] | None, key: str) -> str:
    """'20,407,758-43,935,379': GMV P10 to P90; blank when the draws do not move it."""
    band = (bands or {}).get(key, {}).get("gmv_cny")
    if not varies(band):
        return ""
    return f"{money(band['p10'])}-{money(band['p90'])}"


def _metrics_table(
    title: str,
    rows: dict[str, Metrics],
    total: Metrics,
    names: dict[str, str] | None = None,
    bands: dict[str, Any] | None = None,
) -> Table:
    caption = "GMV P10-P90 over the draws: blank where the draws do not move it" if bands else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for name in (
        "",
        "spend",
        "commission",
        "impressions",
        "orders",
        "GMV",
        "new cust.",
        "ROAS",
        "CAC",
        "marginal ROAS",
    ):
        table.add_column(name, justify="left" if not name else "right")
    if bands is not None:
        table.add_column("GMV P10-P90", justify="right")
    for key, m in [*rows.items(), ("total", total)]:
        extra = [] if bands is None else [_band_cell(bands, key)]
        table.add_row(
            key,
            money(m.spend_cny),
            money(m.commission_cny),
            money(m.impressions),
            money(m.orders),
            money(m.gmv_cny),
            money(m.new_customers),
            ratio(m.roas),
            ratio(m.cac_cny),
            ratio(m.marginal_roas),
            *extra,
            style="bold" if key == "total" else None,
        )
    return table


def _budget_line(plan: Plan) -> str:
    assert plan.total is not None
    used = plan.total.spend_cny + plan.fixed_costs_cny + plan.activation_costs_cny
    activation = (
        f" + activation {money(plan.activation_costs_cny)}" if plan.activation_costs_cny else ""
    )
    line = (
        f"Budget {money(plan.budget_total_cny)}: media {money(plan.total.spend_cny)}{activation} + "
        f"fixed costs {money(plan.fixed_costs_cny)} = {money(used)}; contingency held back "
        f"{money(plan.contingency_cny)}; unallocated "
        f"{money(plan.budget_total_cny - used - plan.contingency_cny)}"
    )
    if plan.gross_profit_cny is not None:
        line += "\nGross profit (margin x GMV - spend - commission - fixed - activation): "
        line += money(plan.gross_profit_cny)
    return line


def _rules_table(plan: Plan) -> Table:
    table = Table(title="Rules re-checked on the true response curves", title_justify="left")
    columns = ("rule", "meaning", "value", "limit", "slack", "binds", "holds", "loosen → gain")
    for name in columns:
        table.add_column(name, justify="right" if name in ("value", "limit", "slack") else "left")
    for r in plan.rules:
        digits = 4 if abs(r.limit) < 100 else 0
        table.add_row(
            r.name,
            r.description,
            ratio(r.value, digits),
            ratio(r.limit, digits),
            ratio(r.slack, digits),
            "yes" if r.binds else "",
            "yes" if r.holds else "NO",
            relaxation_text(r),
        )
    return table


# Natural steps to loosen a limit by: ROAS by 0.1, shares and rates by one point, amounts by 1 CNY.
RELAXATION_STEPS = {"roas_floor": (0.1, "0.1"), "gmv_share": (0.01, "1 pt")}


def relaxation_text(rule: RuleCheck) -> str:
    """'-0.1 → +12,300,000': objective gained by loosening the limit one natural step."""
    if rule.value_of_relaxing is None or not rule.binds:
        return ""
    step, label = RELAXATION_STEPS.get(rule.kind, (1.0, "1 CNY"))
    if rule.kind == "commission_cap" and rule.name.endswith(".rate"):
        step, label = 0.01, "1 pt"
    sign = "-" if rule.sense == ">=" else "+"
    gain = rule.value_of_relaxing * step
    return f"{sign}{label} → {gain:+,.{0 if abs(gain) >= 100 else 2}f}"


def _solver_line(plan: Plan) -> str:
    s = plan.solver
    assert s is not None
    gap = "-" if s.gap is None else f"{s.gap:.1e}"
    parts = [
        f"solver {s.solver}",
        f"status {s.status}",
        f"gap {gap} (target {s.tolerance:.0e})",
        f"{s.rounds} rounds",
        f"{s.seconds:.2f} s",
    ]
    if s.is_mip:
        parts.append("MILP" + (f", MIP gap {s.mip_gap:.1e}" if s.mip_gap is not None else ""))
    if s.polished:
        parts.append("polished on the true curves")
    if plan.risk is not None:
        draws = plan.ranges["draws"] if plan.ranges else 0
        measure = (
            f"the mean over {draws} draws"
            if plan.risk["measure"] == "mean"
            else f"the CVaR of the worst {plan.risk['level']:.0%} of {draws} draws"
        )
        parts.append(f"objective {measure}: {plan.objective_value:,.0f}")
    return "; ".join(parts)

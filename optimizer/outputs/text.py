"""Plan -> text for people (rich table) and for spreadsheets (CSV); JSON is results.serialise."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.table import Table

from optimizer.results.plan import METRICS, Metrics, Plan, RuleCheck

CSV_COLUMNS = ("level", "unit", "channel", "period", *METRICS)


def csv_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    """One tidy row per unit-period, then per channel, per period and the total."""
    for unit, by_period in plan.by_unit_period.items():
        channel = unit.split(".", 1)[0]
        for period, m in by_period.items():
            yield _row("unit_period", unit, channel, period, m)
    for channel, m in plan.by_channel.items():
        yield _row("channel", "", channel, "", m)
    for period, m in plan.by_period.items():
        yield _row("period", "", "", period, m)
    if plan.total is not None:
        yield _row("total", "", "", "", plan.total)


def _row(level: str, unit: str, channel: str, period: str, m: Metrics) -> dict[str, Any]:
    values = {k: getattr(m, k) for k in METRICS}
    return {"level": level, "unit": unit, "channel": channel, "period": period, **values}


def to_csv(plan: Plan) -> str:
    """Tidy CSV (comma, UTF-8 with BOM so Excel reads Chinese names) of every metric."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(plan):
        writer.writerow({k: csv_value(v) for k, v in row.items()})
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
        console.print(_allocation_table(plan))
        console.print(_metrics_table("By channel", plan.by_channel, plan.total, plan.names))
        console.print(_metrics_table("By period", plan.by_period, plan.total))
        console.print(_budget_line(plan))
        if plan.carry_over is not None:
            console.print(_carry_line(plan.carry_over))
        console.print(_rules_table(plan))
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


def _allocation_table(plan: Plan) -> Table:
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


def _metrics_table(
    title: str, rows: dict[str, Metrics], total: Metrics, names: dict[str, str] | None = None
) -> Table:
    table = Table(title=title, title_justify="left")
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
    for key, m in [*rows.items(), ("total", total)]:
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
    return "; ".join(parts)

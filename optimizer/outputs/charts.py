"""Pictures (matplotlib, PNG): allocations, response curves, frontiers, tornados, sweeps.

Labels use ids, not display names: no CJK font is assumed on the machine drawing them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from optimizer.core.problem import Problem, build_problem
from optimizer.results.plan import Plan
from optimizer.results.whatif import Frontier, Sweep, Tornado
from optimizer.schema.scenario import Scenario


def allocation_png(plan: Plan, path: Path) -> Path:
    """Stacked bars: spend (million CNY) of each channel in each period; GMV in the title."""
    periods = plan.periods
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(periods) + 3), 4.0), dpi=100)
    bottom = [0.0] * len(periods)
    for unit, by_period in plan.spend.items():
        values = [by_period[p] / 1e6 for p in periods]
        ax.bar(periods, values, bottom=bottom, label=unit)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    gmv = plan.total.gmv_cny / 1e6 if plan.total else None
    title = "Spend by channel and period" + (f" (GMV {gmv:,.1f}M CNY)" if gmv else "")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("spend, million CNY")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    """Write the figure without a timestamp or version (same input, same bytes) and close it."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # a killed run leaves no half PNG
    try:
        fig.savefig(partial, format="png", metadata={"Software": None})
        os.replace(partial, path)
    finally:
        plt.close(fig)
        partial.unlink(missing_ok=True)
    return path


def response_png(problem: Problem, plan: Plan, path: Path) -> Path:
    """Each unit's GMV curve in every period, the chosen spend on it and its marginal ROAS."""
    units = problem.units
    columns = min(3, len(units))
    rows = -(-len(units) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.2 * rows), dpi=100, squeeze=False
    )
    chosen = np.array([[plan.spend[u.id][p] for p in plan.periods] for u in units])
    per_period = max(problem.scenario.media_budget_cny(), 1.0) / len(plan.periods)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(plan.periods)))
    for i, (unit, ax) in enumerate(zip(units, axes.flat, strict=False)):
        top = max(2.0 * chosen[i].max(), 0.1 * per_period)
        top = min(top, float(problem.hi[i].max())) or 1.0
        xs = np.linspace(0.0, top, 120)
        for t, period in enumerate(plan.periods):
            ys = unit.gain[t] * unit.curve.at(t).value(xs)
            ax.plot(xs / 1e6, ys / 1e6, color=colours[t], linewidth=1, label=period)
            x = chosen[i, t]
            y = unit.gain[t] * float(unit.curve.at(t).value(x))
            ax.plot(x / 1e6, y / 1e6, "o", color="C3")
        ax.set_title(f"{unit.id}: marginal ROAS {_marginal(plan, unit.id)}", fontsize=9)
        ax.set_xlabel("spend per period, M CNY", fontsize=8)
        ax.set_ylabel("GMV per period, M CNY", fontsize=8)
        ax.tick_params(labelsize=7)
        if len(plan.periods) <= 12 and i == 0:
            ax.legend(fontsize=6, title="period (dot: chosen)", title_fontsize=6)
    for ax in axes.flat[len(units) :]:
        ax.set_visible(False)
    return _save(fig, path)


def _marginal(plan: Plan, unit: str) -> str:
    """Spend-weighted marginal ROAS of a unit over the periods, as text."""
    cells = [m for m in plan.by_unit_period[unit].values() if m.marginal_roas is not None]
    spend = sum(m.spend_cny for m in cells)
    if not cells:
        return "n/a"
    if spend <= 0:
        return f"{max(m.marginal_roas or 0.0 for m in cells):.2f} (unused)"
    return f"{sum((m.marginal_roas or 0.0) * m.spend_cny for m in cells) / spend:.2f}"


CHARTS = ("allocation", "response")


def chart_paths(folder: Path, key: str) -> list[Path]:
    """Where the charts of the plan with this fingerprint go."""
    return [folder / f"{key}-{name}.png" for name in CHARTS]


def draw_charts(scenario: Scenario, plan: Plan, folder: Path, key: str) -> list[Path]:
    """Allocation and response-curve PNGs of a plan, drawn unless already there."""
    allocation, response = chart_paths(folder, key)
    if not allocation.exists():
        allocation_png(plan, allocation)
    if not response.exists():
        response_png(build_problem(scenario), plan, response)
    return [allocation, response]


def frontier_png(frontier: Frontier, path: Path) -> Path:
    """GMV and profit against total budget, marginal ROAS below, the fall-off budgets marked."""
    budgets = [p.budget_total_cny / 1e6 for p in frontier.points]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.0), dpi=100, sharex=True)
    for metric, label in (("gmv_cny", "GMV"), ("gross_profit_cny", "gross profit")):
        values = [_million(p.point.metrics[metric]) for p in frontier.points]
        if any(v is not None for v in values):
            top.plot(budgets, [np.nan if v is None else v for v in values], "o-", label=label)
    top.set_ylabel("million CNY")
    top.set_title(f"Frontier: best {frontier.objective} plan at each total budget", fontsize=10)
    middles = [
        (a.budget_total_cny + b.budget_total_cny) / 2e6
        for a, b in itertools.pairwise(frontier.points)
    ]
    marginal = [np.nan if p.marginal_roas is None else p.marginal_roas for p in frontier.points[1:]]
    bottom.plot(middles, marginal, "s-", color="C2", label="marginal ROAS")
    bottom.axhline(1.0, color="grey", linestyle=":", label="ROAS 1")
    if frontier.roas_floor is not None:
        bottom.axhline(frontier.roas_floor, color="C1", linestyle=":", label="ROAS floor")
    for budget, label, colour in (
        (frontier.below_one_cny, "below 1", "grey"),
        (frontier.below_floor_cny, "below floor", "C1"),
    ):
        if budget is not None:
            for ax in (top, bottom):
                ax.axvline(budget / 1e6, color=colour, linestyle="--", linewidth=1)
            bottom.annotate(f"{label}: {budget / 1e6:,.1f}M", (budget / 1e6, 0.0), fontsize=7)
    bottom.set_xlabel("total budget, million CNY")
    bottom.set_ylabel("GMV per extra yuan")
    for ax in (top, bottom):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return _save(fig, path)


def tornado_png(tornado: Tornado, path: Path) -> Path:
    """Horizontal bars: the metric's range as each field moves alone, widest on top."""
    bars = list(reversed(tornado.bars))
    base = tornado.base.metrics[tornado.metric]
    fig, ax = plt.subplots(figsize=(8.0, 1.0 + 0.5 * len(bars)), dpi=100)
    for y, bar in enumerate(bars):
        if bar.low is None or bar.high is None:
            ax.text(0.0, y, f"{bar.path}: no plan at any value", fontsize=7, va="center")
            continue
        ax.barh(y, (bar.high - bar.low) / 1e6, left=bar.low / 1e6, color="C0", height=0.6)
        for end, align in ((bar.low, "right"), (bar.high, "left")):
            value = next(p.values[bar.path] for p in bar.points if p.metrics[tornado.metric] == end)
            ax.annotate(f" {_short(value)} ", (end / 1e6, y), fontsize=7, ha=align, va="center")
    ax.set_yticks(range(len(bars)), [b.path for b in bars], fontsize=7)
    ax.margins(x=0.15)
    if base is not None:
        ax.axvline(base / 1e6, color="C3", linestyle="--", linewidth=1, label="as given")
        ax.legend(fontsize=7)
    ax.set_xlabel(f"{tornado.metric}, millions")
    ax.set_title(f"Tornado: {tornado.metric} as each field moves alone", fontsize=10)
    return _save(fig, path)


def sweep_png(sweep: Sweep, metric: str, path: Path) -> Path:
    """The metric against the first varied field, one line per combination of the others."""
    first = sweep.varies[0].path
    lines: dict[str, list[tuple[Any, Any]]] = {}
    for point in sweep.points:
        others = ", ".join(f"{k}={_short(v)}" for k, v in point.values.items() if k != first)
        value = point.metrics[metric]
        lines.setdefault(others, []).append((point.values[first], value))
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=100)
    numeric = all(isinstance(x, int | float) for pts in lines.values() for x, _ in pts)
    for label, points in lines.items():
        xs = [x if numeric else str(x) for x, _ in points]
        ys = [np.nan if y is None else _scaled(y, metric) for _, y in points]
        ax.plot(xs, ys, "o-", label=label or None)
    ax.set_xlabel(first)
    ax.set_ylabel(metric + (", millions" if _is_money(metric) else ""))
    ax.set_title(f"Sweep: {metric} against {first}", fontsize=10)
    if any(lines):
        ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def compare_png(plans: Sequence[Plan], labels: Sequence[str], path: Path) -> Path:
    """Grouped bars: spend by channel in each plan, GMV in the legend."""
    channels: list[str] = []
    for plan in plans:
        channels += [c for c in plan.by_channel if c not in channels]
    width = 0.8 / len(plans)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(channels) + 2), 4.0), dpi=100)
    for k, (plan, label) in enumerate(zip(plans, labels, strict=True)):
        spend = [
            plan.by_channel[c].spend_cny / 1e6 if c in plan.by_channel else 0 for c in channels
        ]
        gmv = f" (GMV {plan.total.gmv_cny / 1e6:,.1f}M)" if plan.total else " (no plan)"
        xs = [i + (k - (len(plans) - 1) / 2) * width for i in range(len(channels))]
        ax.bar(xs, spend, width=width, label=label + gmv)
    ax.set_xticks(range(len(channels)), channels, fontsize=7, rotation=20)
    ax.set_ylabel("spend, million CNY")
    ax.set_title("Spend by channel, plan by plan", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def _million(value: float | None) -> float | None:
    return None if value is None else value / 1e6


def _is_money(metric: str) -> bool:
    return metric.endswith("_cny") or metric in ("objective_value", "new_customers")


def _scaled(value: float, metric: str) -> float:
    return value / 1e6 if _is_money(metric) else value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

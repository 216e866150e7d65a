"""Pictures (matplotlib, PNG): allocations, response curves, frontiers, tornados, sweeps.

Channels are labelled by their display names, drawn with an installed CJK font (Noto Sans CJK,
Source Han Sans, WenQuanYi, PingFang, Microsoft YaHei, SimHei...). Without one, Chinese would be
drawn as empty boxes: labels then fall back to ids, with one warning per process. Money is shown
in CNY millions with plain tick labels, and every figure lays itself out so no label is cut.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import ScalarFormatter

from optimizer.core.problem import Problem, build_problem
from optimizer.core.units import Unit
from optimizer.results.plan import Plan
from optimizer.results.whatif import Frontier, Sweep, Tornado
from optimizer.schema.scenario import Scenario

log = logging.getLogger(__name__)

# Families that draw Simplified Chinese, best first: Linux (Noto, Source Han, WenQuanYi), macOS
# (PingFang, Hiragino, Heiti), Windows (Microsoft YaHei, SimHei).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
    "Arial Unicode MS",
)
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]")
MILLION = "CNY million"
_warned = False


def has_cjk(text: str) -> bool:
    """Whether the text has a Chinese, Japanese or Korean character (or a full-width form)."""
    return CJK.search(text) is not None


def font_has_glyphs(family: str, text: str) -> bool:
    """Whether the installed font of this family has a glyph for every character of the text."""
    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return False
    font = FT2Font(path)
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


@functools.cache
def cjk_font() -> str | None:
    """The first installed family of ``CJK_FAMILIES`` that really draws Chinese, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed and font_has_glyphs(family, "自营直播达人私域投流"):
            return family
    return None


def labels_for(texts: Sequence[str], fallbacks: Sequence[str]) -> list[str]:
    """Each text as drawn: itself, or its fallback (an id) when it has Chinese and no CJK font
    is installed; a fallback with Chinese too becomes ``#n``. One warning per process."""
    if cjk_font() is not None or not any(has_cjk(t) for t in texts):
        return list(texts)
    _warn_no_font()
    shown = []
    for k, (text, fallback) in enumerate(zip(texts, fallbacks, strict=True)):
        if not has_cjk(text):
            shown.append(text)
        else:
            shown.append(fallback if not has_cjk(fallback) else f"#{k + 1}")
    return shown


def _warn_no_font() -> None:
    global _warned  # once per process: every chart of a batch would repeat it
    if not _warned:
        _warned = True
        log.warning(
            "no CJK font installed: charts label channels by id instead of their Chinese names; "
            "install one (apt-get install fonts-noto-cjk) to see the names"
        )


def _families() -> list[str]:
    """Latin text in the default font, Chinese from the CJK font (matplotlib's glyph fallback)."""
    family = cjk_font()
    return ["DejaVu Sans", family] if family else ["DejaVu Sans"]


def styled(build: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build the figure with the chart style: CJK font, plain numbers, constrained layout."""

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with _style():
            fig = build(*args, **kwargs)
            for ax in fig.axes:
                _plain(ax)
        return fig

    return wrapper


@contextmanager
def _style() -> Iterator[None]:
    rc = {
        "font.family": _families(),
        "axes.formatter.useoffset": False,
        "axes.formatter.limits": (-9, 12),
        "figure.constrained_layout.use": True,
    }
    with plt.rc_context(rc):
        yield


def _plain(ax: Axes) -> None:
    """Tick labels without scientific notation or an offset (1e8) above the axis."""
    for axis in (ax.xaxis, ax.yaxis):
        formatter = axis.get_major_formatter()
        if isinstance(formatter, ScalarFormatter):
            formatter.set_useOffset(False)
            formatter.set_scientific(False)


def allocation_png(plan: Plan, path: Path) -> Path:
    """Stacked bars: spend (CNY million) of each channel in each period; GMV in the title."""
    return _save(allocation_figure(plan), path)


@styled
def allocation_figure(plan: Plan) -> Figure:
    """The allocation chart as a figure (``allocation_png`` writes it)."""
    periods = plan.periods
    units = list(plan.spend)
    names = labels_for([plan.names.get(u, u) for u in units], units)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.5 * len(periods) + 5), 4.2), dpi=100)
    bottom = [0.0] * len(periods)
    for unit, name in zip(units, names, strict=True):
        values = [plan.spend[unit][p] / 1e6 for p in periods]
        ax.bar(periods, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylim(
        0.0, 1.08 * max(bottom, default=0.0) or 1.0
    )  # an empty bar's base sticks at the top
    gmv = plan.total.gmv_cny / 1e6 if plan.total else None
    title = "Spend by channel and period" + (f" (GMV {gmv:,.1f} {MILLION})" if gmv else "")
    fig.suptitle(title, fontsize=10)  # centred on the figure: never wider than it
    ax.set_ylabel(f"spend ({MILLION})")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _save(fig: Figure, path: Path) -> Path:
    """Write the figure without a timestamp or version (same input, same bytes) and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # a killed run leaves no half PNG
    try:
        # constrained layout keeps every label inside the figure; "tight" is the safety net
        fig.savefig(
            partial, format="png", metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1
        )
        os.replace(partial, path)
    finally:
        plt.close(fig)
        partial.unlink(missing_ok=True)
    return path


def response_png(problem: Problem, plan: Plan, path: Path) -> Path:
    """Each unit's GMV curve in every period, the chosen spend on it and its marginal ROAS."""
    return _save(response_figure(problem, plan), path)


@styled
def response_figure(problem: Problem, plan: Plan) -> Figure:
    """The response-curve chart as a figure (``response_png`` writes it)."""
    units = problem.units
    names = labels_for([plan.names.get(u.id, u.id) for u in units], [u.id for u in units])
    columns = min(3, len(units))
    rows = -(-len(units) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.4 * columns, 3.4 * rows), dpi=100, squeeze=False
    )
    chosen = np.array([[plan.spend[u.id][p] for p in plan.periods] for u in units])
    per_period = max(problem.scenario.media_budget_cny(), 1.0) / len(plan.periods)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(plan.periods)))
    for i, (unit, ax) in enumerate(zip(units, axes.flat, strict=False)):
        top = max(2.0 * chosen[i].max(), 0.1 * per_period)
        top = min(top, float(problem.hi[i].max())) or 1.0
        xs = np.linspace(0.0, top, 120)
        if unit.carry is not None:
            _carried_curve(ax, unit, chosen[i])
            ax.set_title(f"{names[i]}\nmarginal ROAS {_marginal(plan, unit.id)}", fontsize=8)
            continue
        for t, period in enumerate(plan.periods):
            ys = unit.gain[t] * unit.curve.at(t).value(xs)
            ax.plot(xs / 1e6, ys / 1e6, color=colours[t], linewidth=1, label=period)
            x = chosen[i, t]
            y = unit.gain[t] * float(unit.curve.at(t).value(x))
            ax.plot(x / 1e6, y / 1e6, "o", color="C3")
        ax.set_title(f"{names[i]}\nmarginal ROAS {_marginal(plan, unit.id)}", fontsize=8)
        ax.set_xlabel(f"spend per period ({MILLION})", fontsize=8)
        ax.set_ylabel(f"GMV per period ({MILLION})", fontsize=8)
        ax.tick_params(labelsize=7)
        if len(plan.periods) <= 12 and i == 0:
            ax.legend(fontsize=6, title="period (dot: chosen)", title_fontsize=6)
    for ax in axes.flat[len(units) :]:
        ax.set_visible(False)
    return fig


def _carried_curve(ax: Axes, unit: Unit, chosen: np.ndarray) -> None:
    """A unit with carry-over: GMV over all the plan's periods as its whole spend path is
    scaled from 0 to twice the plan's (one period's GMV depends on earlier spend, so there is
    no curve per period), with the plan's point."""
    total = float(chosen.sum())
    shape = chosen / total if total > 0 else np.full(len(chosen), 1.0 / len(chosen))
    top = 2.0 * total if total > 0 else 1.0
    xs = np.linspace(0.0, top, 60)
    ys = np.array([float(np.sum(unit.gmv(x * shape))) for x in xs])
    ax.plot(xs / 1e6, ys / 1e6, color="C0", linewidth=1.2, label="whole plan, scaled")
    ax.plot(total / 1e6, float(np.sum(unit.gmv(chosen))) / 1e6, "o", color="C3")
    ax.set_xlabel(f"spend over the plan ({MILLION})", fontsize=8)
    ax.set_ylabel(f"GMV over the plan, carry-over included ({MILLION})", fontsize=7)
    ax.tick_params(labelsize=7)


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
    return _save(frontier_figure(frontier), path)


@styled
def frontier_figure(frontier: Frontier) -> Figure:
    """The frontier chart as a figure (``frontier_png`` writes it)."""
    budgets = [p.budget_total_cny / 1e6 for p in frontier.points]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.2), dpi=100, sharex=True)
    for metric, label in (("gmv_cny", "GMV"), ("gross_profit_cny", "gross profit")):
        values = [_million(p.point.metrics[metric]) for p in frontier.points]
        if any(v is not None for v in values):
            top.plot(budgets, [np.nan if v is None else v for v in values], "o-", label=label)
    top.set_ylabel(MILLION)
    fig.suptitle(f"Frontier: best {frontier.objective} plan at each total budget", fontsize=10)
    middles = [
        (a.budget_total_cny + b.budget_total_cny) / 2e6
        for a, b in itertools.pairwise(frontier.points)
    ]
    marginal = [np.nan if p.marginal_roas is None else p.marginal_roas for p in frontier.points[1:]]
    bottom.plot(middles, marginal, "s-", color="C2", label="marginal ROAS (between budgets)")
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
            bottom.annotate(
                f" {label}: {budget / 1e6:,.1f}",
                (budget / 1e6, 0.02),
                xycoords=("data", "axes fraction"),
                fontsize=7,
            )
    bottom.set_xlabel(f"total budget ({MILLION})")
    bottom.set_ylabel("GMV per extra yuan spent")
    for ax in (top, bottom):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return fig


def tornado_png(tornado: Tornado, path: Path) -> Path:
    """Horizontal bars: the metric's range as each field moves alone, widest on top."""
    return _save(tornado_figure(tornado), path)


@styled
def tornado_figure(tornado: Tornado) -> Figure:
    """The tornado chart as a figure (``tornado_png`` writes it)."""
    bars = list(reversed(tornado.bars))
    paths = labels_for([b.path for b in bars], [f"field {len(bars) - k}" for k in range(len(bars))])
    base = tornado.base.metrics[tornado.metric]
    scale = 1e6 if _in_millions(tornado.metric) else 1.0
    fig, ax = plt.subplots(figsize=(8.0, 1.4 + 0.5 * len(bars)), dpi=100)
    for y, bar in enumerate(bars):
        if bar.low is None or bar.high is None:
            where = ax.get_yaxis_transform()  # x in axes fractions: inside whatever the range
            ax.text(0.01, y, f"{paths[y]}: no plan", fontsize=7, va="center", transform=where)
            continue
        ax.barh(y, (bar.high - bar.low) / scale, left=bar.low / scale, color="C0", height=0.6)
        for end, align in ((bar.low, "right"), (bar.high, "left")):
            value = next(p.values[bar.path] for p in bar.points if p.metrics[tornado.metric] == end)
            text = f" {_value_text(bar.path, value)} "
            ax.annotate(text, (end / scale, y), fontsize=7, ha=align, va="center")
    ax.set_yticks(range(len(bars)), paths, fontsize=7)
    ax.use_sticky_edges = False  # a bar's end would stop the margin that holds its label
    ax.margins(x=0.2)
    if base is not None:
        ax.axvline(base / scale, color="C3", linestyle="--", linewidth=1, label="as given")
        ax.legend(fontsize=7)
    ax.set_xlabel(_metric_label(tornado.metric))
    fig.suptitle(f"Tornado: {tornado.metric} as each field moves alone", fontsize=10)
    return fig


def sweep_png(sweep: Sweep, metric: str, path: Path) -> Path:
    """The metric against the first varied field, one line per combination of the others."""
    return _save(sweep_figure(sweep, metric), path)


@styled
def sweep_figure(sweep: Sweep, metric: str) -> Figure:
    """The sweep chart as a figure (``sweep_png`` writes it)."""
    first = sweep.varies[0].path
    lines: dict[str, list[tuple[Any, Any]]] = {}
    for point in sweep.points:
        others = ", ".join(
            f"{k}={_value_text(k, v)}" for k, v in point.values.items() if k != first
        )
        value = point.metrics[metric]
        lines.setdefault(others, []).append((point.values[first], value))
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=100)
    numeric = all(isinstance(x, int | float) for pts in lines.values() for x, _ in pts)
    x_scale = 1e6 if numeric and first.endswith("_cny") else 1.0
    labels = labels_for(list(lines), [f"line {k + 1}" for k in range(len(lines))])
    for label, points in zip(labels, lines.values(), strict=True):
        xs = [x / x_scale if numeric else str(x) for x, _ in points]
        ys = [np.nan if y is None else _scaled(y, metric) for _, y in points]
        ax.plot(xs, ys, "o-", label=label or None)
    (x_label,) = labels_for([first], ["first varied field"])
    ax.set_xlabel(x_label + (f" ({MILLION})" if x_scale != 1.0 else ""))
    ax.set_ylabel(_metric_label(metric))
    fig.suptitle(f"Sweep: {metric} against {x_label}", fontsize=10)
    if any(lines):
        ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return fig


def compare_png(plans: Sequence[Plan], labels: Sequence[str], path: Path) -> Path:
    """Grouped bars: spend by channel in each plan, GMV in the legend."""
    return _save(compare_figure(plans, labels), path)


@styled
def compare_figure(plans: Sequence[Plan], labels: Sequence[str]) -> Figure:
    """The comparison chart as a figure (``compare_png`` writes it)."""
    channels: list[str] = []
    names: dict[str, str] = {}
    for plan in plans:
        channels += [c for c in plan.by_channel if c not in channels]
        names = {**plan.names, **names}
    ticks = labels_for([names.get(c, c) for c in channels], channels)
    shown = labels_for(list(labels), [f"plan {k + 1}" for k in range(len(labels))])
    width = 0.8 / len(plans)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.4 * len(channels) + 3), 4.6), dpi=100)
    for k, (plan, label) in enumerate(zip(plans, shown, strict=True)):
        spend = [
            plan.by_channel[c].spend_cny / 1e6 if c in plan.by_channel else 0 for c in channels
        ]
        gmv = f" (GMV {plan.total.gmv_cny / 1e6:,.1f}M)" if plan.total else " (no plan)"
        xs = [i + (k - (len(plans) - 1) / 2) * width for i in range(len(channels))]
        ax.bar(xs, spend, width=width, label=label + gmv)
    ax.set_xticks(range(len(channels)), ticks, fontsize=7, rotation=20, ha="right")
    ax.set_ylabel(f"spend ({MILLION})")
    fig.suptitle("Spend by channel, plan by plan", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def _million(value: float | None) -> float | None:
    return None if value is None else value / 1e6


def _in_millions(metric: str) -> bool:
    return metric.endswith("_cny") or metric in ("objective_value", "new_customers")


def _scaled(value: float, metric: str) -> float:
    return value / 1e6 if _in_millions(metric) else value


def _metric_label(metric: str) -> str:
    """Axis label of a metric with its unit: money in CNY millions, customers in millions."""
    if not _in_millions(metric):
        return metric
    return f"{metric} (million)" if metric == "new_customers" else f"{metric} ({MILLION})"


def _value_text(path: str, value: Any) -> str:
    """A field's value, short: large money in millions (135M), other floats to 4 digits."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and path.endswith("_cny") and abs(value) >= 1e5:
        return f"{value / 1e6:,.4g}M"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

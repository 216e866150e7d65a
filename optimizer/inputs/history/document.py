"""The fitted channels as a scenario document (as ``budgetopt import`` writes one) and the fit
report (every candidate's held-out error, the choice, parameters, ranges, warnings).

A channel's ``cpm_index`` covers the plan's weeks: the CPM trend goes on from the history's
last week, and window effects apply to the plan weeks whose ISO week number was in that window
in the history (see ``cpm``). Its ``history_spend_cny`` is the spend of the last ``max_lag``
weeks priced at the plan's first-week CPM (the engine prices history so), i.e. spend x
index(first plan week) / index(that week): what those weeks really bought, carried into the plan.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.inputs.history.cpm import plan_windows
from optimizer.inputs.history.fit import ChannelFit, HistoryFit, window_gmv_ratios
from optimizer.inputs.history.read import ISO_WEEK, parse_week
from optimizer.inputs.mmm.build import ImportedChannel, ImportOptions, scenario_document

SIGNIFICANT = 8  # digits kept in draws and indices: the file stays readable, nothing is lost


def plan_weeks(fit: HistoryFit, options: ImportOptions) -> list[date]:
    """The Monday of each plan period: named ISO weeks (2026-W01) as named, else the weeks
    right after the history's last one."""
    names = options.periods()
    if names and all(ISO_WEEK.match(n) for n in names):
        parsed = [parse_week(n) for n in names]
        if all(p is not None for p in parsed):
            return [p for p in parsed if p is not None]
    last = fit.history.weeks[-1]
    return [last + timedelta(weeks=k + 1) for k in range(len(names))]


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT}g}")


def plan_index(c: ChannelFit, fit: HistoryFit, weeks: list[date]) -> np.ndarray | None:
    """CPM index of each plan week (None without a CPM model)."""
    if c.cpm is None:
        return None
    last = fit.history.weeks[-1]
    offsets = np.array([(w - last).days // 7 for w in weeks])
    windows = plan_windows(fit.history.weeks, c.channel.windows, weeks)
    return c.cpm.index(offsets, windows)


def imported_channel(
    c: ChannelFit, fit: HistoryFit, weeks: list[date], aov: float
) -> ImportedChannel:
    """The scenario channel of one fit."""
    params = c.parameters()
    family = c.model.family
    params = {name: _round(value) for name, value in params.items()}  # no float dust in files
    response = family.response(
        params["max_gmv_cny"], params[family.width], params.get("shape", 1.0)
    )
    index = plan_index(c, fit, weeks)
    adstock, history = None, []
    if c.model.max_lag:
        adstock = {"type": "geometric", "decay": params["decay"], "max_lag": c.model.max_lag}
        first = 1.0 if index is None else float(index[0])
        tail = slice(len(c.channel.spend_cny) - c.model.max_lag, None)
        history = [_round(v) for v in c.channel.spend_cny[tail] * first / c.index[tail]]
    share = None
    if c.channel.new_customers is not None and c.channel.gmv_cny.sum() > 0:
        orders = float(c.channel.gmv_cny.sum()) / aov
        share = round(min(1.0, c.channel.new_customers / orders), 6)
    spend = c.channel.spend_cny
    return ImportedChannel(
        id=c.channel.id,
        name=c.channel.name,
        response=response,
        adstock=adstock,
        history_spend_cny=history,
        mean_weekly_spend_cny=float(np.mean(spend)),
        cpm_index=None if index is None else [_round(v) for v in index],
        new_customer_share=share,
        draws=_draws(c) if len(c.draws) else None,
        fit={
            "family": family.name,
            "weeks": len(spend),
            "spend_min_cny": float(spend.min()),
            "spend_max_cny": float(spend.max()),
            "r2": None if c.r2 is None else round(c.r2, 6),
            "holdout_mape": None if c.holdout_mape is None else round(c.holdout_mape, 6),
            "source": Path(fit.history.source).name[:500],
        },
    )


def _draws(c: ChannelFit) -> dict[str, Any]:
    """The bootstrap draws as the schema's ``draws`` block."""
    natural = [c.model.natural(theta) for theta in c.draws]
    response = {
        name: [_round(d[name]) for d in natural] for name in c.model.names() if name != "decay"
    }
    out: dict[str, Any] = {"response": response}
    if c.model.max_lag:
        out["adstock"] = {"decay": [_round(d["decay"]) for d in natural]}
    return out


def scenario_from_fit(fit: HistoryFit, options: ImportOptions) -> dict[str, Any]:
    """The scenario document: one fitted curve channel per channel of the history."""
    weeks = plan_weeks(fit, options)
    channels = [imported_channel(c, fit, weeks, options.aov_cny) for c in fit.channels]
    names = fit.history.week_names()
    description = (
        f"Response curves fitted by budgetopt fit from {Path(fit.history.source).name}, "
        f"{len(names)} weeks {names[0]} to {names[-1]}: "
        + ", ".join(f"{c.channel.id} {c.model.label}" for c in fit.channels)
        + f"; {fit.options.draws} bootstrap draws (seed {fit.options.seed})."
    )
    return scenario_document(channels, options, name="fitted curves", description=description)


def fit_report(fit: HistoryFit) -> dict[str, Any]:
    """Every channel's candidates (held-out error), choice, parameters, R², MAPE, spend range,
    CPM model, draws' P10 / P50 / P90 and warnings, as plain JSON values."""
    names = fit.history.week_names()
    return {
        "source": fit.history.source,
        "weeks": len(names),
        "first_week": names[0],
        "last_week": names[-1],
        "draws": fit.options.draws,
        "seed": fit.options.seed,
        "channels": [_channel_report(c) for c in fit.channels],
    }


def _channel_report(c: ChannelFit) -> dict[str, Any]:
    spend = c.channel.spend_cny
    out: dict[str, Any] = {
        "id": c.channel.id,
        "name": c.channel.name,
        "chosen": c.model.label,
        "family": c.model.family.name,
        "adstock": {"type": "geometric", "max_lag": c.model.max_lag} if c.model.max_lag else None,
        "parameters": c.parameters(),
        "r2": c.r2,
        "holdout_mape": c.holdout_mape,
        "weeks_fitted": len(spend) - c.burn,
        "spend_min_cny": float(spend.min()),
        "spend_max_cny": float(spend.max()),
        "candidates": [
            {
                "model": s.model.label,
                "parameters": s.model.size,
                "holdout_rmse_cny": float(np.sqrt(s.holdout_mse)),
                "holdout_mape": s.holdout_mape,
            }
            for s in sorted(c.scored, key=lambda s: s.holdout_mse)
        ],
        "cpm": None,
        "window_gmv_ratio": window_gmv_ratios(c),
        "draws": {},
        "warnings": c.warnings,
    }
    if c.cpm is not None:
        out["cpm"] = {
            "reference_cpm_cny": c.cpm.reference_cpm_cny(len(spend) - 1),
            "trend_per_week": float(np.expm1(c.cpm.trend_per_week)),
            "log_trend_per_week": c.cpm.trend_per_week,
            "window_multipliers": {w: float(np.exp(g)) for w, g in c.cpm.window_effects.items()},
            "weeks": c.cpm.weeks,
            "r2": c.cpm.r2,
        }
    if len(c.draws):
        natural = [c.model.natural(theta) for theta in c.draws]
        for name in c.model.names():
            values = np.array([d[name] for d in natural])
            p10, p50, p90 = np.percentile(values, [10, 50, 90])
            out["draws"][name] = {"p10": float(p10), "p50": float(p50), "p90": float(p90)}
    return out

"""Ranges of a plan over its curves' draws: P10 / P50 / P90 of GMV, ROAS, CAC and profit, and
the share of draws in which each rule holds.

Every figure is recomputed at the plan's spend on each draw's curves (``core.draws``), with the
same arithmetic as the plan's own metrics and the same feasibility test as its rule report:
a plan without draws has no ranges (None).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.core.checks import FEASIBILITY_TOLERANCE
from optimizer.core.draws import draw_count, gmv_by_draw
from optimizer.core.forms import Row, Switch
from optimizer.core.problem import Problem
from optimizer.results.rules import check_switch

PERCENTILES = (10.0, 50.0, 90.0)


def band(values: np.ndarray) -> dict[str, float | None] | None:
    """P10, P50, P90 and mean of one figure over the draws (None where no draw has it)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    p10, p50, p90 = np.percentile(finite, PERCENTILES)
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(finite.mean())}


def plan_ranges(problem: Problem, spend: np.ndarray) -> dict[str, Any] | None:
    """The plan's ranges over its draws: totals, by channel, by period and the rules' odds."""
    count = draw_count(problem.scenario)
    if count == 0:
        return None
    gmv = gmv_by_draw(problem, spend)
    totals = _totals(problem, spend, gmv)
    channels = problem.scenario.channel_ids()
    unit_channel = np.array([channels.index(u.channel) for u in problem.units], dtype=int)
    by_channel_gmv = np.zeros((count, len(channels)))
    np.add.at(by_channel_gmv, (slice(None), unit_channel), gmv.sum(axis=2))
    channel_basis = np.zeros((count, len(channels)))
    np.add.at(channel_basis, (slice(None), unit_channel), _basis(problem, spend, gmv).sum(axis=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        channel_roas = by_channel_gmv / channel_basis
    return {
        "draws": count,
        "total": {name: band(values) for name, values in totals.items()},
        "by_channel": {
            c: {"gmv_cny": band(by_channel_gmv[:, j]), "roas": band(channel_roas[:, j])}
            for j, c in enumerate(channels)
        },
        "by_period": {
            p: {"gmv_cny": band(gmv[:, :, t].sum(axis=1))} for t, p in enumerate(problem.periods)
        },
        "rules": [_rule_odds(row, spend, gmv) for row in problem.rows]
        + [_switch_odds(switch, spend) for switch in problem.switches],
    }


def _basis(problem: Problem, spend: np.ndarray, gmv: np.ndarray) -> np.ndarray:
    """Spend that ROAS and CAC divide by, per draw: media, or media plus commission."""
    if problem.scenario.accounting.spend_basis == "media_plus_commission":
        return spend + problem.unit_constant("commission_rate") * gmv
    return np.broadcast_to(spend, gmv.shape)


def _totals(problem: Problem, spend: np.ndarray, gmv: np.ndarray) -> dict[str, np.ndarray]:
    """GMV, ROAS, CAC and gross profit of every draw, as the plan's own metrics compute them."""
    s = problem.scenario
    commission = (problem.unit_constant("commission_rate") * gmv).sum(axis=(1, 2))
    new = gmv / problem.unit_constant("aov_cny") * problem.unit_constant("new_customer_share")
    acquiring = problem.unit_constant("counts_toward_cac") > 0
    basis = _basis(problem, spend, gmv)
    acq_spend = np.where(acquiring, basis, 0.0).sum(axis=(1, 2))
    acq_new = np.where(acquiring, new, 0.0).sum(axis=(1, 2))
    total_gmv, total_basis = gmv.sum(axis=(1, 2)), basis.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "gmv_cny": total_gmv,
            "roas": np.where(total_basis > 0, total_gmv / total_basis, np.nan),
            "cac_cny": np.where(acq_new > 0, acq_spend / acq_new, np.nan),
        }
    margin = s.accounting.gross_margin
    if margin is not None:
        fixed = sum(c.amount_cny for c in s.fixed_costs) + problem.activation_cost(spend)
        out["gross_profit_cny"] = margin * total_gmv - float(spend.sum()) - commission - fixed
    return out


def _rule_odds(row: Row, spend: np.ndarray, gmv: np.ndarray) -> dict[str, Any]:
    """Share of draws in which one rule holds (the plan's own test), and its measured value's
    band: every row is linear in GMV, so each draw costs one dot product."""
    flat = gmv.reshape(gmv.shape[0], -1)
    form, rhs = row.linear()
    slack = _by_draw(form, spend, flat)
    slack = {"<=": rhs - slack, ">=": slack - rhs}.get(row.sense, -np.abs(slack - rhs))
    cells, spend_coef, gmv_coef = form.entries()
    size = np.abs(spend_coef * spend.ravel()[cells]).sum() + np.abs(flat[:, cells] * gmv_coef).sum(
        axis=1
    )
    scale = np.maximum(np.maximum(size, abs(rhs)), 1.0)
    holds = slack >= -FEASIBILITY_TOLERANCE * scale
    num = _by_draw(row.num, spend, flat)
    if row.den is not None:
        den = _by_draw(row.den, spend, flat)
        with np.errstate(divide="ignore", invalid="ignore"):
            num = np.where(np.abs(den) > 1e-12, num / den, np.nan)
    odds = {
        "name": row.name,
        "description": row.description,
        "probability": float(np.mean(holds)),
        "value": band(num),
    }
    if row.probability is not None:
        odds["required"] = row.probability
    return odds


def _switch_odds(switch: Switch, spend: np.ndarray) -> dict[str, Any]:
    """A channel's "0 or at least X" depends on spend alone: it holds in every draw or none."""
    check = check_switch(switch, spend)
    return {
        "name": check.name,
        "description": check.description,
        "probability": 1.0 if check.holds else 0.0,
        "value": band(np.array([check.value if check.value is not None else np.nan])),
    }


def _by_draw(form: Any, spend: np.ndarray, flat_gmv: np.ndarray) -> np.ndarray:
    """A linear form's value in every draw: its spend part once, its GMV part per draw."""
    fixed = form.evaluate(spend, np.zeros(spend.shape))
    cells, _, gmv_coef = form.entries()
    if not np.any(gmv_coef):
        return np.full(flat_gmv.shape[0], fixed)
    return fixed + flat_gmv[:, cells] @ gmv_coef


FAR_OUTSIDE = 1.5  # a week's spend above 1.5x the most the history saw is an extrapolation


def fit_warnings(problem: Problem, spend: np.ndarray) -> list[str]:
    """A warning per fitted curve whose plan spends, in some period, far above the weekly
    spend its history covers (the curve there is the fit's extrapolation, not data)."""
    out = []
    for channel in problem.scenario.channels:
        fit = getattr(channel, "fit", None)
        if fit is None:
            continue
        rows = [i for i, u in enumerate(problem.units) if u.channel == channel.id]
        cells = spend[rows].max(axis=0)
        far = np.flatnonzero(cells > FAR_OUTSIDE * fit.spend_max_cny)
        if far.size:
            periods = ", ".join(problem.periods[t] for t in far[:5])
            more = f" and {far.size - 5} more" if far.size > 5 else ""
            out.append(
                f"{channel.id}: the plan spends up to {cells[far].max():,.0f} CNY a period "
                f"({periods}{more}), over {FAR_OUTSIDE:g}x the most its history saw in a week "
                f"({fit.spend_max_cny:,.0f}): the fitted curve is an extrapolation there"
            )
    return out

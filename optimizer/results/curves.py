"""Each channel's response curve around a plan: the GMV the channel makes at a range of annual
spends, spread over its units and periods as the plan spreads it, with the plan's own point.

The figures come from the same response model as the plan's (``Problem.gmv`` on the true
curves), so the curve passes exactly through the plan's reported channel GMV at its spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.core.problem import build_problem
from optimizer.core.units import Unit
from optimizer.schema.scenario import Scenario

SpendTable = dict[str, dict[str, float]]  # unit id -> period -> spend (a plan's ``spend``)


@dataclass(frozen=True)
class ChannelCurve:
    """GMV against a channel's annual spend, and the plan's point on it."""

    channel: str
    name: str
    spread: str  # "plan": in the plan's proportions; "even": the plan spends nothing here
    spend_cny: list[float]
    gmv_cny: list[float]
    chosen_spend_cny: float
    chosen_gmv_cny: float


def channel_curves(scenario: Scenario, spend: SpendTable, points: int = 41) -> list[ChannelCurve]:
    """Every channel's curve from zero to twice its spend in the plan (``points`` points).

    A channel the plan leaves at zero is spread evenly over its units and periods, up to an
    even share of the media budget, so its curve still shows what it would return.
    """
    if points < 2:
        raise ValueError(f"points: expected at least 2, got {points}")
    problem = build_problem(scenario)
    periods = list(scenario.periods)
    chosen = np.array(
        [[float(spend.get(u.id, {}).get(p, 0.0)) for p in periods] for u in problem.units]
    )
    even_share = max(scenario.media_budget_cny(), 0.0) / max(len(scenario.channels), 1)
    curves = []
    for channel in scenario.channels:
        rows = [i for i, u in enumerate(problem.units) if u.channel == channel.id]
        if not rows:
            continue
        block = chosen[rows]
        total = float(block.sum())
        if total > 0:
            shape, top, spread = block / total, 2.0 * total, "plan"
        else:
            shape, top, spread = np.full(block.shape, 1.0 / block.size), even_share, "even"
        xs = np.linspace(0.0, top, points)
        ys = [_gmv(problem.units, rows, x * shape) for x in xs]
        curves.append(
            ChannelCurve(
                channel=channel.id,
                name=channel.name or channel.id,
                spread=spread,
                spend_cny=[float(x) for x in xs],
                gmv_cny=ys,
                chosen_spend_cny=total,
                chosen_gmv_cny=_gmv(problem.units, rows, block),
            )
        )
    return curves


def _gmv(units: list[Unit], rows: list[int], block: np.ndarray) -> float:
    """GMV of the given unit rows at a (rows x periods) spend block, on the true curves."""
    return float(sum(np.sum(units[i].gmv(s)) for i, s in zip(rows, block, strict=True)))

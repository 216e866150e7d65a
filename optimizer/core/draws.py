"""The scenario's draws as problems: draw k is the scenario with every curve channel's drawn
parameters at their k-th values (``schema.draws``), all else unchanged.

Rows, bounds and the objective do not depend on the curves, so draw k's problem is the base
problem with the drawn channels' units rebuilt; GMV of every draw at a spend is a
(draws, units, periods) array, from the very same unit code the plan's own numbers use.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.core.curves import Curve, per_period
from optimizer.core.problem import Problem
from optimizer.core.risk_chains import MixedCarry
from optimizer.core.units import Unit, channel_units, response_curve
from optimizer.schema.channels import CurveChannel
from optimizer.schema.curves import LinearResponse, LogisticResponse
from optimizer.schema.scenario import Scenario


def draw_count(s: Scenario) -> int:
    """Number of joint draws the scenario's curves carry (0: one certain model)."""
    counts = [c.draws.count() for c in drawn_channels(s)]
    return max(counts, default=0)


def drawn_channels(s: Scenario) -> list[CurveChannel]:
    """The curve channels that carry draws, in file order."""
    return [c for c in s.channels if isinstance(c, CurveChannel) and c.draws is not None]


def channel_at_draw(channel: CurveChannel, k: int) -> CurveChannel:
    """The channel with its drawn parameters at their k-th values."""
    draws = channel.draws
    assert draws is not None
    update: dict[str, object] = {
        "response": channel.response.model_copy(update=draws.response_at(k))
    }
    if draws.adstock and channel.adstock is not None:
        update["adstock"] = channel.adstock.model_copy(update=draws.adstock_at(k))
    return channel.model_copy(update=update)


def units_at_draw(problem: Problem, k: int) -> list[Unit]:
    """The problem's units in draw k: the drawn channels' units rebuilt, the rest shared."""
    s = problem.scenario
    units = list(problem.units)
    for channel in drawn_channels(s):
        rebuilt = channel_units(s, channel_at_draw(channel, k))
        at = [i for i, u in enumerate(units) if u.channel == channel.id]
        for i, unit in zip(at, rebuilt, strict=True):
            units[i] = unit
    return units


def problem_at_draw(problem: Problem, k: int) -> Problem:
    """Draw k's problem: the same rows, bounds and objective over draw k's curves."""
    return replace(problem, units=units_at_draw(problem, k))


def carried_draws(problem: Problem) -> dict[int, list[Unit]]:
    """Per drawn unit with adstock: its unit in every draw (its own carry and curve); a unit
    already mixed over its draws (a mean problem's) is left out, not rebuilt."""
    s = problem.scenario
    out = {}
    for channel in drawn_channels(s):
        if channel.adstock is None:
            continue
        (i,) = [i for i, u in enumerate(problem.units) if u.channel == channel.id]
        if not isinstance(problem.units[i].carry, MixedCarry):
            out[i] = units_over_draws(s, channel)
    return out


def units_over_draws(s: Scenario, channel: CurveChannel) -> list[Unit]:
    """A drawn curve channel's unit in every draw, each built as a plan builds it."""
    count = channel.draws.count()  # type: ignore[union-attr]
    return [channel_units(s, channel_at_draw(channel, k))[0] for k in range(count)]


def draw_arrays(s: Scenario, channel: CurveChannel) -> tuple[Curve, np.ndarray]:
    """A drawn channel without adstock as one curve over its draws, scale (K, T) and shape
    (K, 1), and its gains (K, T): ``units.curve_unit`` and ``response_curve``'s arithmetic,
    element by element, for every draw at once (a unit per draw costs a pydantic copy)."""
    assert channel.draws is not None and channel.adstock is None
    n, count, r = len(s.periods), channel.draws.count(), channel.response
    season = per_period(
        channel.seasonality if channel.seasonality is not None else s.seasonality, n, 1.0
    )
    index = per_period(channel.cpm_index, n, 1.0)

    def drawn(name: str, default: float) -> np.ndarray:
        values = channel.draws.response.get(name)  # type: ignore[union-attr]
        base = getattr(r, name, default)
        if values is None:
            return np.broadcast_to(per_period(base, n, default), (count, n))
        return np.broadcast_to(np.asarray(values, dtype=float)[:, None], (count, n))

    if isinstance(r, LinearResponse):
        return Curve("linear"), season * (drawn("roas", 1.0) / index)
    base_curve, _ = response_curve(channel, n)
    named = "half_saturation_cny" if hasattr(r, "half_saturation_cny") else "scale_cny"
    width = index * drawn(named, 1.0)
    saturation = 2.0 if isinstance(r, LogisticResponse) else 1.0
    gain = season * (drawn("max_gmv_cny", 0.0) / (saturation * width))
    shape = drawn("shape", 1.0)[:, :1]
    curve = Curve(base_curve.family, scale=width, shape=shape)  # type: ignore[arg-type]
    return curve, gain


def gmv_by_draw(problem: Problem, spend: np.ndarray) -> np.ndarray:
    """GMV of every draw, unit and period at the spend, shape (draws, units, periods); the
    undrawn units' GMV is computed once and shared."""
    s = problem.scenario
    count = draw_count(s)
    base = problem.gmv(spend)
    out = np.broadcast_to(base, (count, *base.shape)).copy()
    for channel in drawn_channels(s):
        (i,) = [i for i, u in enumerate(problem.units) if u.channel == channel.id]
        if channel.adstock is not None:
            maps, curves = _carried(problem, i, channel)
            for k in range(count):
                out[k, i] = maps[k].gmv(curves[k], spend[i])
            continue
        curve, gain = draw_arrays(s, channel)
        out[:, i] = gain * curve.value(spend[i][None])
    return out


def after_by_draw(problem: Problem, spend: np.ndarray) -> np.ndarray:
    """GMV after the plan of every draw and unit at the spend, shape (draws, units)."""
    s = problem.scenario
    base = problem.gmv_after(spend)
    out = np.broadcast_to(base, (draw_count(s), *base.shape)).copy()
    for channel in drawn_channels(s):
        if channel.adstock is None:
            continue
        (i,) = [i for i, u in enumerate(problem.units) if u.channel == channel.id]
        maps, curves = _carried(problem, i, channel)
        out[:, i] = [m.after(c, spend[i]) for m, c in zip(maps, curves, strict=True)]
    return out


def _carried(problem: Problem, i: int, channel: CurveChannel) -> tuple[list, list]:
    """A drawn unit with adstock's carry maps and curves over the draws: the mean problem's
    own, or rebuilt draw by draw."""
    mixed = problem.units[i].carry
    if isinstance(mixed, MixedCarry):
        return list(mixed.maps), list(mixed.curves)
    units = units_over_draws(problem.scenario, channel)
    return [u.carry for u in units], [u.curve for u in units]

"""Response units and their spend bounds.

A *unit* is something with its own response curve: a channel, or one tier of a KOL channel.
Its GMV in a period is its gain (GMV per effective yuan, seasonality included) times its
normalised curve of the spend.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.core.carry import CarryMap, carry_map
from optimizer.core.curves import Curve, cpm_by_period, per_period
from optimizer.schema.channels import (
    Channel,
    CurveChannel,
    KolChannel,
    PaidChannel,
    PrivateDomainChannel,
)
from optimizer.schema.curves import (
    ExponentialCurve,
    ExponentialResponse,
    HillCurve,
    HillResponse,
    LinearResponse,
    LogisticCurve,
    LogisticResponse,
    MichaelisMentenCurve,
    MichaelisMentenResponse,
    PiecewiseCurve,
    PiecewiseResponse,
    TanhCurve,
    TanhResponse,
)
from optimizer.schema.scenario import Scenario


@dataclass(frozen=True)
class Unit:
    """A response unit: GMV[t] = gain[t] * curve(spend[t])."""

    id: str
    channel: str
    name: str
    kind: str
    curve: Curve
    gain: np.ndarray
    aov_cny: float
    new_customer_share: float
    counts_toward_cac: bool
    commission_rate: float = 0.0
    cpm_cny: np.ndarray | None = None
    carry: CarryMap | None = None  # adstock: GMV of a period depends on earlier spend

    def gmv(self, spend: np.ndarray) -> np.ndarray:
        """GMV of each period at this unit's spend per period (carry-over included)."""
        if self.carry is None:
            return self.gain * self.curve.value(spend)
        return self.carry.gmv(self.curve, spend)


def per_unit(units: list[Unit], attribute: str, periods: int) -> np.ndarray:
    """A per-unit constant (commission rate, AOV, a flag) broadcast to (units, periods)."""
    values = np.array([float(getattr(u, attribute)) for u in units])
    return np.repeat(values[:, None], periods, axis=1)


def build_units(s: Scenario) -> list[Unit]:
    """One unit per channel, one per KOL tier."""
    return [unit for channel in s.channels for unit in channel_units(s, channel)]


def channel_units(s: Scenario, channel: Channel) -> list[Unit]:
    """A channel's units (one, or one per KOL tier) in the scenario's periods."""
    n = len(s.periods)
    season = per_period(
        channel.seasonality if channel.seasonality is not None else s.seasonality, n, 1.0
    )
    if isinstance(channel, PaidChannel):
        found = [paid_unit(channel, season, n)]
    elif isinstance(channel, KolChannel):
        found = kol_units(channel, season)
    elif isinstance(channel, PrivateDomainChannel):
        found = [private_domain_unit(channel, season, n)]
    else:
        found = [curve_unit(channel, season)]
    if channel.adstock is not None:
        found = carried_units(channel, found, season, n)
    return found


def carried_units(channel: object, units: list[Unit], season: np.ndarray, n: int) -> list[Unit]:
    """A channel's units with its adstock: what a yuan buys is carried, priced as in the first
    period for history (a paid channel carries impressions at its base CPM, a curve channel
    spend over its CPM index), and the curve applies to the carried input."""
    adstock = channel.adstock  # type: ignore[attr-defined]
    tiers = getattr(channel, "tiers", None)
    histories = [t.history_spend_cny for t in tiers] if tiers else [channel.history_spend_cny]  # type: ignore[attr-defined]
    weights = adstock.weights(max(len(h) for h in histories) + n)
    per_yuan = np.ones(n)
    if isinstance(channel, PaidChannel):
        cpm = cpm_by_period(channel.cpm.base_cny, channel.cpm.trend, n)
        per_yuan = channel.cpm.base_cny / cpm
    elif isinstance(channel, CurveChannel) and channel.cpm_index is not None:
        per_yuan = 1.0 / per_period(channel.cpm_index, n, 1.0)
    carried = []
    for unit, history in zip(units, histories, strict=True):
        gain = unit.gain / per_yuan if isinstance(channel, PaidChannel) else unit.gain
        curve = unit.curve
        if isinstance(channel, CurveChannel) and channel.cpm_index is not None:
            curve, base_gain = response_curve(channel.model_copy(update={"cpm_index": None}), n)
            gain = season * base_gain
        history_input = np.asarray(history, dtype=float) * per_yuan[0]
        before = adstock.order == "before_saturation"
        mapped = carry_map(weights, before, per_yuan, history_input, gain, curve)
        carried.append(replace(unit, curve=curve, gain=gain, carry=mapped))
    return carried


def paid_unit(c: PaidChannel, season: np.ndarray, n: int) -> Unit:
    """GMV per effective yuan = season x 1000 x CTR x CVR x AOV / CPM of the period."""
    cpm = cpm_by_period(c.cpm.base_cny, c.cpm.trend, n)
    return Unit(
        id=c.id,
        channel=c.id,
        name=c.name or c.id,
        kind="paid",
        curve=saturation_curve(c.saturation),
        gain=season * 1000.0 * c.ctr * c.cvr * c.aov_cny / cpm,
        aov_cny=c.aov_cny,
        new_customer_share=c.new_customer_share,
        counts_toward_cac=_flag(c.counts_toward_cac, True),
        cpm_cny=cpm,
    )


def kol_units(c: KolChannel, season: np.ndarray) -> list[Unit]:
    """One unit per tier: GMV per fee yuan = season x fee_roas; commission on that GMV."""
    return [
        Unit(
            id=f"{c.id}.{tier.id}",
            channel=c.id,
            name=f"{c.name or c.id} · {tier.name or tier.id}",
            kind="kol",
            curve=saturation_curve(tier.saturation),
            gain=season * tier.fee_roas,
            aov_cny=tier.aov_cny,
            new_customer_share=tier.new_customer_share,
            counts_toward_cac=_flag(c.counts_toward_cac, True),
            commission_rate=tier.commission_rate,
        )
        for tier in c.tiers
    ]


def private_domain_unit(c: PrivateDomainChannel, season: np.ndarray, n: int) -> Unit:
    """Members reached at cost_per_reach; share reached = 1 - exp(-reach / members).

    Max GMV per period is members x repurchase x orders per buyer x AOV / periods x season,
    approached as every member is reached: an exponential curve with scale members x cost.
    """
    scale = c.members * c.cost_per_reach_cny
    max_gmv = c.members * c.repurchase_rate * c.orders_per_buyer * c.aov_cny / n
    return Unit(
        id=c.id,
        channel=c.id,
        name=c.name or c.id,
        kind="private_domain",
        curve=Curve("exponential", scale=scale),
        gain=season * max_gmv / scale,
        aov_cny=c.aov_cny,
        new_customer_share=c.new_customer_share,
        counts_toward_cac=_flag(c.counts_toward_cac, False),
    )


def curve_unit(c: CurveChannel, season: np.ndarray) -> Unit:
    """A response given directly in GMV, scaled by seasonality."""
    curve, gain = response_curve(c, len(season))
    return Unit(
        id=c.id,
        channel=c.id,
        name=c.name or c.id,
        kind="curve",
        curve=curve,
        gain=season * gain,
        aov_cny=c.aov_cny,
        new_customer_share=c.new_customer_share,
        counts_toward_cac=_flag(c.counts_toward_cac, True),
    )


def _flag(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def saturation_curve(sat: object) -> Curve:
    """Normalised curve (slope 1 at zero where defined) for a channel's saturation."""
    if isinstance(sat, ExponentialCurve):
        return Curve("exponential", scale=sat.scale_cny)
    if isinstance(sat, HillCurve):
        return Curve("hill", scale=sat.half_saturation_cny, shape=sat.shape)
    if isinstance(sat, LogisticCurve):
        return Curve("logistic", scale=sat.scale_cny)
    if isinstance(sat, TanhCurve):
        return Curve("tanh", scale=sat.scale_cny)
    if isinstance(sat, MichaelisMentenCurve):
        return Curve("michaelis_menten", scale=sat.half_saturation_cny)
    if isinstance(sat, PiecewiseCurve):
        xs, ys = np.array(sat.points, dtype=float).T
        return Curve("piecewise", scale=float(xs[-1]), xs=xs, ys=ys)
    return Curve("linear", scale=1.0)


def response_curve(c: CurveChannel, n: int = 1) -> tuple[Curve, np.ndarray]:
    """Curve and gain per period for a GMV response given directly.

    With a CPM index (or per-period parameters) period t's response is R_t(spend / index_t).
    Every family is width x phi(x / width) for a shape phi, so that is the family's normalised
    curve with width index_t x width_t (a scale per period) and gain max_t / width: the same
    closed forms, one width per period.
    """
    r = c.response
    index = per_period(c.cpm_index, n, 1.0)
    if isinstance(r, LinearResponse):
        return Curve("linear"), r.roas / index
    if isinstance(r, PiecewiseResponse):
        xs, ys = np.array(r.points, dtype=float).T
        return Curve("piecewise", scale=float(xs[-1]), xs=xs, ys=ys), np.ones(n)
    max_gmv = per_period(r.max_gmv_cny, n, 0.0)
    named = getattr(r, "half_saturation_cny", None) or getattr(r, "scale_cny", None)
    width = index * per_period(named, n, 1.0)
    scale: float | np.ndarray = width if np.ptp(width) > 0 else float(width[0])
    saturation = 2.0 if isinstance(r, LogisticResponse) else 1.0  # logistic tops at 2 x scale
    family = {
        ExponentialResponse: "exponential",
        HillResponse: "hill",
        LogisticResponse: "logistic",
        TanhResponse: "tanh",
        MichaelisMentenResponse: "michaelis_menten",
    }[type(r)]
    shape = getattr(r, "shape", 1.0)
    return Curve(family, scale=scale, shape=shape), max_gmv / (saturation * width)  # type: ignore[arg-type]


# --- bounds ----------------------------------------------------------------------------------


def unit_bounds(s: Scenario, units: list[Unit]) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of each unit and period: zero up to tier capacity or the media budget.

    Business limits (channel and period minimums and maximums, the budget) are rows, never
    column bounds, so each has its own dual; the budget bound here is loosened by 1e-6 so the
    budget row, not a column bound, is what binds.
    """
    n = len(s.periods)
    room = max(s.media_budget_cny(), 0.0) * (1.0 + 1e-6)
    hi = np.full((len(units), n), room)
    by_channel = {c.id: c for c in s.channels}
    for i, unit in enumerate(units):
        channel = by_channel[unit.channel]
        if isinstance(channel, KolChannel):
            tier = next(t for t in channel.tiers if f"{channel.id}.{t.id}" == unit.id)
            hi[i] = np.minimum(hi[i], per_period(tier.capacity_fee_cny, n, room))
    return np.zeros_like(hi), hi

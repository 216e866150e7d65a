"""Scenario -> solver-neutral problem: response units, bounds, objective and rule rows.

A *unit* is something with its own response curve: a channel, or one tier of a KOL channel.
Every quantity a rule or objective needs is linear in two arrays of shape (units, periods):
spend and GMV (orders, new customers and commission are GMV times per-unit constants). So
every rule is a ``Row``: ``num (sense) limit * den`` with ``num`` and ``den`` linear forms.
The same rows build the program and re-check the plan on the true curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.curves import Curve, cpm_by_period, per_period
from optimizer.scenario import (
    CacCeiling,
    ChannelBase,
    CommissionCap,
    CurveChannel,
    ExponentialCurve,
    ExponentialResponse,
    GmvShare,
    HillCurve,
    HillResponse,
    KolChannel,
    LinearResponse,
    PaidChannel,
    PiecewiseCurve,
    PiecewiseResponse,
    PrivateDomainChannel,
    RampLimit,
    RoasFloor,
    Scenario,
    SpendLimit,
)

Sense = Literal["<=", ">=", "=="]


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


@dataclass(frozen=True)
class LinearForm:
    """sum(spend_coef * spend + gmv_coef * gmv) + constant over (unit, period) arrays.

    ``if_used`` adds fixed amounts paid when a channel is used at all: (switch index, amount)
    pairs, a switch being one channel's on/off decision (``Problem.switches``).
    """

    spend_coef: np.ndarray
    gmv_coef: np.ndarray
    constant: float = 0.0
    if_used: tuple[tuple[int, float], ...] = ()
    switch_masks: tuple[np.ndarray, ...] = ()

    def evaluate(self, spend: np.ndarray, gmv: np.ndarray) -> float:
        """Value of the form at the given spend and GMV arrays."""
        value = np.sum(self.spend_coef * spend) + np.sum(self.gmv_coef * gmv) + self.constant
        used = sum(amount for k, amount in self.if_used if is_used(spend, self.switch_masks[k]))
        return float(value + used)

    def minus(self, other: LinearForm, factor: float) -> LinearForm:
        """self - factor * other."""
        return LinearForm(
            self.spend_coef - factor * other.spend_coef,
            self.gmv_coef - factor * other.gmv_coef,
            self.constant - factor * other.constant,
            self.if_used + tuple((k, -factor * a) for k, a in other.if_used),
            self.switch_masks or other.switch_masks,
        )


def is_used(spend: np.ndarray, mask: np.ndarray) -> bool:
    """A channel counts as used once it spends more than solver noise."""
    return float(np.sum(spend[mask])) > 1e-9 * max(float(np.max(np.abs(spend), initial=0.0)), 1.0)


@dataclass(frozen=True)
class Switch:
    """One channel's on/off decision: a minimum if used, and a fixed cost if used."""

    channel: str
    mask: np.ndarray
    min_if_used_cny: float
    activation_cost_cny: float


@dataclass(frozen=True)
class Row:
    """A rule as ``num / den (sense) limit`` (or ``num (sense) limit`` without den)."""

    name: str
    kind: str
    description: str
    num: LinearForm
    den: LinearForm | None
    sense: Sense
    limit: float
    rule: str = ""  # the rule this row belongs to, when a rule has many rows

    @property
    def key(self) -> str:
        """Identity of the rule: rows of one rule go in and out of a diagnosis together."""
        return self.rule or self.name

    def linear(self) -> tuple[LinearForm, float]:
        """The row as ``form (sense) rhs`` with a linear form."""
        if self.den is None:
            return self.num, self.limit
        return self.num.minus(self.den, self.limit), 0.0


@dataclass(frozen=True)
class Problem:
    """Everything a solver backend and the plan need, with no solver in sight."""

    scenario: Scenario
    periods: list[str]
    units: list[Unit]
    lo: np.ndarray
    hi: np.ndarray
    objective: LinearForm
    maximise: bool
    rows: list[Row]
    switches: tuple[Switch, ...] = ()

    def activation_cost(self, spend: np.ndarray) -> float:
        """Fixed costs of the channels the spend uses."""
        return sum(s.activation_cost_cny for s in self.switches if is_used(spend, s.mask))

    def broken_switches(self, spend: np.ndarray) -> list[str]:
        """Channels that spend something but less than their minimum if used."""
        return [
            f"{s.channel}.min_spend_if_used"
            for s in self.switches
            if is_used(spend, s.mask) and np.sum(spend[s.mask]) < s.min_if_used_cny * (1 - 1e-6)
        ]

    @property
    def gain(self) -> np.ndarray:
        """GMV per effective yuan, shape (units, periods)."""
        return np.stack([u.gain for u in self.units])

    def gmv(self, spend: np.ndarray) -> np.ndarray:
        """True GMV of every unit and period at the given spend."""
        return np.stack([u.gain * u.curve.value(s) for u, s in zip(self.units, spend, strict=True)])

    def marginal_roas(self, spend: np.ndarray) -> np.ndarray:
        """d GMV / d spend of every unit and period at the given spend."""
        return np.stack([u.gain * u.curve.slope(s) for u, s in zip(self.units, spend, strict=True)])

    def unit_constant(self, attribute: str) -> np.ndarray:
        """A per-unit constant broadcast to (units, periods)."""
        return per_unit(self.units, attribute, len(self.periods))


def per_unit(units: list[Unit], attribute: str, periods: int) -> np.ndarray:
    """A per-unit constant (commission rate, AOV, a flag) broadcast to (units, periods)."""
    values = np.array([float(getattr(u, attribute)) for u in units])
    return np.repeat(values[:, None], periods, axis=1)


# --- units -----------------------------------------------------------------------------------


def build_units(s: Scenario) -> list[Unit]:
    """One unit per channel, one per KOL tier."""
    n = len(s.periods)
    units: list[Unit] = []
    for channel in s.channels:
        season = per_period(
            channel.seasonality if channel.seasonality is not None else s.seasonality, n, 1.0
        )
        if isinstance(channel, PaidChannel):
            units.append(paid_unit(channel, season, n))
        elif isinstance(channel, KolChannel):
            units.extend(kol_units(channel, season))
        elif isinstance(channel, PrivateDomainChannel):
            units.append(private_domain_unit(channel, season, n))
        else:
            units.append(curve_unit(channel, season))
    return units


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
    curve, gain = response_curve(c)
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
    if isinstance(sat, PiecewiseCurve):
        xs, ys = np.array(sat.points, dtype=float).T
        return Curve("piecewise", scale=float(xs[-1]), xs=xs, ys=ys)
    return Curve("linear", scale=1.0)


def response_curve(c: CurveChannel) -> tuple[Curve, float]:
    """Curve and gain for a GMV response given directly."""
    r = c.response
    if isinstance(r, ExponentialResponse):
        return Curve("exponential", scale=r.scale_cny), r.max_gmv_cny / r.scale_cny
    if isinstance(r, HillResponse):
        curve = Curve("hill", scale=r.half_saturation_cny, shape=r.shape)
        return curve, r.max_gmv_cny / r.half_saturation_cny
    if isinstance(r, PiecewiseResponse):
        xs, ys = np.array(r.points, dtype=float).T
        return Curve("piecewise", scale=float(xs[-1]), xs=xs, ys=ys), 1.0
    assert isinstance(r, LinearResponse)
    return Curve("linear"), r.roas


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


# --- objective and rows ----------------------------------------------------------------------


def build_problem(s: Scenario) -> Problem:
    """Turn a validated scenario into a solver-neutral problem."""
    units = build_units(s)
    lo, hi = unit_bounds(s, units)
    shape = (len(units), len(s.periods))
    builder = _RowBuilder(s, units, shape)
    objective, maximise = builder.objective()
    return Problem(
        s, list(s.periods), units, lo, hi, objective, maximise, builder.rows(), builder.switches
    )


class _RowBuilder:
    """Builds the objective and the rows of one scenario."""

    def __init__(self, s: Scenario, units: list[Unit], shape: tuple[int, int]) -> None:
        self.s = s
        self.units = units
        self.shape = shape
        self.zero = np.zeros(shape)
        self.one = np.ones(shape)
        self.rate = per_unit(units, "commission_rate", shape[1])
        self.new_per_gmv = per_unit(units, "new_customer_share", shape[1]) / per_unit(
            units, "aov_cny", shape[1]
        )
        basis_has_commission = s.accounting.spend_basis == "media_plus_commission"
        self.basis_rate = self.rate if basis_has_commission else self.zero
        self.switches = tuple(
            Switch(c.id, self.mask([c.id]), c.min_spend_if_used_cny, c.activation_cost_cny)
            for c in s.channels
            if c.min_spend_if_used_cny > 0 or c.activation_cost_cny > 0
        )
        self.masks = tuple(w.mask for w in self.switches)

    # forms
    def spend(self, mask: np.ndarray) -> LinearForm:
        return LinearForm(mask.astype(float), self.zero)

    def gmv(self, mask: np.ndarray) -> LinearForm:
        return LinearForm(self.zero, mask.astype(float))

    def basis_spend(self, mask: np.ndarray) -> LinearForm:
        """Spend ROAS and CAC divide by: media, plus commission if the basis says so."""
        return LinearForm(mask.astype(float), mask * self.basis_rate)

    def budget_spend(self, mask: np.ndarray) -> LinearForm:
        """What the budget pays: spend, activation costs, commission if it is in the budget."""
        rate = self.rate if self.s.budget.commission_in_budget else self.zero
        return LinearForm(mask.astype(float), mask * rate, 0.0, self.activation(1.0), self.masks)

    def activation(self, sign: float) -> tuple[tuple[int, float], ...]:
        return tuple(
            (k, sign * w.activation_cost_cny)
            for k, w in enumerate(self.switches)
            if w.activation_cost_cny > 0
        )

    def scope(self, channels: list[str] | None, groups: list[str] | None) -> set[str]:
        """Channel ids a rule covers: its channels and groups; all channels when it names none."""
        if channels is None and not groups:
            return set(self.s.channel_ids())
        chosen = set(channels or [])
        members = self.s.group_members()
        for group in groups or []:
            chosen.update(members[group])
        return chosen

    def mask(
        self,
        channels: list[str] | None,
        groups: list[str] | None = None,
        periods: list[str] | None = None,
    ) -> np.ndarray:
        """(units, periods) boolean mask of a rule's scope."""
        chosen = self.scope(channels, groups)
        unit_in = np.array([u.channel in chosen for u in self.units])
        period_in = np.array([periods is None or p in periods for p in self.s.periods])
        return unit_in[:, None] & period_in[None, :]

    def objective(self) -> tuple[LinearForm, bool]:
        kind = self.s.objective.kind
        everything = np.ones(self.shape, dtype=bool)
        if kind == "max_gmv":
            return self.gmv(everything), True
        if kind == "max_new_customers":
            return LinearForm(self.zero, self.new_per_gmv.copy()), True
        if kind == "max_profit":
            margin = self.s.accounting.gross_margin or 0.0
            fixed = sum(c.amount_cny for c in self.s.fixed_costs)
            return LinearForm(
                -self.one, margin - self.rate, -fixed, self.activation(-1.0), self.masks
            ), True
        return self.budget_spend(everything), False

    def rows(self) -> list[Row]:
        rows = self.budget_rows() + self.channel_rows()
        for i, rule in enumerate(self.s.rules):
            rows.extend(self.rule_rows(rule, rule.id or f"{rule.kind}[{i}]"))
        return rows

    def budget_rows(self) -> list[Row]:
        everything = np.ones(self.shape, dtype=bool)
        media = self.s.media_budget_cny()
        spend_all = self.s.budget.mode == "spend_all"
        what = "commission and media" if self.s.budget.commission_in_budget else "media"
        rows = [
            Row(
                "budget",
                "budget",
                f"{what} spend {'=' if spend_all else '<='} {media:,.0f} CNY "
                "(total less fixed costs and contingency)",
                self.budget_spend(everything),
                None,
                "==" if spend_all else "<=",
                media,
            )
        ]
        target = self.s.objective.gmv_target_cny
        if target is not None:
            rows.append(
                Row(
                    "gmv_target",
                    "gmv_target",
                    f"GMV >= {target:,.0f} CNY",
                    self.gmv(everything),
                    None,
                    ">=",
                    target,
                )
            )
        return rows

    def channel_rows(self) -> list[Row]:
        rows = []
        for c in self.s.channels:
            mask = self.mask([c.id])
            if c.min_spend_cny > 0:
                rows.append(
                    Row(
                        f"{c.id}.min_spend",
                        "channel_spend",
                        f"{c.id} spend >= {c.min_spend_cny:,.0f} CNY",
                        self.spend(mask),
                        None,
                        ">=",
                        c.min_spend_cny,
                    )
                )
            if c.max_spend_cny is not None:
                rows.append(
                    Row(
                        f"{c.id}.max_spend",
                        "channel_spend",
                        f"{c.id} spend <= {c.max_spend_cny:,.0f} CNY",
                        self.spend(mask),
                        None,
                        "<=",
                        c.max_spend_cny,
                    )
                )
            if c.locked_spend_cny is not None:
                rows.append(
                    Row(
                        f"{c.id}.locked",
                        "channel_spend",
                        f"{c.id} spend = {c.locked_spend_cny:,.0f} CNY (locked)",
                        self.spend(mask),
                        None,
                        "==",
                        c.locked_spend_cny,
                    )
                )
            rows.extend(self.period_rows(c, mask))
        return rows

    def period_rows(self, c: ChannelBase, mask: np.ndarray) -> list[Row]:
        """A channel's per-period spend bounds, one row per period (over all its tiers)."""
        n = len(self.s.periods)
        rows = []
        for field, sense in (("period_min_spend_cny", ">="), ("period_max_spend_cny", "<=")):
            value = getattr(c, field)
            if value is None:
                continue
            for t, bound in enumerate(per_period(value, n, 0.0)):
                if sense == ">=" and bound <= 0:
                    continue
                only_t = mask & (np.arange(n) == t)[None, :]
                rows.append(
                    Row(
                        f"{c.id}.{field}[{self.s.periods[t]}]",
                        "channel_period_spend",
                        f"{c.id} spend in {self.s.periods[t]} {sense} {bound:,.0f} CNY",
                        self.spend(only_t),
                        None,
                        sense,  # type: ignore[arg-type]
                        float(bound),
                        f"{c.id}.{field}",
                    )
                )
        return rows

    def rule_rows(self, rule: object, name: str) -> list[Row]:
        mask = self.mask(rule.channels, rule.groups, rule.periods)  # type: ignore[attr-defined]
        scope = _scope_label(rule)
        if isinstance(rule, RoasFloor):
            return [
                Row(
                    name,
                    "roas_floor",
                    f"ROAS of {scope} >= {rule.min_roas:g}",
                    self.gmv(mask),
                    self.basis_spend(mask),
                    ">=",
                    rule.min_roas,
                )
            ]
        if isinstance(rule, CacCeiling):
            acquiring = mask & (per_unit(self.units, "counts_toward_cac", self.shape[1]) > 0)
            new = LinearForm(self.zero, acquiring * self.new_per_gmv)
            return [
                Row(
                    name,
                    "cac_ceiling",
                    f"CAC of {scope} (acquisition channels) <= {rule.max_cac_cny:g} CNY",
                    self.basis_spend(acquiring),
                    new,
                    "<=",
                    rule.max_cac_cny,
                )
            ]
        if isinstance(rule, CommissionCap):
            return self.commission_rows(rule, name, mask)
        if isinstance(rule, GmvShare):
            return self.share_rows(rule, name, mask, scope)
        if isinstance(rule, RampLimit):
            return self.ramp_rows(rule, name)
        assert isinstance(rule, SpendLimit)
        rows = []
        if rule.min_cny is not None:
            rows.append(
                Row(
                    f"{name}.min",
                    "spend_limit",
                    f"spend of {scope} >= {rule.min_cny:,.0f}",
                    self.spend(mask),
                    None,
                    ">=",
                    rule.min_cny,
                )
            )
        if rule.max_cny is not None:
            rows.append(
                Row(
                    f"{name}.max",
                    "spend_limit",
                    f"spend of {scope} <= {rule.max_cny:,.0f}",
                    self.spend(mask),
                    None,
                    "<=",
                    rule.max_cny,
                )
            )
        return rows

    def ramp_rows(self, rule: RampLimit, name: str) -> list[Row]:
        """Two rows per channel and period change: up by at most X, down by at most X."""
        rows = []
        x, room = rule.max_change, rule.allowance_cny
        chosen = self.scope(rule.channels, rule.groups)
        for c in (c for c in self.s.channel_ids() if c in chosen):
            for t in range(1, len(self.s.periods)):
                now, before = (
                    self.mask([c], None, [self.s.periods[t]]),
                    self.mask([c], None, [self.s.periods[t - 1]]),
                )
                label = f"{c} {self.s.periods[t - 1]}→{self.s.periods[t]}"
                up = LinearForm(now - (1 + x) * before, self.zero)
                down = LinearForm((1 - x) * before - now, self.zero)
                rows.append(
                    Row(
                        f"{name}.up[{c}.{self.s.periods[t]}]",
                        "ramp_limit",
                        f"{label} rises at most {x:.0%}",
                        up,
                        None,
                        "<=",
                        room,
                    )
                )
                rows.append(
                    Row(
                        f"{name}.down[{c}.{self.s.periods[t]}]",
                        "ramp_limit",
                        f"{label} falls at most {x:.0%}",
                        down,
                        None,
                        "<=",
                        room,
                    )
                )
        return rows

    def commission_rows(self, rule: CommissionCap, name: str, mask: np.ndarray) -> list[Row]:
        kol = mask & np.array([u.kind == "kol" for u in self.units])[:, None]
        commission = LinearForm(self.zero, kol * self.rate)
        scope = _scope_label(rule, default="KOLs")
        rows = []
        if rule.max_rate is not None:
            rows.append(
                Row(
                    f"{name}.rate",
                    "commission_cap",
                    f"blended commission rate of {scope} <= {rule.max_rate:.1%}",
                    commission,
                    self.gmv(kol),
                    "<=",
                    rule.max_rate,
                )
            )
        if rule.max_total_cny is not None:
            rows.append(
                Row(
                    f"{name}.total",
                    "commission_cap",
                    f"commission of {scope} <= {rule.max_total_cny:,.0f} CNY",
                    commission,
                    None,
                    "<=",
                    rule.max_total_cny,
                )
            )
        return rows

    def share_rows(self, rule: GmvShare, name: str, mask: np.ndarray, scope: str) -> list[Row]:
        every_unit = self.mask(None, None, rule.periods)
        rows = []
        for value, sense, suffix in ((rule.min_share, ">=", "min"), (rule.max_share, "<=", "max")):
            if value is not None:
                rows.append(
                    Row(
                        f"{name}.{suffix}",
                        "gmv_share",
                        f"GMV share of {scope} {sense} {value:.1%}",
                        self.gmv(mask),
                        self.gmv(every_unit),
                        sense,
                        value,
                    )
                )  # type: ignore[arg-type]
        return rows


def _scope_label(rule: object, default: str = "all channels") -> str:
    channels = getattr(rule, "channels", None) or []
    groups = getattr(rule, "groups", None) or []
    names = [*channels, *(f"group {g}" for g in groups)]
    label = ", ".join(names) if names else default
    periods = getattr(rule, "periods", None)
    return f"{label} in {', '.join(periods)}" if periods else label

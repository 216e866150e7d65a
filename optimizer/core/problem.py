"""Scenario -> solver-neutral problem: response units, bounds, objective and rule rows.

A *unit* is something with its own response curve: a channel, or one tier of a KOL channel.
Every quantity a rule or objective needs is linear in two arrays of shape (units, periods):
spend and GMV (orders, new customers and commission are GMV times per-unit constants). So
every rule is a ``Row``: ``num (sense) limit * den`` with ``num`` and ``den`` linear forms.
The same rows build the program and re-check the plan on the true curves.

Every number the solver gets is checked here (``number_problems``, which scenario validation
runs, and ``build_problem``): finite, at most ``SOLVER_LIMIT`` in size and, unless zero, not
so small that it lost its precision (subnormal). A number out of range is a ScenarioError that
names the field it came from, never a NaN or an IndexError deep inside a solver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from optimizer.core.curves import Curve, cpm_by_period, per_period
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.schema.messages import format_path
from optimizer.schema.scenario import (
    MIN_PRICE_CNY,
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
Loc = tuple[str | int, ...]

SOLVER_LIMIT = 1e15
"""Largest coefficient, bound or right-hand side the solvers take: HiGHS refuses a model with
matrix values of 1e15 or more (PuLP then fails on the missing solution)."""
SMALLEST_NORMAL = float(np.finfo(float).tiny)
"""2.2e-308: a nonzero number below this is subnormal, with too few digits left to compute."""


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
    """Turn a validated scenario into a solver-neutral problem.

    Raises ScenarioError, naming the field, when a number of the problem is one no solver can
    take (validation refuses such scenarios first; this guards scenarios built without it).
    """
    with np.errstate(all="ignore"):  # an overflow becomes inf, reported by the checks below
        units = build_units(s)
        lo, hi = unit_bounds(s, units)
        shape = (len(units), len(s.periods))
        builder = _RowBuilder(s, units, shape)
        objective, maximise = builder.objective()
        rows = builder.rows()
    problem = Problem(
        s, list(s.periods), units, lo, hi, objective, maximise, rows, builder.switches
    )
    problems = [
        FieldProblem(format_path(loc), message) for loc, message in _array_problems(problem)
    ]
    if problems:
        raise ScenarioError("scenario", problems)
    return problem


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


# --- numbers the solver can take -------------------------------------------------------------


def number_problems(s: Scenario) -> list[tuple[Loc, str]]:
    """(field path, message) for every number derived from the scenario that no solver can take.

    GMV per yuan (seasonality x 1000 x CTR x CVR x AOV / CPM for paid traffic) times the
    steepest slope of the unit's curve, and times the largest factor a rule or the objective
    puts on GMV (a CAC ceiling times new customers per yuan of GMV, a ROAS floor), must stay at
    most SOLVER_LIMIT; a product of positive numbers must not underflow to zero. The field
    named is the factor furthest from 1, the likeliest typo. Cheap: no rows are built.
    """
    found: dict[Loc, str] = {}
    with np.errstate(all="ignore"):
        units = build_units(s)
        _, hi = unit_bounds(s, units)
        scopes = _rule_scopes(s)
        for i, info in enumerate(_unit_infos(s)):
            unit_hi = float(np.max(hi[i], initial=0.0))
            for loc, message in _unit_problems(s, units[i], info, scopes, unit_hi):
                found.setdefault(loc, message)
        for loc, message in _bound_problems(s, units, hi):
            found.setdefault(loc, message)
    return list(found.items())


def check_numbers(s: Scenario, source: str = "scenario") -> None:
    """Raise ScenarioError naming each field whose derived numbers no solver can take."""
    problems = [FieldProblem(format_path(loc), message) for loc, message in number_problems(s)]
    if problems:
        raise ScenarioError(source, problems)


@dataclass(frozen=True)
class _Factor:
    """One field's part in a product: its value and what it multiplies by, per period."""

    loc: Loc
    value: np.ndarray
    weight: np.ndarray  # the value, or 1 / value for a divisor
    listed: bool = False  # given as a list, one value per period
    label: str = ""  # what the value is, when not the field itself ("a slope of ")

    def where(self, t: int) -> Loc:
        """The field's path, down to period ``t``'s item when it is a list."""
        return (*self.loc, t) if self.listed else self.loc


def _factor(
    loc: Loc, value: float | list[float] | np.ndarray, n: int, *, divides: bool = False
) -> _Factor:
    values = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    return _Factor(loc, values, 1.0 / values if divides else values, isinstance(value, list))


@dataclass(frozen=True)
class _UnitInfo:
    """Where a unit's fields are: its own (AOV, new customers), its gain's and its curve's."""

    loc: Loc  # the channel, or the KOL tier
    factors: list[_Factor]
    formula: str
    curve_loc: Loc


_FORMULAS = {
    "paid": "seasonality x 1000 x ctr x cvr x aov_cny / CPM",
    "kol": "seasonality x fee_roas",
    "private_domain": "seasonality x repurchase_rate x orders_per_buyer x aov_cny / "
    "(periods x cost_per_reach_cny)",
    "linear": "seasonality x roas",
    "exponential": "seasonality x max_gmv_cny / scale_cny",
    "hill": "seasonality x max_gmv_cny / half_saturation_cny",
    "piecewise": "seasonality x the slope of the points",
}


def _unit_infos(s: Scenario) -> Iterator[_UnitInfo]:
    """Each unit's fields, in the order of build_units."""
    n = len(s.periods)
    for i, c in enumerate(s.channels):
        loc: Loc = ("channels", i)
        if c.seasonality is not None:
            season = _factor((*loc, "seasonality"), c.seasonality, n)
        else:
            season = _factor(("seasonality",), s.seasonality, n)
        if isinstance(c, PaidChannel):
            cpm = cpm_by_period(c.cpm.base_cny, c.cpm.trend, n)
            factors = [
                season,
                _factor((*loc, "ctr"), c.ctr, n),
                _factor((*loc, "cvr"), c.cvr, n),
                _factor((*loc, "aov_cny"), c.aov_cny, n),
                _factor((*loc, "cpm", "base_cny"), cpm, n, divides=True),
            ]
            yield _UnitInfo(loc, factors, _FORMULAS["paid"], (*loc, "saturation"))
        elif isinstance(c, KolChannel):
            for k, tier in enumerate(c.tiers):
                tier_loc = (*loc, "tiers", k)
                factors = [season, _factor((*tier_loc, "fee_roas"), tier.fee_roas, n)]
                curve_loc = (*tier_loc, "saturation")
                yield _UnitInfo(tier_loc, factors, _FORMULAS["kol"], curve_loc)
        elif isinstance(c, PrivateDomainChannel):
            factors = [
                season,
                _factor((*loc, "repurchase_rate"), c.repurchase_rate, n),
                _factor((*loc, "orders_per_buyer"), c.orders_per_buyer, n),
                _factor((*loc, "aov_cny"), c.aov_cny, n),
                _factor((*loc, "cost_per_reach_cny"), c.cost_per_reach_cny, n, divides=True),
            ]
            yield _UnitInfo(loc, factors, _FORMULAS["private_domain"], loc)
        else:
            factors, formula = _response_factors(c.response, (*loc, "response"), n)
            yield _UnitInfo(loc, [season, *factors], formula, (*loc, "response"))


def _response_factors(r: object, loc: Loc, n: int) -> tuple[list[_Factor], str]:
    if isinstance(r, LinearResponse):
        return [_factor((*loc, "roas"), r.roas, n)], _FORMULAS["linear"]
    if isinstance(r, ExponentialResponse):
        factors = [
            _factor((*loc, "max_gmv_cny"), r.max_gmv_cny, n),
            _factor((*loc, "scale_cny"), r.scale_cny, n, divides=True),
        ]
        return factors, _FORMULAS["exponential"]
    if isinstance(r, HillResponse):
        factors = [
            _factor((*loc, "max_gmv_cny"), r.max_gmv_cny, n),
            _factor((*loc, "half_saturation_cny"), r.half_saturation_cny, n, divides=True),
        ]
        return factors, _FORMULAS["hill"]
    return [], _FORMULAS["piecewise"]  # the GMV is in the points: their slope is the curve's


def steepest_slope(curve: Curve, hi: float = 1.0) -> float:
    """The largest slope of a normalised curve the solver can see on spends [0, ``hi``].

    A Hill curve with shape below 1 is infinitely steep at zero; its breakpoints come no
    nearer to zero than 1e-9 x max(hi, 1) yuan (``pwl.refine`` merges closer ones), so that is
    where its steepest segment starts.
    """
    if curve.family == "piecewise":
        with np.errstate(all="ignore"):
            return float(np.max(np.diff(curve.ys) / np.diff(curve.xs)))
    if curve.family != "hill" or curve.shape == 1:
        return 1.0
    shape = curve.shape
    if shape > 1:  # the slope peaks where u^shape = (shape - 1) / (shape + 1)
        u = ((shape - 1) / (shape + 1)) ** (1 / shape)
    else:
        u = min(1e-9 * max(hi, 1.0) / curve.scale, 1.0)
    return float(shape * u ** (shape - 1) / (1 + u**shape) ** 2)


def _rule_scopes(s: Scenario) -> list[set[str]]:
    """The channel ids each rule covers (all channels when it names none)."""
    members = s.group_members()
    scopes = []
    for rule in s.rules:
        if rule.channels is None and not rule.groups:
            scopes.append(set(s.channel_ids()))
            continue
        chosen = set(rule.channels or [])
        for group in rule.groups:
            chosen.update(members.get(group, []))
        scopes.append(chosen)
    return scopes


def _multipliers(
    s: Scenario, unit: Unit, info: _UnitInfo, scopes: list[set[str]]
) -> list[tuple[str, list[_Factor]]]:
    """What rules and the objective multiply this unit's GMV by (name, factors): the highest
    ROAS floor, and the highest and the lowest CAC ceiling, over it."""
    n = len(s.periods)
    per_gmv = [
        _factor((*info.loc, "new_customer_share"), unit.new_customer_share, n),
        _factor((*info.loc, "aov_cny"), unit.aov_cny, n, divides=True),
    ]
    found: list[tuple[str, list[_Factor]]] = []
    if s.objective.kind == "max_new_customers":
        what = "new customers per yuan (new_customer_share / aov_cny x GMV per yuan)"
        found.append((what, per_gmv))
    floors = [(r.min_roas, i) for i, r in enumerate(s.rules) if isinstance(r, RoasFloor)]
    ceilings = [(r.max_cac_cny, i) for i, r in enumerate(s.rules) if isinstance(r, CacCeiling)]
    floors = [(v, i) for v, i in floors if unit.channel in scopes[i]]
    ceilings = [(v, i) for v, i in ceilings if unit.channel in scopes[i]]
    if floors:
        value, i = max(floors)
        floor = _factor(("rules", i, "min_roas"), 1.0 + value, n)
        found.append(("a ROAS floor coefficient ((1 + min_roas) x GMV per yuan)", [floor]))
    what = "a CAC ceiling coefficient (max_cac_cny x new_customer_share / aov_cny x GMV per yuan)"
    for value, i in sorted({max(ceilings), min(ceilings)} if ceilings else (), reverse=True):
        found.append((what, [_factor(("rules", i, "max_cac_cny"), value, n), *per_gmv]))
    return found


def _unit_problems(
    s: Scenario, unit: Unit, info: _UnitInfo, scopes: list[set[str]], hi: float
) -> Iterator[tuple[Loc, str]]:
    """The first number of a unit out of range: its gain (0 or subnormal when it should be
    positive, or times its curve's steepest slope beyond SOLVER_LIMIT), or that times what a
    rule or the objective multiplies it by (beyond SOLVER_LIMIT, or subnormal)."""
    name = unit.id if unit.id == unit.channel else f"{unit.channel} tier {unit.id}"
    slope = steepest_slope(unit.curve, hi)
    factors = list(info.factors)
    n = len(s.periods)
    if unit.curve.family == "piecewise":
        factors.append(replace(_factor((*info.curve_loc, "points"), slope, n), label="a slope of "))
    elif unit.curve.family == "hill" and slope > 1:  # shape below 1: steep near zero
        shape = _factor((*info.curve_loc, "shape"), slope, n)
        factors.append(replace(shape, label="a slope near zero spend of "))
    gain = np.asarray(unit.gain, dtype=float)
    # (what, values that must not be subnormal, or zero when positive, values at most the limit)
    steepest = " at the curve's steepest" if unit.curve.family == "hill" and slope > 1 else ""
    checks = [(f"a GMV per yuan ({info.formula}){steepest}", gain, True, gain * slope, [])]
    for what, extra in _multipliers(s, unit, info, scopes):
        product = gain * slope * np.prod([f.weight for f in extra], axis=0)
        checks.append((what, product, False, product, extra))
    for what, exact, positive, scaled, extra in checks:
        small = ~(np.abs(exact) >= SMALLEST_NORMAL) & ((exact != 0) | positive)
        big = ~(np.abs(scaled) <= SOLVER_LIMIT)  # NaN and infinity too
        for too_big, where in ((True, big), (False, small)):
            if not where.any():
                continue
            t = int(np.argmax(where))
            culprit = _extreme([*factors, *extra], t, smallest=not too_big)
            if too_big:
                size, verdict = scaled[t], f"more than a solver can take (at most {SOLVER_LIMIT:g})"
            else:
                size, verdict = exact[t], "too small to compute with"
            yield (
                culprit.where(t),
                (
                    f"gives {name} {what} of {size:.3g} in period {s.periods[t]}: {verdict}; got "
                    f"{culprit.label}{culprit.value[t]:g} here, expected a value "
                    + ("nearer to 1" if too_big else "further from 0")
                ),
            )
            return


def _extreme(factors: list[_Factor], t: int, *, smallest: bool) -> _Factor:
    """The factor that pulls the product furthest towards zero (or towards infinity)."""

    def size(factor: _Factor) -> float:
        weight = abs(float(factor.weight[t]))
        if weight == 0:
            return -np.inf
        return float(np.log10(weight)) if np.isfinite(weight) else np.inf

    return min(factors, key=size) if smallest else max(factors, key=size)


def _bound_problems(s: Scenario, units: list[Unit], hi: np.ndarray) -> Iterator[tuple[Loc, str]]:
    """Spend bounds (the media budget, tier capacities) above zero but below one fen."""
    n = len(s.periods)
    tiny = (hi > 0) & (hi < MIN_PRICE_CNY)
    for i, t in zip(*np.nonzero(tiny), strict=True):
        capacity = _capacity(s, units[i])
        if capacity is not None and hi[i, t] == per_period(capacity[1], n, 0.0)[t]:
            yield (
                _factor(capacity[0], capacity[1], n).where(int(t)),
                (
                    f"lets {units[i].id} spend at most {hi[i, t]:.3g} CNY in period "
                    f"{s.periods[t]}: expected 0 or at least {MIN_PRICE_CNY:g} CNY (one fen)"
                ),
            )
        else:
            yield (
                ("budget", "total_cny"),
                (
                    f"leaves {s.media_budget_cny():.3g} CNY for media (total_cny less fixed costs "
                    f"and the contingency): expected 0 or at least {MIN_PRICE_CNY:g} CNY (one fen)"
                ),
            )


def _capacity(s: Scenario, unit: Unit) -> tuple[Loc, float | list[float]] | None:
    """Where a KOL tier's capacity is given, and its value; None for other units."""
    c = s.channel_ids().index(unit.channel)
    channel = s.channels[c]
    if not isinstance(channel, KolChannel):
        return None
    k = next(k for k, tier in enumerate(channel.tiers) if f"{channel.id}.{tier.id}" == unit.id)
    value = channel.tiers[k].capacity_fee_cny
    return None if value is None else (("channels", c, "tiers", k, "capacity_fee_cny"), value)


def _array_problems(problem: Problem) -> Iterator[tuple[Loc, str]]:
    """Every array of a built problem finite and within SOLVER_LIMIT: the last line of defence."""
    s = problem.scenario
    ids = s.channel_ids()
    slope = np.array(
        [
            steepest_slope(u.curve, float(np.max(h, initial=0.0)))
            for u, h in zip(problem.units, problem.hi, strict=True)
        ]
    )[:, None]
    for i, unit in enumerate(problem.units):
        loc: Loc = ("channels", ids.index(unit.channel))
        if not _in_range(unit.gain, positive=True) or not _in_range(unit.gain * slope[i]):
            yield loc, f"GMV per yuan of {unit.id} is out of the range a solver can take"
        if not (_in_range(problem.lo[i]) and _in_range(problem.hi[i])):
            yield loc, f"the spend bounds of {unit.id} are out of the range a solver can take"
    forms = [(("objective", "kind"), "the objective", problem.objective, 0.0)]
    forms += [(_row_loc(s, row), f"rule row {row.name}", *row.linear()) for row in problem.rows]
    gain = problem.gain * slope if problem.units else np.zeros(problem.lo.shape)
    for loc, what, form, rhs in forms:
        amounts = np.array([a for _, a in form.if_used] + [form.constant, rhs], dtype=float)
        if not (
            _in_range(form.spend_coef)
            and _in_range(form.gmv_coef)
            and _in_range(form.gmv_coef * gain, subnormal=True)  # a solver takes tiny as 0
            and _in_range(amounts, subnormal=True)
        ):
            yield loc, f"{what} has numbers out of the range a solver can take"


def _in_range(values: np.ndarray, *, positive: bool = False, subnormal: bool = False) -> bool:
    """Finite, at most SOLVER_LIMIT in size and, unless ``subnormal``, none subnormal (nor zero,
    if ``positive``)."""
    with np.errstate(all="ignore"):
        size = np.abs(np.asarray(values, dtype=float))
    if not np.all(size <= SOLVER_LIMIT):
        return False
    if subnormal:
        return True
    checked = size if positive else size[size > 0]
    return bool(np.all(checked >= SMALLEST_NORMAL))


def _row_loc(s: Scenario, row: Row) -> Loc:
    """The field a row comes from: the budget, the GMV target, a channel's limit or a rule."""
    if row.kind == "budget":
        return ("budget", "total_cny")
    if row.kind == "gmv_target":
        return ("objective", "gmv_target_cny")
    for i, c in enumerate(s.channels):
        if row.key.startswith(f"{c.id}.") and row.kind.startswith("channel"):
            suffix = row.key.removeprefix(f"{c.id}.")
            field = {"min_spend": "min_spend_cny", "max_spend": "max_spend_cny"}.get(suffix)
            return ("channels", i, field or ("locked_spend_cny" if suffix == "locked" else suffix))
    for i, rule in enumerate(s.rules):
        name = rule.id or f"{rule.kind}[{i}]"
        if row.key == name or row.key.startswith(f"{name}."):
            return ("rules", i)
    return ("rules",)

"""The objective and the rule rows of a scenario, as linear forms over its units.

Business limits (the budget, channel and period minimums and maximums, every rule) become
rows, never column bounds, so each has its own dual and its own line in the rule report.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.core.curves import per_period
from optimizer.core.forms import CellForm, Form, LinearForm, Row, Sense, Switch
from optimizer.core.units import Unit, per_unit
from optimizer.schema.channels import ChannelBase
from optimizer.schema.rules import (
    CacCeiling,
    CommissionCap,
    Dark,
    GmvShare,
    LockedBurst,
    RampLimit,
    RoasFloor,
    SpendLimit,
)
from optimizer.schema.scenario import Scenario


def rule_scope(s: Scenario, channels: list[str] | None, groups: list[str] | None) -> set[str]:
    """Channel ids a rule covers: its channels and groups; all channels when it names none."""
    if channels is None and not groups:
        return set(s.channel_ids())
    chosen = set(channels or [])
    members = s.group_members()
    for group in groups or []:
        chosen.update(members.get(group, []))
    return chosen


def scope_label(rule: object, default: str = "all channels", *, periods: bool = True) -> str:
    """What a rule covers, in words: its channels and groups, and periods if it names any
    (and ``periods`` says so)."""
    channels = getattr(rule, "channels", None) or []
    groups = getattr(rule, "groups", None) or []
    names = [*channels, *(f"group {g}" for g in groups)]
    label = ", ".join(names) if names else default
    named = getattr(rule, "periods", None) if periods else None
    return f"{label} in {', '.join(named)}" if named else label


class RowBuilder:
    """Builds the objective, the rows and the on/off switches of one scenario."""

    def __init__(self, s: Scenario, units: list[Unit]) -> None:
        self.s = s
        self.units = units
        self.shape = (len(units), len(s.periods))
        self.zero = np.zeros(self.shape)
        self.one = np.ones(self.shape)
        self.rate = per_unit(units, "commission_rate", self.shape[1])
        self.new_per_gmv = per_unit(units, "new_customer_share", self.shape[1]) / per_unit(
            units, "aov_cny", self.shape[1]
        )
        basis_has_commission = s.accounting.spend_basis == "media_plus_commission"
        self.basis_rate = self.rate if basis_has_commission else self.zero
        self.switches = tuple(
            Switch(c.id, self.mask([c.id]), c.min_spend_if_used_cny, c.activation_cost_cny)
            for c in s.channels
            if c.min_spend_if_used_cny > 0 or c.activation_cost_cny > 0
        )
        self.masks = tuple(w.mask for w in self.switches)

    # --- forms and scopes

    def spend(self, mask: np.ndarray) -> LinearForm:
        """Media spend over the mask."""
        return LinearForm(mask.astype(float), self.zero)

    def gmv(self, mask: np.ndarray) -> LinearForm:
        """GMV over the mask."""
        return LinearForm(self.zero, mask.astype(float))

    def basis_spend(self, mask: np.ndarray) -> LinearForm:
        """Spend ROAS and CAC divide by: media, plus commission if the basis says so."""
        return LinearForm(mask.astype(float), mask * self.basis_rate)

    def budget_spend(self, mask: np.ndarray) -> LinearForm:
        """What the budget pays: spend, activation costs, commission if it is in the budget."""
        rate = self.rate if self.s.budget.commission_in_budget else self.zero
        return LinearForm(mask.astype(float), mask * rate, 0.0, self.activation(1.0), self.masks)

    def activation(self, sign: float) -> tuple[tuple[int, float], ...]:
        """The activation costs as (switch index, signed amount) pairs of a form's if_used."""
        return tuple(
            (k, sign * w.activation_cost_cny)
            for k, w in enumerate(self.switches)
            if w.activation_cost_cny > 0
        )

    def mask(
        self,
        channels: list[str] | None,
        groups: list[str] | None = None,
        periods: list[str] | None = None,
    ) -> np.ndarray:
        """(units, periods) boolean mask of a rule's scope."""
        chosen = rule_scope(self.s, channels, groups)
        unit_in = np.array([u.channel in chosen for u in self.units])
        period_in = np.array([periods is None or p in periods for p in self.s.periods])
        return unit_in[:, None] & period_in[None, :]

    # --- objective and rows

    def objective(self) -> tuple[LinearForm, bool]:
        """The objective's form, and whether it is maximised."""
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
        """Every row: the budget (and GMV target), the channels' limits, then each rule's."""
        rows = self.budget_rows() + self.channel_rows()
        for i, rule in enumerate(self.s.rules):
            found = self.rule_rows(rule, rule.id or f"{rule.kind}[{i}]")
            chance = getattr(rule, "probability", None)
            rows.extend(
                found if chance is None else [replace(r, probability=chance) for r in found]
            )
        return rows

    def budget_rows(self) -> list[Row]:
        """The budget row, and the GMV target's when the objective has one."""
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
        """Each channel's minimum, maximum and locked spend, then its per-period bounds."""
        rows = []
        for c in self.s.channels:
            mask = self.mask([c.id])
            limits: list[tuple[str, float | None, Sense, str]] = [
                ("min_spend", c.min_spend_cny if c.min_spend_cny > 0 else None, ">=", ">="),
                ("max_spend", c.max_spend_cny, "<=", "<="),
                ("locked", c.locked_spend_cny, "==", "="),
            ]
            for suffix, value, sense, sign in limits:
                if value is None:
                    continue
                locked = " (locked)" if suffix == "locked" else ""
                rows.append(
                    Row(
                        f"{c.id}.{suffix}",
                        "channel_spend",
                        f"{c.id} spend {sign} {value:,.0f} CNY{locked}",
                        self.spend(mask),
                        None,
                        sense,
                        value,
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
            units = np.flatnonzero(mask.any(axis=1))
            for t, bound in enumerate(per_period(value, n, 0.0)):
                if sense == ">=" and bound <= 0:
                    continue
                if len(units) == 1:  # one unit: a bound of one cell, stored as that cell
                    form: Form = CellForm((int(units[0]), t), 1.0, mask.shape)
                else:
                    form = self.spend(mask & (np.arange(n) == t)[None, :])
                rows.append(
                    Row(
                        f"{c.id}.{field}[{self.s.periods[t]}]",
                        "channel_period_spend",
                        f"{c.id} spend in {self.s.periods[t]} {sense} {bound:,.0f} CNY",
                        form,
                        None,
                        sense,  # type: ignore[arg-type]
                        float(bound),
                        f"{c.id}.{field}",
                    )
                )
        return rows

    def rule_rows(self, rule: object, name: str) -> list[Row]:
        """The rows of one rule, by its kind."""
        mask = self.mask(rule.channels, rule.groups, rule.periods)  # type: ignore[attr-defined]
        scope = scope_label(rule)
        if isinstance(rule, RoasFloor):
            return self.roas_rows(rule, name, mask, scope)
        if isinstance(rule, CacCeiling):
            return self.cac_rows(rule, name, mask, scope)
        if isinstance(rule, CommissionCap):
            return self.commission_rows(rule, name, mask)
        if isinstance(rule, GmvShare):
            return self.share_rows(rule, name, mask, scope)
        if isinstance(rule, RampLimit):
            return self.ramp_rows(rule, name)
        if isinstance(rule, Dark):
            return self.dark_rows(rule, name)
        if isinstance(rule, LockedBurst):
            return self.burst_rows(rule, name, mask, scope)
        assert isinstance(rule, SpendLimit)
        return self.spend_limit_rows(rule, name, mask, scope)

    def roas_rows(self, rule: RoasFloor, name: str, mask: np.ndarray, scope: str) -> list[Row]:
        """GMV / basis spend of the scope at least the floor."""
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

    def cac_rows(self, rule: CacCeiling, name: str, mask: np.ndarray, scope: str) -> list[Row]:
        """Basis spend / new customers of the scope's acquisition channels at most the ceiling."""
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

    def spend_limit_rows(
        self, rule: SpendLimit, name: str, mask: np.ndarray, scope: str
    ) -> list[Row]:
        """The scope's spend at least the minimum and at most the maximum, where given."""
        rows = []
        for suffix, value, sense in (("min", rule.min_cny, ">="), ("max", rule.max_cny, "<=")):
            if value is not None:
                rows.append(
                    Row(
                        f"{name}.{suffix}",
                        "spend_limit",
                        f"spend of {scope} {sense} {value:,.0f}",
                        self.spend(mask),
                        None,
                        sense,  # type: ignore[arg-type]
                        value,
                    )
                )
        return rows

    def ramp_rows(self, rule: RampLimit, name: str) -> list[Row]:
        """Two rows per change between consecutive periods (both in the rule's periods, if it
        names any), for each channel or the scope's total: up by at most X, down by at most X."""
        chosen = rule_scope(self.s, rule.channels, rule.groups)
        scopes = [[c] for c in self.s.channel_ids() if c in chosen]
        if rule.per == "scope":
            scopes = [[c for c in self.s.channel_ids() if c in chosen]] if chosen else []
        periods = self.s.periods
        rows = []
        for members in scopes:
            label = members[0] if rule.per == "channel" else scope_label(rule, periods=False)
            key = members[0] if rule.per == "channel" else "scope"
            for t in range(1, len(periods)):
                if rule.periods is not None and not {periods[t - 1], periods[t]} <= set(
                    rule.periods
                ):
                    continue
                now = self.mask(members, None, [periods[t]])
                before = self.mask(members, None, [periods[t - 1]])
                where = f"{label} {periods[t - 1]}→{periods[t]}"
                rows.extend(
                    self._change_rows(rule, name, f"{key}.{periods[t]}", where, now, before)
                )
        return rows

    def _change_rows(
        self,
        rule: RampLimit,
        name: str,
        key: str,
        where: str,
        now: np.ndarray,
        before: np.ndarray,
    ) -> list[Row]:
        """The rows of one change: relative (with its allowance) and absolute, up and down."""
        rows = []
        x = rule.max_change
        if x is not None:
            for way, verb, form in (
                ("up", "rises", LinearForm(now - (1 + x) * before, self.zero)),
                ("down", "falls", LinearForm((1 - x) * before - now, self.zero)),
            ):
                text = f"{where} {verb} at most {x:.0%}"
                rows.append(
                    Row(
                        f"{name}.{way}[{key}]",
                        "ramp_limit",
                        text,
                        form,
                        None,
                        "<=",
                        rule.allowance_cny,
                    )
                )
        cap = rule.max_change_cny
        if cap is not None:
            for way, verb, form in (
                ("up_cny", "rises", LinearForm(now - before * 1.0, self.zero)),
                ("down_cny", "falls", LinearForm(before - now * 1.0, self.zero)),
            ):
                text = f"{where} {verb} at most {cap:,.0f} CNY"
                rows.append(Row(f"{name}.{way}[{key}]", "ramp_limit", text, form, None, "<=", cap))
        return rows

    def dark_rows(self, rule: Dark, name: str) -> list[Row]:
        """Each unit of the scope spends nothing in each dark period: a bound of one cell."""
        chosen = rule_scope(self.s, rule.channels, rule.groups)
        rows = []
        for t, period in enumerate(self.s.periods):
            if period not in rule.periods:
                continue
            for k, unit in enumerate(self.units):
                if unit.channel in chosen:
                    rows.append(
                        Row(
                            f"{name}[{unit.id}.{period}]",
                            "dark",
                            f"{unit.id} dark in {period}: spend 0 CNY",
                            CellForm((k, t), 1.0, self.shape),
                            None,
                            "<=",
                            0.0,
                            name,
                        )
                    )
        return rows

    def burst_rows(self, rule: LockedBurst, name: str, mask: np.ndarray, scope: str) -> list[Row]:
        """The scope's spend fixed in each of the rule's periods, or over them all."""
        if rule.total_cny is not None:
            text = f"spend of {scope} = {rule.total_cny:,.0f} CNY (locked burst)"
            return [Row(name, "locked_burst", text, self.spend(mask), None, "==", rule.total_cny)]
        amount = float(rule.per_period_cny or 0.0)
        rows = []
        units = np.flatnonzero(mask.any(axis=1))
        for t, period in enumerate(self.s.periods):
            if period not in rule.periods:
                continue
            if len(units) == 1:  # one unit: a bound of one cell, as the per-period limits
                form: Form = CellForm((int(units[0]), t), 1.0, self.shape)
            else:
                form = self.spend(mask & (np.arange(self.shape[1]) == t)[None, :])
            label = scope_label(rule, periods=False)
            rows.append(
                Row(
                    f"{name}[{period}]",
                    "locked_burst",
                    f"spend of {label} in {period} = {amount:,.0f} CNY (locked burst)",
                    form,
                    None,
                    "==",
                    amount,
                    name,
                )
            )
        return rows

    def commission_rows(self, rule: CommissionCap, name: str, mask: np.ndarray) -> list[Row]:
        """The KOLs' blended commission rate and total commission at most their caps."""
        kol = mask & np.array([u.kind == "kol" for u in self.units])[:, None]
        commission = LinearForm(self.zero, kol * self.rate)
        scope = scope_label(rule, default="KOLs")
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
        """The scope's share of all GMV (in the rule's periods) within the rule's range."""
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
                        sense,  # type: ignore[arg-type]
                        value,
                    )
                )
        return rows

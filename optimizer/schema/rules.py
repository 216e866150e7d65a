"""Rules of the scenario schema: limits a plan must keep on a scope of channels and periods
(ROAS floor, CAC ceiling, commission cap, GMV share, spend limit, pacing, flighting). A rule's
``periods`` may name calendar windows; they are expanded to periods before validation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from optimizer.schema.fields import Fraction, Id, Money, Positive, Price, StrictModel


class RuleBase(StrictModel):
    """Scope shared by rules: which channels (ids or groups) and which periods it covers."""

    id: Id | None = Field(None, description="Name shown in reports; default kind[index].")
    channels: list[Id] | None = Field(None, description="Channel ids; default all channels.")
    groups: list[Id] = Field(default_factory=list, description="Groups added to the scope.")
    periods: list[str] | None = Field(
        None, description="Periods (or calendar windows) covered; default all."
    )


class GmvRuleBase(RuleBase):
    """A rule on GMV (ROAS, CAC, commission, share): with draws, it may be required to hold in
    a share of them."""

    probability: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="With objective.risk: hold in at least this share of the curves' draws "
        "(e.g. 0.9), enforced through the rule's CVaR: its average over the worst 1 - p "
        "share of draws must hold, which is sure to give p. Default: hold on the mean curves.",
    )

    @model_serializer(mode="wrap")
    def _without_unused_probability(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No probability key when unset (dumps and fingerprints as before)."""
        data: dict[str, Any] = handler(self)
        if data.get("probability", 0) is None:
            del data["probability"]
        return data


class RoasFloor(GmvRuleBase):
    """ROAS of the scope (GMV / spend on the spend basis) at least ``min_roas``."""

    kind: Literal["roas_floor"]
    min_roas: Positive = Field(gt=0, le=1000)


class CacCeiling(GmvRuleBase):
    """CAC of the scope's acquisition channels (spend / new customers) at most the ceiling."""

    kind: Literal["cac_ceiling"]
    max_cac_cny: Price


class CommissionCap(GmvRuleBase):
    """KOL commission in the scope: blended rate and/or total amount capped."""

    kind: Literal["commission_cap"]
    max_rate: Fraction | None = Field(None, description="Commission / KOL GMV.")
    max_total_cny: Money | None = None


class GmvShare(GmvRuleBase):
    """The scope's share of all GMV (in the rule's periods) within [min_share, max_share]."""

    kind: Literal["gmv_share"]
    min_share: Fraction | None = None
    max_share: Fraction | None = None


class SpendLimit(RuleBase):
    """Total spend of the scope within [min_cny, max_cny], e.g. a per-period cap for phasing."""

    kind: Literal["spend_limit"]
    min_cny: Money | None = None
    max_cny: Money | None = None


class RampLimit(RuleBase):
    """Pacing: spend changes by at most ``max_change`` and/or ``max_change_cny`` between
    consecutive periods.

    |spend[t] - spend[t-1]| <= max_change * spend[t-1] + allowance_cny, and
    |spend[t] - spend[t-1]| <= max_change_cny, channel by channel in the scope (or for the
    scope's total with ``per: scope``); with no allowance a channel at zero stays at zero.
    With ``periods``, only changes between two consecutive periods both named.
    """

    kind: Literal["ramp_limit"]
    max_change: Positive | None = Field(
        None, gt=0, le=10, description="e.g. 0.3 = at most +/-30% of the previous period."
    )
    allowance_cny: Money = Field(0, description="Change allowed on top, e.g. to start a channel.")
    max_change_cny: Money | None = Field(
        None, description="At most this many CNY up or down between consecutive periods."
    )
    per: Literal["channel", "scope"] = Field(
        "channel",
        description="channel: each channel in the scope apart; scope: the scope's total spend "
        "(a group's).",
    )

    @model_serializer(mode="wrap")
    def _without_unset_additions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``max_change_cny`` and ``per`` only when given: a ramp_limit written before they
        existed dumps, and so fingerprints, as it did."""
        data: dict[str, Any] = handler(self)
        for name, default in (("max_change_cny", None), ("per", "channel")):
            if name in data and data[name] == default:
                del data[name]
        return data


class Dark(RuleBase):
    """Flighting: the scope spends nothing in the rule's periods (dark weeks)."""

    kind: Literal["dark"]
    periods: list[str] = Field(  # type: ignore[assignment]
        min_length=1, description="The dark periods or windows (required)."
    )


class LockedBurst(RuleBase):
    """Flighting: the scope's spend is fixed in the rule's periods (a booked burst).

    ``per_period_cny``: exactly this in each period; ``total_cny``: exactly this over them all,
    spread by the optimiser. The scope's total, over its channels.
    """

    kind: Literal["locked_burst"]
    periods: list[str] = Field(  # type: ignore[assignment]
        min_length=1, description="The burst's periods or windows (required)."
    )
    per_period_cny: Money | None = Field(None, description="Exact spend in each period.")
    total_cny: Money | None = Field(None, description="Exact spend over all the periods.")


Rule = Annotated[
    RoasFloor | CacCeiling | CommissionCap | GmvShare | SpendLimit | RampLimit | Dark | LockedBurst,
    Field(discriminator="kind"),
]

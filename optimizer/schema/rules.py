"""Rules of the scenario schema: limits a plan must keep on a scope of channels and periods
(ROAS floor, CAC ceiling, commission cap, GMV share, spend limit, pacing).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from optimizer.schema.fields import Fraction, Id, Money, Positive, Price, StrictModel


class RuleBase(StrictModel):
    """Scope shared by rules: which channels (ids or groups) and which periods it covers."""

    id: Id | None = Field(None, description="Name shown in reports; default kind[index].")
    channels: list[Id] | None = Field(None, description="Channel ids; default all channels.")
    groups: list[Id] = Field(default_factory=list, description="Groups added to the scope.")
    periods: list[str] | None = Field(None, description="Periods covered; default all.")


class RoasFloor(RuleBase):
    """ROAS of the scope (GMV / spend on the spend basis) at least ``min_roas``."""

    kind: Literal["roas_floor"]
    min_roas: Positive = Field(gt=0, le=1000)


class CacCeiling(RuleBase):
    """CAC of the scope's acquisition channels (spend / new customers) at most the ceiling."""

    kind: Literal["cac_ceiling"]
    max_cac_cny: Price


class CommissionCap(RuleBase):
    """KOL commission in the scope: blended rate and/or total amount capped."""

    kind: Literal["commission_cap"]
    max_rate: Fraction | None = Field(None, description="Commission / KOL GMV.")
    max_total_cny: Money | None = None


class GmvShare(RuleBase):
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
    """Pacing: each channel's spend changes by at most ``max_change`` between periods.

    |spend[t] - spend[t-1]| <= max_change * spend[t-1] + allowance_cny, channel by channel in
    the scope; with no allowance a channel at zero stays at zero.
    """

    kind: Literal["ramp_limit"]
    max_change: Positive = Field(gt=0, le=10, description="e.g. 0.3 = at most +/-30% per period.")
    allowance_cny: Money = Field(0, description="Change allowed on top, e.g. to start a channel.")


Rule = Annotated[
    RoasFloor | CacCeiling | CommissionCap | GmvShare | SpendLimit | RampLimit,
    Field(discriminator="kind"),
]

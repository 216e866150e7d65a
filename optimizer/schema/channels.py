"""Channels of the scenario schema: paid traffic (priced by CPM), KOL tiers, private domain, and
channels whose GMV response is given directly; the fields every channel shares (spend limits,
groups, switches) are on ``ChannelBase``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from optimizer.schema.carry import MAX_LAG, Adstock
from optimizer.schema.curves import Response, Saturation
from optimizer.schema.draws import Draws, FitSummary
from optimizer.schema.fields import (
    MAX_MULTIPLIER,
    Fraction,
    Id,
    Money,
    NonNegative,
    OrderValue,
    PerPeriod,
    Positive,
    Price,
    StrictModel,
    without_unused,
)

History = Annotated[list[Money], Field(max_length=MAX_LAG)]

# --- CPM -------------------------------------------------------------------------------------


class IndexTrend(StrictModel):
    """CPM multiplier given per period (1.0 = base)."""

    type: Literal["index"]
    values: list[Annotated[float, Field(gt=0, le=MAX_MULTIPLIER)]] = Field(
        description="One multiplier per period (at most 1000)."
    )


class GrowthTrend(StrictModel):
    """CPM growing per period: linear base*(1+r*t) or compound base*(1+r)^t, t = 0 first period."""

    type: Literal["linear", "compound"]
    rate_per_period: float = Field(gt=-1, lt=10, description="e.g. 0.14 = +14% per period.")


class Cpm(StrictModel):
    """Price of 1,000 impressions: a base and its trend through the year."""

    base_cny: Price = Field(
        description="CPM in the first period, CNY per 1,000 views; with its trend, every "
        "period's CPM is 0.01 to 1e12."
    )
    trend: Annotated[IndexTrend | GrowthTrend, Field(discriminator="type")] | None = None

    def by_period(self, n_periods: int) -> np.ndarray:
        """CPM of each period from the base and its trend (index, linear or compound growth).

        Pure arithmetic on these fields, so the schema can check every period's CPM and the
        core prices paid traffic with the same numbers.
        """
        base, trend, t = self.base_cny, self.trend, np.arange(n_periods, dtype=float)
        kind = getattr(trend, "type", None)
        if kind == "index":
            return base * np.asarray(trend.values, dtype=float)  # type: ignore[union-attr]
        if kind == "linear":
            return base * (1.0 + trend.rate_per_period * t)  # type: ignore[union-attr]
        if kind == "compound":
            return base * (1.0 + trend.rate_per_period) ** t  # type: ignore[union-attr]
        return np.full(n_periods, base)


# --- channels --------------------------------------------------------------------------------


class ChannelBase(StrictModel):
    """Fields every channel has: identity, groups, and spend limits."""

    id: Id
    name: str | None = Field(None, max_length=200, description="Display name; any language.")
    groups: list[Id] = Field(
        default_factory=list, description="Groups this channel belongs to, named in rules."
    )
    min_spend_cny: Money = Field(0, description="Minimum total spend over the horizon.")
    max_spend_cny: Money | None = Field(None, description="Maximum total spend over the horizon.")
    period_min_spend_cny: PerPeriod = Field(
        0, description="Minimum spend in each period, CNY (0 to 1e12)."
    )
    period_max_spend_cny: PerPeriod | None = Field(
        None, description="Maximum spend per period, CNY (0 to 1e12)."
    )
    seasonality: PerPeriod | None = Field(
        None,
        description="Demand multipliers for this channel (above 0, at most 1000); default: the "
        "scenario's.",
    )
    counts_toward_cac: bool | None = Field(
        None,
        description="Whether spend and new customers count in CAC (default: true except "
        "private domain).",
    )
    locked_spend_cny: Money | None = Field(
        None, description="Total spend fixed at this amount (a signed contract, a commitment)."
    )
    min_spend_if_used_cny: Money = Field(
        0, description="If the channel is used at all, at least this total (0 or >= X)."
    )
    activation_cost_cny: Money = Field(
        0,
        description="Fixed cost paid from the budget if the channel is used at all (set-up, "
        "agency onboarding); counts in profit, not in ROAS or CAC.",
    )
    adstock: Adstock | None = Field(
        None,
        description="Carry-over: how much of a week's spend still sells in the weeks after it "
        "(geometric, Robyn's weibull_cdf / weibull_pdf, or weights by lag).",
    )
    history_spend_cny: History = Field(
        default_factory=list,
        json_schema_extra={"x-cell": "numbers"},
        description="Spend in the weeks before the plan, oldest first, the last one the week "
        "just before the first period: its carry-over enters the plan's first weeks. Needs "
        "adstock; a KOL channel gives it per tier.",
    )

    @model_serializer(mode="wrap")
    def _without_unused_carry(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No carry-over keys when a channel has none (dumps and fingerprints as before)."""
        return without_unused(handler(self), {"adstock": None, "history_spend_cny": []})


class PaidChannel(ChannelBase):
    """Paid traffic bought by CPM: search, traffic for self-operated live rooms, short-video ads."""

    kind: Literal["paid"]
    cpm: Cpm
    ctr: Positive = Field(gt=0, le=1, description="Clicks per impression.")
    cvr: Positive = Field(gt=0, le=1, description="Orders per click.")
    aov_cny: OrderValue
    new_customer_share: Fraction = Field(0.5, description="Share of orders from new customers.")
    saturation: Saturation = Field(description="Diminishing returns on spend within a period.")


class KolTier(StrictModel):
    """One tier of influencers (head, mid, tail): placement fees buy GMV that pays commission."""

    id: Id
    name: str | None = Field(None, max_length=200)
    commission_rate: NonNegative = Field(ge=0, lt=1, description="Commission as a share of GMV.")
    fee_roas: Positive = Field(gt=0, le=1000, description="GMV per yuan of fee, unsaturated.")
    aov_cny: OrderValue
    new_customer_share: Fraction = 0.5
    capacity_fee_cny: PerPeriod | None = Field(
        None,
        description="Most placement fees the tier can absorb per period (slots x fee), CNY "
        "(0 to 1e12).",
    )
    saturation: Saturation = Field(description="Diminishing returns on placement fees.")
    history_spend_cny: History = Field(
        default_factory=list,
        json_schema_extra={"x-cell": "numbers"},
        description="This tier's fees in the weeks before the plan, oldest first (with the "
        "channel's adstock).",
    )

    @model_serializer(mode="wrap")
    def _without_unused_history(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No history key when the tier has none (dumps and fingerprints as before)."""
        return without_unused(handler(self), {"history_spend_cny": []})


class KolChannel(ChannelBase):
    """Influencers (达人): placement fees plus commission on GMV, in tiers."""

    kind: Literal["kol"]
    tiers: list[KolTier] = Field(min_length=1, max_length=20)


class PrivateDomainChannel(ChannelBase):
    """Private domain (私域): reaching the brand's own members, bounded by the member base."""

    kind: Literal["private_domain"]
    members: int = Field(gt=0, le=10**10, description="Members that can be reached.")
    cost_per_reach_cny: Price = Field(description="Cost to reach one member once.")
    repurchase_rate: Positive = Field(gt=0, le=1, description="Share of members who buy in a year.")
    orders_per_buyer: Positive = Field(1.0, gt=0, le=365, description="Orders per buyer per year.")
    aov_cny: OrderValue
    new_customer_share: Fraction = 0.0


class CurveChannel(ChannelBase):
    """A GMV response to spend given directly, e.g. fitted by an MMM (Robyn, PyMC-Marketing)."""

    kind: Literal["curve"]
    response: Response = Field(description="GMV per period as a function of spend per period.")
    cpm_index: PerPeriod | None = Field(
        None,
        description="CPM multiplier per period (1.0 = the CPM the response was fitted at): the "
        "response is applied to spend / index, the impressions bought, so a dearer week buys "
        "less; above 0, at most 1000. Not with a piecewise response.",
    )
    aov_cny: OrderValue
    new_customer_share: Fraction = 0.5
    draws: Draws | None = Field(
        None,
        description="The curve's uncertainty: one value per draw for some of its response "
        "(and adstock) parameters, from an MMM's posterior or `budgetopt fit`'s bootstrap; "
        "draw k of every channel is one joint draw. Plans then report P10 / P50 / P90.",
    )

    fit: FitSummary | None = Field(
        None,
        description="How the curve was fitted from history (family, weeks, the weekly spend "
        "range seen, R², held-out MAPE): a plan warns when it spends far outside that range.",
    )

    @model_serializer(mode="wrap")
    def _without_unused_carry(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No carry-over or draws keys when unused (dumps and fingerprints as before)."""
        unused = {"adstock": None, "history_spend_cny": [], "draws": None, "fit": None}
        return without_unused(handler(self), unused)


Channel = Annotated[
    PaidChannel | KolChannel | PrivateDomainChannel | CurveChannel, Field(discriminator="kind")
]

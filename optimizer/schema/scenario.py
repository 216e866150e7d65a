"""Scenario schema: the one boundary model for scenario files and HTTP bodies.

Money is in CNY. Spend is what the brand pays out of the marketing budget (paid media, KOL
placement fees, private-domain reach costs). KOL commission is a share of the GMV that KOLs
drive; it is paid out of sales and does not use the budget unless
``budget.commission_in_budget`` is true. ROAS and CAC divide by media spend, or media spend
plus commission when ``accounting.spend_basis`` is ``media_plus_commission``. Fixed costs and
the contingency are part of the total budget but never part of ROAS or CAC.

Every number has physical bounds, so that no product of them (seasonality x 1000 x CTR x CVR
x AOV / CPM, a CAC ceiling times new customers per yuan of GMV, ...) overflows to infinity,
underflows to zero or leaves the range a solver can take: amounts of money are at most
1e12 CNY (a trillion), prices and curve scales at least 0.01 CNY (one fen), rates and shares
between 0 and 1, seasonality and CPM multipliers at most 1000. What the bounds of single fields
cannot catch, the numbers derived from them, ``optimizer.core.problem`` checks after these.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from optimizer.core.curves import cpm_by_period

SCHEMA_VERSION = "1"
MAX_PERIODS = 366
MAX_CHANNELS = 500
MAX_RULES = 1000
MAX_CNY = 1e12  # a trillion yuan: more than any marketing budget, and far from overflow
MIN_PRICE_CNY = 0.01  # one fen: the least a CPM, a cost per reach or a curve scale can be
MAX_AOV_CNY = 1e7  # ten million yuan per order
MAX_MULTIPLIER = 1000.0  # seasonality and CPM index values
MIN_TOLERANCE = 1e-9  # a relative gap below what double precision can prove is never reached
TINY = 1e-9  # the least nonzero rate, share or multiplier: products of a few stay far from 0


def _at_least(minimum: float, unit: str = "", *, or_zero: bool = False) -> AfterValidator:
    """A floor checked after ``gt=0`` (or ``ge=0`` with ``or_zero``), so that zero or less is
    still "greater than 0" while a tiny number (5e-324) gets its own message."""

    def check(value: float) -> float:
        if value < minimum and not (or_zero and value == 0):
            expected = f"0 or at least {minimum:g}" if or_zero else f"at least {minimum:g}"
            raise PydanticCustomError(
                "scenario",
                "{message}",
                {"message": f"expected {expected}{unit}, got {value:g}: too small to compute with"},
            )
        return value

    return AfterValidator(check)


Positive = Annotated[float, _at_least(TINY)]  # with Field(gt=0, ...): a rate or multiplier
NonNegative = Annotated[float, _at_least(TINY, or_zero=True)]  # with Field(ge=0, ...)


Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\w\-]+$",
        description="Identifier: letters (any script), digits, '_' or '-'; no spaces or dots.",
    ),
]
Money = Annotated[
    float,
    Field(ge=0, le=MAX_CNY, allow_inf_nan=False, description="Amount in CNY, 0 to 1e12."),
]
PositiveMoney = Annotated[
    float, Field(gt=0, le=MAX_CNY, allow_inf_nan=False, description="CNY, > 0 and <= 1e12.")
]
Price = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_CNY,
        allow_inf_nan=False,
        json_schema_extra={"minimum": MIN_PRICE_CNY},
        description="CNY, 0.01 (one fen) to 1e12.",
    ),
    _at_least(MIN_PRICE_CNY, " CNY (one fen)"),
]
OrderValue = Annotated[
    float,
    Field(
        ge=0.01,
        le=MAX_AOV_CNY,
        allow_inf_nan=False,
        description="Average order value, CNY (0.01 to 1e7).",
    ),
]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), _at_least(TINY, or_zero=True)]
PerPeriod = Annotated[
    float | list[Annotated[float, Field(allow_inf_nan=False)]],
    Field(description="One number for every period, or a list with one value per period."),
]


class StrictModel(BaseModel):
    """Base for every schema model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_yes_no_for_numbers(cls, data: Any) -> Any:
        """Refuse true/false (YAML's yes/no/on/off) where a number goes: pydantic reads 1/0."""
        if isinstance(data, dict):
            errors = [
                _error(loc, f"expected a number, got {str(value).lower()} (a yes/no value)")
                for name, value in data.items()
                if isinstance(name, str) and name in cls.model_fields
                if _is_numeric_field(cls, name)
                for loc, value in _bools_in(value, (name,))
            ]
            if errors:
                raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


_NUMERIC_FIELDS: dict[tuple[type, str], bool] = {}


def _is_numeric_field(model: type[BaseModel], name: str) -> bool:
    """Whether a field holds numbers (possibly in lists) and never a true/false."""
    key = (model, name)
    if key not in _NUMERIC_FIELDS:
        kinds = _leaf_types(model.model_fields[name].annotation)
        _NUMERIC_FIELDS[key] = bool(kinds & {int, float}) and bool not in kinds
    return _NUMERIC_FIELDS[key]


def _leaf_types(annotation: Any) -> set[Any]:
    """The plain types inside an annotation: float | list[Annotated[float, ...]] -> {float}."""
    args = get_args(annotation)
    if not args:
        return {annotation}
    return set().union(*(_leaf_types(a) for a in args))


def _bools_in(
    value: Any, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Where true/false values sit in a number or a (nested) list of numbers."""
    if isinstance(value, bool):
        yield loc, value
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _bools_in(item, (*loc, i))


# --- response curves -------------------------------------------------------------------------


class LinearCurve(StrictModel):
    """No saturation: every yuan works like the first."""

    type: Literal["linear"]


class ExponentialCurve(StrictModel):
    """Effective spend = scale * (1 - exp(-spend / scale)); saturates at ``scale_cny``."""

    type: Literal["exponential"]
    scale_cny: Price = Field(description="Spend per period at which returns fall to 37%.")


class HillCurve(StrictModel):
    """Effective spend = half * u^shape / (1 + u^shape), u = spend / half; shape > 1 is S-shaped."""

    type: Literal["hill"]
    half_saturation_cny: Price = Field(description="Spend per period giving half the max.")
    shape: Positive = Field(1.0, gt=0, le=10, description="Hill exponent; 1 is concave.")


class PiecewiseCurve(StrictModel):
    """Effective spend as points (spend_cny, effective_cny) from a test; flat after the last."""

    type: Literal["piecewise"]
    points: list[tuple[Money, Money]] = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _check_points(self) -> PiecewiseCurve:
        _check_curve_points(self.points)
        return self


Saturation = Annotated[
    LinearCurve | ExponentialCurve | HillCurve | PiecewiseCurve, Field(discriminator="type")
]


class LinearResponse(StrictModel):
    """GMV = roas * spend."""

    type: Literal["linear"]
    roas: Positive = Field(gt=0, le=1000, description="GMV per yuan of spend.")


class ExponentialResponse(StrictModel):
    """GMV = max_gmv * (1 - exp(-spend / scale))."""

    type: Literal["exponential"]
    max_gmv_cny: PositiveMoney = Field(description="GMV per period as spend grows without limit.")
    scale_cny: Price


class HillResponse(StrictModel):
    """GMV = max_gmv * u^shape / (1 + u^shape), u = spend / half_saturation (Robyn-style Hill)."""

    type: Literal["hill"]
    max_gmv_cny: PositiveMoney
    half_saturation_cny: Price
    shape: Positive = Field(1.0, gt=0, le=10)


class PiecewiseResponse(StrictModel):
    """GMV given as points (spend_cny, gmv_cny); linear between points, flat after the last."""

    type: Literal["piecewise"]
    points: list[tuple[Money, Money]] = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _check_points(self) -> PiecewiseResponse:
        _check_curve_points(self.points)
        return self


Response = Annotated[
    LinearResponse | ExponentialResponse | HillResponse | PiecewiseResponse,
    Field(discriminator="type"),
]


def _check_curve_points(points: list[tuple[float, float]]) -> None:
    spends = [p[0] for p in points]
    values = [p[1] for p in points]
    if spends[0] != 0 or values[0] != 0:
        _fail(("points", 0), "the first point must be (0, 0): no spend, no response")
    for i in range(1, len(points)):
        if spends[i] <= spends[i - 1]:
            _fail(("points", i), f"spend must increase from point to point, got {spends[i]:g}")
        if values[i] < values[i - 1]:
            _fail(("points", i), f"response must not fall as spend grows, got {values[i]:g}")
    slopes = [
        (values[i] - values[i - 1]) / (spends[i] - spends[i - 1]) for i in range(1, len(points))
    ]
    for i in range(1, len(slopes)):
        if slopes[i] > slopes[i - 1] * (1 + 1e-9) + 1e-12:
            _fail(
                ("points", i + 1),
                "returns must diminish: each segment's slope at most the previous one's "
                f"(segment {i + 1} has {slopes[i]:.4g} after {slopes[i - 1]:.4g})",
            )


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
    aov_cny: OrderValue
    new_customer_share: Fraction = 0.5


Channel = Annotated[
    PaidChannel | KolChannel | PrivateDomainChannel | CurveChannel, Field(discriminator="kind")
]


class FixedCost(StrictModel):
    """A cost that is not media (compliance, systems): it uses budget but buys no GMV."""

    id: Id
    name: str | None = Field(None, max_length=200)
    amount_cny: Money


# --- rules -----------------------------------------------------------------------------------


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


# --- budget, objective, settings -------------------------------------------------------------


class Budget(StrictModel):
    """The annual budget: media spend = total - fixed costs - contingency."""

    total_cny: PositiveMoney = Field(description="Total marketing budget for the horizon.")
    mode: Literal["spend_all", "up_to"] = Field(
        "up_to", description="spend_all: media spend must equal what is available."
    )
    contingency_cny: Money = Field(0, description="Reserve held back (机动), never allocated.")
    commission_in_budget: bool = Field(
        False, description="Whether KOL commission is paid out of this budget."
    )


class Accounting(StrictModel):
    """How spend is counted in ROAS and CAC, and the margin used for profit."""

    spend_basis: Literal["media", "media_plus_commission"] = Field(
        "media", description="Spend that ROAS and CAC divide by."
    )
    gross_margin: Annotated[float, Field(gt=0, lt=1), _at_least(TINY)] | None = Field(
        None, description="Gross margin on GMV, needed for max_profit."
    )


class Objective(StrictModel):
    """What the plan optimises."""

    kind: Literal["max_gmv", "max_profit", "max_new_customers", "min_spend"]
    gmv_target_cny: PositiveMoney | None = Field(
        None, description="GMV to reach; required for min_spend, a floor otherwise."
    )


class Settings(StrictModel):
    """Solver settings; the CLI can override them."""

    solver: Literal["highs", "cbc", "highs-direct", "lp", "nlp", "auto"] = Field(
        "highs",
        description="Method or backend: lp (piecewise-linear, default backend), nlp (SLSQP on "
        "the true curves), auto (picks by problem shape), or an LP backend: highs, cbc, "
        "highs-direct.",
    )
    tolerance: Annotated[float, _at_least(MIN_TOLERANCE)] = Field(
        1e-4,
        gt=0,
        le=0.1,
        json_schema_extra={"minimum": MIN_TOLERANCE},
        description="Relative optimality gap to reach (1e-9 to 0.1).",
    )
    time_limit_s: float = Field(60, gt=0, le=3600)


class Scenario(StrictModel):
    """A brand's channels, their economics through the periods, its rules and its objective."""

    version: Literal["1"] = Field(description="Schema version of this file.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    currency: Literal["CNY"] = "CNY"
    periods: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_PERIODS, description="Period names in time order."
    )
    seasonality: PerPeriod = Field(
        1.0, description="Demand multiplier per period (618, 双11); above 0, at most 1000."
    )
    budget: Budget
    accounting: Accounting = Accounting()
    objective: Objective
    channels: list[Channel] = Field(min_length=1, max_length=MAX_CHANNELS)
    fixed_costs: list[FixedCost] = Field(default_factory=list, max_length=100)
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)
    settings: Settings = Settings()

    @model_validator(mode="after")
    def _check_cross_references(self) -> Scenario:
        errors = list(_cross_field_errors(self)) or list(_derived_number_errors(self))
        if errors:
            raise ValidationError.from_exception_data("Scenario", errors)
        return self

    def media_budget_cny(self) -> float:
        """Budget left for media after fixed costs and the contingency."""
        fixed = sum(c.amount_cny for c in self.fixed_costs)
        return self.budget.total_cny - fixed - self.budget.contingency_cny

    def channel_ids(self) -> list[str]:
        """Channel ids in file order."""
        return [c.id for c in self.channels]

    def group_members(self) -> dict[str, list[str]]:
        """Group name -> channel ids in it."""
        groups: dict[str, list[str]] = {}
        for channel in self.channels:
            for group in channel.groups:
                groups.setdefault(group, []).append(channel.id)
        return groups


# --- cross-field checks ----------------------------------------------------------------------


def _fail(loc: tuple[str | int, ...], message: str) -> None:
    raise ValidationError.from_exception_data("Scenario", [_error(loc, message)])


def _error(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("scenario", "{message}", {"message": message}),
        loc=loc,
        input=None,
    )


def _cross_field_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    yield from _duplicate_errors(s)
    yield from _per_period_errors(
        s.seasonality, s.periods, ("seasonality",), positive=True, maximum=MAX_MULTIPLIER
    )
    for i, channel in enumerate(s.channels):
        yield from _channel_errors(channel, s.periods, ("channels", i))
    yield from _budget_errors(s)
    yield from _rule_errors(s)
    if s.objective.kind == "min_spend" and s.objective.gmv_target_cny is None:
        yield _error(
            ("objective", "gmv_target_cny"),
            "objective min_spend needs gmv_target_cny, the GMV to reach; got none",
        )
    if s.objective.kind == "max_profit" and s.accounting.gross_margin is None:
        yield _error(
            ("accounting", "gross_margin"),
            "objective max_profit needs accounting.gross_margin, the gross margin on GMV "
            "(between 0 and 1, e.g. 0.45); got none",
        )


def _derived_number_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    """Numbers the solver gets (GMV per yuan, rule coefficients) out of the range it takes."""
    from optimizer.core.problem import number_problems  # the model imports this module

    for loc, message in number_problems(s):
        yield _error(loc, message)


def _duplicate_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    for field, ids in (
        ("periods", s.periods),
        ("channels", s.channel_ids()),
        ("fixed_costs", [c.id for c in s.fixed_costs]),
        ("rules", [r.id for r in s.rules if r.id is not None]),
    ):
        yield from _repeats(list(ids), field, () if field == "periods" else ("id",))


def _repeats(
    ids: list[str], field: str, suffix: tuple[str, ...], prefix: tuple[str | int, ...] = ()
) -> Iterator[InitErrorDetails]:
    """One error at every repeat of an id, naming where it was first used."""
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in first:
            yield _error(
                (*prefix, field, index, *suffix),
                f"duplicated id '{value}': already used by {field}[{first[value]}]; "
                "ids must be unique",
            )
        else:
            first[value] = index


def _per_period_errors(
    value: Any,
    periods: list[str],
    loc: tuple[str | int, ...],
    *,
    positive: bool = False,
    maximum: float = MAX_CNY,
) -> Iterator[InitErrorDetails]:
    """Per-period values: one per period, >= 0 (> 0 if ``positive``), at most ``maximum``."""
    if value is None:
        return
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(value) != len(periods):
        yield _error(loc, _count_message(periods, len(value)))
        return
    for j, v in enumerate(values):
        where = (*loc, j) if isinstance(value, list) else loc
        if v < 0 or (positive and v == 0):
            yield _error(
                where, f"expected a {'positive' if positive else 'non-negative'} number, got {v:g}"
            )
        elif positive and v < TINY:
            yield _error(where, f"expected at least {TINY:g}, got {v:g}: too small to compute with")
        elif v > maximum:
            yield _error(where, f"expected a number of at most {maximum:,g}, got {v:g}")


def _count_message(periods: list[str], got: int) -> str:
    names = ", ".join(periods) if len(periods) <= 12 else f"{periods[0]} ... {periods[-1]}"
    return f"expected {len(periods)} values, one per period ({names}), got {got}"


def _channel_errors(
    c: Any, periods: list[str], loc: tuple[str | int, ...]
) -> Iterator[InitErrorDetails]:
    n = len(periods)
    yield from _per_period_errors(c.period_min_spend_cny, periods, (*loc, "period_min_spend_cny"))
    yield from _per_period_errors(c.period_max_spend_cny, periods, (*loc, "period_max_spend_cny"))
    yield from _per_period_errors(
        c.seasonality, periods, (*loc, "seasonality"), positive=True, maximum=MAX_MULTIPLIER
    )
    if c.max_spend_cny is not None and c.min_spend_cny > c.max_spend_cny:
        yield _error(
            (*loc, "min_spend_cny"),
            f"min_spend_cny {c.min_spend_cny:g} exceeds max_spend_cny {c.max_spend_cny:g}",
        )
    if c.kind == "paid" and isinstance(c.cpm.trend, IndexTrend) and len(c.cpm.trend.values) != n:
        yield _error(
            (*loc, "cpm", "trend", "values"), _count_message(periods, len(c.cpm.trend.values))
        )
    elif c.kind == "paid":
        yield from _cpm_errors(c.cpm, periods, (*loc, "cpm"))
    if c.kind == "kol":
        yield from _repeats([t.id for t in c.tiers], "tiers", ("id",), loc)
        for k, tier in enumerate(c.tiers):
            yield from _per_period_errors(
                tier.capacity_fee_cny, periods, (*loc, "tiers", k, "capacity_fee_cny")
            )


def _cpm_errors(
    cpm: Cpm, periods: list[str], loc: tuple[str | int, ...]
) -> Iterator[InitErrorDetails]:
    """Every period's CPM (base and trend) between one fen and 1e12: a linear trend that falls
    below zero, or compound growth over many periods, is caught here, naming the period."""
    if cpm.trend is None:
        return
    with np.errstate(all="ignore"):
        values = cpm_by_period(cpm.base_cny, cpm.trend, len(periods))
    for t, value in enumerate(values):
        if np.isfinite(value) and MIN_PRICE_CNY <= value <= MAX_CNY:
            continue
        if isinstance(cpm.trend, IndexTrend):
            where: tuple[str | int, ...] = (*loc, "trend", "values", t)
        else:
            where = (*loc, "trend", "rate_per_period")
        yield _error(
            where,
            f"gives a CPM of {value:,.6g} CNY in period {periods[t]} (base_cny "
            f"{cpm.base_cny:g} with its {cpm.trend.type} trend); every period's CPM must be "
            f"between {MIN_PRICE_CNY:g} and {MAX_CNY:g} CNY",
        )
        return  # the first period out of range says enough


def _budget_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    fixed = sum(c.amount_cny for c in s.fixed_costs)
    if s.media_budget_cny() < 0:
        yield _error(
            ("budget", "total_cny"),
            f"total_cny {s.budget.total_cny:,.0f} is less than fixed costs {fixed:,.0f} plus "
            f"contingency {s.budget.contingency_cny:,.0f}",
        )


def _rule_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    channel_ids = set(s.channel_ids())
    groups = s.group_members()
    periods = set(s.periods)
    known_periods = ", ".join(s.periods) if len(s.periods) <= 12 else "see periods"
    kinds = {c.id: c.kind for c in s.channels}
    for i, rule in enumerate(s.rules):
        loc: tuple[str | int, ...] = ("rules", i)
        for j, cid in enumerate(rule.channels or []):
            if cid not in channel_ids:
                yield _error(
                    (*loc, "channels", j),
                    f"unknown channel '{cid}'; known: {', '.join(sorted(channel_ids))}",
                )
        for j, group in enumerate(rule.groups):
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                yield _error((*loc, "groups", j), f"unknown group '{group}'; known: {known}")
        for j, period in enumerate(rule.periods or []):
            if period not in periods:
                yield _error(
                    (*loc, "periods", j), f"unknown period '{period}'; known: {known_periods}"
                )
        yield from _rule_value_errors(rule, loc, kinds)


def _rule_value_errors(
    rule: Any, loc: tuple[str | int, ...], kinds: dict[str, str]
) -> Iterator[InitErrorDetails]:
    pairs = {
        "commission_cap": ("max_rate", "max_total_cny"),
        "gmv_share": ("min_share", "max_share"),
        "spend_limit": ("min_cny", "max_cny"),
    }
    if rule.kind in pairs:
        low_name, high_name = pairs[rule.kind]
        low, high = getattr(rule, low_name), getattr(rule, high_name)
        if low is None and high is None:
            yield _error(loc, f"{rule.kind} needs {low_name} or {high_name}; got neither")
        if rule.kind != "commission_cap" and None not in (low, high) and low > high:
            yield _error((*loc, low_name), f"{low_name} {low:g} is above {high_name} {high:g}")
    if rule.kind == "gmv_share" and rule.channels is None and not rule.groups:
        yield _error(loc, "gmv_share needs channels or groups (the share of what?); got neither")
    if rule.kind == "commission_cap" and rule.channels is not None:
        kol_ids = ", ".join(c for c, k in kinds.items() if k == "kol") or "none in this scenario"
        for j, cid in enumerate(rule.channels):
            if cid in kinds and kinds[cid] != "kol":
                yield _error(
                    (*loc, "channels", j),
                    f"commission_cap applies to KOL channels, got '{cid}', a {kinds[cid]} "
                    f"channel; KOL channels: {kol_ids}",
                )

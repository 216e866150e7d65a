"""Scenario schema: the one boundary model for scenario files and HTTP bodies.

Money is in CNY. Spend is what the brand pays out of the marketing budget (paid media, KOL
placement fees, private-domain reach costs). KOL commission is a share of the GMV that KOLs
drive; it is paid out of sales and does not use the budget unless
``budget.commission_in_budget`` is true. ROAS and CAC divide by media spend, or media spend
plus commission when ``accounting.spend_basis`` is ``media_plus_commission``. Fixed costs and
the contingency are part of the total budget but never part of ROAS or CAC.

The parts live beside this module: ``fields`` (number types and their bounds), ``curves``,
``channels``, ``rules`` and ``checks`` (cross-field checks of the parts). Validation checks the
fields and the rules between them; the numbers derived from them (GMV per yuan, rule
coefficients) are the core's to check, after validation (``check_numbers``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import InitErrorDetails

from optimizer.schema.calendar import Calendar, add_calendar_forms
from optimizer.schema.channels import Channel
from optimizer.schema.checks import (
    calendar_rule_errors,
    channel_errors,
    draw_count_errors,
    per_period_errors,
    repeats,
    rule_errors,
)
from optimizer.schema.expand import MAX_PERIODS, expand_calendar
from optimizer.schema.fields import (
    MAX_MULTIPLIER,
    MIN_TOLERANCE,
    TINY,
    Id,
    Money,
    PerPeriod,
    PositiveMoney,
    StrictModel,
    at_least,
    error_at,
    without_unused,
)
from optimizer.schema.rules import Rule

SCHEMA_VERSION = "1"
MAX_CHANNELS = 2000  # KOL-level plans: one channel per influencer
MAX_RULES = 1000


class FixedCost(StrictModel):
    """A cost that is not media (compliance, systems): it uses budget but buys no GMV."""

    id: Id
    name: str | None = Field(None, max_length=200)
    amount_cny: Money


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
    gross_margin: Annotated[float, Field(gt=0, lt=1), at_least(TINY)] | None = Field(
        None, description="Gross margin on GMV, needed for max_profit."
    )


class Risk(StrictModel):
    """How the objective weighs the curves' draws (``channels[].draws``)."""

    measure: Literal["mean", "cvar"] = Field(
        description="mean: the objective's average over the draws (expected GMV); cvar: its "
        "average over the worst ``level`` share of draws (a cautious plan, that gives up "
        "some expected GMV for a better bad case)."
    )
    level: float = Field(
        0.1,
        gt=0,
        le=1,
        description="cvar only: the share of worst draws averaged, e.g. 0.1 = the worst 10% "
        "(1 is the mean).",
    )


class Objective(StrictModel):
    """What the plan optimises."""

    kind: Literal["max_gmv", "max_profit", "max_new_customers", "min_spend"]
    gmv_target_cny: PositiveMoney | None = Field(
        None, description="GMV to reach; required for min_spend, a floor otherwise."
    )
    count_carry_out: bool = Field(
        False,
        description="Whether GMV this plan's spend brings after its last period (carry-over "
        "of channels with adstock) counts toward the objective; it is reported separately "
        "either way.",
    )

    risk: Risk | None = Field(
        None,
        description="With draws on the curves: optimise the mean over the draws, or the CVaR "
        "of the worst draws; rules then hold on the mean curves. Default: the curves' own "
        "parameters, the draws only giving the plan's ranges.",
    )

    @model_serializer(mode="wrap")
    def _without_unused_carry(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No count_carry_out or risk key when unused (dumps and fingerprints as before)."""
        return without_unused(handler(self), {"count_carry_out": False, "risk": None})


class SolveSettings(StrictModel):
    """Solver settings; the CLI can override them."""

    model_config = ConfigDict(title="Settings")  # the file's `settings`, as the schema names it

    solver: Literal["highs", "cbc", "highs-direct", "lp", "nlp", "dual", "auto"] = Field(
        "auto",
        description="Method or backend: lp (piecewise-linear, default backend), nlp (SLSQP on "
        "the true curves), dual (exact Lagrangian method for strictly concave curves, with a "
        "proven gap), auto (dual where it applies, else by problem shape), or an LP backend: "
        "highs, cbc, highs-direct.",
    )
    tolerance: Annotated[float, at_least(MIN_TOLERANCE)] = Field(
        1e-6,
        gt=0,
        le=0.1,
        json_schema_extra={"minimum": MIN_TOLERANCE},
        description="Relative optimality gap to reach and prove (1e-9 to 0.1); the dual method "
        "reaches float precision whatever this says.",
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
    calendar: Calendar | None = Field(
        None,
        description="Windows (618, 双11, 12.12, Spring Festival) named once, by dates or "
        "periods, for per-period values ({default, windows}) and rules' periods.",
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
    settings: SolveSettings = SolveSettings()

    @classmethod
    def model_json_schema(
        cls, *args: Any, schema_generator: type[GenerateJsonSchema] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The scenario file's JSON Schema, each model named as the file format names it."""
        generator = schema_generator or _FileFormatNames
        schema = super().model_json_schema(*args, schema_generator=generator, **kwargs)
        return add_calendar_forms(schema)

    @model_validator(mode="before")
    @classmethod
    def _expand_calendar(cls, data: Any) -> Any:
        """ISO-week periods, values by window and window ids in rules, as plain lists."""
        return expand_calendar(data)

    @model_serializer(mode="wrap")
    def _without_empty_calendar(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No ``calendar`` key when there is none: a scenario without one dumps, and so
        fingerprints, exactly as before calendars existed."""
        data: dict[str, Any] = handler(self)
        if data.get("calendar", 0) is None:
            del data["calendar"]
        return data

    @model_validator(mode="after")
    def _check_cross_references(self) -> Scenario:
        """The rules between fields; the numbers derived from them are checked after this."""
        errors = list(_cross_field_errors(self))
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


class _FileFormatNames(GenerateJsonSchema):
    """Definitions named by the model's title where the class name says more inside Python
    (``SolveSettings`` beside the service's settings) than the file format needs (``Settings``)."""

    def normalize_name(self, name: str) -> str:
        """A definition's name, as published in scenarios/scenario.schema.json."""
        return super().normalize_name(_PUBLISHED_NAMES.get(name, name))


_PUBLISHED_NAMES = {"SolveSettings": "Settings"}


def _cross_field_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    """Every problem between fields: repeated ids, per-period lists, channels, budget, rules."""
    for field, ids in (
        ("periods", s.periods),
        ("channels", s.channel_ids()),
        ("fixed_costs", [c.id for c in s.fixed_costs]),
        ("rules", [r.id for r in s.rules if r.id is not None]),
    ):
        yield from repeats(list(ids), field, () if field == "periods" else ("id",))
    yield from per_period_errors(
        s.seasonality, s.periods, ("seasonality",), positive=True, maximum=MAX_MULTIPLIER
    )
    for i, channel in enumerate(s.channels):
        yield from channel_errors(channel, s.periods, ("channels", i))
    yield from draw_count_errors(s.channels)
    yield from _budget_errors(s)
    yield from rule_errors(s.rules, s.channels, s.periods)
    yield from calendar_rule_errors(s.rules, s.channels, s.periods)
    yield from _objective_errors(s)


def _budget_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    """The total budget covers the fixed costs and the contingency."""
    fixed = sum(c.amount_cny for c in s.fixed_costs)
    if s.media_budget_cny() < 0:
        yield error_at(
            ("budget", "total_cny"),
            f"total_cny {s.budget.total_cny:,.0f} is less than fixed costs {fixed:,.0f} plus "
            f"contingency {s.budget.contingency_cny:,.0f}",
        )


def _objective_errors(s: Scenario) -> Iterator[InitErrorDetails]:
    """What an objective needs: a GMV target to reach, or a margin to make profit."""
    if s.objective.kind == "min_spend" and s.objective.gmv_target_cny is None:
        yield error_at(
            ("objective", "gmv_target_cny"),
            "objective min_spend needs gmv_target_cny, the GMV to reach; got none",
        )
    if s.objective.risk is not None and not any(
        getattr(c, "draws", None) is not None for c in s.channels
    ):
        yield error_at(
            ("objective", "risk"),
            "a risk-aware objective weighs the curves' draws, and no channel has draws: give "
            "a curve channel draws (budgetopt fit, or an imported posterior), or drop risk",
        )
    for i, rule in enumerate(s.rules):
        if getattr(rule, "probability", None) is not None and s.objective.risk is None:
            yield error_at(
                ("rules", i, "probability"),
                "a rule held in a share of the draws needs a risk-aware objective "
                "(objective.risk: mean or cvar) and curves with draws",
            )
    if s.objective.kind == "max_profit" and s.accounting.gross_margin is None:
        yield error_at(
            ("accounting", "gross_margin"),
            "objective max_profit needs accounting.gross_margin, the gross margin on GMV "
            "(between 0 and 1, e.g. 0.45); got none",
        )

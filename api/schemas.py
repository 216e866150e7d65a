"""Request and response bodies of the HTTP API (the scenario itself is optimizer's schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    model_validator,
)

from api.auth import Role
from optimizer.analysis.whatif import RANKED_METRICS
from optimizer.planner import Spread
from optimizer.schema.fields import MAX_CNY
from optimizer.schema.paths import MAX_COUNT
from optimizer.schema.scenario import Scenario, SolveSettings

Tag = Annotated[str, StringConstraints(pattern=r"^[\w.:-]{1,50}$")]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}_[0-9a-f]{1,40}$")]
T = TypeVar("T")
SolverName = SolveSettings.model_fields["solver"].annotation  # the scenario's list, the one list
MAX_VERSION = 2**31 - 1  # a version number the databases can store (a larger one is 422)
MAX_CHANGES = 50  # what-if changes in one request
MAX_PERIODS_IN_A_CHANGE = 1000  # numbers in a list a change sets (a per-period field)
JobKind = Literal["plan", "evaluation", "sweep", "tornado", "frontier"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NoControl = r"^[^\x00-\x1f\x7f]*$"
FieldPath = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NoControl)]
VaryValue = (
    bool | int | Finite | Annotated[str, StringConstraints(max_length=200, pattern=NoControl)]
)
# a set may give any value a field can take; the scenario is validated again after the changes
ChangeValue = (
    VaryValue
    | Annotated[list[Finite], Field(max_length=MAX_PERIODS_IN_A_CHANGE)]
    | dict[Annotated[str, StringConstraints(max_length=64)], JsonValue]
    | None
)
Metric = Literal[RANKED_METRICS]  # type: ignore[valid-type]  # the engine's names, one list


class Body(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class ScenarioCreate(Body):
    """A new scenario: the document (same schema as scenario files) and optional tags."""

    scenario: Scenario
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class VersionCreate(Body):
    """A new immutable version of a scenario; tags, when given, replace the scenario's tags."""

    scenario: Scenario
    tags: list[Tag] | None = Field(default=None, max_length=20)


class SolveOptions(Body):
    """How to solve; each field overrides the scenario's ``settings``."""

    solver: SolverName | None = None  # type: ignore[valid-type]
    tolerance: float | None = Field(default=None, ge=1e-9, le=0.1)
    time_limit_s: float | None = Field(default=None, gt=0, le=3600)


Op = Literal["set", "scale", "shift"]
PATH_HELP = (
    "Dotted field path; list items by id, period name or position, [*] for every item, "
    "[a,b] for several: budget.total_cny, channels[live_traffic].cpm.base_cny, "
    "channels[live_traffic,search].cpm.base_cny, channels[kol].tiers[*].commission_rate, "
    "seasonality[Q4], rules[roas_floor].min_roas."
)


class ChangeSpec(Body):
    """One what-if change to the scenario: set, scale (multiply) or shift (add to) every
    field ``path`` selects."""

    path: FieldPath = Field(description=PATH_HELP, examples=["channels[*].cpm.base_cny"])
    op: Op = Field(
        default="set",
        description="set: value is the new value; scale: each field is multiplied by value; "
        "shift: value is added to each field (a per-period list: every element).",
    )
    value: ChangeValue = Field(
        description="scale / shift: the factor or amount (a number). set: the new value, of "
        "the field's own type: a number, text, true/false, a list of numbers (a per-period "
        "field such as cpm_index), an object (such as a CPM trend), or null to clear an "
        "optional field.",
        examples=[1.42],
    )


Changes = Annotated[
    list[ChangeSpec],
    Field(
        default_factory=list,
        max_length=MAX_CHANGES,
        description="What-if changes applied, in order, to a copy of the scenario before it is "
        "solved (all together, validated once; the stored scenario is not modified). A channel "
        "is switched off with {path: channels[x].max_spend_cny, value: 0}.",
    ),
]


class PlanRequest(SolveOptions):
    """Plan a stored scenario: its latest version unless ``version`` names one."""

    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    changes: Changes


class AdHocPlanRequest(SolveOptions):
    """Plan an inline scenario without storing the scenario itself (the plan keeps a copy)."""

    scenario: Scenario
    changes: Changes


Allocation = dict[
    Annotated[str, StringConstraints(max_length=200)],
    dict[
        Annotated[str, StringConstraints(max_length=64)],
        Annotated[float, Field(ge=0, le=MAX_CNY, allow_inf_nan=False)],
    ],
]


Split = dict[
    Annotated[str, StringConstraints(max_length=200)],
    Annotated[float, Field(ge=0, le=MAX_CNY, allow_inf_nan=False)],
]


class EvaluationRequest(SolveOptions):
    """Score a hand-made split and its gap to the optimum: spend by unit and period
    (``allocation``) or CNY for the year by channel (``split``), exactly one of them."""

    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    allocation: Allocation | None = Field(
        default=None,
        description="Spend by unit and period {unit: {period: CNY}} (KOL tiers as kol.mid).",
        examples=[{"live_traffic": {"Q1": 8_000_000, "Q2": 12_000_000}}],
    )
    split: Split | None = Field(
        default=None,
        description="Instead of allocation: CNY for the year by channel id {channel: CNY}, "
        "spread over each channel's units and periods as `spread` says.",
        examples=[{"live_traffic": 30_000_000, "kol": 20_000_000}],
    )
    spread: Spread = Field(
        default="optimal",
        description="How a split is spread within each channel: `optimal`, in the best "
        "plan's proportions (evenly where it spends nothing on the channel, and the verdict "
        "says so; the best plan is solved even with compare_to_optimum false), or `even`.",
    )
    optimum_plan_id: Ident | None = Field(
        default=None, description="A stored plan of the same version to measure the gap to."
    )
    compare_to_optimum: bool = Field(
        default=True, description="Solve the optimum when no optimum_plan_id is given."
    )
    changes: Changes

    def needs_optimum(self) -> bool:
        """Whether evaluating this needs the best plan solved (no stored one was named)."""
        wanted = self.compare_to_optimum or (self.split is not None and self.spread == "optimal")
        return self.optimum_plan_id is None and wanted


class ScenarioRef(Body):
    """A scenario version to compare: its newest stored plan is used."""

    scenario_id: Ident
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


class CompareRequest(Body):
    """Two to ten plans (by id) and/or scenarios (their newest plans), the first is the baseline."""

    plan_ids: list[Ident] = Field(default_factory=list, max_length=10)
    scenarios: list[ScenarioRef] = Field(default_factory=list, max_length=10)
    labels: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        default=None,
        max_length=10,
        description="A name for each plan, in order (plan_ids, then scenarios), e.g. what a "
        "what-if changed; default: the scenario's name and version. Made unique with a number.",
    )


class ValueRange(Body):
    """``count`` evenly spaced values from ``start`` to ``stop`` (both included)."""

    start: Finite
    stop: Finite
    count: int = Field(ge=1, le=MAX_COUNT)


class VarySpec(Body):
    """One scenario field and the values it takes: a list, or an evenly spaced range."""

    path: FieldPath = Field(description=PATH_HELP, examples=["budget.total_cny"])
    op: Op = Field(
        default="set",
        description="set: the values are absolute; scale: multipliers of the current value "
        "(e.g. [0.8, 1, 1.2]); shift: amounts added to it.",
    )
    values: list[VaryValue] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_COUNT,
        description="The values in order: numbers, true/false, or text (e.g. an objective kind).",
    )
    range: ValueRange | None = Field(default=None, description="Instead of values: a range.")

    @model_validator(mode="after")
    def _one_source(self) -> VarySpec:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values or range (exactly one of them)")
        return self


class SweepRequest(SolveOptions):
    """Plan a stored scenario version at every combination of field values (``grid``) or
    moving one field at a time around the version as stored (``tornado``)."""

    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    vary: list[VarySpec] = Field(min_length=1, max_length=10)
    mode: Literal["grid", "tornado"] = "grid"
    metric: Metric | None = Field(
        default=None,
        description="What the tornado ranks fields by (default objective_value); tornado only.",
    )
    changes: Changes


class FrontierRequest(SolveOptions):
    """The best plan at ``points`` total budgets from ``from_cny`` to ``to_cny``."""

    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    from_cny: Finite | None = Field(
        default=None,
        ge=0,
        description="Lowest total budget (default: half the scenario's, never below its fixed "
        "costs and contingency plus 5% of the budget).",
    )
    to_cny: Finite | None = Field(
        default=None, ge=0, description="Highest total budget (default: twice the scenario's)."
    )
    points: int = Field(default=16, ge=2, le=200)
    objective: Literal["max_gmv", "max_profit", "max_new_customers"] = "max_gmv"
    changes: Changes


class KeyCreate(Body):
    """A new API key in the caller's workspace."""

    role: Role
    name: str = Field(default="", max_length=100)


# --- responses -----------------------------------------------------------------------------


class VersionOut(BaseModel):
    """One immutable scenario version."""

    id: str
    version: int
    fingerprint: str
    created_at: datetime
    scenario: dict[str, Any] | None = None


class ScenarioOut(BaseModel):
    """A scenario with its latest version (and that version's document on single reads)."""

    id: str
    name: str
    tags: list[str]
    archived: bool
    latest_version: int
    created_at: datetime
    updated_at: datetime
    latest: VersionOut | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list: items, position and the total count."""

    items: list[T]
    page: int
    per_page: int
    total: int


class PlanOut(BaseModel):
    """A stored plan or evaluation: where it came from, its headline and the full result."""

    id: str
    kind: Literal["plan", "evaluation"]
    scenario_id: str | None
    scenario_version: int | None
    scenario_name: str
    status: str
    feasible: bool
    objective_value: float | None
    created_at: datetime
    links: dict[str, str]
    changes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The what-if changes applied to the scenario version before solving; the "
        "plan's scenario (and fingerprint) is the changed one.",
    )
    verdict: str | None = Field(
        default=None,
        description="Evaluations: one line on the split's gap to the best plan and every rule "
        "it breaks; null on plans.",
    )
    result: dict[str, Any] | None = None


class CurveOut(BaseModel):
    """One channel's GMV against its annual spend (spread as the plan spreads it), and the
    plan's own point on the curve."""

    channel: str
    name: str
    spread: Literal["plan", "even"] = Field(
        description="plan: in the plan's proportions over units and periods; even: the plan "
        "spends nothing on this channel, so evenly."
    )
    spend_cny: list[float]
    gmv_cny: list[float]
    chosen_spend_cny: float
    chosen_gmv_cny: float


class CurvesOut(BaseModel):
    """Each channel's response curve around a stored plan."""

    plan_id: str
    curves: list[CurveOut]


class JobOut(BaseModel):
    """A queued or running solve and, once done, the link to its plan (plan and evaluation
    jobs) or to its result (sweep, tornado and frontier jobs)."""

    id: str
    kind: JobKind
    status: JobStatus
    progress: float
    message: str
    error: str | None
    attempts: int
    plan_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str]


class KeyOut(BaseModel):
    """An API key's metadata (never the key, except once in ``key`` when created)."""

    id: str
    workspace: str
    role: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = None

"""Request and response bodies of the HTTP API (the scenario itself is optimizer's schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from optimizer.scenario import Scenario

Tag = Annotated[str, StringConstraints(pattern=r"^[\w.:-]{1,50}$")]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}_[0-9a-f]{1,40}$")]
T = TypeVar("T")
SolverName = Literal["highs", "cbc", "highs-direct", "lp", "nlp", "auto"]


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

    solver: SolverName | None = None
    tolerance: float | None = Field(default=None, ge=1e-9, le=0.1)
    time_limit_s: float | None = Field(default=None, gt=0, le=3600)


class PlanRequest(SolveOptions):
    """Plan a stored scenario: its latest version unless ``version`` names one."""

    version: int | None = Field(default=None, ge=1)


class AdHocPlanRequest(SolveOptions):
    """Plan an inline scenario without storing the scenario itself (the plan keeps a copy)."""

    scenario: Scenario


Allocation = dict[
    Annotated[str, StringConstraints(max_length=200)],
    dict[Annotated[str, StringConstraints(max_length=64)], Annotated[float, Field(ge=0)]],
]


class EvaluationRequest(SolveOptions):
    """Score a hand-made split {unit: {period: spend}} and its gap to the optimum."""

    version: int | None = Field(default=None, ge=1)
    allocation: Allocation
    optimum_plan_id: Ident | None = Field(
        default=None, description="A stored plan of the same version to measure the gap to."
    )
    compare_to_optimum: bool = Field(
        default=True, description="Solve the optimum when no optimum_plan_id is given."
    )


class ScenarioRef(Body):
    """A scenario version to compare: its newest stored plan is used."""

    scenario_id: Ident
    version: int | None = Field(default=None, ge=1)


class CompareRequest(Body):
    """Two to ten plans (by id) and/or scenarios (their newest plans), the first is the baseline."""

    plan_ids: list[Ident] = Field(default_factory=list, max_length=10)
    scenarios: list[ScenarioRef] = Field(default_factory=list, max_length=10)


class KeyCreate(Body):
    """A new API key in the caller's workspace."""

    role: Literal["viewer", "planner", "admin"]
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
    result: dict[str, Any] | None = None


class JobOut(BaseModel):
    """A queued or running solve and, once done, the link to its plan."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
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

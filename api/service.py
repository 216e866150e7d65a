"""What the routes and the job worker do: store scenarios, solve, score, compare, scoped by
workspace. The engine is reached only through ``optimizer.planner`` (never PuLP or scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.db.engine import transaction
from api.db.models import (
    Job,
    PlanRecord,
    ScenarioRecord,
    ScenarioTag,
    ScenarioVersion,
    new_id,
    utcnow,
)
from api.problems import Problem, invalid_input, limit_exceeded, not_found
from api.schemas import SolveOptions
from api.settings import Settings
from optimizer.analysis.compare import side_by_side
from optimizer.errors import ScenarioError, SolverFailedError, SolverUnavailableError
from optimizer.planner import evaluate, score
from optimizer.planner import plan as solve
from optimizer.results.plan import Plan, fingerprint
from optimizer.schema.scenario import KolChannel, Scenario

Progress = Callable[[int, float | None], None]
WHATIF_KINDS = ("sweep", "tornado", "frontier")  # jobs whose result is kept on the job row


# --- limits --------------------------------------------------------------------------------


def cells(scenario: Scenario) -> int:
    """Unit-periods of the scenario (a KOL channel has one unit per tier): the problem size."""
    units = sum(len(c.tiers) if isinstance(c, KolChannel) else 1 for c in scenario.channels)
    return units * len(scenario.periods)


def check_limits(scenario: Scenario, options: SolveOptions | None, settings: Settings) -> None:
    """422 naming the limit when the scenario is larger or slower than this service allows."""
    where = "body.scenario"
    if len(scenario.channels) > settings.max_channels:
        raise limit_exceeded(
            422, "max_channels", len(scenario.channels), settings.max_channels, f"{where}.channels"
        )
    if len(scenario.periods) > settings.max_periods:
        raise limit_exceeded(
            422, "max_periods", len(scenario.periods), settings.max_periods, f"{where}.periods"
        )
    seconds, path = scenario.settings.time_limit_s, f"{where}.settings.time_limit_s"
    if options is not None and options.time_limit_s is not None:
        seconds, path = options.time_limit_s, "body.time_limit_s"
    if seconds > settings.max_solve_seconds:
        raise limit_exceeded(422, "max_solve_seconds", seconds, settings.max_solve_seconds, path)


# --- scenarios ------------------------------------------------------------------------------


def create_scenario(
    session: Session, who: Principal, scenario: Scenario, tags: list[str]
) -> ScenarioRecord:
    """A new scenario with version 1."""
    now = utcnow()
    record = ScenarioRecord(
        id=new_id("scn"),
        workspace=who.workspace,
        name=scenario.name,
        latest_version=1,
        archived=False,
        created_at=now,
        updated_at=now,
        tags=[ScenarioTag(tag=t) for t in sorted(set(tags))],
    )
    session.add(record)
    session.add(_version(record, 1, scenario, who))
    return record


def _version(record: ScenarioRecord, number: int, scenario: Scenario, who: Principal) -> Any:
    return ScenarioVersion(
        id=new_id("ver"),
        scenario_id=record.id,
        version=number,
        body=scenario.model_dump(mode="json"),
        fingerprint=fingerprint(scenario),
        created_at=utcnow(),
        created_by=who.key_id,
    )


def add_version(
    session: Session, who: Principal, scenario_id: str, scenario: Scenario, tags: list[str] | None
) -> ScenarioRecord:
    """Append an immutable version; earlier versions and their plans stay as they were."""
    record = get_scenario(session, who, scenario_id, for_update=True)
    if record.archived:
        raise Problem(
            409, "archived", f"scenario {scenario_id!r} is archived: it takes no versions"
        )
    record.latest_version += 1
    record.name = scenario.name
    record.updated_at = utcnow()
    if tags is not None:
        record.tags = [ScenarioTag(tag=t) for t in sorted(set(tags))]
    session.add(_version(record, record.latest_version, scenario, who))
    return record


def archive_scenario(session: Session, who: Principal, scenario_id: str) -> ScenarioRecord:
    """Hide a scenario from default listings and refuse new versions; plans are kept."""
    record = get_scenario(session, who, scenario_id, for_update=True)
    record.archived = True
    record.updated_at = utcnow()
    return record


def get_scenario(
    session: Session, who: Principal, scenario_id: str, *, for_update: bool = False
) -> ScenarioRecord:
    """The scenario if it is in the caller's workspace, else 404."""
    query = select(ScenarioRecord).where(
        ScenarioRecord.id == scenario_id, ScenarioRecord.workspace == who.workspace
    )
    record = session.scalar(query.with_for_update() if for_update else query)
    if record is None:
        raise not_found("scenario", scenario_id)
    return record


def get_version(session: Session, record: ScenarioRecord, number: int | None) -> ScenarioVersion:
    """A version of the scenario (the latest when ``number`` is None), else 404."""
    wanted = record.latest_version if number is None else number
    version = session.scalar(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == record.id, ScenarioVersion.version == wanted
        )
    )
    if version is None:
        raise Problem(
            404,
            "not-found",
            f"scenario {record.id!r} has no version {wanted} (latest is {record.latest_version})",
        )
    return version


def load_version(
    factory: sessionmaker[Session], who: Principal, scenario_id: str, number: int | None
) -> tuple[ScenarioVersion, Scenario]:
    """A version of the caller's scenario and its validated document (404 when missing)."""
    with factory() as session:
        version = get_version(session, get_scenario(session, who, scenario_id), number)
    return version, Scenario.model_validate(version.body)


def list_versions(session: Session, record: ScenarioRecord) -> list[ScenarioVersion]:
    """Every version of a scenario, oldest first."""
    return list(
        session.scalars(
            select(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == record.id)
            .order_by(ScenarioVersion.version)
        )
    )


def list_scenarios(
    session: Session,
    who: Principal,
    *,
    name: str | None,
    tag: str | None,
    archived: bool,
    page: int,
    per_page: int,
) -> tuple[list[ScenarioRecord], int]:
    """One page of the workspace's scenarios, newest first, and the total that match."""
    query = select(ScenarioRecord).where(
        ScenarioRecord.workspace == who.workspace, ScenarioRecord.archived == archived
    )
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(ScenarioRecord.name.ilike(f"%{escaped}%", escape="\\"))
    if tag:
        query = query.where(
            ScenarioRecord.id.in_(select(ScenarioTag.scenario_id).where(ScenarioTag.tag == tag))
        )
    return _page(session, query, ScenarioRecord.created_at, ScenarioRecord.id, page, per_page)


def _page(
    session: Session, query: Select[Any], newest: Any, ident: Any, page: int, per_page: int
) -> tuple[list[Any], int]:
    """One page of ``query``, newest first (ties by id), and how many rows match in all."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(newest.desc(), ident).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total


# --- plans and evaluations -----------------------------------------------------------------


@dataclass
class Work:
    """Everything a solve needs, JSON-ready so a job can carry it through a restart."""

    kind: str  # plan | evaluation | sweep | tornado | frontier
    workspace: str
    created_by: str
    scenario: dict[str, Any]
    scenario_id: str | None = None
    version_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    allocation: dict[str, dict[str, float]] | None = None
    optimum_plan_id: str | None = None
    compare_to_optimum: bool = True
    whatif: dict[str, Any] | None = None  # sweep/tornado: vary (and metric); frontier: budgets

    def to_json(self) -> dict[str, Any]:
        """The job's stored request."""
        return asdict(self)


def prepare(
    kind: str,
    who: Principal,
    scenario: Scenario,
    options: SolveOptions,
    settings: Settings,
    version: ScenarioVersion | None = None,
    allocation: dict[str, dict[str, float]] | None = None,
    optimum_plan_id: str | None = None,
    compare_to_optimum: bool = True,
) -> Work:
    """Check limits (and, for an evaluation, the split's names) before any solve or queueing."""
    check_limits(scenario, options, settings)
    if allocation is not None:
        try:
            score(scenario, allocation, source="body.allocation")
        except ScenarioError as exc:
            raise invalid_input(exc, "body.allocation") from None
    return Work(
        kind=kind,
        workspace=who.workspace,
        created_by=who.key_id,
        scenario=scenario.model_dump(mode="json"),
        scenario_id=version.scenario_id if version else None,
        version_id=version.id if version else None,
        options=options.model_dump(include={"solver", "tolerance", "time_limit_s"}),
        allocation=allocation,
        optimum_plan_id=optimum_plan_id,
        compare_to_optimum=compare_to_optimum,
    )


def execute(
    factory: sessionmaker[Session], work: Work, progress: Progress | None = None
) -> PlanRecord:
    """Solve or score the work and store the result; the one path for requests and jobs."""
    scenario = Scenario.model_validate(work.scenario)
    options = work.options
    kwargs = {
        "solver": options.get("solver"),
        "tolerance": options.get("tolerance"),
        "time_limit_s": options.get("time_limit_s"),
    }
    try:
        if work.kind == "evaluation":
            optimum = None
            if work.optimum_plan_id is not None:
                optimum = _optimum(factory, work)
            elif work.compare_to_optimum:
                optimum = solve(scenario, progress=progress, **kwargs)
            assert work.allocation is not None
            result = evaluate(scenario, work.allocation, source="body.allocation", optimum=optimum)
        else:
            result = solve(scenario, progress=progress, **kwargs)
    except ScenarioError as exc:  # validation refuses such numbers first: a last guard
        prefix = exc.source if exc.source.startswith("body.") else "body.scenario"
        raise invalid_input(exc, prefix) from None
    except SolverUnavailableError as exc:
        raise Problem(422, "solver-unavailable", str(exc)) from None
    except SolverFailedError as exc:
        raise Problem(500, "solver-failed", f"the solver failed: {exc}") from None
    with transaction(factory) as session:
        record = PlanRecord(
            id=new_id("pln"),
            workspace=work.workspace,
            kind=work.kind,
            scenario_id=work.scenario_id,
            version_id=work.version_id,
            scenario_name=scenario.name,
            scenario_body=work.scenario,
            status=result.status,
            feasible=result.is_feasible,
            objective_value=_finite(result.objective_value),
            result=result.to_dict(),
            created_at=utcnow(),
            created_by=work.created_by,
        )
        session.add(record)
    return record


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _optimum(factory: sessionmaker[Session], work: Work) -> Plan:
    with factory() as session:
        who = Principal(work.workspace, "viewer", work.created_by)
        record = get_plan(session, who, work.optimum_plan_id or "")
        if record.kind != "plan" or record.version_id != work.version_id:
            raise Problem(
                422,
                "validation-error",
                f"plan {record.id!r} is not a plan of this scenario version",
                errors=[{"path": "body.optimum_plan_id", "message": "not a plan of this version"}],
            )
        return Plan.from_dict(record.result)


def get_plan(session: Session, who: Principal, plan_id: str) -> PlanRecord:
    """The plan if it is in the caller's workspace, else 404."""
    record = session.scalar(
        select(PlanRecord).where(PlanRecord.id == plan_id, PlanRecord.workspace == who.workspace)
    )
    if record is None:
        raise not_found("plan", plan_id)
    return record


def list_plans(
    session: Session, who: Principal, *, scenario_id: str | None, page: int, per_page: int
) -> tuple[list[PlanRecord], int]:
    """One page of the workspace's plans and evaluations, newest first."""
    query = select(PlanRecord).where(PlanRecord.workspace == who.workspace)
    if scenario_id:
        query = query.where(PlanRecord.scenario_id == scenario_id)
    return _page(session, query, PlanRecord.created_at, PlanRecord.id, page, per_page)


def version_number(session: Session, record: PlanRecord) -> int | None:
    """The scenario version a plan solved (None for an ad-hoc plan)."""
    if record.version_id is None:
        return None
    return session.scalar(
        select(ScenarioVersion.version).where(ScenarioVersion.id == record.version_id)
    )


# --- comparison ----------------------------------------------------------------------------


def compare(
    session: Session, who: Principal, plan_ids: list[str], refs: list[tuple[str, int | None]]
) -> dict[str, Any]:
    """Side by side: the named plans, then each scenario version's newest plan."""
    plans: list[Plan] = []
    labels: list[str] = []
    for plan_id in plan_ids:
        record = get_plan(session, who, plan_id)
        plans.append(Plan.from_dict(record.result))
        labels.append(record.id)
    for i, (scenario_id, number) in enumerate(refs):
        version = get_version(session, get_scenario(session, who, scenario_id), number)
        record = session.scalar(
            select(PlanRecord)
            .where(PlanRecord.version_id == version.id, PlanRecord.kind == "plan")
            .order_by(PlanRecord.created_at.desc())
            .limit(1)
        )
        if record is None:
            raise Problem(
                409,
                "no-plan",
                f"scenario {scenario_id!r} version {version.version} has no plan yet: "
                f"POST /v1/scenarios/{scenario_id}/plans first",
                errors=[{"path": f"body.scenarios[{i}]", "message": "no stored plan"}],
            )
        plans.append(Plan.from_dict(record.result))
        labels.append(f"{scenario_id}@v{version.version}")
    if len(plans) < 2:
        raise Problem(
            422,
            "validation-error",
            "compare needs at least two plans or scenarios",
            errors=[{"path": "body", "message": f"got {len(plans)}, need 2 to 10"}],
        )
    if len(plans) > 10:
        raise limit_exceeded(422, "max_compared", len(plans), 10, "body")
    return side_by_side(plans, labels)


# --- jobs ----------------------------------------------------------------------------------


def enqueue(session: Session, work: Work, settings: Settings) -> Job:
    """Queue the work; a worker (here or in another process) picks it up."""
    job = Job(
        id=new_id("job"),
        workspace=work.workspace,
        kind=work.kind,
        status="queued",
        request=work.to_json(),
        progress=0.0,
        message="queued",
        attempts=0,
        max_attempts=settings.job_max_attempts,
        cancel_requested=False,
        created_at=utcnow(),
        created_by=work.created_by,
    )
    session.add(job)
    return job


def get_job(session: Session, who: Principal, job_id: str, *, for_update: bool = False) -> Job:
    """The job if it is in the caller's workspace, else 404."""
    query = select(Job).where(Job.id == job_id, Job.workspace == who.workspace)
    job = session.scalar(query.with_for_update() if for_update else query)
    if job is None:
        raise not_found("job", job_id)
    return job


def list_jobs(
    session: Session,
    who: Principal,
    *,
    status: str | None,
    page: int,
    per_page: int,
    kind: str | None = None,
) -> tuple[list[Job], int]:
    """One page of the workspace's jobs, newest first, by status and kind when given."""
    query = select(Job).where(Job.workspace == who.workspace)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    return _page(session, query, Job.created_at, Job.id, page, per_page)


def cancel_job(session: Session, who: Principal, job_id: str) -> Job:
    """Cancel a queued job at once; ask a running one to stop after its current round (or,
    for a sweep, tornado or frontier, its current point)."""
    job = get_job(session, who, job_id, for_update=True)
    if job.status == "queued":
        job.status, job.finished_at, job.message = "cancelled", utcnow(), "cancelled before start"
    elif job.status == "running":
        job.cancel_requested = True
        step = "point" if job.kind in WHATIF_KINDS else "solver round"
        job.message = f"cancel requested; stops after the current {step}"
    else:
        raise Problem(409, "job-finished", f"job {job_id!r} has already {job.status}")
    return job

"""Plans and evaluations: solve or score a scenario and store the result, scoped by workspace.

One path for requests and jobs: a route prepares the ``Work`` (every check a caller can fix
is done then), and runs it at once or queues it; the worker runs a queued one the same way.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.db.engine import transaction
from api.db.models import PlanRecord, ScenarioVersion, new_id, utcnow
from api.problems import HttpProblem, invalid_input, not_found
from api.schemas import SolveOptions
from api.services.checks import check_scenario
from api.services.paging import one_page
from api.services.work import Work
from api.settings import ServiceSettings
from optimizer.core.split import check_split
from optimizer.errors import ScenarioError, SolverFailedError, SolverUnavailableError
from optimizer.planner import NeedsGeneralMethod, Progress, evaluate, evaluate_split, score
from optimizer.planner import plan as solve
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario


def prepare(
    kind: str,
    who: Principal,
    scenario: Scenario,
    options: SolveOptions,
    settings: ServiceSettings,
    version: ScenarioVersion | None = None,
    allocation: dict[str, dict[str, float]] | None = None,
    optimum_plan_id: str | None = None,
    compare_to_optimum: bool = True,
    changes: list[dict[str, Any]] | None = None,
    split: dict[str, float] | None = None,
    spread: str = "optimal",
) -> Work:
    """Check numbers and limits (and, for an evaluation, the split's names) before any solve
    or queueing; ``changes`` are the what-if changes ``scenario`` was made with, recorded."""
    check_scenario(scenario, options, settings)
    if kind == "evaluation":
        _check_split(scenario, allocation, split)
    return Work(
        kind=kind,
        workspace=who.workspace,
        created_by=who.key_id,
        scenario=scenario.model_dump(mode="json"),
        scenario_id=version.scenario_id if version else None,
        version_id=version.id if version else None,
        options=options.model_dump(include={"solver", "tolerance", "time_limit_s"}),
        allocation=allocation,
        split=split,
        spread=spread,
        optimum_plan_id=optimum_plan_id,
        compare_to_optimum=compare_to_optimum,
        changes=changes,
        validated=scenario,
    )


def _check_split(
    scenario: Scenario,
    allocation: dict[str, dict[str, float]] | None,
    split: dict[str, float] | None,
) -> None:
    """422 unless exactly one of allocation and split is given, naming its bad entries."""
    if (allocation is None) == (split is None):
        path = "body.split" if split is not None else "body.allocation"
        got = "both" if split is not None else "neither"
        message = f"give allocation {{unit: {{period: CNY}}}} or split {{channel: CNY}}, got {got}"
        errors = [{"path": path, "message": message}]
        raise HttpProblem(422, "validation-error", f"{path}: {message}", errors=errors)
    try:
        if allocation is not None:
            score(scenario, allocation, source="body.allocation")
        else:
            assert split is not None
            check_split(scenario.channel_ids(), split, "body.split")
    except ScenarioError as exc:
        raise invalid_input(exc, exc.source) from None


def execute(
    factory: sessionmaker[Session], work: Work, progress: Progress | None = None
) -> PlanRecord:
    """Solve or score the work and store the result; the one path for requests and jobs."""
    record = _execute(factory, work, progress, dual_only=False)
    assert record is not None
    return record


def execute_quickly(factory: sessionmaker[Session], work: Work) -> PlanRecord | None:
    """``execute`` a plan the dual method certifies (milliseconds, however the solve goes);
    None, having stored nothing, for one that needs a general method: run it with ``execute``
    away from the event loop. The plan stored is the one ``execute`` would store."""
    return _execute(factory, work, None, dual_only=True)


def _execute(
    factory: sessionmaker[Session], work: Work, progress: Progress | None, *, dual_only: bool
) -> PlanRecord | None:
    """``execute``; with ``dual_only``, None for a plan that needs a general method."""
    scenario = work.validated or Scenario.model_validate(work.scenario)
    try:
        result = _result(factory, work, scenario, progress, dual_only)
    except NeedsGeneralMethod:
        return None
    except ScenarioError as exc:  # checked before it was run or queued: a last guard
        prefix = exc.source if exc.source.startswith("body.") else "body.scenario"
        raise invalid_input(exc, prefix) from None
    except SolverUnavailableError as exc:
        raise HttpProblem(422, "solver-unavailable", str(exc)) from None
    except SolverFailedError as exc:
        raise HttpProblem(500, "solver-failed", f"the solver failed: {exc}") from None
    values = {
        "id": new_id("pln"),
        "workspace": work.workspace,
        "kind": work.kind,
        "scenario_id": work.scenario_id,
        "version_id": work.version_id,
        "scenario_name": scenario.name,
        "scenario_body": work.scenario,
        "changes": work.changes,
        "status": result.status,
        "feasible": result.is_feasible,
        "objective_value": _finite(result.objective_value),
        "result": result.to_dict(),
        "created_at": utcnow(),
        "created_by": work.created_by,
    }
    with transaction(factory) as session:
        # one row, written as such: the ORM's unit of work took a third more time for it
        session.execute(insert(PlanRecord.__table__), [values])
    return PlanRecord(**values)


def _result(
    factory: sessionmaker[Session],
    work: Work,
    scenario: Scenario,
    progress: Progress | None,
    dual_only: bool = False,
) -> Plan:
    """The plan, or the evaluation of the work's split (with its gap to the optimum); with
    ``dual_only``, NeedsGeneralMethod for what needs more than the dual method."""
    options = work.options
    kwargs = {
        "solver": options.get("solver"),
        "tolerance": options.get("tolerance"),
        "time_limit_s": options.get("time_limit_s"),
    }
    if work.kind != "evaluation":
        return solve(scenario, progress=progress, dual_only=dual_only, **kwargs)
    if dual_only:
        raise NeedsGeneralMethod("an evaluation is run with the general path")
    optimum = None
    spreads_optimally = work.split is not None and work.spread == "optimal"
    if work.optimum_plan_id is not None:
        optimum = _optimum(factory, work)
    elif work.compare_to_optimum or spreads_optimally:
        optimum = solve(scenario, progress=progress, **kwargs)
    if work.split is not None:
        spread = "even" if work.spread == "even" else "optimal"
        return evaluate_split(
            scenario, work.split, spread=spread, optimum=optimum, source="body.split"
        )
    assert work.allocation is not None
    return evaluate(scenario, work.allocation, source="body.allocation", optimum=optimum)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _optimum(factory: sessionmaker[Session], work: Work) -> Plan:
    with factory() as session:
        who = Principal(work.workspace, "viewer", work.created_by)
        record = get_plan(session, who, work.optimum_plan_id or "")
        same = record.version_id == work.version_id and record.changes == work.changes
        if record.kind != "plan" or not same:
            raise HttpProblem(
                422,
                "validation-error",
                f"plan {record.id!r} is not a plan of this scenario version with these changes",
                errors=[
                    {
                        "path": "body.optimum_plan_id",
                        "message": "not a plan of this version with the same changes",
                    }
                ],
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
    return one_page(session, query, PlanRecord.created_at, PlanRecord.id, page, per_page)


def version_number(session: Session, record: PlanRecord) -> int | None:
    """The scenario version a plan solved (None for an ad-hoc plan)."""
    if record.version_id is None:
        return None
    return session.scalar(
        select(ScenarioVersion.version).where(ScenarioVersion.id == record.version_id)
    )

"""Plans: solve a stored scenario version or an inline scenario, list, read and export them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Async, PageNo, PerPage, Planner, Shared, Viewer
from api.routes.bodies import XLSX, attachment, plan_out
from api.routes.dispatch import answer, too_large
from api.schemas import (
    AdHocPlanRequest,
    CurveOut,
    CurvesOut,
    JobOut,
    Page,
    PlanOut,
    PlanRequest,
)
from api.services import plans
from api.services.changes import changed_scenario, recorded
from api.services.scenarios import load_version
from api.services.work import Work
from optimizer.outputs.excel import to_xlsx
from optimizer.outputs.text import to_csv
from optimizer.results.curves import channel_curves
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario

router = APIRouter()
ACCEPTED = {202: {"model": JobOut, "description": "Queued: poll the job (Location header)."}}


@router.post(
    "/v1/scenarios/{scenario_id}/plans",
    status_code=201,
    response_model=PlanOut,
    tags=["plans"],
    responses=ACCEPTED,
)
async def plan_scenario(
    scenario_id: str,
    body: PlanRequest,
    who: Planner,
    shared: Shared,
    run_async: Async = False,
) -> Response:
    """Solve a stored scenario version and store the plan (202 with a job when large).

    `changes` (`[{path, op, value}]`, op `set`, `scale` or `shift`) are applied to a copy of
    the version first: the plan keeps the changed scenario and the changes; the version is
    not modified. A change that cannot apply is a 422 naming `body.changes[i].path` or
    `body.changes[i].value`.
    """
    version, stored = await run_in_threadpool(
        load_version, shared.factory, who, scenario_id, body.version
    )
    scenario = changed_scenario(stored, body.changes)
    changes = recorded(body.changes)

    def prepare() -> Work:
        return plans.prepare("plan", who, scenario, body, shared.settings, version, changes=changes)

    queue = run_async or too_large(shared, scenario)
    return await answer(shared, prepare, scenario, queue)


@router.post(
    "/v1/plans", status_code=201, response_model=PlanOut, tags=["plans"], responses=ACCEPTED
)
async def plan_inline(
    body: AdHocPlanRequest,
    who: Planner,
    shared: Shared,
    run_async: Async = False,
) -> Response:
    """Solve an inline scenario, after its `changes` if any; the plan keeps a copy of the
    scenario it solved (and the changes) for audit."""
    scenario = changed_scenario(body.scenario, body.changes)
    changes = recorded(body.changes)

    def prepare() -> Work:
        return plans.prepare("plan", who, scenario, body, shared.settings, changes=changes)

    queue = run_async or too_large(shared, scenario)
    return await answer(shared, prepare, scenario, queue)


@router.get("/v1/plans", tags=["plans"])
def list_plans(
    who: Viewer,
    shared: Shared,
    scenario_id: Annotated[str | None, Query(max_length=40)] = None,
    page: PageNo = 1,
    per_page: PerPage = 20,
) -> Page[PlanOut]:
    """The workspace's plans and evaluations, newest first (results omitted)."""
    with shared.factory() as session:
        rows, total = plans.list_plans(
            session, who, scenario_id=scenario_id, page=page, per_page=per_page
        )
        items = [plan_out(r, plans.version_number(session, r), with_result=False) for r in rows]
    return Page[PlanOut](items=items, page=page, per_page=per_page, total=total)


@router.get("/v1/plans/{plan_id}", tags=["plans"])
def get_plan(plan_id: str, who: Viewer, shared: Shared) -> PlanOut:
    """A plan with its full result: allocation, metrics, rules and solver report."""
    with shared.factory() as session:
        record = plans.get_plan(session, who, plan_id)
        return plan_out(record, plans.version_number(session, record), with_result=True)


@router.get(
    "/v1/plans/{plan_id}/export",
    tags=["plans"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export_plan(
    plan_id: str,
    who: Viewer,
    shared: Shared,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
) -> Response:
    """The plan as a tidy CSV (UTF-8 with BOM) or an XLSX workbook."""
    with shared.factory() as session:
        record = plans.get_plan(session, who, plan_id)
    plan = Plan.from_dict(record.result)
    disposition = attachment(f"{record.id}.{format}")
    if format == "xlsx":
        return Response(to_xlsx(plan), media_type=XLSX, headers=disposition)
    return Response(to_csv(plan), media_type="text/csv; charset=utf-8", headers=disposition)


@router.get("/v1/plans/{plan_id}/curves", tags=["plans"])
def plan_curves(
    plan_id: str,
    who: Viewer,
    shared: Shared,
    points: Annotated[int, Query(ge=2, le=201, description="Points per curve.")] = 41,
) -> CurvesOut:
    """Each channel's GMV from zero to twice its spend in the plan (spread over its units and
    periods as the plan spreads it), with the plan's point: the data of the response charts."""
    with shared.factory() as session:
        record = plans.get_plan(session, who, plan_id)
        body, spend = record.scenario_body, record.result.get("spend") or {}
    curves = channel_curves(Scenario.model_validate(body), spend, points)
    return CurvesOut(plan_id=plan_id, curves=[CurveOut(**vars(c)) for c in curves])

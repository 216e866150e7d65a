"""Jobs: queued plans, evaluations and what-if runs; their status, result and cancellation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from api.db.engine import transaction
from api.deps import PageNo, PerPage, Planner, Shared, TableFormat, Viewer
from api.routes.bodies import XLSX, job_out, table_download
from api.schemas import JobKind, JobOut, JobStatus, Page
from api.services import jobs, whatif

router = APIRouter()
RESULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The result: JSON (`to_json_data` of the sweep, tornado or frontier), "
        "or its rows as CSV (UTF-8 with BOM) or an XLSX workbook.",
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
    },
    404: {"description": "No such job in this workspace."},
    409: {
        "description": "The job has no result yet (queued, running), never will (failed, "
        "cancelled), or is a plan or evaluation job (its result is the plan: `links.plan`)."
    },
}


@router.get("/v1/jobs", tags=["jobs"], summary="List jobs")
def list_jobs(
    who: Viewer,
    shared: Shared,
    status: Annotated[JobStatus | None, Query()] = None,
    kind: Annotated[JobKind | None, Query(description="Only jobs of this kind.")] = None,
    page: PageNo = 1,
    per_page: PerPage = 20,
) -> Page[JobOut]:
    """The workspace's jobs, newest first, filtered by status and kind."""
    with shared.factory() as session:
        rows, total = jobs.list_jobs(
            session, who, status=status, kind=kind, page=page, per_page=per_page
        )
        items = [job_out(j) for j in rows]
    return Page[JobOut](items=items, page=page, per_page=per_page, total=total)


@router.get("/v1/jobs/{job_id}", tags=["jobs"], summary="A job's status")
def get_job(job_id: str, who: Viewer, shared: Shared) -> JobOut:
    """Kind, status, progress (0 to 1; points done / total for a what-if job), message
    and, once succeeded, `links.plan` (plan, evaluation) or `links.result` (sweep,
    tornado, frontier)."""
    with shared.factory() as session:
        return job_out(jobs.get_job(session, who, job_id))


@router.get(
    "/v1/jobs/{job_id}/result",
    tags=["jobs", "what-if"],
    summary="A sweep, tornado or frontier job's result",
    response_class=Response,
    responses=RESULT_RESPONSES,
)
def job_result(
    job_id: str,
    who: Viewer,
    shared: Shared,
    format: TableFormat = "json",
) -> Response:
    """The points of a succeeded what-if job: JSON with every point's values, headline
    figures and spend by channel (a tornado adds each field's swing, a frontier the
    marginal ROAS and a `summary`); or the same rows as `budgetopt sweep` / `frontier`
    write, as CSV (UTF-8 with BOM) or XLSX (a frontier adds a summary sheet)."""
    with shared.factory() as session:
        job, data = jobs.whatif_result(session, who, job_id)
    if format == "json":
        return JSONResponse(data)
    return table_download(whatif.sheets(job.kind, data), format, f"{job.id}-{job.kind}")


@router.post(
    "/v1/jobs/{job_id}/cancel",
    tags=["jobs"],
    summary="Cancel a job",
    responses={409: {"description": "The job has already finished."}},
)
def cancel_job(job_id: str, who: Planner, shared: Shared) -> JobOut:
    """Cancel a queued job, or stop a running one after its current solver round (a
    sweep, tornado or frontier: after its current point)."""
    with transaction(shared.factory) as session:
        return job_out(jobs.cancel_job(session, who, job_id))

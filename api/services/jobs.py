"""Jobs: queued work in the database, listed, cancelled and read back by the caller."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db.models import Job, new_id, utcnow
from api.problems import HttpProblem, not_found
from api.services.paging import one_page
from api.services.work import WHATIF_KINDS, Work
from api.settings import ServiceSettings


def enqueue(session: Session, work: Work, settings: ServiceSettings) -> Job:
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
    return one_page(session, query, Job.created_at, Job.id, page, per_page)


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
        raise HttpProblem(409, "job-finished", f"job {job_id!r} has already {job.status}")
    return job


def whatif_result(session: Session, who: Principal, job_id: str) -> tuple[Job, dict[str, Any]]:
    """A succeeded what-if job and its stored result; 409 saying why there is none (a plan
    or evaluation job's result is its plan, an unfinished job has none yet)."""
    job = get_job(session, who, job_id)
    data = job.result  # deferred: read while the session is open
    if job.kind not in WHATIF_KINDS:
        where = f"/v1/plans/{job.plan_id}" if job.plan_id else None
        detail = f"job {job_id!r} is a {job.kind} job: its result is a stored plan, "
        if where:
            detail += f"at {where} (the job's links.plan)"
        else:
            detail += f"linked as links.plan when the job succeeds (it is {job.status})"
        links = {"plan": where} if where else {}
        raise HttpProblem(409, "not-a-whatif-job", detail, links=links, job_status=job.status)
    if job.status != "succeeded" or data is None:
        why = f": {job.error}" if job.error else ""
        raise HttpProblem(
            409,
            "job-not-finished" if job.status in ("queued", "running") else "job-has-no-result",
            f"job {job_id!r} is {job.status}{why}; only a succeeded job has a result",
            job_status=job.status,
        )
    return job, data

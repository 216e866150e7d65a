"""Run prepared work now (201 with the plan) or queue it (202 with the job): small problems
are solved inside the request, large ones (or ``?async=true``) go to the job worker."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

from api.db.engine import transaction
from api.deps import Resources
from api.routes.bodies import job_out, plan_out
from api.services import plans
from api.services.checks import cells
from api.services.jobs import enqueue
from api.services.work import Work
from optimizer.schema.scenario import Scenario


def solve_or_queue(shared: Resources, work: Work, queue: bool, response: Response) -> Any:
    """Solve now (201 with the plan and its Location) or queue (202 with the job)."""
    if queue:
        return queued(shared, work)
    record = plans.execute(shared.factory, work)
    with shared.factory() as session:
        number = plans.version_number(session, record)
    response.status_code = 201
    response.headers["Location"] = f"/v1/plans/{record.id}"
    return plan_out(record, number, with_result=True)


def queued(shared: Resources, work: Work) -> JSONResponse:
    """Queue the work: 202 with the job and its Location."""
    with transaction(shared.factory) as session:
        job = enqueue(session, work, shared.settings)
    body = job_out(job)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": body.links["self"]}
    )


def too_large(shared: Resources, scenario: Scenario) -> bool:
    """Too many unit-periods to solve inside a request."""
    return cells(scenario) > shared.settings.sync_max_cells

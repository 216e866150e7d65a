"""Run prepared work now (201 with the plan) or queue it (202 with the job): small problems
are solved inside the request (the smallest on the event loop, when the dual method certifies
them), large ones (or ``?async=true``) go to the job worker."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.db.engine import transaction
from api.db.models import PlanRecord
from api.deps import Resources
from api.routes.bodies import job_out, plan_out
from api.services import plans
from api.services.checks import cells
from api.services.jobs import enqueue
from api.services.work import Work
from optimizer.schema.scenario import Scenario


async def answer(
    shared: Resources,
    prepare: Callable[[], Work],
    scenario: Scenario,
    queue: bool,
) -> Response:
    """Prepare the work and solve it now (201 with the plan) or queue it (202 with the job).

    A small plan (at most ``quick_max_cells`` unit-periods) is tried on the event loop with
    the dual method alone, which answers in milliseconds: Python threads give a CPU-bound
    solve no parallelism, and handing it to one costs more than such a plan's whole solve.
    Anything else (a larger plan, a plan that needs an LP, MILP or nonlinear solve, a chosen
    LP backend) runs in a worker thread, so the loop keeps answering meanwhile.
    """
    if not queue and cells(scenario) <= shared.settings.quick_max_cells:
        work = prepare()
        record = plans.execute_quickly(shared.factory, work)
        if record is not None:
            return created(shared, record)
        return await run_in_threadpool(solve_or_queue, shared, work, False)
    return await run_in_threadpool(lambda: solve_or_queue(shared, prepare(), queue))


def solve_or_queue(shared: Resources, work: Work, queue: bool) -> Response:
    """Solve now (201 with the plan and its Location) or queue (202 with the job)."""
    if queue:
        return queued(shared, work)
    return created(shared, plans.execute(shared.factory, work))


def created(shared: Resources, record: PlanRecord) -> Response:
    """201 with the stored plan (a ``PlanOut``, made into JSON once, here: the route's
    response model would check and copy the whole plan again) and its Location."""
    number = None
    if record.version_id is not None:
        with shared.factory() as session:
            number = plans.version_number(session, record)
    body = plan_out(record, number, with_result=True).model_dump_json()
    headers = {"Location": f"/v1/plans/{record.id}"}
    return Response(body, status_code=201, media_type="application/json", headers=headers)


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

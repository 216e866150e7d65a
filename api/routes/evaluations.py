"""Evaluations: a hand-made split scored like a plan, with its gap to the optimum."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Async, Planner, Shared
from api.routes.dispatch import solve_or_queue, too_large
from api.routes.plans import ACCEPTED
from api.schemas import EvaluationRequest, PlanOut
from api.services import plans
from api.services.changes import changed_scenario, recorded
from api.services.scenarios import load_version

router = APIRouter()


@router.post(
    "/v1/scenarios/{scenario_id}/evaluations",
    status_code=201,
    response_model=PlanOut,
    tags=["plans"],
    responses=ACCEPTED,
)
def evaluate(
    scenario_id: str,
    body: EvaluationRequest,
    who: Planner,
    shared: Shared,
    run_async: Async = False,
) -> Response:
    """Score a hand-made split (`allocation` by unit and period, or `split` by channel) with a
    plan's metrics and rules, its gap to the optimum and a one-line `verdict`; `changes` apply
    to a copy of the version first, as for plans."""
    version, stored = load_version(shared.factory, who, scenario_id, body.version)
    scenario = changed_scenario(stored, body.changes)
    if body.optimum_plan_id is not None:
        with shared.factory() as session:
            plans.get_plan(session, who, body.optimum_plan_id)
    work = plans.prepare(
        "evaluation",
        who,
        scenario,
        body,
        shared.settings,
        version,
        allocation=body.allocation,
        split=body.split,
        spread=body.spread,
        optimum_plan_id=body.optimum_plan_id,
        compare_to_optimum=body.compare_to_optimum,
        changes=recorded(body.changes),
    )
    # Scoring alone is quick: only a solve for the optimum goes to a job.
    queue = body.needs_optimum() and (run_async or too_large(shared, scenario))
    return solve_or_queue(shared, work, queue)

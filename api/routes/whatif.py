"""What-if jobs: sweeps, tornados and budget frontiers of a stored scenario version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Planner, Shared
from api.routes.dispatch import queued
from api.schemas import FrontierRequest, JobOut, SweepRequest
from api.services.changes import changed_scenario
from api.services.frontiers import prepare_frontier
from api.services.scenarios import load_version
from api.services.sweeps import prepare_sweep

router = APIRouter()
WHATIF_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The key's role is below planner."},
    404: {"description": "No such scenario or version in this workspace."},
    422: {
        "description": "Invalid request, checked before queueing: `errors` name the body field "
        "(`body.vary[1].path`, `body.vary[0].values[2]`, `body.to_cny`) and what is wrong."
    },
}


@router.post(
    "/v1/scenarios/{scenario_id}/sweeps",
    status_code=202,
    tags=["what-if"],
    summary="Sweep or tornado over scenario fields (a job)",
    response_model=JobOut,
    responses=WHATIF_RESPONSES,
)
def sweep(scenario_id: str, body: SweepRequest, who: Planner, shared: Shared) -> JSONResponse:
    """Plan a stored scenario version at every combination of field values (`mode: grid`,
    first field varying slowest) or moving one field at a time around the version as
    stored (`mode: tornado`, fields ranked by the swing they cause in `metric`).

    Each `vary` item is a field `path` (`budget.total_cny`, `channels[live].cpm.base_cny`,
    `seasonality[Q4]`, `rules[roas_floor].min_roas`; `[*]` every item, `[a,b]` several) with
    `values` or an evenly spaced `range: {start, stop, count}`, and an `op`: `set` (absolute
    values, the default), `scale` (factors of the current value) or `shift` (amounts added).
    `changes` (as for plans) apply to the version first, then the fields vary around it.
    Every point is a full plan, as `POST /v1/scenarios/{id}/plans` would make of that
    scenario. Paths, values and the number of points are checked now (422); the points are
    solved by a job (202): poll `Location`, then read `links.result`.
    """
    version, stored = load_version(shared.factory, who, scenario_id, body.version)
    scenario = changed_scenario(stored, body.changes)
    return queued(shared, prepare_sweep(who, scenario, body, shared.settings, version))


@router.post(
    "/v1/scenarios/{scenario_id}/frontiers",
    status_code=202,
    tags=["what-if"],
    summary="Budget frontier: the best plan at each total budget (a job)",
    response_model=JobOut,
    responses=WHATIF_RESPONSES,
)
def frontier(scenario_id: str, body: FrontierRequest, who: Planner, shared: Shared) -> JSONResponse:
    """GMV, profit and ROAS of the best plan (for `objective`) at `points` total budgets
    from `from_cny` (default: half the scenario's budget, never below its fixed costs and
    contingency plus 5% of the budget) to `to_cny` (default: twice the scenario's budget),
    with the marginal ROAS (GMV per extra yuan spent) between neighbouring
    budgets and the budgets where it falls below 1 and below the scenario's ROAS floor
    (`summary`). `changes` (as for plans) apply to the version first. Checked now (422),
    solved by a job (202).
    """
    version, stored = load_version(shared.factory, who, scenario_id, body.version)
    scenario = changed_scenario(stored, body.changes)
    return queued(shared, prepare_frontier(who, scenario, body, shared.settings, version))

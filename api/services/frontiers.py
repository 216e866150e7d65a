"""Budget frontiers: the budgets (defaults as ``budgetopt frontier``) checked before the job
is queued; a refused budget is blamed on the end of the range the caller chose."""

from __future__ import annotations

from api.auth import Principal
from api.db.models import ScenarioVersion
from api.schemas import FrontierRequest
from api.services.checks import check_scenario
from api.services.whatif import check_solver, point_problems, refuse, whatif_work
from api.services.work import Work
from api.settings import ServiceSettings
from optimizer.analysis.whatif import frontier_budgets
from optimizer.errors import FieldProblem, RequestError
from optimizer.schema.scenario import Scenario


def prepare_frontier(
    who: Principal,
    scenario: Scenario,
    body: FrontierRequest,
    settings: ServiceSettings,
    version: ScenarioVersion,
) -> Work:
    """A frontier job's work: the budgets (defaults as ``budgetopt frontier``), all checked."""
    check_scenario(scenario, body, settings)
    check_solver(scenario, body)
    objective = {"objective.kind": body.objective}
    problems = point_problems(scenario, objective, body, settings)
    if problems:
        refuse([FieldProblem("objective", f"{body.objective}: {p}") for p in problems])
    budgets = _budgets(scenario, body)
    # where a budget is refused, blame the end of the range the caller chose
    field = "from_cny" if body.from_cny is not None else "to_cny" if body.to_cny is not None else ""
    for budget in budgets:
        values = {"budget.total_cny": budget, **objective}
        problems = point_problems(scenario, values, body, settings)
        if problems:
            message = f"at a total budget of {budget:,.0f}"
            refuse([FieldProblem(field, f"{message}: {p}") for p in problems])
    spec = {"budgets": budgets, "objective": body.objective}
    return whatif_work(who, scenario, body, version, "frontier", spec)


def _budgets(scenario: Scenario, body: FrontierRequest) -> list[float]:
    """The request's budgets: its range or the defaults, evenly spaced and all different."""
    try:
        return frontier_budgets(scenario, body.from_cny, body.to_cny, body.points)
    except RequestError as exc:
        refuse(exc.problems)

"""Sweeps, tornados and frontiers as jobs: what the sweep and frontier checks share, and the
run of a queued what-if job on the worker.

Everything that can be wrong with a request is found before the job is queued and answered
with a 422 naming the body field (see ``sweeps`` and ``frontiers``). Every point's scenario
is built and checked there exactly as the worker will build it, so a queued job fails only
if the solver itself does. The worker then runs ``optimizer.analysis.whatif`` as ``budgetopt
sweep`` and ``budgetopt frontier`` do, point after point, and keeps the JSON result
(``results.whatif.to_json_data``) on the job row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from api.auth import Principal
from api.db.models import ScenarioVersion
from api.problems import HttpProblem, invalid_input
from api.schemas import SolveOptions
from api.services.checks import check_limits
from api.services.work import Work
from api.settings import ServiceSettings
from optimizer.analysis import whatif
from optimizer.analysis.whatif import PointProgress, point_changes
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.outputs.whatif_rows import report_sheets
from optimizer.planner import available_solvers, check_numbers, is_available
from optimizer.results.whatif import Frontier, Sweep, Tornado, Vary, from_json_data, to_json_data
from optimizer.schema.changes import with_changes
from optimizer.schema.scenario import Scenario

Rows = list[dict[str, Any]]


# --- what the checks share ---------------------------------------------------------------------


def whatif_work(
    who: Principal,
    scenario: Scenario,
    body: SolveOptions,
    version: ScenarioVersion,
    kind: str,
    spec: dict[str, Any],
) -> Work:
    """The job's work: the scenario version, the solve options and the points (``spec``)."""
    return Work(
        kind=kind,
        workspace=who.workspace,
        created_by=who.key_id,
        scenario=scenario.model_dump(mode="json"),
        scenario_id=version.scenario_id,
        version_id=version.id,
        options=body.model_dump(include={"solver", "tolerance", "time_limit_s"}),
        whatif=spec,
        changes=[c.model_dump() for c in getattr(body, "changes", [])] or None,
    )


def check_solver(scenario: Scenario, body: SolveOptions) -> None:
    """422 now, rather than an error at every point later, for a backend not installed here."""
    name = body.solver or scenario.settings.solver
    if is_available(name):
        return
    available = ", ".join(available_solvers()) or "none"
    whose = "" if body.solver else "the scenario's settings.solver "
    message = f"{whose}'{name}' is not available here; available: {available}"
    raise HttpProblem(
        422, "solver-unavailable", message, errors=[{"path": "body.solver", "message": message}]
    )


def point_problems(
    scenario: Scenario,
    values: dict[str, Any],
    body: SolveOptions,
    settings: ServiceSettings,
    varies: Sequence[Vary] = (),
) -> list[str]:
    """What is wrong with the scenario at these values (keyed by path, or by a vary's label:
    nothing is an empty list): a field, a number derived from the fields that no solver can
    take, or this service's limits."""
    try:
        # as the worker builds each point
        point = with_changes(scenario, point_changes(values, varies), check_numbers)
    except ScenarioError as exc:
        return [str(p) for p in exc.problems]
    except ValueError as exc:  # PathError (checked before), or a selector int() cannot read
        return [str(exc)]
    try:
        check_limits(point, body, settings)
    except HttpProblem as exc:
        return [e["message"] + f" ({exc.extra.get('limit')})" for e in exc.extra.get("errors", [])]
    return []


def refuse(problems: list[FieldProblem]) -> NoReturn:
    """422 naming each problem's field inside the request body."""
    raise invalid_input(ScenarioError("request", problems, subject="request"), "body")


# --- running -----------------------------------------------------------------------------------


def execute(work: Work, progress: PointProgress | None = None) -> dict[str, Any]:
    """Solve every point of a what-if job; ``progress(done, total)`` hears after each point."""
    scenario = Scenario.model_validate(work.scenario)
    spec = work.whatif or {}
    options = whatif.SolveOptions(
        solver=work.options.get("solver"),
        tolerance=work.options.get("tolerance"),
        time_limit_s=work.options.get("time_limit_s"),
    )
    result: Sweep | Tornado | Frontier
    try:
        if work.kind == "frontier":
            budgets = [float(b) for b in spec["budgets"]]
            result = whatif.frontier(scenario, budgets, spec["objective"], options, 1, progress)
        else:
            varies = [Vary(v["path"], tuple(v["values"]), v.get("op", "set")) for v in spec["vary"]]
            if work.kind == "tornado":
                result = whatif.tornado(scenario, varies, spec["metric"], options, 1, progress)
            else:
                result = whatif.sweep(scenario, varies, options, 1, progress)
    except ScenarioError as exc:  # checked when queued, so only a changed engine gets here
        raise HttpProblem(422, "validation-error", str(exc)) from None
    return to_json_data(result)


def summary(kind: str, data: dict[str, Any]) -> str:
    """A job's closing message: how many points were solved and how many have a plan."""
    points = _points(kind, data)
    planned = sum(1 for p in points if p.get("metrics", {}).get("feasible"))
    return f"{len(points)} points solved, {planned} with a plan that keeps every rule"


def _points(kind: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "tornado":
        return [data["base"], *(p for bar in data["bars"] for p in bar["points"])]
    if kind == "frontier":
        return [p["point"] for p in data["points"]]
    return list(data["points"])


# --- tables of a stored result -----------------------------------------------------------------


def sheets(kind: str, data: dict[str, Any]) -> dict[str, Rows]:
    """The stored JSON result as tables, the first being the CSV: the same rows as the CLI's."""
    return report_sheets(from_json_data(kind, data))

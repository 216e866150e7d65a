"""Sweeps, tornados and frontiers as jobs: checked in the request, solved by the job worker.

Everything that can be wrong with a request is found before the job is queued and answered
with a 422 naming the body field: an unknown field path (``body.vary[1].path``), a value the
scenario refuses (``body.vary[0].values[2]``, ``body.from_cny``), too many points, an empty
budget range. Every point's scenario is built and validated here, exactly as the worker will
build it, so a queued job fails only if the solver itself does. The worker then runs
``optimizer.analysis.whatif`` as ``budgetopt sweep`` and ``budgetopt frontier`` do, point after
point, and keeps the JSON result (``results.whatif.to_json_data``) on the job row.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

from api.auth import Principal
from api.db.models import ScenarioVersion
from api.problems import Problem, invalid_input, limit_exceeded
from api.schemas import FrontierRequest, SolveOptions, SweepRequest, VarySpec
from api.service import Work, check_limits
from api.settings import Settings
from optimizer.analysis import whatif
from optimizer.analysis.whatif import MAX_POINTS, budget_range, default_budgets
from optimizer.core.solvers import available_solvers
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.outputs.whatif_rows import report_sheets
from optimizer.results.whatif import Frontier, Sweep, Tornado, Vary, from_json_data, to_json_data
from optimizer.schema.paths import get_value, set_values
from optimizer.schema.scenario import Scenario

Rows = list[dict[str, Any]]
Step = Callable[[int, int], None]
MAX_ERRORS = 20  # a bad value can spoil thousands of grid points: report the first few places


# --- checking a request ------------------------------------------------------------------------


def prepare_sweep(
    who: Principal,
    scenario: Scenario,
    body: SweepRequest,
    settings: Settings,
    version: ScenarioVersion,
) -> Work:
    """A sweep or tornado job's work, after checking every path, value and point."""
    check_limits(scenario, body, settings)
    _check_solver(scenario, body)
    if body.mode == "grid" and body.metric is not None:
        _refuse([FieldProblem("metric", "a metric applies to mode tornado only")])
    varies, sources = _varies(scenario, body.vary)
    if body.mode == "tornado":
        count = 1 + sum(len(v.values) for v in varies)
        # the scenario as given is the first point; each field then moves alone
        points: Iterable[tuple[tuple[int, int], ...]] = (
            ((i, j),) for i, v in enumerate(varies) for j in range(len(v.values))
        )
    else:
        count = math.prod(len(v.values) for v in varies)
        points = itertools.product(
            *([(i, j) for j in range(len(v.values))] for i, v in enumerate(varies))
        )
    if count > MAX_POINTS:
        raise limit_exceeded(422, "max_points", count, MAX_POINTS, "body.vary")
    _check_points(scenario, body, settings, varies, sources, points)
    spec: dict[str, Any] = {"vary": [{"path": v.path, "values": list(v.values)} for v in varies]}
    if body.mode == "tornado":
        spec["metric"] = body.metric or "objective_value"
    kind = "tornado" if body.mode == "tornado" else "sweep"
    return _work(who, scenario, body, version, kind, spec)


def prepare_frontier(
    who: Principal,
    scenario: Scenario,
    body: FrontierRequest,
    settings: Settings,
    version: ScenarioVersion,
) -> Work:
    """A frontier job's work: the budgets (defaults as ``budgetopt frontier``), all checked."""
    check_limits(scenario, body, settings)
    _check_solver(scenario, body)
    objective = {"objective.kind": body.objective}
    problems = _invalid(scenario, objective, body, settings)
    if problems:
        _refuse([_at("objective", f"{body.objective}: {p}") for p in problems])
    defaults = default_budgets(scenario, body.points)
    low = body.from_cny if body.from_cny is not None else defaults[0]
    high = body.to_cny if body.to_cny is not None else defaults[-1]
    if high <= low:
        if body.to_cny is None:
            message = f"from_cny {low:,.0f} must be below the default to_cny {high:,.0f}"
            _refuse([_at("from_cny", message + " (twice the scenario's budget): give to_cny")])
        which = "from_cny" if body.from_cny is not None else "the default from_cny"
        _refuse([_at("to_cny", f"to_cny {high:,.0f} must be above {which} {low:,.0f}")])
    budgets = budget_range(low, high, body.points)
    if len(set(budgets)) != len(budgets):
        message = f"{body.points} budgets from {low:g} to {high:g} are not all different"
        _refuse([_at("points", message)])
    # where a budget is refused, blame the end of the range the caller chose
    field = "from_cny" if body.from_cny is not None else "to_cny" if body.to_cny is not None else ""
    for budget in budgets:
        problems = _invalid(scenario, {"budget.total_cny": budget, **objective}, body, settings)
        if problems:
            _refuse([_at(field, f"at a total budget of {budget:,.0f}: {p}") for p in problems])
    spec = {"budgets": budgets, "objective": body.objective}
    return _work(who, scenario, body, version, "frontier", spec)


def _work(
    who: Principal,
    scenario: Scenario,
    body: SolveOptions,
    version: ScenarioVersion,
    kind: str,
    spec: dict[str, Any],
) -> Work:
    return Work(
        kind=kind,
        workspace=who.workspace,
        created_by=who.key_id,
        scenario=scenario.model_dump(mode="json"),
        scenario_id=version.scenario_id,
        version_id=version.id,
        options=body.model_dump(include={"solver", "tolerance", "time_limit_s"}),
        whatif=spec,
    )


def _check_solver(scenario: Scenario, body: SolveOptions) -> None:
    """422 now, rather than an error at every point later, for a backend not installed here."""
    name = body.solver or scenario.settings.solver
    if name in ("lp", "nlp", "auto") or name in available_solvers():
        return
    available = ", ".join(available_solvers()) or "none"
    whose = "" if body.solver else "the scenario's settings.solver "
    message = f"{whose}'{name}' is not available here; available: {available}"
    raise Problem(
        422, "solver-unavailable", message, errors=[{"path": "body.solver", "message": message}]
    )


def _varies(scenario: Scenario, specs: list[VarySpec]) -> tuple[list[Vary], list[str]]:
    """The varies with their values, and where each came from (``vary[i].values``/``.range``);
    422 listing every unknown or repeated path and every range that is not finite."""
    problems: list[FieldProblem] = []
    varies: list[Vary] = []
    sources: list[str] = []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        path = spec.path.strip()
        try:
            get_value(scenario, path)
        except ValueError as exc:  # PathError, or a selector int() cannot read
            problems.append(_at(f"vary[{i}].path", str(exc)))
        if path in seen:
            problems.append(
                _at(f"vary[{i}].path", f"{path} is given twice: list all its values once")
            )
        seen.add(path)
        if spec.range is not None:
            r = spec.range
            values: list[Any] = budget_range(r.start, r.stop, r.count)
            if not all(math.isfinite(v) for v in values):
                problems.append(_at(f"vary[{i}].range", "the values overflow: not finite"))
            sources.append(f"vary[{i}].range")
        else:
            values = list(spec.values or [])
            sources.append(f"vary[{i}].values")
        varies.append(Vary(path, tuple(values)))
    if problems:
        _refuse(problems)
    return varies, sources


def _check_points(
    scenario: Scenario,
    body: SolveOptions,
    settings: Settings,
    varies: list[Vary],
    sources: list[str],
    points: Iterable[tuple[tuple[int, int], ...]],
) -> None:
    """Build every point's scenario as the worker will; 422 naming the values it refuses.

    A point of several fields that fails is blamed on the one value that fails alone, or on
    ``body.vary`` as a combination when each value is fine by itself.
    """
    alone: dict[tuple[int, int], list[str]] = {}
    found: dict[str, FieldProblem] = {}

    def single(i: int, j: int) -> list[str]:
        if (i, j) not in alone:
            alone[(i, j)] = _invalid(
                scenario, {varies[i].path: varies[i].values[j]}, body, settings
            )
        return alone[(i, j)]

    def where(i: int, j: int) -> str:
        source = sources[i]
        return f"{source}[{j}]" if source.endswith(".values") else source

    def value(i: int, j: int) -> str:
        return f"{varies[i].path}={_show(varies[i].values[j])}"

    for point in points:
        if len(point) == 1:
            ((i, j),) = point
            problems = single(i, j)
            blamed = [(where(i, j), f"{value(i, j)}: {p}") for p in problems]
        else:
            values = {varies[i].path: varies[i].values[j] for i, j in point}
            problems = _invalid(scenario, values, body, settings)
            if not problems:
                continue
            blamed = [(where(i, j), f"{value(i, j)}: {p}") for i, j in point for p in single(i, j)]
            if not blamed:
                shown = ", ".join(value(i, j) for i, j in point)
                blamed = [("vary", f"the combination {shown}: {p}") for p in problems]
        for path, message in blamed:
            found.setdefault(f"{path}\n{message}", _at(path, message))
        if len(found) >= MAX_ERRORS:
            break
    if found:
        _refuse(list(found.values()))


def _invalid(
    scenario: Scenario, values: dict[str, Any], body: SolveOptions, settings: Settings
) -> list[str]:
    """What is wrong with the scenario at these values (nothing: an empty list)."""
    try:
        point = set_values(scenario, values)
    except ScenarioError as exc:
        return [str(p) for p in exc.problems]
    except ValueError as exc:  # PathError (checked before), or a selector int() cannot read
        return [str(exc)]
    try:
        check_limits(point, body, settings)
    except Problem as exc:
        return [e["message"] + f" ({exc.extra.get('limit')})" for e in exc.extra.get("errors", [])]
    return []


def _at(path: str, message: str) -> FieldProblem:
    return FieldProblem(path, message)


def _refuse(problems: list[FieldProblem]) -> None:
    raise invalid_input(ScenarioError("request", problems, subject="request"), "body")


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- running -----------------------------------------------------------------------------------


def execute(work: Work, step: Step | None = None) -> dict[str, Any]:
    """Solve every point of a what-if job; ``step(done, total)`` hears after each point."""
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
            result = whatif.frontier(scenario, budgets, spec["objective"], options, 1, step)
        else:
            varies = [Vary(v["path"], tuple(v["values"])) for v in spec["vary"]]
            if work.kind == "tornado":
                result = whatif.tornado(scenario, varies, spec["metric"], options, 1, step)
            else:
                result = whatif.sweep(scenario, varies, options, 1, step)
    except ScenarioError as exc:  # checked when queued, so only a changed engine gets here
        raise Problem(422, "validation-error", str(exc)) from None
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

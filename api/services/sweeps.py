"""Sweeps and tornados: a request checked in full before its job is queued.

An unknown or repeated field path is ``body.vary[1].path``, a value the scenario refuses is
``body.vary[0].values[2]`` (or ``body.vary[0].range``), too many points is ``body.vary``; a
combination that fails while each of its values is fine alone is blamed on ``body.vary``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from api.auth import Principal
from api.db.models import ScenarioVersion
from api.problems import limit_exceeded
from api.schemas import SolveOptions, SweepRequest, VarySpec
from api.services.checks import check_scenario
from api.services.whatif import check_solver, point_problems, refuse, whatif_work
from api.services.work import Work
from api.settings import ServiceSettings
from optimizer.analysis.whatif import MAX_POINTS, budget_range, point_count, vary_problems
from optimizer.errors import FieldProblem
from optimizer.results.whatif import Vary
from optimizer.schema.changes import Change
from optimizer.schema.scenario import Scenario

Point = tuple[tuple[int, int], ...]  # (vary index, value index) of each field that moves
MAX_ERRORS = 20  # a bad value can spoil thousands of grid points: report the first few places


def prepare_sweep(
    who: Principal,
    scenario: Scenario,
    body: SweepRequest,
    settings: ServiceSettings,
    version: ScenarioVersion,
) -> Work:
    """A sweep or tornado job's work, after checking every path, value and point."""
    check_scenario(scenario, body, settings)
    check_solver(scenario, body)
    if body.mode == "grid" and body.metric is not None:
        refuse([FieldProblem("metric", "a metric applies to mode tornado only")])
    varies, sources = _varies(scenario, body.vary)
    count = point_count(varies, one_at_a_time=body.mode == "tornado")
    if body.mode == "tornado":
        # the scenario as given is the first point; each field then moves alone
        points: Iterable[Point] = (
            ((i, j),) for i, v in enumerate(varies) for j in range(len(v.values))
        )
    else:
        points = itertools.product(
            *([(i, j) for j in range(len(v.values))] for i, v in enumerate(varies))
        )
    if count > MAX_POINTS:
        raise limit_exceeded(422, "max_points", count, MAX_POINTS, "body.vary")
    _check_points(scenario, body, settings, varies, sources, points)
    spec: dict[str, Any] = {
        "vary": [{"path": v.path, "op": v.op, "values": list(v.values)} for v in varies]
    }
    if body.mode == "tornado":
        spec["metric"] = body.metric or "objective_value"
    kind = "tornado" if body.mode == "tornado" else "sweep"
    return whatif_work(who, scenario, body, version, kind, spec)


def _varies(scenario: Scenario, specs: list[VarySpec]) -> tuple[list[Vary], list[str]]:
    """The varies with their values, and where each came from (``vary[i].values``/``.range``);
    422 listing every unknown or repeated path (the analysis's check) and every range whose
    values overflow."""
    varies: list[Vary] = []
    sources: list[str] = []
    problems: list[FieldProblem] = []
    for i, spec in enumerate(specs):
        if spec.range is not None:
            r = spec.range
            values: list[Any] = budget_range(r.start, r.stop, r.count)
            if not all(math.isfinite(v) for v in values):
                problems.append(FieldProblem(f"vary[{i}].range", "the values overflow: not finite"))
            sources.append(f"vary[{i}].range")
        else:
            values = list(spec.values or [])
            sources.append(f"vary[{i}].values")
        varies.append(Vary(spec.path.strip(), tuple(values), spec.op))
    problems = vary_problems(scenario, varies) + problems
    if problems:
        refuse(problems)
    return varies, sources


def _check_points(
    scenario: Scenario,
    body: SolveOptions,
    settings: ServiceSettings,
    varies: list[Vary],
    sources: list[str],
    points: Iterable[Point],
) -> None:
    """Build every point's scenario as the worker will; 422 naming the values it refuses.

    A point of several fields that fails is blamed on the one value that fails alone, or on
    ``body.vary`` as a combination when each value is fine by itself.
    """
    alone: dict[tuple[int, int], list[str]] = {}
    found: dict[str, FieldProblem] = {}

    def single(i: int, j: int) -> list[str]:
        if (i, j) not in alone:
            values = {varies[i].label: varies[i].values[j]}
            alone[(i, j)] = point_problems(scenario, values, body, settings, varies)
        return alone[(i, j)]

    def where(i: int, j: int) -> str:
        source = sources[i]
        return f"{source}[{j}]" if source.endswith(".values") else source

    def value(i: int, j: int) -> str:
        return str(Change(varies[i].path, varies[i].op, varies[i].values[j]))

    for point in points:
        if len(point) == 1:
            ((i, j),) = point
            problems = single(i, j)
            blamed = [(where(i, j), f"{value(i, j)}: {p}") for p in problems]
        else:
            values = {varies[i].label: varies[i].values[j] for i, j in point}
            problems = point_problems(scenario, values, body, settings, varies)
            if not problems:
                continue
            blamed = [(where(i, j), f"{value(i, j)}: {p}") for i, j in point for p in single(i, j)]
            if not blamed:
                shown = ", ".join(value(i, j) for i, j in point)
                blamed = [("vary", f"the combination {shown}: {p}") for p in problems]
        for path, message in blamed:
            found.setdefault(f"{path}\n{message}", FieldProblem(path, message))
        if len(found) >= MAX_ERRORS:
            break
    if found:
        refuse(list(found.values()))

"""What every ``budgetopt`` command shares: exit codes, option types and the steps that end a
command with a clear message and exit code (load, solve, score a split, write the output).

Exit codes: 0 a plan was found (or the file is valid, or the split keeps every rule),
1 no plan satisfies the rules (infeasible, or no plan within the time limit) or the
evaluated split breaks a rule, 2 bad input (file, field, option), 3 the solver itself failed.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, get_args

import typer
from pydantic import BaseModel

from optimizer.cli.guard import emit_data
from optimizer.errors import (
    FieldProblem,
    RequestError,
    ScenarioError,
    SolverFailedError,
    SolverUnavailableError,
)
from optimizer.inputs.allocation import load_allocation
from optimizer.inputs.files import load_scenario
from optimizer.inputs.split import load_split, parse_split
from optimizer.planner import (
    available_solvers,
    check_numbers,
    check_split,
    is_available,
    judge,
    score,
)
from optimizer.planner import plan as make_plan
from optimizer.results.plan import Plan
from optimizer.schema.changes import apply_changes, parse_change
from optimizer.schema.scenario import Scenario

EXIT_OK, EXIT_NO_PLAN, EXIT_BAD_INPUT, EXIT_SOLVER_FAILED = 0, 1, 2, 3


class OutputFormat(StrEnum):
    """Text output formats of evaluate, sweep and frontier (plan and compare add xlsx)."""

    table = "table"
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    """Output formats of plan and compare: the text ones, and an Excel workbook (needs --out)."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


def schema_choices(model: type[BaseModel], field: str) -> tuple[str, ...]:
    """The values a Literal field of the scenario schema allows, in the schema's order."""
    return get_args(model.model_fields[field].annotation)


# The schema's list of methods and backends (settings.solver) is the one list of choices.
SOLVER_CHOICES = schema_choices(Scenario.model_fields["settings"].annotation, "solver")
SolverName = StrEnum("SolverName", {name.replace("-", "_"): name for name in SOLVER_CHOICES})
SolverName.__doc__ = "Backends and methods selectable on the command line (settings.solver)."

# What a scenario written from curves (fit, import) optimises: the schema's objective kinds.
ObjectiveKind = StrEnum(
    "ObjectiveKind",
    {k: k for k in schema_choices(Scenario.model_fields["objective"].annotation, "kind")},
)
ObjectiveKind.__doc__ = "What the plan optimises (objective.kind)."
ObjectiveOpt = Annotated[ObjectiveKind, typer.Option(help="What the plan optimises.")]
GmvTargetOpt = Annotated[
    float | None, typer.Option(min=0.01, help="GMV to reach (needed for min_spend).")
]
GrossMarginOpt = Annotated[
    float | None, typer.Option(min=0.0001, max=0.9999, help="Gross margin (for max_profit).")
]

ScenarioArg = Annotated[
    Path,
    typer.Argument(
        help="Scenario file: YAML, JSON or an Excel input workbook like scenarios/template.xlsx; "
        "see scenarios/README.md."
    ),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output to this file.")]
SolverOpt = Annotated[
    SolverName | None,
    typer.Option(
        help="auto (the exact dual method where it applies, else lp or nlp; says which), dual "
        "(Lagrangian, proven gap; concave curves, or S-shaped ones under one coupling rule), "
        "lp (piecewise-linear, proven gap), "
        "nlp (SLSQP on the true curves), or an LP backend; default: settings.solver, auto."
    ),
]
ToleranceOpt = Annotated[
    float | None,
    typer.Option(
        min=1e-9, max=0.1, help="Relative optimality gap to reach and prove (default 1e-6)."
    ),
]
TimeLimitOpt = Annotated[
    float | None, typer.Option(min=0.1, max=3600, help="Seconds allowed for the solve.")
]


SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="EXPR",
        help="A what-if change to the scenario before solving; repeat for linked changes, "
        "applied in order. PATH=VALUE sets, PATH*=FACTOR scales, PATH+=AMOUNT / PATH-=AMOUNT "
        r"shifts. PATH selects fields: channels\[*] every channel, channels\[a,b] several, "
        r"e.g. --set 'channels\[live_traffic,search].cpm.base_cny*=1.42' --set "
        r"'budget.total_cny*=0.9'. Switch a channel off: --set 'channels\[x].max_spend_cny=0'.",
    ),
]


def fail(message: str, code: int) -> NoReturn:
    """Say what went wrong on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def write_output(text: str, out: Path | None) -> None:
    """The command's output: to the file ``out`` (said on stderr), else to stdout as data."""
    if out is None:
        emit_data(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        blocked = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocked} is a file, not a folder" if blocked else (exc.strerror or str(exc))
        fail(f"cannot write {out}: {reason}", EXIT_BAD_INPUT)
    typer.echo(f"wrote {out}", err=True)


def load(path: Path) -> Scenario:
    """The scenario in a file; exit 2 with the reason when it cannot be read or is invalid."""
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def with_sets(scenario: Scenario, sets: list[str] | None) -> Scenario:
    """The scenario with every --set change applied (one copy, validated once); exit 2
    naming the option when one cannot be read or applied."""
    if not sets:
        return scenario
    changes = []
    for text in sets:
        try:
            changes.append(parse_change(text))
        except ValueError as exc:
            fail(f"--set {text}: {exc}", EXIT_BAD_INPUT)
    try:
        return apply_changes(scenario, changes, check_numbers)
    except RequestError as exc:
        lines = [_by_set(problem, sets) for problem in exc.problems]
        fail(lines[0] if len(lines) == 1 else "\n".join(lines), EXIT_BAD_INPUT)


def _by_set(problem: FieldProblem, sets: list[str]) -> str:
    """A change's problem named by its option: changes[1].value -> --set TEXT."""
    index = re.match(r"changes\[(\d+)\]", problem.path)
    where = f"--set {sets[int(index[1])]}" if index else "--set"
    return f"{where}: {problem.message}"


def solver_value(solver: SolverName | None) -> str | None:
    """The name a --solver choice stands for (None: the scenario's own settings.solver)."""
    return solver.value if solver else None


def check_solver(name: str | None) -> None:
    """Exit with code 2 when an LP backend is named that this machine does not have."""
    if name is not None and not is_available(name):
        available = ", ".join(available_solvers()) or "none"
        fail(f"solver '{name}' is not available here; available: {available}", EXIT_BAD_INPUT)


def solve(
    scenario: Scenario, solver: SolverName | None, tol: float | None, limit: float | None
) -> Plan:
    """Plan the scenario; a missing backend or bad number exits 2, a failed solver 3."""
    try:
        return make_plan(scenario, solver=solver_value(solver), tolerance=tol, time_limit_s=limit)
    except ScenarioError as exc:  # validation refuses such numbers first: a last guard
        fail(str(exc), EXIT_BAD_INPUT)
    except SolverUnavailableError as exc:
        fail(f"{exc}; available: {', '.join(available_solvers()) or 'none'}", EXIT_BAD_INPUT)
    except SolverFailedError as exc:
        fail(str(exc), EXIT_SOLVER_FAILED)


def score_allocation(scenario: Scenario, allocation: Path) -> Plan:
    """A hand-made split (CSV) scored on the scenario; exit 2 naming the CSV line of an
    unknown channel or period (before anything is solved)."""
    try:
        return score(scenario, load_allocation(allocation), source=str(allocation))
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def read_split(scenario: Scenario, text: str | None, path: Path | None) -> dict[str, float]:
    """The per-channel split of --split TEXT or --split-file PATH, checked against the
    scenario's channels; exit 2 naming each bad entry (before anything is solved)."""
    try:
        split = load_split(path) if path is not None else parse_split(text or "")
        check_split(scenario.channel_ids(), split, str(path) if path else "--split")
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    return split


def with_gap(scored: Plan, scenario: Scenario, optimum: Plan) -> Plan:
    """A scored split with its gap to the scenario's optimum (smaller spend is better for
    min_spend, larger objective otherwise) and the one-line verdict."""
    return judge(scenario, scored, optimum)

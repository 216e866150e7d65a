"""budgetopt command line: plan, evaluate and validate scenario files.

Exit codes: 0 a plan was found (or the file is valid, or the split keeps every rule),
1 no plan satisfies the rules (infeasible, or no plan within the time limit) or the
evaluated split breaks a rule, 2 bad input (file, field, option), 3 the solver itself failed.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from optimizer.errors import ScenarioError, SolverFailedError, SolverUnavailableError
from optimizer.io import load_allocation, load_scenario
from optimizer.plan import Plan
from optimizer.planner import compare, score
from optimizer.planner import plan as make_plan
from optimizer.report import to_csv, to_json, to_table
from optimizer.scenario import Scenario
from optimizer.solvers import available_solvers

EXIT_OK, EXIT_NO_PLAN, EXIT_BAD_INPUT, EXIT_SOLVER_FAILED = 0, 1, 2, 3

app = typer.Typer(
    help="Allocate a marketing budget across live streaming, KOLs, private domain and search.\n\n"
    "Exit codes: 0 plan found, 1 infeasible / no plan, 2 bad input, 3 solver failure.",
    epilog="Example: budgetopt plan scenarios/annual_2026.yaml --format csv --out plan.csv. "
    "Fields of a scenario: README.md and scenarios/scenario.schema.json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    """Output formats of plan and evaluate."""

    table = "table"
    json = "json"
    csv = "csv"


class SolverName(StrEnum):
    """Backends selectable on the command line."""

    highs = "highs"
    cbc = "cbc"
    highs_direct = "highs-direct"
    lp = "lp"
    nlp = "nlp"
    auto = "auto"


ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario file (YAML or JSON); see scenarios/README.md.")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output to this file.")]
SolverOpt = Annotated[
    SolverName | None,
    typer.Option(
        help="lp (piecewise-linear, proven gap), nlp (SLSQP on the true curves), auto (picks "
        "by problem shape and says which), or an LP backend; default: settings.solver, highs."
    ),
]
ToleranceOpt = Annotated[
    float | None,
    typer.Option(min=1e-9, max=0.1, help="Relative optimality gap to reach (default 1e-4)."),
]
TimeLimitOpt = Annotated[
    float | None, typer.Option(min=0.1, max=3600, help="Seconds allowed for the solve.")
]


def _render(plan: Plan, fmt: OutputFormat) -> str:
    if fmt is OutputFormat.json:
        return to_json(plan) + "\n"
    if fmt is OutputFormat.csv:
        return to_csv(plan)
    return to_table(plan)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        blocked = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocked} is a file, not a folder" if blocked else (exc.strerror or str(exc))
        _fail(f"cannot write {out}: {reason}", EXIT_BAD_INPUT)
    typer.echo(f"wrote {out}", err=True)


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
        raise  # unreachable: _fail always exits


def _solve(
    scenario: Scenario, solver: SolverName | None, tol: float | None, limit: float | None
) -> Plan:
    try:
        return make_plan(
            scenario, solver=solver.value if solver else None, tolerance=tol, time_limit_s=limit
        )
    except SolverUnavailableError as exc:
        _fail(f"{exc}; available: {', '.join(available_solvers()) or 'none'}", EXIT_BAD_INPUT)
    except SolverFailedError as exc:
        _fail(str(exc), EXIT_SOLVER_FAILED)
    raise AssertionError("unreachable")


@app.command()
def plan(
    scenario_file: ScenarioArg,
    format: FormatOpt = OutputFormat.table,
    out: OutOpt = None,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Find the best allocation: spend by channel and period, metrics, rules and their slack."""
    result = _solve(_load(scenario_file), solver, tolerance, time_limit)
    _emit(_render(result, format), out)
    raise typer.Exit(EXIT_OK if result.total is not None else EXIT_NO_PLAN)


@app.command()
def evaluate(
    scenario_file: ScenarioArg,
    allocation: Annotated[
        Path,
        typer.Option(
            help="CSV with columns unit (or channel), period, spend_cny; a plan's "
            "own --format csv output works too."
        ),
    ],
    format: FormatOpt = OutputFormat.table,
    out: OutOpt = None,
    solver: SolverOpt = None,
) -> None:
    """Score a hand-made split with the plan's metrics and rules, and its gap to the optimum."""
    scenario = _load(scenario_file)
    try:
        scored = score(scenario, load_allocation(allocation), source=str(allocation))
    except ScenarioError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
        raise
    optimum = _solve(scenario, solver, None, None)
    scored = compare(scored, optimum, maximise=scenario.objective.kind != "min_spend")
    _emit(_render(scored, format), out)
    raise typer.Exit(EXIT_OK if scored.is_feasible else EXIT_NO_PLAN)


@app.command()
def validate(scenario_file: ScenarioArg) -> None:
    """Check a scenario file against the schema and its cross-references."""
    scenario = _load(scenario_file)
    typer.echo(
        f"{scenario_file}: valid ({len(scenario.channels)} channels, {len(scenario.periods)} "
        f"periods, {len(scenario.rules)} rules)"
    )


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the scenario JSON Schema (scenarios/scenario.schema.json is this output)."""
    _emit(schema_text(), out)


def schema_text() -> str:
    """The JSON Schema of scenario files, as committed in scenarios/scenario.schema.json."""
    return json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

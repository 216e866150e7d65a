"""budgetopt plan, evaluate, validate and schema: one scenario file at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from optimizer.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    FormatOpt,
    OutOpt,
    OutputFormat,
    ReportFormat,
    ScenarioArg,
    SetOpt,
    SolverOpt,
    TimeLimitOpt,
    ToleranceOpt,
    fail,
    load,
    score_allocation,
    solve,
    with_gap,
    with_sets,
    write_output,
)
from optimizer.cli.guard import emit_data
from optimizer.outputs.text import to_csv, to_table
from optimizer.results.plan import Plan
from optimizer.results.serialise import to_json
from optimizer.schema.scenario import Scenario

PlanFormatOpt = Annotated[
    ReportFormat,
    typer.Option(
        "--format",
        "-f",
        help="Output format; xlsx (needs --out) embeds the allocation and response-curve "
        "charts, also written as PNGs next to it.",
    ),
]
AllocationOpt = Annotated[
    Path,
    typer.Option(
        help="CSV with columns unit (or channel), period, spend_cny; a plan's "
        "own --format csv output works too."
    ),
]


def plan(
    scenario_file: ScenarioArg,
    format: PlanFormatOpt = ReportFormat.table,
    out: OutOpt = None,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
    set: SetOpt = None,
) -> None:
    """Find the best allocation: spend by channel and period, metrics, rules and their slack.

    With --set, the plan is of the scenario after those what-if changes (the file is not
    modified); its fingerprint is the changed scenario's.
    Example: budgetopt plan scenarios/annual_2026.yaml --set 'budget.total_cny*=0.9'
    """
    if format is ReportFormat.xlsx and out is None:
        fail("--format xlsx needs --out FILE.xlsx", EXIT_BAD_INPUT)
    scenario = with_sets(load(scenario_file), set)
    result = solve(scenario, solver, tolerance, time_limit)
    if format is ReportFormat.xlsx:
        assert out is not None
        _write_workbook(scenario, result, out)
    else:
        write_output(_render(result, OutputFormat(format.value)), out)
    raise typer.Exit(EXIT_OK if result.total is not None else EXIT_NO_PLAN)


def _render(plan: Plan, fmt: OutputFormat) -> str:
    """The plan as text in the chosen format."""
    if fmt is OutputFormat.json:
        return to_json(plan)
    if fmt is OutputFormat.csv:
        return to_csv(plan)
    return to_table(plan)


def _write_workbook(scenario: Scenario, plan: Plan, out: Path) -> None:
    """The plan workbook, with its charts as PNGs next to it (OUT-allocation.png, ...)."""
    from optimizer.outputs.charts import chart_paths, draw_charts
    from optimizer.outputs.excel import to_xlsx

    stem = out.with_suffix("")
    pictures: list[Path] = []
    try:
        if plan.total is not None:
            for path in chart_paths(stem.parent, stem.name):
                path.unlink(missing_ok=True)  # a chart of an earlier run is not this plan's
            pictures = draw_charts(scenario, plan, stem.parent, stem.name)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(to_xlsx(plan, pictures))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    typer.echo(f"wrote {', '.join(map(str, [out, *pictures]))}", err=True)


def evaluate(
    scenario_file: ScenarioArg,
    allocation: AllocationOpt,
    format: FormatOpt = OutputFormat.table,
    out: OutOpt = None,
    solver: SolverOpt = None,
    set: SetOpt = None,
) -> None:
    """Score a hand-made split with the plan's metrics and rules, and its gap to the optimum
    (with --set: on the scenario after those what-if changes)."""
    scenario = with_sets(load(scenario_file), set)
    scored = score_allocation(scenario, allocation)
    scored = with_gap(scored, scenario, solve(scenario, solver, None, None))
    write_output(_render(scored, format), out)
    raise typer.Exit(EXIT_OK if scored.is_feasible else EXIT_NO_PLAN)


def validate(scenario_file: ScenarioArg) -> None:
    """Check a scenario file against the schema and its cross-references."""
    scenario = load(scenario_file)
    emit_data(
        f"{scenario_file}: valid ({len(scenario.channels)} channels, {len(scenario.periods)} "
        f"periods, {len(scenario.rules)} rules)\n"
    )


def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the scenario JSON Schema (scenarios/scenario.schema.json is this output)."""
    write_output(schema_text(), out)


def schema_text() -> str:
    """The JSON Schema of scenario files, as committed in scenarios/scenario.schema.json."""
    return json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False) + "\n"

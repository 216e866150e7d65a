"""budgetopt plan, evaluate, validate and schema: one scenario file at a time."""

from __future__ import annotations

import json
from enum import StrEnum
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
    SolverName,
    SolverOpt,
    TimeLimitOpt,
    ToleranceOpt,
    fail,
    load,
    read_split,
    score_allocation,
    solve,
    with_gap,
    with_sets,
    write_output,
)
from optimizer.cli.guard import emit_data
from optimizer.outputs.text import to_csv, to_table
from optimizer.planner import Spread, evaluate_split
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
    Path | None,
    typer.Option(
        help="CSV with columns unit (or channel), period, spend_cny; a plan's "
        "own --format csv output works too."
    ),
]
SplitOpt = Annotated[
    str | None,
    typer.Option(
        "--split",
        help="Instead of --allocation: CNY for the year by channel id, e.g. "
        "live=30e6,kol=20e6, spread within each channel as --spread says.",
    ),
]
SplitFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--split-file",
        help="A --split as a file: CSV with columns channel, spend_cny, or YAML/JSON "
        "{channel: CNY}.",
    ),
]


class SpreadChoice(StrEnum):
    """How a --split is spread over each channel's units (KOL tiers) and periods."""

    optimal = "optimal"
    even = "even"


SpreadOpt = Annotated[
    SpreadChoice | None,
    typer.Option(
        help="optimal (default): in the best plan's proportions within each channel (evenly "
        "where it spends nothing on a channel, and the verdict says so); even: the same in "
        "every unit and period. Only with --split or --split-file.",
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
    allocation: AllocationOpt = None,
    split: SplitOpt = None,
    split_file: SplitFileOpt = None,
    spread: SpreadOpt = None,
    format: FormatOpt = OutputFormat.table,
    out: OutOpt = None,
    solver: SolverOpt = None,
    set: SetOpt = None,
) -> None:
    """Score a hand-made split (by unit and period, or by channel) with the plan's metrics and
    rules, its gap to the optimum and a one-line verdict (with --set: on the scenario after
    those what-if changes)."""
    given = [name for name, value in _split_sources(allocation, split, split_file) if value]
    if len(given) != 1:
        got = " and ".join(given) if given else "none"
        fail(f"exactly one of --allocation, --split, --split-file; got {got}", EXIT_BAD_INPUT)
    if spread is not None and allocation is not None:
        fail("--spread applies to --split and --split-file, not to --allocation", EXIT_BAD_INPUT)
    scenario = with_sets(load(scenario_file), set)
    if allocation is not None:
        scored = with_gap(score_allocation(scenario, allocation), scenario, _best(scenario, solver))
    else:
        chosen = read_split(scenario, split, split_file)
        how: Spread = "even" if spread is SpreadChoice.even else "optimal"
        scored = evaluate_split(scenario, chosen, spread=how, optimum=_best(scenario, solver))
    write_output(_render(scored, format), out)
    if format is OutputFormat.csv and scored.verdict:  # the CSV is data: the verdict is a message
        typer.echo(scored.verdict, err=True)
    raise typer.Exit(EXIT_OK if scored.is_feasible else EXIT_NO_PLAN)


def _split_sources(
    allocation: Path | None, split: str | None, split_file: Path | None
) -> list[tuple[str, bool]]:
    return [
        ("--allocation", allocation is not None),
        ("--split", split is not None),
        ("--split-file", split_file is not None),
    ]


def _best(scenario: Scenario, solver: SolverName | None) -> Plan:
    """The scenario's optimum, to measure a split against (and spread it like)."""
    return solve(scenario, solver, None, None)


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

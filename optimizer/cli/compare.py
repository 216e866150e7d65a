"""budgetopt compare: plans side by side, with deltas to the first (the baseline).

Items are stored plans (read back as written) or scenario files (planned now); a hand-made
split is scored on the one scenario given and compared with its optimum.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from optimizer.analysis.compare import side_by_side, unique_labels
from optimizer.cli.common import (
    EXIT_BAD_INPUT,
    ReportFormat,
    SolverName,
    SolverOpt,
    check_solver,
    fail,
    load,
    score_allocation,
    solve,
    solver_value,
    with_gap,
    write_output,
)
from optimizer.errors import ScenarioError
from optimizer.inputs.text import read_text
from optimizer.outputs.comparison import comparison_rows, comparison_table
from optimizer.outputs.whatif_rows import Rows, to_csv_text
from optimizer.results.plan import Plan
from optimizer.results.serialise import stored_plan
from optimizer.schema.scenario import Scenario

ItemsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Plans (JSON from plan --format json or a batch's plans/*.json) or scenario "
        "files (YAML, JSON, XLSX: planned now). The first is the baseline."
    ),
]
SplitOpt = Annotated[
    list[Path] | None,
    typer.Option(
        help="A hand-made split (CSV: unit, period, spend_cny) scored on the one scenario "
        "given and compared with its optimum; repeat for several."
    ),
]
LabelOpt = Annotated[
    list[str] | None, typer.Option(help="Names for the items, in order (default: file names).")
]
CompareFormatOpt = Annotated[
    ReportFormat, typer.Option("--format", "-f", help="Output format (xlsx needs --out).")
]
FileOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")]


def compare(
    items: ItemsArg,
    split: SplitOpt = None,
    label: LabelOpt = None,
    format: CompareFormatOpt = ReportFormat.table,
    out: FileOpt = None,
    solver: SolverOpt = None,
) -> None:
    """Side by side: totals, per-channel and per-period metrics, deltas to the first item.

    Example: budgetopt compare scenarios/annual_2026.yaml --split my_split.csv
    """
    check_solver(solver_value(solver))
    plans, names, scenarios = _compare_items(items, solver)
    for path in split or []:
        if len(scenarios) != 1:
            fail(
                f"--split needs exactly one scenario file among the items, got {len(scenarios)}",
                EXIT_BAD_INPUT,
            )
        scenario, optimum = scenarios[0]
        plans.append(with_gap(score_allocation(scenario, path), scenario, optimum))
        names.append(path.stem)
    if len(plans) < 2:
        fail("compare needs two or more items (plans, scenarios or --split files)", EXIT_BAD_INPUT)
    labels = _labels(names, label or [])
    data = side_by_side(plans, labels)
    rows = comparison_rows(data)
    if format is ReportFormat.xlsx:
        _compare_xlsx(plans, labels, data, rows, out)
    elif format is ReportFormat.json:
        write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", out)
    elif format is ReportFormat.csv:
        write_output(to_csv_text(rows), out)
    else:
        write_output(comparison_table(data), out)


def _compare_items(
    items: list[Path], solver: SolverName | None
) -> tuple[list[Plan], list[str], list[tuple[Scenario, Plan]]]:
    """Each item as a plan, its name, and the scenarios among them with their optimum."""
    plans: list[Plan] = []
    names: list[str] = []
    scenarios: list[tuple[Scenario, Plan]] = []
    for path in items:
        plan = _stored_plan(path)
        if plan is None:
            scenario = load(path)
            plan = solve(scenario, solver, None, None)
            scenarios.append((scenario, plan))
        plans.append(plan)
        names.append(path.stem)
    return plans, names, scenarios


def _stored_plan(path: Path) -> Plan | None:
    """A plan JSON file as a Plan; None when the file is something else (a scenario)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        data = json.loads(read_text(path).removeprefix("\ufeff"))
    except (ScenarioError, json.JSONDecodeError):
        return None  # load_scenario will say what is wrong with it
    if not isinstance(data, dict) or "by_channel" not in data or "fingerprint" not in data:
        return None
    try:
        return stored_plan(data)  # a batch's plans leave out wall-clock time
    except (TypeError, KeyError, AttributeError) as exc:
        fail(f"{path}: not a plan this version can read ({exc})", EXIT_BAD_INPUT)


def _labels(names: list[str], given: list[str]) -> list[str]:
    """Given labels first, then file names made unique with a number."""
    if len(given) > len(names):
        fail(f"{len(given)} --label values for {len(names)} items", EXIT_BAD_INPUT)
    return unique_labels([*given, *names[len(given) :]])


def _compare_xlsx(
    plans: list[Plan], labels: list[str], data: dict[str, Any], rows: Rows, out: Path | None
) -> None:
    """The comparison workbook (compare and plans sheets) with its chart, also a PNG."""
    from optimizer.outputs.charts import compare_png
    from optimizer.outputs.excel import tables_xlsx

    if out is None:
        fail("--format xlsx needs --out FILE.xlsx", EXIT_BAD_INPUT)
    picture = compare_png(plans, labels, out.with_suffix(".png"))
    content = tables_xlsx({"compare": rows, "plans": data["plans"]}, [picture])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    typer.echo(f"wrote {out} and {picture}", err=True)

"""budgetopt sweep and frontier: what-if runs of many plans of one scenario.

Every point is planned like ``budgetopt plan`` would (``optimizer.analysis.whatif``); the result
is shown as a table, CSV or JSON, and with --out also written as CSV, JSON, XLSX and PNG charts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from optimizer.analysis import whatif
from optimizer.analysis.whatif import PointProgress, SolveOptions, frontier_budgets, parse_vary
from optimizer.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    FormatOpt,
    OutputFormat,
    ScenarioArg,
    SetOpt,
    SolverName,
    SolverOpt,
    TimeLimitOpt,
    ToleranceOpt,
    check_solver,
    fail,
    load,
    schema_choices,
    solver_value,
    with_sets,
    write_output,
)
from optimizer.errors import FieldProblem, RequestError, ScenarioError
from optimizer.outputs.whatif_rows import Rows, report_sheets, to_csv_text, to_table_text
from optimizer.results.whatif import Frontier, Tornado, Vary, WhatIf, to_json_data
from optimizer.schema.scenario import Scenario

T = TypeVar("T")

# The flag that sets each field of a what-if request (vary[i] is the i-th --vary given).
FLAGS = {
    "vary": "--vary",
    "metric": "--metric",
    "objective": "--objective",
    "from_cny": "--from",
    "to_cny": "--to",
    "points": "--points",
}

# Objectives a frontier can be drawn for: the schema's, but for min_spend (no budget to vary).
OBJECTIVES = schema_choices(Scenario.model_fields["objective"].annotation, "kind")
FrontierObjective = StrEnum("FrontierObjective", {k: k for k in OBJECTIVES if k != "min_spend"})
FrontierObjective.__doc__ = "Objectives a frontier can be drawn for."

WorkersOpt = Annotated[
    int,
    typer.Option(min=1, max=256, help="Worker processes; 1 solves in this process (default)."),
]
FolderOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Folder for the CSV, JSON and XLSX reports and the PNG charts."
    ),
]
VaryOpt = Annotated[
    list[str],
    typer.Option(
        "--vary",
        "-v",
        help="PATH=START:STOP:COUNT (evenly spaced) or PATH=V1,V2,... (absolute values); "
        "PATH*=... (factors of the current value, e.g. 0.8:1.2:5), PATH+=... or PATH-=... "
        "(amounts added or taken off); repeat for a grid. PATH is a field by its dotted "
        "path, items picked by id or period, [*] for every item, [a,b] for several: "
        r"budget.total_cny, channels\[live_traffic].cpm.base_cny, "
        r"channels\[kol].tiers\[*].commission_rate, rules\[roas_floor].min_roas, "
        r"seasonality\[Q4].",
    ),
]
TornadoOpt = Annotated[
    bool,
    typer.Option(
        "--tornado",
        help="One at a time: move each field alone (the rest as given) and rank the "
        "fields by the swing they cause in --metric.",
    ),
]
MetricOpt = Annotated[
    str,
    typer.Option(
        help="What the tornado ranks by and the chart shows: objective_value, spend_cny, "
        "commission_cny, gmv_cny, roas, cac_cny, new_customers, gross_profit_cny, or, with "
        "draws on the curves, a band: gmv_p10_cny, gmv_p50_cny, gmv_p90_cny, roas_p10, "
        "roas_p90, cac_p90_cny, profit_p10_cny."
    ),
]
FromOpt = Annotated[
    float | None,
    typer.Option("--from", min=0, help="Lowest total budget, CNY (default: half the scenario's)."),
]
ToOpt = Annotated[
    float | None,
    typer.Option("--to", min=0, help="Highest total budget, CNY (default: twice the scenario's)."),
]
PointsOpt = Annotated[int, typer.Option(min=2, max=200, help="Budgets from --from to --to.")]
ObjectiveOpt = Annotated[FrontierObjective, typer.Option(help="What each budget's plan maximises.")]


def sweep(
    scenario_file: ScenarioArg,
    vary: VaryOpt,
    tornado: TornadoOpt = False,
    metric: MetricOpt = "objective_value",
    out: FolderOpt = None,
    format: FormatOpt = OutputFormat.table,
    workers: WorkersOpt = 1,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
    set: SetOpt = None,
) -> None:
    """Plan the scenario at every combination of field values (or one field at a time).

    Example: budgetopt sweep scenarios/annual_2026.yaml --vary budget.total_cny=100e6:160e6:7
    --vary rules\\[kol_share].max_share=0.3,0.35 --out sweep/
    Relative: --vary 'channels\\[live_traffic,search].cpm.base_cny*=0.8:1.2:5'.
    --set changes apply to the scenario first; the fields then vary around it.
    Exit code 0 when every point has a plan keeping every rule, 1 otherwise.
    """
    _check_folder(out)
    scenario = with_sets(load(scenario_file), set)
    options = _options(solver, tolerance, time_limit)
    varies = [_vary(text) for text in vary]
    with _progress("tornado" if tornado else "sweep") as progress:
        if tornado:
            result: WhatIf = _checked(
                lambda: whatif.tornado(scenario, varies, metric, options, workers, progress), vary
            )
        else:
            result = _checked(
                lambda: whatif.sweep(scenario, varies, options, workers, progress), vary
            )
    sheets = report_sheets(result)
    ((stem, rows),) = sheets.items()
    keys = ["field", "value"] if isinstance(result, Tornado) else [v.label for v in varies]
    data = to_json_data(result)
    title = f"{scenario.name}: {stem} of {metric if tornado else ', '.join(keys)}"
    _print(format, title, rows, keys, data)
    if out is not None:
        _write_reports(out, stem, sheets, data, lambda f: _whatif_charts(result, metric, f))
    raise typer.Exit(EXIT_OK if all(p.get("feasible") for p in rows) else EXIT_NO_PLAN)


def frontier(
    scenario_file: ScenarioArg,
    start: FromOpt = None,
    stop: ToOpt = None,
    points: PointsOpt = 16,
    objective: ObjectiveOpt = FrontierObjective.max_gmv,
    out: FolderOpt = None,
    format: FormatOpt = OutputFormat.table,
    workers: WorkersOpt = 1,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
    set: SetOpt = None,
) -> None:
    """GMV, profit and ROAS of the best plan at each total budget (the efficient frontier).

    Marks the budget where the return on extra money (marginal ROAS: GMV per extra yuan spent
    between neighbouring budgets) falls below 1 and below the scenario's ROAS floor.
    Exit code 0 when some budget has a plan keeping every rule, 1 when none has.
    Example: budgetopt frontier scenarios/annual_2026.yaml --from 60e6 --to 200e6 --out frontier/
    (--set changes apply to the scenario first.)
    """
    _check_folder(out)
    scenario = with_sets(load(scenario_file), set)
    options = _options(solver, tolerance, time_limit)
    budgets = _checked(lambda: frontier_budgets(scenario, start, stop, points))

    def run() -> Frontier:
        with _progress("frontier") as progress:
            return whatif.frontier(scenario, budgets, objective.value, options, workers, progress)

    result = _checked(run)
    sheets = report_sheets(result)
    rows = sheets["frontier"]
    data = to_json_data(result)
    notes = [*result.notes, _falloff_line(result)]
    title = f"{scenario.name}: frontier ({objective.value})"
    _print(format, title, rows, ["budget_total_cny"], data, notes)
    if out is not None:
        _write_reports(out, "frontier", sheets, data, lambda f: _whatif_charts(result, "", f))
    raise typer.Exit(EXIT_OK if any(r["feasible"] for r in rows) else EXIT_NO_PLAN)


def _vary(text: str) -> Vary:
    """One --vary option as a Vary; exit 2 naming the option when it cannot be read."""
    try:
        return parse_vary(text)
    except ValueError as exc:
        fail(f"--vary {text}: {exc}", EXIT_BAD_INPUT)


@contextmanager
def _progress(label: str) -> Iterator[PointProgress]:
    """A progress bar on stderr: points solved out of the total."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _options(
    solver: SolverName | None, tolerance: float | None, time_limit: float | None
) -> SolveOptions:
    name = solver_value(solver)
    check_solver(name)
    return SolveOptions(name, tolerance, time_limit)


def _check_folder(out: Path | None) -> None:
    """Refuse an --out that is a file before any solving starts."""
    if out is not None and out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a folder", EXIT_BAD_INPUT)


def _checked(build: Callable[[], T], varies: Sequence[str] = ()) -> T:
    """Run ``build``; a ScenarioError (a bad option or value) exits with code 2."""
    try:
        return build()
    except RequestError as exc:
        lines = [_by_flag(p, varies) for p in exc.problems]
        shown = (
            lines[0]
            if len(lines) == 1
            else "invalid options\n" + "\n".join(f"  - {x}" for x in lines)
        )
        fail(shown, EXIT_BAD_INPUT)
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def _by_flag(problem: FieldProblem, varies: Sequence[str]) -> str:
    """A request problem named by the option that set the field: vary[1].path -> --vary TEXT."""
    field = problem.path.partition(".")[0]
    index = re.fullmatch(r"vary\[(\d+)\]", field)
    if index and int(index[1]) < len(varies):
        where = f"--vary {varies[int(index[1])]}"
    else:
        where = FLAGS.get(field, problem.path)
    message = re.sub(r"\b(from_cny|to_cny)\b", lambda m: FLAGS[m[0]], problem.message)
    return f"{where}: {message}"


def _print(
    fmt: OutputFormat,
    title: str,
    rows: Rows,
    keys: Sequence[str],
    data: dict[str, Any],
    notes: Sequence[str] = (),
) -> None:
    if fmt is OutputFormat.json:
        write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", None)
    elif fmt is OutputFormat.csv:
        write_output(to_csv_text(rows), None)
    else:
        write_output(to_table_text(title, rows, keys, notes), None)


def _write_reports(
    out: Path,
    stem: str,
    sheets: dict[str, Rows],
    data: dict[str, Any],
    pictures: Callable[[Path], list[Path]],
) -> None:
    """OUT/stem.csv (the first sheet), stem.json, stem.xlsx with the charts, and the PNGs."""
    from optimizer.outputs.excel import tables_xlsx

    first = next(iter(sheets.values()))
    try:
        out.mkdir(parents=True, exist_ok=True)
        images = pictures(out)
        files = {
            f"{stem}.csv": to_csv_text(first).encode("utf-8"),
            f"{stem}.json": (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(),
            f"{stem}.xlsx": tables_xlsx(sheets, images),
        }
        for name, content in files.items():
            (out / name).write_bytes(content)
    except OSError as exc:
        fail(f"cannot write the reports in {out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    written = ", ".join([*files, *(p.name for p in images)])
    typer.echo(f"wrote {written} in {out}", err=True)


def _whatif_charts(result: WhatIf, metric: str, folder: Path) -> list[Path]:
    from optimizer.outputs.charts import frontier_png, sweep_png, tornado_png

    if isinstance(result, Tornado):
        return [tornado_png(result, folder / "tornado.png")]
    if isinstance(result, Frontier):
        return [frontier_png(result, folder / "frontier.png")]
    return [sweep_png(result, metric, folder / "sweep.png")]


def _falloff_line(result: Frontier) -> str:
    def below(name: str, budget: float | None) -> str:
        if budget is None:
            return f"does not fall below {name} within the budgets tried"
        return f"falls below {name} at a total budget of {budget:,.0f} CNY"

    line = "marginal ROAS " + below("1", result.below_one_cny)
    if result.roas_floor is not None:
        line += "; it " + below(f"the ROAS floor {result.roas_floor:g}", result.below_floor_cny)
    return line

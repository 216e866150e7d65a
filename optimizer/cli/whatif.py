"""budgetopt sweep, frontier and compare: the planners' what-if commands.

Registered on the ``budgetopt`` app by ``optimizer.cli.main``; exit codes are the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from optimizer.analysis import whatif
from optimizer.analysis.batch import stored_plan
from optimizer.analysis.compare import side_by_side
from optimizer.analysis.whatif import SolveOptions, budget_range, default_budgets, parse_vary
from optimizer.cli.main import (
    EXIT_BAD_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    FormatOpt,
    OutputFormat,
    ScenarioArg,
    SolverOpt,
    TimeLimitOpt,
    ToleranceOpt,
    _emit,
    _fail,
    _load,
    _solve,
    app,
    check_solver,
)
from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_allocation, read_text
from optimizer.outputs.comparison import comparison_rows, comparison_table
from optimizer.outputs.whatif_rows import report_sheets, to_csv_text, to_table_text
from optimizer.planner import compare as gap_to
from optimizer.planner import score
from optimizer.results.plan import Plan
from optimizer.results.whatif import Frontier, Sweep, Tornado, to_json_data
from optimizer.schema.scenario import Scenario

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


class Objective(StrEnum):
    """Objectives a frontier can be drawn for."""

    max_gmv = "max_gmv"
    max_profit = "max_profit"
    max_new_customers = "max_new_customers"


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr: points solved out of the total."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _options(solver: Any, tolerance: float | None, time_limit: float | None) -> SolveOptions:
    name = solver.value if solver else None
    check_solver(name)
    return SolveOptions(name, tolerance, time_limit)


def _check_folder(out: Path | None) -> None:
    """Refuse an --out that is a file before any solving starts."""
    if out is not None and out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file, not a folder", EXIT_BAD_INPUT)


def _checked(build: Callable[[], Any]) -> Any:
    """Run ``build``; a ScenarioError (a bad option or value) exits with code 2."""
    try:
        return build()
    except ScenarioError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)


def _write_reports(
    out: Path,
    stem: str,
    sheets: dict[str, list[dict[str, Any]]],
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
        _fail(f"cannot write the reports in {out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
        raise
    written = ", ".join([*files, *(p.name for p in images)])
    typer.echo(f"wrote {written} in {out}", err=True)


def _print(
    fmt: OutputFormat,
    title: str,
    rows: list[dict[str, Any]],
    keys: Sequence[str],
    data: dict[str, Any],
    notes: Sequence[str] = (),
) -> None:
    if fmt is OutputFormat.json:
        _emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", None)
    elif fmt is OutputFormat.csv:
        _emit(to_csv_text(rows), None)
    else:
        _emit(to_table_text(title, rows, keys, notes), None)


def _exit_for(points: Sequence[dict[str, Any]]) -> None:
    """0 when every point has a plan that keeps the rules, 1 otherwise."""
    raise typer.Exit(EXIT_OK if all(p.get("feasible") for p in points) else EXIT_NO_PLAN)


@app.command()
def sweep(
    scenario_file: ScenarioArg,
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            "-v",
            help="PATH=START:STOP:COUNT (evenly spaced) or PATH=V1,V2,...; repeat for a grid. "
            "PATH is a field by its dotted path, items picked by id or period: budget.total_cny, "
            r"channels\[live_traffic].cpm.base_cny, channels\[kol].tiers\[head].commission_rate, "
            r"rules\[roas_floor].min_roas, seasonality\[Q4].",
        ),
    ],
    tornado: Annotated[
        bool,
        typer.Option(
            "--tornado",
            help="One at a time: move each field alone (the rest as given) and rank the "
            "fields by the swing they cause in --metric.",
        ),
    ] = False,
    metric: Annotated[
        str, typer.Option(help="What the tornado ranks by and the chart shows.")
    ] = "objective_value",
    out: FolderOpt = None,
    format: FormatOpt = OutputFormat.table,
    workers: WorkersOpt = 1,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Plan the scenario at every combination of field values (or one field at a time).

    Example: budgetopt sweep scenarios/annual_2026.yaml --vary budget.total_cny=100e6:160e6:7
    --vary rules\\[kol_share].max_share=0.3,0.35 --out sweep/
    Exit code 0 when every point has a plan keeping every rule, 1 otherwise.
    """
    _check_folder(out)
    scenario = _load(scenario_file)
    options = _options(solver, tolerance, time_limit)
    varies = [_checked(lambda v=v: parse_vary(v)) for v in vary]
    with _progress("tornado" if tornado else "sweep") as progress:
        if tornado:
            result: Sweep | Tornado = _checked(
                lambda: whatif.tornado(scenario, varies, metric, options, workers, progress)
            )
        else:
            result = _checked(lambda: whatif.sweep(scenario, varies, options, workers, progress))
    sheets = report_sheets(result)
    ((stem, rows),) = sheets.items()
    keys = ["field", "value"] if isinstance(result, Tornado) else [v.path for v in varies]
    data = to_json_data(result)
    title = f"{scenario.name}: {stem} of {metric if tornado else ', '.join(keys)}"
    _print(format, title, rows, keys, data)
    if out is not None:
        _write_reports(out, stem, sheets, data, lambda f: _whatif_charts(result, metric, f))
    _exit_for(rows)


def _whatif_charts(result: Sweep | Tornado | Frontier, metric: str, folder: Path) -> list[Path]:
    from optimizer.outputs.charts import frontier_png, sweep_png, tornado_png

    if isinstance(result, Tornado):
        return [tornado_png(result, folder / "tornado.png")]
    if isinstance(result, Frontier):
        return [frontier_png(result, folder / "frontier.png")]
    return [sweep_png(result, metric, folder / "sweep.png")]


@app.command()
def frontier(
    scenario_file: ScenarioArg,
    start: Annotated[
        float | None,
        typer.Option(
            "--from", min=0, help="Lowest total budget, CNY (default: half the scenario's)."
        ),
    ] = None,
    stop: Annotated[
        float | None,
        typer.Option(
            "--to", min=0, help="Highest total budget, CNY (default: twice the scenario's)."
        ),
    ] = None,
    points: Annotated[int, typer.Option(min=2, max=200, help="Budgets from --from to --to.")] = 16,
    objective: Annotated[
        Objective, typer.Option(help="What each budget's plan maximises.")
    ] = Objective.max_gmv,
    out: FolderOpt = None,
    format: FormatOpt = OutputFormat.table,
    workers: WorkersOpt = 1,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """GMV, profit and ROAS of the best plan at each total budget (the efficient frontier).

    Marks the budget where the return on extra money (marginal ROAS: GMV per extra yuan spent
    between neighbouring budgets) falls below 1 and below the scenario's ROAS floor.
    Exit code 0 when some budget has a plan keeping every rule, 1 when none has.
    Example: budgetopt frontier scenarios/annual_2026.yaml --from 60e6 --to 200e6 --out frontier/
    """
    _check_folder(out)
    scenario = _load(scenario_file)
    options = _options(solver, tolerance, time_limit)
    defaults = default_budgets(scenario, points)
    low = start if start is not None else defaults[0]
    high = stop if stop is not None else defaults[-1]
    if high <= low:
        _fail(f"--to {high:,.0f} must be above --from {low:,.0f}", EXIT_BAD_INPUT)
    budgets = budget_range(low, high, points)

    def run() -> Frontier:
        with _progress("frontier") as progress:
            return whatif.frontier(scenario, budgets, objective.value, options, workers, progress)

    result: Frontier = _checked(run)
    sheets = report_sheets(result)
    rows = sheets["frontier"]
    data = to_json_data(result)
    notes = [*result.notes, _falloff_line(result)]
    title = f"{scenario.name}: frontier ({objective.value})"
    _print(format, title, rows, ["budget_total_cny"], data, notes)
    if out is not None:
        _write_reports(out, "frontier", sheets, data, lambda f: _whatif_charts(result, "", f))
    raise typer.Exit(EXIT_OK if any(r["feasible"] for r in rows) else EXIT_NO_PLAN)


def _falloff_line(result: Frontier) -> str:
    def at(budget: float | None) -> str:
        return "not within the budgets tried" if budget is None else f"{budget:,.0f} CNY"

    line = f"marginal ROAS falls below 1 at a total budget of {at(result.below_one_cny)}"
    if result.roas_floor is not None:
        line += f"; below the ROAS floor {result.roas_floor:g} at {at(result.below_floor_cny)}"
    return line


# --- compare -----------------------------------------------------------------------------------


class CompareFormat(StrEnum):
    """Output formats of compare."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def compare(
    items: Annotated[
        list[Path],
        typer.Argument(
            help="Plans (JSON from plan --format json or a batch's plans/*.json) or scenario "
            "files (YAML, JSON, XLSX: planned now). The first is the baseline."
        ),
    ],
    split: Annotated[
        list[Path] | None,
        typer.Option(
            help="A hand-made split (CSV: unit, period, spend_cny) scored on the one scenario "
            "given and compared with its optimum; repeat for several."
        ),
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option(help="Names for the items, in order (default: file names).")
    ] = None,
    format: Annotated[
        CompareFormat, typer.Option("--format", "-f", help="Output format (xlsx needs --out).")
    ] = CompareFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    solver: SolverOpt = None,
) -> None:
    """Side by side: totals, per-channel and per-period metrics, deltas to the first item.

    Example: budgetopt compare scenarios/annual_2026.yaml --split my_split.csv
    """
    check_solver(solver.value if solver else None)
    plans, names, scenarios = _compare_items(items, solver)
    for path in split or []:
        if len(scenarios) != 1:
            _fail(
                f"--split needs exactly one scenario file among the items, got {len(scenarios)}",
                EXIT_BAD_INPUT,
            )
        scenario, optimum = scenarios[0]
        try:
            scored = score(scenario, load_allocation(path), source=str(path))
        except ScenarioError as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
            raise
        maximise = scenario.objective.kind != "min_spend"
        plans.append(gap_to(scored, optimum, maximise=maximise))
        names.append(path.stem)
    if len(plans) < 2:
        _fail("compare needs two or more items (plans, scenarios or --split files)", EXIT_BAD_INPUT)
    labels = _labels(names, label or [])
    data = side_by_side(plans, labels)
    rows = comparison_rows(data)
    if format is CompareFormat.xlsx:
        _compare_xlsx(plans, labels, data, rows, out)
        return
    if format is CompareFormat.json:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif format is CompareFormat.csv:
        text = to_csv_text(rows)
    else:
        text = comparison_table(data)
    _emit(text, out)


def _compare_items(
    items: list[Path], solver: Any
) -> tuple[list[Plan], list[str], list[tuple[Scenario, Plan]]]:
    plans: list[Plan] = []
    names: list[str] = []
    scenarios: list[tuple[Scenario, Plan]] = []
    for path in items:
        plan = _stored_plan(path)
        if plan is None:
            scenario = _load(path)
            plan = _solve(scenario, solver, None, None)
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
        _fail(f"{path}: not a plan this version can read ({exc})", EXIT_BAD_INPUT)
        raise


def _labels(names: list[str], given: list[str]) -> list[str]:
    """Given labels first, then file names made unique with a number."""
    if len(given) > len(names):
        _fail(f"{len(given)} --label values for {len(names)} items", EXIT_BAD_INPUT)
    labels = [*given, *names[len(given) :]]
    seen: dict[str, int] = {}
    unique = []
    for text in labels:
        seen[text] = seen.get(text, 0) + 1
        unique.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return unique


def _compare_xlsx(
    plans: list[Plan],
    labels: list[str],
    data: dict[str, Any],
    rows: list[dict[str, Any]],
    out: Path | None,
) -> None:
    from optimizer.outputs.charts import compare_png
    from optimizer.outputs.excel import tables_xlsx

    if out is None:
        _fail("--format xlsx needs --out FILE.xlsx", EXIT_BAD_INPUT)
        return
    picture = compare_png(plans, labels, out.with_suffix(".png"))
    content = tables_xlsx({"compare": rows, "plans": data["plans"]}, [picture])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    typer.echo(f"wrote {out} and {picture}", err=True)

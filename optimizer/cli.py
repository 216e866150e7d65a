"""budgetopt command line: plan, evaluate and validate scenario files.

Exit codes: 0 a plan was found (or the file is valid, or the split keeps every rule),
1 no plan satisfies the rules (infeasible, or no plan within the time limit) or the
evaluated split breaks a rule, 2 bad input (file, field, option), 3 the solver itself failed.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from optimizer.errors import ScenarioError, SolverFailedError, SolverUnavailableError
from optimizer.io import load_allocation, load_scenario
from optimizer.plan import Plan
from optimizer.planner import compare, score
from optimizer.planner import plan as make_plan
from optimizer.report import to_csv, to_json, to_table
from optimizer.scenario import Scenario
from optimizer.solvers import available_solvers

if TYPE_CHECKING:
    from optimizer.batch import Options

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


class PlanFormat(StrEnum):
    """Output formats of plan: the text ones, and an Excel workbook with charts."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class SolverName(StrEnum):
    """Backends selectable on the command line."""

    highs = "highs"
    cbc = "cbc"
    highs_direct = "highs-direct"
    lp = "lp"
    nlp = "nlp"
    auto = "auto"


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


def check_solver(name: str | None) -> None:
    """Exit with code 2 when an LP backend is named that this machine does not have."""
    if name in (None, "lp", "nlp", "auto"):
        return
    if name not in available_solvers():
        available = ", ".join(available_solvers()) or "none"
        _fail(f"solver '{name}' is not available here; available: {available}", EXIT_BAD_INPUT)


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
    format: Annotated[
        PlanFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output format; xlsx (needs --out) embeds the allocation and response-curve "
            "charts, also written as PNGs next to it.",
        ),
    ] = PlanFormat.table,
    out: OutOpt = None,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Find the best allocation: spend by channel and period, metrics, rules and their slack."""
    if format is PlanFormat.xlsx and out is None:
        _fail("--format xlsx needs --out FILE.xlsx", EXIT_BAD_INPUT)
    scenario = _load(scenario_file)
    result = _solve(scenario, solver, tolerance, time_limit)
    if format is PlanFormat.xlsx:
        assert out is not None
        _write_workbook(scenario, result, out)
    else:
        _emit(_render(result, OutputFormat(format.value)), out)
    raise typer.Exit(EXIT_OK if result.total is not None else EXIT_NO_PLAN)


def _write_workbook(scenario: Scenario, plan: Plan, out: Path) -> None:
    """The plan workbook, with its charts as PNGs next to it (OUT-allocation.png, ...)."""
    from optimizer.batch import chart_paths, draw_charts
    from optimizer.excel import to_xlsx

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
        _fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    typer.echo(f"wrote {', '.join(map(str, [out, *pictures]))}", err=True)


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
def batch(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario files or folders (searched for .yaml, .yml, .json and .xlsx "
            "input workbooks like scenarios/template.xlsx)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports.")],
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="Local worker processes (default: CPU count).")
    ] = os.cpu_count() or 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://HOST:PORT): run there instead of locally. "
            "Workers must see the scenario files and --out."
        ),
    ] = None,
    charts: Annotated[
        bool,
        typer.Option(
            "--charts/--no-charts",
            help="Draw each plan's allocation and response-curve PNGs (embedded in summary.xlsx).",
        ),
    ] = True,
    solver: SolverOpt = None,
    tolerance: ToleranceOpt = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Plan every scenario file: summary.csv, summary.xlsx, plans/*.json, charts/*.png.

    A broken file becomes an error row and the rest go on. A rerun reuses every plan already
    in OUT/plans (keyed by scenario fingerprint), so a stopped batch resumes where it was.
    Exit code 0 when every file has a plan, 1 when some file failed or has none.
    """
    from optimizer.batch import Options, discover

    missing = [p for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(map(str, missing))}", EXIT_BAD_INPUT)
    files = discover(paths, exclude=out)
    if not files:
        _fail("no scenario files (.yaml, .yml, .json, .xlsx) found", EXIT_BAD_INPUT)
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file, not a folder", EXIT_BAD_INPUT)
    out.mkdir(parents=True, exist_ok=True)
    options = Options(solver.value if solver else None, tolerance, time_limit, charts)
    rows = _run_batch(files, out, options, workers, scheduler)
    _write_batch_reports(rows, out, charts)
    failed = [r for r in rows if r["status"] == "error"]
    no_plan = [r for r in rows if r["status"] != "error" and r["spend_cny"] is None]
    reused = sum(1 for r in rows if r.get("reused"))
    typer.echo(
        f"{len(rows)} files: {len(rows) - len(failed) - len(no_plan)} planned "
        f"({reused} reused from an earlier run), {len(no_plan)} without a plan, "
        f"{len(failed)} failed; reports in {out}",
        err=True,
    )
    for row in failed:
        reason = str(row["error"]).splitlines()
        typer.echo(f"  {reason[0]}{' ' + reason[1].strip() if len(reason) > 1 else ''}", err=True)
    raise typer.Exit(EXIT_OK if not failed and not no_plan else EXIT_NO_PLAN)


def _run_batch(
    files: list[Path], out: Path, options: Options, workers: int, scheduler: str | None
) -> list[dict[str, Any]]:
    """Run with a progress bar (files done, failed, remaining); rows sorted by file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from optimizer.batch import run_dask, run_local

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    counts = {"failed": 0}
    rows: list[dict[str, Any]] = []
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("planning", total=len(files))

        def done(row: dict[str, Any]) -> None:
            counts["failed"] += row["status"] == "error"
            remaining = len(files) - len(rows) - 1
            bar.update(
                task,
                advance=1,
                description=f"planning: {counts['failed']} failed, {remaining} remaining",
            )

        try:
            if scheduler:
                rows.extend(run_dask(files, out, options, scheduler, done))
            else:
                rows.extend(run_local(files, out, options, min(workers, len(files)), done))
        except OSError as exc:
            _fail(f"cannot reach the Dask scheduler {scheduler}: {exc}", EXIT_BAD_INPUT)
    return sorted(rows, key=lambda r: r["file"])


def _write_batch_reports(rows: list[dict[str, Any]], out: Path, charts: bool) -> None:
    """summary.csv, and summary.xlsx with the stored plans and the charts the workers drew."""
    from optimizer.batch import SUMMARY_COLUMNS, chart_paths, stored_plan, write_summary_csv
    from optimizer.excel import batch_xlsx

    write_summary_csv(rows, out / "summary.csv")
    plans: dict[str, Plan] = {}
    pictures: dict[str, list[Path]] = {}
    for row in rows:
        if row["status"] == "error" or row["fingerprint"] in plans:
            continue
        data = json.loads((out / row["result"]).read_text(encoding="utf-8"))
        plans[row["fingerprint"]] = stored_plan(data)
        if charts:
            found = chart_paths(out / "charts", row["fingerprint"])
            pictures[row["fingerprint"]] = [p for p in found if p.exists()]
    (out / "summary.xlsx").write_bytes(batch_xlsx(rows, SUMMARY_COLUMNS, plans, pictures))


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


# The what-if commands (sweep, frontier, compare) live in their own module; importing it
# registers them on ``app``.
from optimizer import cli_whatif as _whatif_commands  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

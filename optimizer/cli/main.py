"""budgetopt command line: plan, evaluate and validate scenario files.

Exit codes: 0 a plan was found (or the file is valid, or the split keeps every rule),
1 no plan satisfies the rules (infeasible, or no plan within the time limit) or the
evaluated split breaks a rule, 2 bad input (file, field, option), 3 the solver itself failed.

Standard output is for data only. The console script runs through :func:`run_guarded`, which
keeps a private copy of the real stdout for :func:`emit_data` and points descriptor 1 (and,
while a command runs, ``sys.stdout``) at stderr: a solver banner or a library's print can then
never end up in a JSON or CSV that is piped on.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import click
import typer
from rich.console import Console

from optimizer.core.solvers import available_solvers
from optimizer.core.solvers.output import is_verbose, set_verbose
from optimizer.errors import ScenarioError, SolverFailedError, SolverUnavailableError
from optimizer.inputs.files import load_allocation, load_scenario
from optimizer.outputs.text import to_csv, to_table
from optimizer.planner import compare, score
from optimizer.planner import plan as make_plan
from optimizer.results.plan import Plan, package_version
from optimizer.results.serialise import to_json
from optimizer.schema.scenario import Scenario

if TYPE_CHECKING:
    from optimizer.analysis.batch import Options

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


# --- standard output is for data ---------------------------------------------------------------

_data: TextIO | None = None  # the real stdout, kept by run_guarded for emit_data only


def emit_data(text: str) -> None:
    """Write a command's data output: to the real stdout kept by run_guarded, else sys.stdout."""
    stream = _data if _data is not None else sys.stdout
    stream.write(text)
    stream.flush()


def run_guarded(typer_app: typer.Typer) -> None:
    """Run the command line with stdout reserved for emit_data (console-script entry points).

    Descriptor 1 is pointed at stderr for the whole run, so C libraries and child processes
    write their output there; ``sys.stdout`` is the data stream while click parses the
    arguments (help and --version are output too) and stderr while a command runs.
    """
    command = typer.main.get_command(typer_app)
    if _keep_stdout():
        _prints_to_stderr(command)
    command()


def _keep_stdout() -> bool:
    """Duplicate descriptor 1 for data, then point descriptor 1 at stderr (once)."""
    global _data
    if _data is not None:
        return True
    try:
        sys.stdout.flush()
        encoding, errors = sys.stdout.encoding, sys.stdout.errors
        data = os.dup(1)
    except (AttributeError, OSError, ValueError):
        return False  # no stdout (closed or replaced): nothing to guard
    _data = open(data, "w", encoding=encoding, errors=errors)  # noqa: SIM115 (lives till exit)
    os.dup2(2, 1)
    sys.stdout = _data
    return True


def _prints_to_stderr(command: click.Command) -> None:
    """Wrap every callback of the command tree so that ``sys.stdout`` is stderr while it runs."""
    if command.callback is not None:
        command.callback = _on_stderr(command.callback)
    for sub in getattr(command, "commands", {}).values():
        _prints_to_stderr(sub)


def _on_stderr(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        saved, sys.stdout = sys.stdout, sys.stderr
        try:
            return callback(*args, **kwargs)
        finally:
            sys.stdout = saved

    return run


def versions() -> list[str]:
    """budgetopt's version, then those of the solver libraries it can use, one line each."""
    usable = set(available_solvers())

    def solvers(names: tuple[str, ...]) -> str:
        found = [n for n in names if n in usable]
        label = "solver" if len(found) == 1 else "solvers"
        return f"{label} {', '.join(found)}" if found else "not usable here"

    lines = [f"budgetopt {package_version()}"]
    highspy = _version("highspy")
    if highspy is None:
        lines.append("highspy not installed (solvers highs, highs-direct unavailable)")
    else:
        lines.append(
            f"highspy {highspy} (HiGHS {_highs_version()}; {solvers(('highs', 'highs-direct'))})"
        )
    pulp = _version("pulp")
    lines.append(
        "PuLP not installed (solvers highs, cbc unavailable)"
        if pulp is None
        else f"PuLP {pulp} ({solvers(('highs', 'cbc'))})"
    )
    lines.append(_cbc_line("cbc" in usable))
    scipy = _version("scipy")
    lines.append(f"scipy {scipy} (method nlp)" if scipy else "scipy not installed (no method nlp)")
    return lines


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _highs_version() -> str:
    import highspy

    parts = ("HIGHS_VERSION_MAJOR", "HIGHS_VERSION_MINOR", "HIGHS_VERSION_PATCH")
    numbers = [getattr(highspy, name, None) for name in parts]
    return ".".join(map(str, numbers)) if None not in numbers else "version unknown"


def _cbc_line(usable: bool) -> str:
    """The CBC binary the cbc solver runs: PuLP's bundled one, else cbcbox's."""
    try:
        from optimizer.core.solvers.pulp_cbc import _command

        path = _command(msg=False).path
    except Exception:  # PuLP missing or broken: say so rather than fail --version
        path = None
    if not usable or not path:
        return "CBC not found (solver cbc unavailable)"
    source = "bundled with PuLP" if "cbcbox" not in str(path) else f"cbcbox {_version('cbcbox')}"
    return f"CBC {_cbc_version(str(path))} ({source}; solver cbc)"


def _cbc_version(path: str) -> str:
    """'2.10.3' from the binary's banner ('devel (git:...)' for cbcbox's builds)."""
    try:
        banner = subprocess.run(
            [path, "-quit"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "version unknown"
    for line in banner.splitlines():
        if line.strip().startswith("Version:"):
            return line.split(":", 1)[1].strip()
        if line.startswith("CBC "):
            return line.split("—")[0].removeprefix("CBC ").strip()
    return "version unknown"


def _show_version(value: bool) -> None:
    if value:
        emit_data("".join(f"{line}\n" for line in versions()))
        raise typer.Exit(EXIT_OK)


@app.callback()
def _global_options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Solver logs on stderr (by default they are discarded); stdout stays data only.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the versions of budgetopt and of the solvers it can use, and exit.",
        ),
    ] = False,
) -> None:
    set_verbose(verbose)


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
        return to_json(plan)
    if fmt is OutputFormat.csv:
        return to_csv(plan)
    return to_table(plan)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        emit_data(text)
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
    except ScenarioError as exc:  # validation refuses such numbers first: a last guard
        _fail(str(exc), EXIT_BAD_INPUT)
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
    from optimizer.analysis.batch import chart_paths, draw_charts
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

    A broken file becomes an error row and the rest go on; JSON Schemas (*.schema.json) are
    skipped. A rerun reuses every plan already in OUT/plans (keyed by scenario fingerprint), so
    a stopped batch resumes where it was. Nothing is written to stdout: the reports are the
    output, progress and the summary line go to stderr.
    Exit code 0 when every file has a plan, 1 when some file failed or has none.
    """
    from optimizer.analysis.batch import Options, discover

    missing = [p for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(map(str, missing))}", EXIT_BAD_INPUT)
    files = discover(paths, exclude=out, on_skip=_skipped)
    if not files:
        _fail("no scenario files (.yaml, .yml, .json, .xlsx) found", EXIT_BAD_INPUT)
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file, not a folder", EXIT_BAD_INPUT)
    out.mkdir(parents=True, exist_ok=True)
    name = solver.value if solver else None
    options = Options(name, tolerance, time_limit, charts, verbose=is_verbose())
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


def _skipped(path: Path, reason: str) -> None:
    typer.echo(f"skipped {path}: {reason}", err=True)


def _run_batch(
    files: list[Path], out: Path, options: Options, workers: int, scheduler: str | None
) -> list[dict[str, Any]]:
    """Run with a progress bar (files done, failed, remaining); rows sorted by file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from optimizer.analysis.batch import run_dask, run_local

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
    from optimizer.analysis.batch import (
        SUMMARY_COLUMNS,
        chart_paths,
        stored_plan,
        write_summary_csv,
    )
    from optimizer.outputs.excel import batch_xlsx

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
    emit_data(
        f"{scenario_file}: valid ({len(scenario.channels)} channels, {len(scenario.periods)} "
        f"periods, {len(scenario.rules)} rules)\n"
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
from optimizer.cli import whatif as _whatif_commands  # noqa: E402, F401


def main() -> None:
    """Entry point of ``python -m optimizer.cli.main`` (the console script is api.cli.main)."""
    run_guarded(app)


if __name__ == "__main__":
    # As a script this file is __main__, a second copy of optimizer.cli.main; the what-if commands
    # register on the app of the imported module, so run that one.
    from optimizer.cli.main import main as _main

    _main()

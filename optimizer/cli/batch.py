"""budgetopt batch: every scenario file of some folders, planned in parallel, resumable.

Nothing goes to stdout: the reports in --out are the output; progress, skipped files and the
summary line go to stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from optimizer.analysis.batch import (
    SUMMARY_COLUMNS,
    BatchOptions,
    discover,
    run_dask,
    run_local,
    write_summary_csv,
)
from optimizer.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    SolverOpt,
    TimeLimitOpt,
    ToleranceOpt,
    fail,
    solver_value,
)
from optimizer.core.solvers.output import is_verbose
from optimizer.results.plan import Plan
from optimizer.results.serialise import stored_plan

Row = dict[str, Any]
CPU_COUNT = os.cpu_count() or 1  # the default number of local worker processes
PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Scenario files or folders (searched for .yaml, .yml, .json and .xlsx "
        "input workbooks like scenarios/template.xlsx)."
    ),
]
FolderOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports.")]
WorkersOpt = Annotated[
    int, typer.Option(min=1, max=256, help="Local worker processes (default: CPU count).")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="Dask scheduler address (tcp://HOST:PORT): run there instead of locally. "
        "Workers must see the scenario files and --out."
    ),
]
ChartsOpt = Annotated[
    bool,
    typer.Option(
        "--charts/--no-charts",
        help="Draw each plan's allocation and response-curve PNGs (embedded in summary.xlsx).",
    ),
]


def batch(
    paths: PathsArg,
    out: FolderOpt,
    workers: WorkersOpt = CPU_COUNT,
    scheduler: SchedulerOpt = None,
    charts: ChartsOpt = True,
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
    files = _scenario_files(paths, out)
    options = BatchOptions(
        solver_value(solver), tolerance, time_limit, charts, verbose=is_verbose()
    )
    rows = _run_batch(files, out, options, workers, scheduler)
    _write_batch_reports(rows, out, charts)
    raise typer.Exit(EXIT_OK if _say_summary(rows, out) else EXIT_NO_PLAN)


def _scenario_files(paths: list[Path], out: Path) -> list[Path]:
    """The files to plan, after checking the arguments; creates the --out folder."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(map(str, missing))}", EXIT_BAD_INPUT)
    files = discover(paths, exclude=out, on_skip=_skipped)
    if not files:
        fail("no scenario files (.yaml, .yml, .json, .xlsx) found", EXIT_BAD_INPUT)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a folder", EXIT_BAD_INPUT)
    out.mkdir(parents=True, exist_ok=True)
    return files


def _skipped(path: Path, reason: str) -> None:
    typer.echo(f"skipped {path}: {reason}", err=True)


def _say_summary(rows: list[Row], out: Path) -> bool:
    """The summary line and each failure's reason on stderr; True when every file has a plan."""
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
    return not failed and not no_plan


def _run_batch(
    files: list[Path], out: Path, options: BatchOptions, workers: int, scheduler: str | None
) -> list[Row]:
    """Run with a progress bar (files done, failed, remaining); rows sorted by file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    counts = {"failed": 0}
    rows: list[Row] = []
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("planning", total=len(files))

        def done(row: Row) -> None:
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
            fail(f"cannot reach the Dask scheduler {scheduler}: {exc}", EXIT_BAD_INPUT)
    return sorted(rows, key=lambda r: r["file"])


def _write_batch_reports(rows: list[Row], out: Path, charts: bool) -> None:
    """summary.csv, and summary.xlsx with the stored plans and the charts the workers drew."""
    from optimizer.outputs.charts import chart_paths
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

"""Batch runs: every scenario file of some folders, solved in parallel, resumable, deterministic.

Each file becomes one summary row. A bad file becomes an error row with its reason and does not
stop the others. A solved plan is written to ``OUT/plans/<fingerprint>.json`` the moment it is
done (write to a temporary name, then rename), so a rerun after a crash finds it and does not
solve that scenario again. Outputs hold no timings or dates, so two runs of the same inputs
write the same bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.analysis.pool import process_pool
from optimizer.core.solvers.output import set_verbose
from optimizer.errors import OptimizerError
from optimizer.inputs.files import load_scenario
from optimizer.outputs.ranges import BAND_NAMES, total_band_values, weakest_rule
from optimizer.outputs.text import csv_value
from optimizer.planner import SolveOptions, effective_settings
from optimizer.planner import plan as solve
from optimizer.results.fingerprint import fingerprint
from optimizer.results.serialise import stored_plan, to_json

SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
SUMMARY_COLUMNS = (
    "file",
    "name",
    "fingerprint",
    "status",
    "feasible",
    "objective_kind",
    "objective_value",
    "budget_total_cny",
    "spend_cny",
    "gmv_cny",
    "roas",
    "cac_cny",
    "new_customers",
    "gross_profit_cny",
    "solver",
    "gap",
    "result",
    "error",
    "reason",  # why the row has no plan: the error, or the solver's verdict and diagnosis
    # with draws on the curves (empty without): the bands' cautious ends and the rule least
    # likely to hold over the draws
    *BAND_NAMES,
    "weakest_rule",
    "weakest_rule_probability",
)


@dataclass(frozen=True)
class BatchOptions(SolveOptions):
    """Solve options for every file of the batch (None: each scenario's own settings)."""

    charts: bool = False
    verbose: bool = False  # solver logs to stderr in the worker processes too (--verbose)


Skipped = Callable[[Path, str], None]


def discover(
    paths: Iterable[Path], exclude: Path | None = None, on_skip: Skipped | None = None
) -> list[Path]:
    """Scenario files among ``paths`` (folders searched recursively), sorted, each once.

    JSON Schemas (``*.schema.json``, or a JSON object with ``$schema``) are not scenarios:
    they are left out and, with ``on_skip``, reported as ``on_skip(path, reason)``.
    """
    found: set[Path] = set()
    skip = exclude.resolve() if exclude is not None else None
    paths = list(paths)
    for path in paths:
        if path.is_dir():
            candidates: Iterable[Path] = (p for p in path.rglob("*") if p.is_file())
        else:
            candidates = [path]
        for candidate in candidates:
            resolved = candidate.resolve()
            if skip is not None and resolved.is_relative_to(skip):
                continue
            if candidate.name.startswith("~$"):
                continue  # Excel's lock file next to an open workbook, not a scenario
            if candidate.suffix.lower() not in SUFFIXES and candidate not in paths:
                continue
            if candidate not in found and is_json_schema(candidate):
                if on_skip is not None:
                    on_skip(candidate, "a JSON Schema, not a scenario")
                continue
            found.add(candidate)
    return sorted(found, key=lambda p: str(p))


def is_json_schema(path: Path) -> bool:
    """True for a JSON Schema file: named *.schema.json, or a JSON object with ``$schema``.

    A scenario with ``$schema`` (an editor hint) but also ``channels`` stays a scenario, so its
    error row says what is wrong with it.
    """
    if path.suffix.lower() != ".json":
        return False
    if path.name.lower().endswith(".schema.json"):
        return True
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # a broken file is a broken scenario: its error row says why
    return isinstance(data, dict) and "$schema" in data and "channels" not in data


def run_file(path: str, out: str, options: BatchOptions) -> dict[str, Any]:
    """Solve one file (or reuse its stored plan) and return its summary row; never raises."""
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS, None)
    row["file"] = path
    if options.verbose:
        set_verbose(True)
    try:
        scenario = load_scenario(path)
        row["name"] = scenario.name
        run = effective_settings(scenario, options.solver, options.tolerance, options.time_limit_s)
        row["fingerprint"] = key = fingerprint(scenario, run)
        target = Path(out) / "plans" / f"{key}.json"
        row["result"] = f"plans/{key}.json"
        reused = target.exists()
        if reused:
            data = json.loads(target.read_text(encoding="utf-8"))
        else:
            plan = solve(
                scenario,
                solver=options.solver,
                tolerance=options.tolerance,
                time_limit_s=options.time_limit_s,
            )
            text = to_json(plan)
            _write_atomic(target, text)
            data = json.loads(text)
        if options.charts and data["total"] is not None:
            from optimizer.outputs.charts import draw_charts  # matplotlib only when drawing

            draw_charts(scenario, stored_plan(data), Path(out) / "charts", key)
        return {**_summary(row, data), "reused": reused}
    except OptimizerError as exc:
        row.update(status="error", error=str(exc), reason=str(exc))
    except Exception as exc:  # a broken file must not stop the batch: record why
        error = f"{type(exc).__name__}: {exc}"
        row.update(status="error", error=error, reason=error)
    return {**row, "reused": False}


def _write_atomic(target: Path, text: str) -> None:
    """Write to a temporary name, then rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)


def _summary(row: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    total = data.get("total") or {}
    solver = data.get("solver") or {}
    ranges = data.get("ranges")
    weakest, odds = weakest_rule(ranges)
    return {
        **row,
        "status": data["status"],
        "feasible": data["total"] is not None and all(r["holds"] for r in data["rules"]),
        "objective_kind": data["objective_kind"],
        "objective_value": data["objective_value"],
        "budget_total_cny": data["budget_total_cny"],
        "spend_cny": total.get("spend_cny"),
        "gmv_cny": total.get("gmv_cny"),
        "roas": total.get("roas"),
        "cac_cny": total.get("cac_cny"),
        "new_customers": total.get("new_customers"),
        "gross_profit_cny": data.get("gross_profit_cny"),
        "solver": solver.get("solver"),
        "gap": solver.get("gap"),
        "reason": _no_plan_reason(data),
        **total_band_values(ranges),
        "weakest_rule": weakest,
        "weakest_rule_probability": odds,
    }


def _no_plan_reason(data: dict[str, Any]) -> str | None:
    """Why a stored plan has no allocation: its message and diagnosis (None when it has one)."""
    if data.get("total") is not None:
        return None
    texts = [d.get("text") for d in data.get("diagnosis") or [] if isinstance(d, dict)]
    return "\n".join([data.get("message") or data["status"], *(t for t in texts if t)])


Done = Callable[[dict[str, Any]], None]


def run_local(
    files: list[Path], out: Path, options: BatchOptions, workers: int, on_done: Done
) -> Iterator[dict[str, Any]]:
    """Rows of every file, solved in ``workers`` processes, in completion order."""
    with process_pool(workers) as pool:
        futures = [pool.submit(run_file, str(f), str(out), options) for f in files]
        for future in as_completed(futures):
            row = future.result()
            on_done(row)
            yield row


def run_dask(
    files: list[Path], out: Path, options: BatchOptions, scheduler: str, on_done: Done
) -> Iterator[dict[str, Any]]:
    """Rows of every file, solved on a Dask cluster (workers must see ``out`` and the files)."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = client.map(
            run_file,
            [str(f.resolve()) for f in files],
            out=str(out.resolve()),
            options=options,
            pure=False,
        )
        shown = {str(f.resolve()): str(f) for f in files}
        for future in dask_completed(futures):
            row = future.result()
            row["file"] = shown.get(row["file"], row["file"])
            on_done(row)
            yield row


def write_summary_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Summary CSV (UTF-8 with BOM for Excel), one row per file, sorted by file."""
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_value(row.get(k)) for k in SUMMARY_COLUMNS})

"""budgetopt fit: response curves calibrated from a brand's weekly history, as a scenario file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from optimizer.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    GmvTargetOpt,
    GrossMarginOpt,
    ObjectiveKind,
    ObjectiveOpt,
    OutOpt,
    fail,
    write_output,
)
from optimizer.errors import ScenarioError
from optimizer.inputs.history import (
    DEFAULT_DRAWS,
    DEFAULT_MAX_LAG,
    FAMILIES,
    FitOptions,
    FittedHistory,
    fit_file,
)
from optimizer.inputs.mmm import DEFAULT_AOV_CNY, DEFAULT_WEEKS, ImportOptions
from optimizer.schema.draws import MAX_DRAWS
from optimizer.schema.scenario import MAX_PERIODS

HistoryArg = Annotated[
    Path,
    typer.Argument(
        help="Weekly history, CSV (UTF-8) or XLSX: week, channel, spend_cny, gmv_cny, and "
        'optionally impressions, new_customers, window; see README.md, "Fit curves".'
    ),
]


def fit_curves(
    history_file: HistoryArg,
    out: OutOpt = None,
    weeks: Annotated[
        int, typer.Option(min=1, max=MAX_PERIODS, help="Weeks the plan covers (W01, W02, ...).")
    ] = DEFAULT_WEEKS,
    periods: Annotated[
        str | None,
        typer.Option(
            help="Period names instead of --weeks, comma-separated; ISO weeks (2026-W01,...) "
            "place the plan in the calendar for the CPM trend and windows."
        ),
    ] = None,
    budget_cny: Annotated[
        float | None,
        typer.Option(
            min=0.01, help="Total budget, CNY (default: mean weekly spend of the history x weeks)."
        ),
    ] = None,
    aov_cny: Annotated[
        float,
        typer.Option(
            min=0.01,
            help=f"Average order value, CNY (orders and CAC); default {DEFAULT_AOV_CNY:g}.",
        ),
    ] = DEFAULT_AOV_CNY,
    objective: ObjectiveOpt = ObjectiveKind.max_gmv,  # type: ignore[attr-defined]
    gmv_target_cny: GmvTargetOpt = None,
    gross_margin: GrossMarginOpt = None,
    name: Annotated[str | None, typer.Option(help="Scenario name.")] = None,
    channels: Annotated[
        str | None,
        typer.Option(
            help="The channels the file must hold, comma-separated: a row of any other is an "
            "error (default: every channel in the file)."
        ),
    ] = None,
    families: Annotated[
        str,
        typer.Option(help="Curve families to compare, comma-separated (cross-validation picks)."),
    ] = ",".join(FAMILIES),
    adstock: Annotated[
        bool | None,
        typer.Option(
            "--adstock/--no-adstock",
            help="Only models with geometric carry-over / only without (default: both, "
            "cross-validation picks).",
        ),
    ] = None,
    max_lag: Annotated[
        int, typer.Option(min=1, max=52, help="Last lag of the geometric adstock, in weeks.")
    ] = DEFAULT_MAX_LAG,
    draws: Annotated[
        int,
        typer.Option(min=0, max=MAX_DRAWS, help="Bootstrap draws of the parameters (0: none)."),
    ] = DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = 0,
    report: Annotated[
        Path | None,
        typer.Option(help="Write the fit report (JSON) here; '-' for stdout (then -o is needed)."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Draw each channel's data, fitted curve and P10-P90 band (PNG)."),
    ] = None,
) -> None:
    """Fit each channel's response curve to its weekly history (Hill, logistic, exponential,
    Michaelis-Menten, with or without carry-over; picked by time-series cross-validation), with
    the CPM trend from impressions and bootstrap draws, as a scenario file.

    The YAML goes to stdout unless --out; the fit report to stderr.
    Example: budgetopt fit history.csv -o curves.yaml --report fit.json --plot fit.png
    """
    if report is not None and str(report) == "-" and out is None:
        fail("--report - writes the report to stdout: give --out for the scenario", EXIT_BAD_INPUT)
    chosen = tuple(f.strip() for f in families.split(",") if f.strip())
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown or not chosen:
        fail(f"--families: expected some of {', '.join(FAMILIES)}, got {families}", EXIT_BAD_INPUT)
    options = ImportOptions.with_periods(
        periods,
        weeks,
        budget_total_cny=budget_cny,
        aov_cny=aov_cny,
        objective=objective.value,
        gmv_target_cny=gmv_target_cny,
        gross_margin=gross_margin,
        name=name,
    )
    only = tuple(c.strip() for c in channels.split(",") if c.strip()) if channels else ()
    fit_options = FitOptions(chosen, adstock, max_lag, draws, seed, channels=only)
    started = time.perf_counter()
    try:
        fitted = fit_file(history_file, fit_options, options)
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    seconds = time.perf_counter() - started
    typer.echo(summary(fitted, seconds), err=True)
    if report is not None:
        text = json.dumps(fitted.report, indent=2, ensure_ascii=False) + "\n"
        write_output(text, None if str(report) == "-" else report)
    if plot is not None:
        from optimizer.outputs.fit_chart import fit_png

        fit_png(fitted.fit, plot)
        typer.echo(f"wrote {plot}", err=True)
    write_output(header(fitted) + _yaml(fitted.document), out)
    raise typer.Exit(EXIT_OK)


def _yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def header(fitted: FittedHistory) -> str:
    """The YAML's comment lines: what was fitted, from what."""
    r = fitted.report
    lines = [
        f"budgetopt fit {Path(r['source']).name}: {r['weeks']} weeks {r['first_week']} to "
        f"{r['last_week']}, {r['draws']} bootstrap draws (seed {r['seed']})",
    ]
    for c in r["channels"]:
        lines.append(f"  {c['id']}: {_line(c)}")
    return "".join(f"# {line}\n" for line in lines)


def _line(c: dict[str, Any]) -> str:
    r2 = "n/a" if c["r2"] is None else f"{c['r2']:.3f}"
    mape = "n/a" if c["holdout_mape"] is None else f"{c['holdout_mape']:.1%}"
    text = (
        f"{c['chosen']}, R² {r2}, held-out MAPE {mape}, weekly spend "
        f"{c['spend_min_cny'] / 1e6:,.2f}-{c['spend_max_cny'] / 1e6:,.2f}M CNY"
    )
    if c["cpm"] is not None:
        windows = ", ".join(f"{w} x{m:.2f}" for w, m in c["cpm"]["window_multipliers"].items())
        text += f", CPM {c['cpm']['trend_per_week']:+.2%}/week" + (
            f" ({windows})" if windows else ""
        )
    return text


def summary(fitted: FittedHistory, seconds: float) -> str:
    """The per-channel fit report for stderr."""
    r = fitted.report
    lines = [
        f"fitted {len(r['channels'])} channel(s) from {r['source']}: {r['weeks']} weeks "
        f"{r['first_week']} to {r['last_week']}, {r['draws']} draws, {seconds:.1f} s"
    ]
    for c in r["channels"]:
        lines.append(f"  {c['id']}: {_line(c)}")
        mine = next(m for m in c["candidates"] if m["model"] == c["chosen"])
        other = next((m for m in c["candidates"] if m["model"] != c["chosen"]), None)
        if other:
            why = ""
            if other["holdout_rmse_cny"] < mine["holdout_rmse_cny"]:
                why = " (within one standard error: the simpler model is kept)"
            lines.append(
                f"    held-out RMSE {mine['holdout_rmse_cny']:,.0f} CNY; best other "
                f"{other['model']} {other['holdout_rmse_cny']:,.0f}{why}"
            )
        lines.extend(f"    warning: {w}" for w in c["warnings"])
    return "\n".join(lines)

"""budgetopt import: a media-mix model's response curves as a scenario file (YAML)."""

from __future__ import annotations

from enum import StrEnum
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
from optimizer.inputs.mmm import (
    DEFAULT_AOV_CNY,
    DEFAULT_DRAWS,
    DEFAULT_WEEKS,
    SOURCES,
    ImportOptions,
    read_model,
)
from optimizer.inputs.text import MAX_FILE_BYTES
from optimizer.schema.draws import MAX_DRAWS
from optimizer.schema.scenario import MAX_PERIODS

Source = StrEnum("Source", {name.replace("-", "_"): name for name in SOURCES})
Source.__doc__ = "Where the curves come from."

SourceArg = Annotated[
    Source,
    typer.Argument(
        help="robyn: the JSON of robyn_write() (with add_data); pymc-marketing: a file of "
        "MMM.save(); meridian: the NetCDF export described in README.md; params: a CSV or "
        "YAML of curve parameters, one row per channel."
    ),
]
ModelArg = Annotated[Path, typer.Argument(help="The model file.")]


def import_curves(
    source: SourceArg,
    model_file: ModelArg,
    out: OutOpt = None,
    weeks: Annotated[
        int, typer.Option(min=1, max=MAX_PERIODS, help="Weeks the plan covers (W01, W02, ...).")
    ] = DEFAULT_WEEKS,
    periods: Annotated[
        str | None,
        typer.Option(help="Period names instead of --weeks, comma-separated: 2026-W01,2026-W02"),
    ] = None,
    budget_cny: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            help="Total budget of the plan, CNY (default: the model's mean weekly spend "
            "times the weeks).",
        ),
    ] = None,
    aov_cny: Annotated[
        float,
        typer.Option(
            min=0.01,
            help="Average order value, CNY, of every channel: a media-mix model gives GMV, not "
            "orders, so this only sets orders and CAC (new customers); "
            f"default {DEFAULT_AOV_CNY:g}.",
        ),
    ] = DEFAULT_AOV_CNY,
    objective: ObjectiveOpt = ObjectiveKind.max_gmv,  # type: ignore[attr-defined]
    gmv_target_cny: GmvTargetOpt = None,
    gross_margin: GrossMarginOpt = None,
    name: Annotated[
        str | None, typer.Option(help="Scenario name (default: from the model).")
    ] = None,
    draws: Annotated[
        int,
        typer.Option(
            min=0,
            max=MAX_DRAWS,
            help="Posterior samples each curve carries as draws (pymc-marketing, meridian: "
            "spread evenly over chains and draws; params: of the YAML's draws), for plan "
            "ranges; 0 for none. Robyn has no posterior: ignored.",
        ),
    ] = DEFAULT_DRAWS,
) -> None:
    """Import a media-mix model's response curves (Robyn, PyMC-Marketing, Meridian, or plain
    curve parameters) as a scenario file: one curve channel per paid channel, in CNY, with its
    carry-over and the model's last weeks of spend as history.

    The YAML goes to stdout unless --out; messages to stderr.
    Example: budgetopt import robyn RobynModel-1_2_3.json --weeks 52 -o plan.yaml
    """
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
    try:
        imported = read_model(source.value, model_file, options, draws=draws)
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    document = imported.document
    text = scenario_yaml(document)
    write_output(text, out)
    drawn = f", {imported.draws} draws" if imported.draws else ""
    typer.echo(
        f"imported {len(document['channels'])} channel(s) from {source.value} {model_file}{drawn}",
        err=True,
    )
    notes = list(imported.notes)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:  # budgetopt plan would refuse to read it
        notes.append(
            f"the scenario is {size:,} bytes, more than the {MAX_FILE_BYTES:,} a scenario file "
            "may be: import with fewer --draws"
        )
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    raise typer.Exit(EXIT_OK)


class _FlowList(list[float]):
    """A list YAML writes on a few lines ([v0, v1, ...]) rather than one value a line."""


class _ScenarioDumper(yaml.SafeDumper):
    """safe_dump's dumper, writing ``_FlowList`` in flow style."""


_ScenarioDumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def scenario_yaml(document: dict[str, Any]) -> str:
    """The scenario as YAML, each channel's draws (hundreds of numbers) in flow style."""
    channels = [_flow_draws(c) for c in document["channels"]]
    return yaml.dump(
        {**document, "channels": channels},
        Dumper=_ScenarioDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def _flow_draws(channel: dict[str, Any]) -> dict[str, Any]:
    if "draws" not in channel:
        return channel
    draws = channel["draws"]
    flow = {part: {k: _FlowList(v) for k, v in params.items()} for part, params in draws.items()}
    return {**channel, "draws": flow}

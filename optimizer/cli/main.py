"""budgetopt command line: the ``app`` assembled from the command modules.

plan, evaluate, validate and schema (``cli.plan``), batch (``cli.batch``), sweep and frontier
(``cli.whatif``) and compare (``cli.compare``); what they share is in ``cli.common`` (exit
codes, options) and ``cli.guard`` (stdout is for data). ``api.cli`` adds serve and keys to this
``app``, and imports from here the names its own commands need. Exit codes: ``cli.common``.
import (``cli.importer``) writes a scenario from a media-mix model's curves.
"""

from __future__ import annotations

from typing import Annotated

import typer

from optimizer.cli.batch import batch
from optimizer.cli.common import EXIT_BAD_INPUT, EXIT_OK
from optimizer.cli.compare import compare
from optimizer.cli.fit import fit_curves
from optimizer.cli.guard import emit_data, run_guarded
from optimizer.cli.importer import import_curves
from optimizer.cli.plan import evaluate, plan, schema, validate
from optimizer.cli.versions import versions
from optimizer.cli.whatif import frontier, sweep
from optimizer.core.solvers.output import set_verbose

__all__ = ["EXIT_BAD_INPUT", "app", "emit_data", "main", "run_guarded"]

app = typer.Typer(
    help="Allocate a marketing budget across live streaming, KOLs, private domain and search.\n\n"
    "Exit codes: 0 plan found, 1 infeasible / no plan, 2 bad input, 3 solver failure.",
    epilog="Example: budgetopt plan scenarios/annual_2026.yaml --format csv --out plan.csv. "
    "Fields of a scenario: README.md and scenarios/scenario.schema.json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


# In this order in --help: one file, many files, then the what-ifs.
for command in (plan, evaluate, batch, validate, schema, sweep, frontier, compare):
    app.command()(command)
app.command("import")(import_curves)
app.command("fit")(fit_curves)


def main() -> None:
    """Entry point of ``python -m optimizer.cli.main`` (the console script is api.cli.main)."""
    run_guarded(app)


if __name__ == "__main__":
    main()

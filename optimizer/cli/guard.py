"""Standard output is for data: the guard every ``budgetopt`` command runs under.

The console script runs through :func:`run_guarded`, which keeps a private copy of the real
stdout for :func:`emit_data` and points descriptor 1 (and, while a command runs,
``sys.stdout``) at stderr: a solver banner or a library's print can then never end up in a JSON
or CSV that is piped on.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import click
import typer

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

"""The service's log: solver lines reach it once, as JSON, also under --verbose."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from api.logs import configure
from optimizer.core.solvers.output import LOGGER, set_verbose

NAMES = ("budgetopt", "budgetopt.solver", "uvicorn", "uvicorn.error")


@pytest.fixture
def restore_loggers() -> Iterator[None]:
    saved = {
        n: (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in NAMES
    }
    yield
    set_verbose(False)
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_verbose_serve_logs_each_solver_line_once_as_json(
    restore_loggers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    set_verbose(True)  # `budgetopt --verbose` runs before `serve` configures the log
    configure()
    LOGGER.debug("Running HiGHS")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["logger"], entry["level"], entry["message"]) == (
        "budgetopt.solver",
        "debug",
        "Running HiGHS",
    )

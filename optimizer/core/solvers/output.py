"""Where solver libraries may write: never to standard output, which is for data.

HiGHS (from 1.16) prints its banner on stdout when a ``Highs`` object is made, before any
option can silence it. Python's ``sys.stdout`` cannot catch a C library's write, so the
backends make ``Highs`` objects inside :func:`quiet_construction`, which points file descriptor
1 at the null device for that instant only (solves themselves run in parallel threads freely).
HiGHS's log then goes through its logging callback to the ``budgetopt.solver`` logger, at
DEBUG: ``--verbose`` shows it on stderr, and the service's JSON log carries it when its level
allows; otherwise HiGHS is told not to log at all.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOGGER = logging.getLogger("budgetopt.solver")
_lock = threading.Lock()
_libc = ctypes.CDLL(None) if os.name == "posix" else None


def set_verbose(verbose: bool) -> None:
    """Show solver logs on stderr (True) or only where logging is configured (False)."""
    LOGGER.setLevel(logging.DEBUG if verbose else logging.NOTSET)
    if verbose and not LOGGER.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)


def is_verbose() -> bool:
    """True when solver log lines would be shown somewhere."""
    return LOGGER.isEnabledFor(logging.DEBUG)


@contextmanager
def quiet_construction() -> Iterator[None]:
    """Descriptor 1 on the null device while a solver object prints its banner."""
    with _lock:
        sys.stdout.flush()
        _flush_c()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            yield
        finally:
            _flush_c()
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)


def route_highs_log(highs: Any) -> None:
    """Send a Highs object's log to the ``budgetopt.solver`` logger, or switch it off."""
    if not is_verbose() or not hasattr(highs, "cbLogging"):
        highs.setOptionValue("output_flag", False)
        return
    highs.setOptionValue("output_flag", True)
    highs.setOptionValue("log_to_console", False)
    highs.cbLogging.subscribe(lambda event: LOGGER.debug(str(event.message).rstrip()))


def highs_options(time_limit_s: float, mip_gap: float) -> dict[str, object]:
    """Every HiGHS setting that can change a plan's numbers, fixed for reproducibility.

    One thread and a fixed seed: HiGHS's parallel dual simplex and MIP search can pick a
    different optimal vertex from run to run.
    """
    return {
        "time_limit": float(time_limit_s),
        "mip_rel_gap": float(mip_gap),
        "threads": 1,
        "random_seed": 0,
        "presolve": "on",
    }


def _flush_c() -> None:
    if _libc is not None:
        _libc.fflush(None)

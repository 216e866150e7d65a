"""Where solver libraries may write: never to standard output, which is for data.

HiGHS (from 1.16) prints its banner on stdout when a ``Highs`` object is made, before any
option can silence it, and writes its log there with C stdio. Python's ``sys.stdout`` cannot
catch that, so the backends run such calls inside :func:`solver_output`, which points file
descriptor 1 at stderr (``--verbose``) or at the null device for the duration, flushing C's
buffers before it gives descriptor 1 back.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.RLock()
_verbose = False
_libc = ctypes.CDLL(None)


def set_verbose(verbose: bool) -> None:
    """Send solver logs to stderr (True) or discard them (False, the default)."""
    global _verbose
    _verbose = verbose


def is_verbose() -> bool:
    """True when solver logs go to stderr."""
    return _verbose


@contextmanager
def solver_output() -> Iterator[None]:
    """Run a solver call with descriptor 1 redirected away from stdout (thread-safe)."""
    with _lock:
        sys.stdout.flush()
        _libc.fflush(None)
        saved = os.dup(1)
        target = os.dup(2) if _verbose else os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(target, 1)
            yield
        finally:
            _libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            os.close(target)


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

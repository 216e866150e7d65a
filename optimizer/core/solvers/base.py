"""The one interface every solver backend implements, and its plain result types."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

# "feasible": a plan that keeps every rule but whose proven gap is above the tolerance.
Status = Literal["optimal", "feasible", "infeasible", "unbounded", "time_limit", "error"]


@dataclass(frozen=True)
class LinearProgram:
    """optimise c.x + c0 subject to row_lo <= A x <= row_hi, col_lo <= x <= col_hi."""

    c: np.ndarray
    maximise: bool
    a: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    c0: float = 0.0

    @property
    def is_mip(self) -> bool:
        """True when some column must be integer."""
        return bool(self.integer.any())


@dataclass(frozen=True)
class Solution:
    """What a backend returns: status, point, objective and, for MIPs, the proven gap."""

    status: Status
    x: np.ndarray | None
    objective: float | None
    seconds: float
    message: str = ""
    mip_gap: float | None = None
    row_duals: np.ndarray | None = None  # d objective / d row bound, per row; LPs only
    bound: float | None = None  # MIPs: the solver's proven bound on the optimum, if it has one


class Solver(ABC):
    """A backend that solves LinearPrograms; infeasible is a status, never an exception."""

    name: str
    supports_mip: bool = True
    # Seconds the last solve spent building its model before the solver ran: a time limit
    # covers building too, and the engine prices its next round by it.
    build_seconds: float = 0.0

    @abstractmethod
    def is_available(self) -> bool:
        """True when the backend can run on this machine."""

    @abstractmethod
    def solve(self, lp: LinearProgram, *, time_limit_s: float, mip_gap: float) -> Solution:
        """Solve the program; raise SolverFailedError only if the solver itself breaks."""


def out_of_time(time_limit_s: float, started: float) -> Solution:
    """The answer of a backend whose time ran out while it was still building the model."""
    return Solution(
        "time_limit",
        None,
        None,
        time.perf_counter() - started,
        f"the time limit of {time_limit_s:g} s ran out while the model was being built",
    )


def finite_or_none(value: float) -> float | None:
    """The value as a float, or None for an infinite one (a missing bound, to a solver)."""
    return float(value) if np.isfinite(value) else None

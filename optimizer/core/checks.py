"""What a method returns, and the checks of a spend on the true curves that every method uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.core.forms import Row
from optimizer.core.problem import Problem
from optimizer.core.solvers.base import Status

FEASIBILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SolveResult:
    """What the engine found, with the evidence a plan reports (plan fields None without one)."""

    status: Status
    solver: str
    rounds: int
    is_mip: bool
    seconds: float
    message: str = ""
    spend: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    mip_gap: float | None = None
    polished: bool = False
    conflict: list[str] = field(default_factory=list)
    diagnosis: list[Any] = field(default_factory=list)  # Relaxations, when infeasible
    row_duals: np.ndarray | None = None  # d objective / d rhs of each problem row, LP only
    evidence: str | None = None  # for "infeasible": proven by the relaxation, or how confirmed


def objective_value(problem: Problem, spend: np.ndarray) -> float:
    """True objective at the given spend."""
    return problem.objective_value(spend)


def is_better(problem: Problem, value: float, incumbent: float) -> bool:
    """True when ``value`` improves on ``incumbent`` in the objective's direction."""
    return value > incumbent if problem.maximise else value < incumbent


def relative_gap(problem: Problem, bound: float, value: float) -> float:
    """How far the true objective is from the bound, relative to the bound's size."""
    difference = bound - value if problem.maximise else value - bound
    return max(difference, 0.0) / max(abs(bound), abs(value), 1.0)


def measured(row: Row, spend: np.ndarray, gmv: np.ndarray) -> float | None:
    """What a rule measures at the spend: its amount, or its ratio (None over nothing)."""
    num = row.num.evaluate(spend, gmv)
    if row.den is None:
        return num
    den = row.den.evaluate(spend, gmv)
    return num / den if abs(den) > 1e-12 else None


def row_slack(row: Row, spend: np.ndarray, gmv: np.ndarray) -> float:
    """Slack of a row on the true curves: >= 0 when it holds (for == rows, -|residual|)."""
    form, rhs = row.linear()
    value = form.evaluate(spend, gmv)
    if row.sense == "<=":
        return rhs - value
    if row.sense == ">=":
        return value - rhs
    return -abs(value - rhs)


def row_scale(row: Row, spend: np.ndarray, gmv: np.ndarray) -> float:
    """Magnitude against which a row's slack is judged."""
    form, rhs = row.linear()
    size = form.magnitude(spend, gmv)
    return float(max(size, abs(rhs), 1.0))


def row_holds(row: Row, spend: np.ndarray, gmv: np.ndarray) -> bool:
    """True when the row holds on the true curves within the feasibility tolerance."""
    return row_slack(row, spend, gmv) >= -FEASIBILITY_TOLERANCE * row_scale(row, spend, gmv)


def broken_rows(problem: Problem, spend: np.ndarray) -> list[Row]:
    """Rows that fail on the true curves beyond the feasibility tolerance.

    The strict test of a number: a NaN slack is not counted here, though it fails
    ``row_holds`` (the report's test), as the two have always read it.
    """
    gmv = problem.gmv(spend)
    return [
        row
        for row in problem.rows
        if row_slack(row, spend, gmv) < -FEASIBILITY_TOLERANCE * row_scale(row, spend, gmv)
    ]


def violated_rows(problem: Problem, spend: np.ndarray) -> list[str]:
    """Names of rules that fail on the true curves: broken rows, then broken switches."""
    return [row.name for row in broken_rows(problem, spend)] + problem.broken_switches(spend)

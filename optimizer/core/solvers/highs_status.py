"""HiGHS's model status as a Solution: one reading for both HiGHS backends.

The PuLP backend and the direct one ask HiGHS the same questions after a run; only how they
read the point, the objective, the duals and the MIP bound differs (PuLP hands HiGHS a
minimisation without the constant), so each passes its own readers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from optimizer.core.solvers.base import LinearProgram, Solution


def highs_solution(
    highs: Any,
    lp: LinearProgram,
    seconds: float,
    time_limit_s: float,
    *,
    point: Callable[[], np.ndarray | None],
    objective: Callable[[], float | None],
    duals: Callable[[], np.ndarray],
    bound: Callable[[float], float | None],
) -> Solution:
    """Map a Highs object's model status after ``run`` to a Solution (readers called lazily)."""
    import highspy

    status = highs.getModelStatus()
    ms = highspy.HighsModelStatus
    info = highs.getInfo()
    gap = float(info.mip_gap) if lp.is_mip else None
    if status == ms.kOptimal:
        row_duals = None if lp.is_mip else duals()
        return Solution("optimal", point(), objective(), seconds, mip_gap=gap, row_duals=row_duals)
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return Solution("infeasible", None, None, seconds, highs.modelStatusToString(status))
    if status == ms.kUnbounded:
        return Solution("unbounded", None, None, seconds, "objective is unbounded")
    if status in (ms.kTimeLimit, ms.kIterationLimit, ms.kInterrupt):
        has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
        return Solution(
            "time_limit",
            point() if has_point else None,
            objective() if has_point else None,
            seconds,
            f"stopped at the time limit of {time_limit_s:g} s",
            gap,
            bound=bound(float(info.mip_dual_bound)) if lp.is_mip else None,
        )
    return Solution("error", None, None, seconds, highs.modelStatusToString(status))

"""HiGHS fed the program's arrays directly (no PuLP objects): the fast path for large plans."""

from __future__ import annotations

import time

import numpy as np

from optimizer.core.solvers.base import (
    LinearProgram,
    Solution,
    Solver,
    finite_or_none,
    out_of_time,
)
from optimizer.core.solvers.highs_status import highs_solution
from optimizer.core.solvers.output import highs_options, quiet_construction, route_highs_log


class HighsDirectSolver(Solver):
    """Passes the sparse matrix to highspy in one call; same solver as ``highs``, less overhead."""

    name = "highs-direct"

    def is_available(self) -> bool:
        """True when highspy imports."""
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def solve(self, lp: LinearProgram, *, time_limit_s: float, mip_gap: float) -> Solution:
        """Solve with HiGHS and map its model status."""
        import highspy

        started = time.perf_counter()
        with quiet_construction():
            highs = highspy.Highs()
        route_highs_log(highs)
        for option, value in highs_options(time_limit_s, mip_gap).items():
            highs.setOptionValue(option, value)
        highs.passModel(_highs_lp(lp, highspy))
        self.build_seconds = time.perf_counter() - started
        left = time_limit_s - self.build_seconds
        if left <= 0:
            return out_of_time(time_limit_s, started)
        highs.setOptionValue("time_limit", left)
        highs.run()
        has_point = highs.getInfo().primal_solution_status == 2
        x = np.array(highs.getSolution().col_value) if has_point else None
        objective = float(lp.c @ x + lp.c0) if x is not None else None
        return highs_solution(
            highs,
            lp,
            time.perf_counter() - started,
            time_limit_s,
            point=lambda: x,
            objective=lambda: objective,
            duals=lambda: np.array(highs.getSolution().row_dual),
            bound=finite_or_none,
        )


def _highs_lp(lp: LinearProgram, highspy: object) -> object:
    inf = highspy.kHighsInf  # type: ignore[attr-defined]
    model = highspy.HighsLp()  # type: ignore[attr-defined]
    a = lp.a.tocsc()
    model.num_col_, model.num_row_ = a.shape[1], a.shape[0]
    model.sense_ = (
        highspy.ObjSense.kMaximize
        if lp.maximise  # type: ignore[attr-defined]
        else highspy.ObjSense.kMinimize
    )  # type: ignore[attr-defined]
    model.offset_ = float(lp.c0)
    model.col_cost_ = lp.c.astype(float)
    model.col_lower_ = np.where(np.isfinite(lp.col_lo), lp.col_lo, -inf)
    model.col_upper_ = np.where(np.isfinite(lp.col_hi), lp.col_hi, inf)
    model.row_lower_ = np.where(np.isfinite(lp.row_lo), lp.row_lo, -inf)
    model.row_upper_ = np.where(np.isfinite(lp.row_hi), lp.row_hi, inf)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise  # type: ignore[attr-defined]
    model.a_matrix_.start_ = a.indptr.astype(np.int32)
    model.a_matrix_.index_ = a.indices.astype(np.int32)
    model.a_matrix_.value_ = a.data.astype(float)
    if lp.is_mip:
        kinds = highspy.HighsVarType  # type: ignore[attr-defined]
        model.integrality_ = [kinds.kInteger if v else kinds.kContinuous for v in lp.integer]
    return model

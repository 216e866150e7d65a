"""COIN-OR CBC through PuLP: the fallback backend.

PuLP's bundled CBC 2.10 is preferred: the ``cbcbox`` wheel (what ``pulp[cbc]`` installs) ships
a development build that writes zero row duals and ignores ``-max``. cbcbox is the fallback
for when PuLP stops bundling its binary (announced for PuLP 4).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pulp

from optimizer.core.solvers.base import LinearProgram, Solution, Solver, out_of_time
from optimizer.core.solvers.output import is_verbose
from optimizer.core.solvers.pulp_model import row_duals, to_pulp, values
from optimizer.errors import SolverFailedError


class CbcSolver(Solver):
    """PuLP model solved by the CBC command-line solver shipped with PuLP."""

    name = "cbc"

    def is_available(self) -> bool:
        """True when a CBC binary can be found."""
        return bool(_command(msg=False).available())

    def solve(self, lp: LinearProgram, *, time_limit_s: float, mip_gap: float) -> Solution:
        """Solve with CBC; an integer-feasible stop means the time limit was reached."""
        started = time.perf_counter()
        problem, variables = to_pulp(lp)
        self.build_seconds = time.perf_counter() - started
        left = time_limit_s - self.build_seconds
        if left <= 0:
            return out_of_time(time_limit_s, started)
        solver = _command(msg=is_verbose(), timeLimit=left, gapRel=mip_gap, threads=1)
        try:
            problem.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverFailedError(f"CBC failed: {exc}") from exc
        seconds = time.perf_counter() - started
        status, found = problem.status, problem.sol_status
        if status == pulp.LpStatusOptimal and found == pulp.LpSolutionOptimal:
            return Solution(
                "optimal",
                values(variables),
                pulp.value(problem.objective),
                seconds,
                mip_gap=0.0 if lp.is_mip else None,
                row_duals=None if lp.is_mip else row_duals(problem, lp.a.shape[0]),
            )
        if status == pulp.LpStatusOptimal and found == pulp.LpSolutionIntegerFeasible:
            return Solution(
                "time_limit",
                values(variables),
                pulp.value(problem.objective),
                seconds,
                f"stopped at the time limit of {time_limit_s:g} s",
            )
        if status == pulp.LpStatusInfeasible:
            return Solution("infeasible", None, None, seconds, "infeasible")
        if status == pulp.LpStatusUnbounded:
            return Solution("unbounded", None, None, seconds, "objective is unbounded")
        if status == pulp.LpStatusUndefined and not _satisfies(lp, values(variables)):
            # CBC writes "Status unknown" when presolve proves a problem infeasible.
            return Solution("infeasible", None, None, seconds, "infeasible (CBC presolve)")
        if found == pulp.LpSolutionNoSolutionFound and status == pulp.LpStatusNotSolved:
            return Solution(
                "time_limit",
                None,
                None,
                seconds,
                f"no solution within the time limit of {time_limit_s:g} s",
            )
        return Solution("error", None, None, seconds, pulp.LpStatus.get(status, str(status)))


def _satisfies(lp: LinearProgram, x: np.ndarray, tolerance: float = 1e-6) -> bool:
    """True when x meets every row and column bound of the program."""
    rows = lp.a @ x
    scale = 1.0 + np.abs(rows)
    return bool(
        np.all(rows >= lp.row_lo - tolerance * scale)
        and np.all(rows <= lp.row_hi + tolerance * scale)
        and np.all(x >= lp.col_lo - tolerance)
        and np.all(x <= lp.col_hi + tolerance)
    )


def _command(**options: object) -> pulp.LpSolver_CMD:
    """PuLP's bundled stable CBC, else COIN_CMD on cbcbox's binary."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        bundled = pulp.PULP_CBC_CMD(**options)
    if bundled.available():
        return bundled
    try:
        import cbcbox
    except ImportError:
        return bundled
    return pulp.COIN_CMD(path=cbcbox.cbc_bin_path(), **options)

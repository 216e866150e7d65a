"""COIN-OR CBC through PuLP's bundled binary: the fallback backend."""

from __future__ import annotations

import time

import pulp

from optimizer.errors import SolverFailedError
from optimizer.solvers.base import LinearProgram, Solution, Solver
from optimizer.solvers.pulp_model import to_pulp, values


class CbcSolver(Solver):
    """PuLP model solved by the CBC command-line solver shipped with PuLP."""

    name = "cbc"

    def is_available(self) -> bool:
        """True when PuLP finds its CBC binary."""
        return bool(pulp.PULP_CBC_CMD(msg=False).available())

    def solve(self, lp: LinearProgram, *, time_limit_s: float, mip_gap: float) -> Solution:
        """Solve with CBC; an integer-feasible stop means the time limit was reached."""
        started = time.perf_counter()
        problem, variables = to_pulp(lp)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=mip_gap, threads=1)
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
        if found == pulp.LpSolutionNoSolutionFound and status == pulp.LpStatusNotSolved:
            return Solution(
                "time_limit",
                None,
                None,
                seconds,
                f"no solution within the time limit of {time_limit_s:g} s",
            )
        return Solution("error", None, None, seconds, pulp.LpStatus.get(status, str(status)))

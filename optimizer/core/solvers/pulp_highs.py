"""HiGHS through PuLP's highspy interface: the default backend."""

from __future__ import annotations

import math
import time

import pulp

from optimizer.core.solvers.base import LinearProgram, Solution, Solver, out_of_time
from optimizer.core.solvers.output import highs_options, quiet_construction, route_highs_log
from optimizer.core.solvers.pulp_model import row_duals, to_pulp, values
from optimizer.errors import SolverFailedError


class HighsSolver(Solver):
    """PuLP model solved in-process by HiGHS (highspy)."""

    name = "highs"

    def is_available(self) -> bool:
        """True when highspy imports."""
        return bool(pulp.HiGHS(msg=False).available())

    def solve(self, lp: LinearProgram, *, time_limit_s: float, mip_gap: float) -> Solution:
        """Solve with HiGHS; statuses come from HiGHS's own model status."""
        import highspy

        started = time.perf_counter()
        deadline = started + time_limit_s
        problem, variables = to_pulp(lp)
        self.build_seconds = time.perf_counter() - started
        if time.perf_counter() >= deadline:
            return out_of_time(time_limit_s, started)
        options = highs_options(time_limit_s, mip_gap)
        options.pop("time_limit")
        gap = options.pop("mip_rel_gap")
        solver = _HighsBy(deadline, msg=False, gapRel=gap, **options)
        try:
            problem.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverFailedError(f"HiGHS failed: {exc}") from exc
        self.build_seconds = solver.ran_at - started
        seconds = time.perf_counter() - started
        highs = problem.solverModel
        status = highs.getModelStatus()
        ms = highspy.HighsModelStatus
        info = highs.getInfo()
        gap = float(info.mip_gap) if lp.is_mip else None
        has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if status == ms.kOptimal:
            # PuLP hands HiGHS a minimisation, so a maximisation's duals come back negated.
            duals = None if lp.is_mip else row_duals(problem, lp.a.shape[0], negate=lp.maximise)
            return Solution(
                "optimal",
                values(variables),
                pulp.value(problem.objective),
                seconds,
                mip_gap=gap,
                row_duals=duals,
            )
        if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
            return Solution("infeasible", None, None, seconds, highs.modelStatusToString(status))
        if status == ms.kUnbounded:
            return Solution("unbounded", None, None, seconds, "objective is unbounded")
        if status in (ms.kTimeLimit, ms.kIterationLimit, ms.kInterrupt):
            point = values(variables) if has_point else None
            objective = pulp.value(problem.objective) if has_point else None
            return Solution(
                "time_limit",
                point,
                objective,
                seconds,
                f"stopped at the time limit of {time_limit_s:g} s",
                gap,
                bound=_bound(lp, float(info.mip_dual_bound)),
            )
        return Solution("error", None, None, seconds, highs.modelStatusToString(status))


class _HighsBy(pulp.HiGHS):  # type: ignore[misc,valid-type]
    """PuLP's HiGHS with the time limit set when the model is built, just before HiGHS runs:
    building PuLP's model takes as long as solving it on large plans."""

    def __init__(self, deadline: float, **options: object) -> None:
        super().__init__(**options)
        self.deadline = deadline
        self.ran_at = deadline

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        """PuLP's set-up, with HiGHS's banner kept off stdout and its log sent to logging."""
        with quiet_construction():
            super().createAndConfigureSolver(lp)
        route_highs_log(lp.solverModel)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        """Give HiGHS what is left until the deadline, then run it."""
        self.ran_at = time.perf_counter()
        left = max(self.deadline - self.ran_at, 1e-3)
        lp.solverModel.setOptionValue("time_limit", left)
        super().callSolver(lp)


def _bound(lp: LinearProgram, highs_bound: float) -> float | None:
    """HiGHS's MIP dual bound in the program's terms: PuLP passes a maximisation negated and
    leaves the constant out."""
    if not lp.is_mip or not math.isfinite(highs_bound):
        return None
    return (-highs_bound if lp.maximise else highs_bound) + lp.c0

"""HiGHS through PuLP's highspy interface: the default backend."""

from __future__ import annotations

import math
import time

import pulp

from optimizer.core.solvers.base import LinearProgram, Solution, Solver, out_of_time
from optimizer.core.solvers.highs_status import highs_solution
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
        return highs_solution(
            problem.solverModel,
            lp,
            time.perf_counter() - started,
            time_limit_s,
            point=lambda: values(variables),
            objective=lambda: pulp.value(problem.objective),
            # PuLP hands HiGHS a minimisation, so a maximisation's duals come back negated.
            duals=lambda: row_duals(problem, lp.a.shape[0], negate=lp.maximise),
            bound=lambda highs_bound: _bound(lp, highs_bound),
        )


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

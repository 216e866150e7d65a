"""Turning a LinearProgram's arrays into a PuLP model, shared by the PuLP backends."""

from __future__ import annotations

import numpy as np
import pulp

from optimizer.core.solvers.base import LinearProgram, finite_or_none


def to_pulp(lp: LinearProgram) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """Build a PuLP problem from the program's arrays, one row per finite side of each row."""
    sense = pulp.LpMaximize if lp.maximise else pulp.LpMinimize
    problem = pulp.LpProblem("budgetopt", sense)
    variables = [
        problem.add_variable(
            f"x{j}",
            lowBound=finite_or_none(lp.col_lo[j]),
            upBound=finite_or_none(lp.col_hi[j]),
            cat=pulp.LpInteger if lp.integer[j] else pulp.LpContinuous,
        )
        for j in range(len(lp.c))
    ]
    nonzero = np.flatnonzero(lp.c)
    problem.setObjective(
        pulp.LpAffineExpression([(variables[j], float(lp.c[j])) for j in nonzero], constant=lp.c0)
    )
    a = lp.a.tocsr()
    for r in range(a.shape[0]):
        start, end = a.indptr[r], a.indptr[r + 1]
        columns, coefficients = a.indices[start:end], a.data[start:end]
        terms = [(variables[j], float(v)) for j, v in zip(columns, coefficients, strict=True)]
        lo, hi = lp.row_lo[r], lp.row_hi[r]
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            problem += pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, f"r{r}", float(hi)
            )
            continue
        if np.isfinite(lo):
            problem += pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintGE, f"r{r}_lo", float(lo)
            )
        if np.isfinite(hi):
            problem += pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintLE, f"r{r}_hi", float(hi)
            )
    return problem, variables


def values(variables: list[pulp.LpVariable]) -> np.ndarray:
    """Column values after a solve (0 where the solver left one unset)."""
    return np.array([v.varValue if v.varValue is not None else 0.0 for v in variables])


def row_duals(problem: pulp.LpProblem, n_rows: int, *, negate: bool = False) -> np.ndarray:
    """Dual of every program row (summing the two sides of a ranged row)."""
    duals = np.zeros(n_rows)
    for constraint in problem.constraints():
        if constraint.pi is not None:
            duals[int(constraint.name[1:].split("_")[0])] += float(constraint.pi)
    return -duals if negate else duals

"""Cleaning a found spend before anyone judges it: cells on their bounds, within the budget.

The refinement search settles its plan (and the SLSQP polish of it) before the rules are
checked and the plan reported, so it never shows a cap missed by solver noise or a budget
overspent by 0.2 CNY.
"""

from __future__ import annotations

import numpy as np

from optimizer.core.problem import Problem


def settle(problem: Problem, spend: np.ndarray) -> np.ndarray:
    """The allocation as reported: solver and SLSQP noise removed before anything is judged.

    A spend within 1e-9 of the largest spend bound (0.12 CNY on a 1.2e8 budget: the scaled
    programs' feasibility tolerance) of its cell's bound sits on it, so a cap of 3e7 reads
    3e7 and a closed period 0; then a hair over the budget is scaled away.
    """
    noise = 1e-9 * max(float(np.max(problem.hi, initial=0.0)), 1.0)
    spend = np.clip(spend, problem.lo, problem.hi)
    spend = np.where(np.abs(spend - problem.lo) <= noise, problem.lo, spend)
    spend = np.where(np.abs(problem.hi - spend) <= noise, problem.hi, spend)
    return _within_budget(problem, np.where(np.abs(spend) <= noise, 0.0, spend))


def _within_budget(problem: Problem, spend: np.ndarray) -> np.ndarray:
    """Scale spend down where a solver's tolerance left it a hair over the budget.

    Finance must never see media spend above the budget, even by 0.2 CNY of solver noise.
    Two passes, because commission paid from the budget falls less than proportionally.
    """
    budget = next((row for row in problem.rows if row.name == "budget"), None)
    if budget is None:
        return spend
    form, limit = budget.linear()
    for _ in range(2):
        used = form.evaluate(spend, problem.gmv(spend))
        if used <= limit or used <= 0:
            break
        spend = spend * (limit / used)
    return spend

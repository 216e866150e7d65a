"""The rule report: every rule re-evaluated at the plan on the true curves, and priced.

Nothing here trusts a solver's figure: each rule's value, slack and whether it holds come
from the response model at the plan's spend; the solver's dual only prices a binding rule.
"""

from __future__ import annotations

import numpy as np

from optimizer.core.checks import FEASIBILITY_TOLERANCE, measured, row_holds, row_scale, row_slack
from optimizer.core.forms import Row, Switch, is_used
from optimizer.results.plan import RuleCheck

BINDING_TOLERANCE = 1e-4


def check_rule(
    row: Row,
    spend: np.ndarray,
    gmv: np.ndarray,
    dual: float | None = None,
    maximise: bool = True,
) -> RuleCheck:
    """Re-evaluate one rule on the true curves; price it from the solver's dual if given."""
    value = measured(row, spend, gmv)
    slack = row_slack(row, spend, gmv)
    scale = row_scale(row, spend, gmv)
    if value is not None:
        measured_slack = {"<=": row.limit - value, ">=": value - row.limit}.get(
            row.sense, -abs(value - row.limit)
        )
    else:
        measured_slack = slack
    return RuleCheck(
        name=row.name,
        kind=row.kind,
        description=row.description,
        value=value,
        limit=row.limit,
        sense=row.sense,
        slack=measured_slack,
        # A ratio rule over a scope with no spend and no GMV is trivially 0 >= 0: not binding.
        binds=abs(slack) <= BINDING_TOLERANCE * scale and (row.den is None or value is not None),
        holds=row_holds(row, spend, gmv),
        shadow_price=dual,
        value_of_relaxing=_value_of_relaxing(row, spend, gmv, dual, maximise),
    )


def _value_of_relaxing(
    row: Row, spend: np.ndarray, gmv: np.ndarray, dual: float | None, maximise: bool
) -> float | None:
    """Objective improvement per unit the limit is loosened, from d objective / d rhs.

    A ratio rule ``num - limit * den (sense) 0`` moves its right-hand side by ``den`` per unit
    of limit; loosening is raising a ``<=`` limit and lowering a ``>=`` one.
    """
    if dual is None:
        return None
    per_unit = 1.0 if row.den is None else row.den.evaluate(spend, gmv)
    direction = -1.0 if row.sense == ">=" else 1.0
    change = dual * direction * per_unit
    return change if maximise else -change


def check_switch(switch: Switch, spend: np.ndarray) -> RuleCheck:
    """'0 or at least X' re-checked at the plan; the value is the channel's total spend."""
    total = float(np.sum(spend[switch.mask]))
    used = is_used(spend, switch.mask)
    minimum = switch.min_if_used_cny
    slack = total - minimum if used else 0.0
    cost = (
        f", activation {switch.activation_cost_cny:,.0f} CNY" if switch.activation_cost_cny else ""
    )
    return RuleCheck(
        name=f"{switch.channel}.if_used",
        kind="min_spend_if_used",
        description=f"{switch.channel} spends 0 or at least {minimum:,.0f} CNY{cost}",
        value=total,
        limit=minimum,
        sense=">=",
        slack=slack,
        binds=used and abs(slack) <= BINDING_TOLERANCE * max(minimum, 1.0),
        holds=slack >= -FEASIBILITY_TOLERANCE * max(minimum, 1.0),
    )

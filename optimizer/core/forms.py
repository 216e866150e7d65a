"""The algebra of a problem: linear forms over (unit, period) arrays, and rules as rows.

Every quantity a rule or objective needs is linear in two arrays of shape (units, periods):
spend and GMV (orders, new customers and commission are GMV times per-unit constants). So
every rule is a ``Row``: ``num (sense) limit * den`` with ``num`` and ``den`` linear forms.
The same rows build the program and re-check the plan on the true curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Sense = Literal["<=", ">=", "=="]


@dataclass(frozen=True)
class LinearForm:
    """sum(spend_coef * spend + gmv_coef * gmv) + constant over (unit, period) arrays.

    ``if_used`` adds fixed amounts paid when a channel is used at all: (switch index, amount)
    pairs, a switch being one channel's on/off decision (``Problem.switches``).
    """

    spend_coef: np.ndarray
    gmv_coef: np.ndarray
    constant: float = 0.0
    if_used: tuple[tuple[int, float], ...] = ()
    switch_masks: tuple[np.ndarray, ...] = ()

    def evaluate(self, spend: np.ndarray, gmv: np.ndarray) -> float:
        """Value of the form at the given spend and GMV arrays."""
        value = np.sum(self.spend_coef * spend) + np.sum(self.gmv_coef * gmv) + self.constant
        used = sum(amount for k, amount in self.if_used if is_used(spend, self.switch_masks[k]))
        return float(value + used)

    def minus(self, other: LinearForm, factor: float) -> LinearForm:
        """self - factor * other."""
        return LinearForm(
            self.spend_coef - factor * other.spend_coef,
            self.gmv_coef - factor * other.gmv_coef,
            self.constant - factor * other.constant,
            self.if_used + tuple((k, -factor * a) for k, a in other.if_used),
            self.switch_masks or other.switch_masks,
        )


def is_used(spend: np.ndarray, mask: np.ndarray) -> bool:
    """A channel counts as used once it spends more than solver noise."""
    return float(np.sum(spend[mask])) > 1e-9 * max(float(np.max(np.abs(spend), initial=0.0)), 1.0)


@dataclass(frozen=True)
class Switch:
    """One channel's on/off decision: a minimum if used, and a fixed cost if used."""

    channel: str
    mask: np.ndarray
    min_if_used_cny: float
    activation_cost_cny: float


@dataclass(frozen=True)
class Row:
    """A rule as ``num / den (sense) limit`` (or ``num (sense) limit`` without den)."""

    name: str
    kind: str
    description: str
    num: LinearForm
    den: LinearForm | None
    sense: Sense
    limit: float
    rule: str = ""  # the rule this row belongs to, when a rule has many rows

    @property
    def key(self) -> str:
        """Identity of the rule: rows of one rule go in and out of a diagnosis together."""
        return self.rule or self.name

    def linear(self) -> tuple[LinearForm, float]:
        """The row as ``form (sense) rhs`` with a linear form."""
        if self.den is None:
            return self.num, self.limit
        return self.num.minus(self.den, self.limit), 0.0

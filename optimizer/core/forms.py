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

    def magnitude(self, spend: np.ndarray, gmv: np.ndarray) -> float:
        """Sum of the absolute terms at the spend: the size a row's slack is judged against."""
        return float(np.sum(np.abs(self.spend_coef * spend)) + np.sum(np.abs(self.gmv_coef * gmv)))

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The nonzero terms: flat cell indices, their spend and their GMV coefficients."""
        cells = np.flatnonzero((self.spend_coef != 0) | (self.gmv_coef != 0))
        return cells, self.spend_coef.ravel()[cells], self.gmv_coef.ravel()[cells]

    def minus(self, other: LinearForm, factor: float) -> LinearForm:
        """self - factor * other."""
        return LinearForm(
            self.spend_coef - factor * other.spend_coef,
            self.gmv_coef - factor * other.gmv_coef,
            self.constant - factor * other.constant,
            self.if_used + tuple((k, -factor * a) for k, a in other.if_used),
            self.switch_masks or other.switch_masks,
        )


@dataclass(frozen=True)
class CellForm:
    """``coef * spend`` of one (unit, period) cell: a channel's limit in one period.

    Stored as the cell alone, so a weekly plan of 1,000 channels does not hold 104,000 dense
    arrays of 52,000 zeros; the dense arrays exist only if a consumer asks for them.
    """

    cell: tuple[int, int]
    coef: float
    shape: tuple[int, int]
    constant: float = 0.0
    if_used: tuple[tuple[int, float], ...] = ()
    switch_masks: tuple[np.ndarray, ...] = ()

    @property
    def spend_coef(self) -> np.ndarray:
        """The dense spend coefficients (zero but for the cell)."""
        dense = np.zeros(self.shape)
        dense[self.cell] = self.coef
        return dense

    @property
    def gmv_coef(self) -> np.ndarray:
        """The dense GMV coefficients: all zero."""
        return np.zeros(self.shape)

    def evaluate(self, spend: np.ndarray, gmv: np.ndarray) -> float:
        """Value of the form at the given spend."""
        return float(self.coef * spend[self.cell])

    def magnitude(self, spend: np.ndarray, gmv: np.ndarray) -> float:
        """The absolute size of the one term."""
        return float(abs(self.coef * spend[self.cell]))

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The one term: its flat cell index, spend and GMV coefficient."""
        flat = self.cell[0] * self.shape[1] + self.cell[1]
        return np.array([flat]), np.array([self.coef]), np.zeros(1)


Form = LinearForm | CellForm


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
    num: Form
    den: LinearForm | None
    sense: Sense
    limit: float
    rule: str = ""  # the rule this row belongs to, when a rule has many rows
    probability: float | None = None  # with draws: the share of them it must hold in

    @property
    def key(self) -> str:
        """Identity of the rule: rows of one rule go in and out of a diagnosis together."""
        return self.rule or self.name

    def linear(self) -> tuple[Form, float]:
        """The row as ``form (sense) rhs`` with a linear form."""
        if self.den is None:
            return self.num, self.limit
        assert isinstance(self.num, LinearForm)
        return self.num.minus(self.den, self.limit), 0.0

"""Effect cells: where a problem's curves apply, flat over all units, for the LP route.

Without carry-over a unit's effect cells are its (unit, period) spend cells: each applies the
unit's curve to that period's spend. A unit with adstock has the effect cells of its
``CarryMap``: the curve applies to an effective input, linear in the unit's spend of several
periods, and the GMV of a period is a linear mix of effect cells (``optimizer.core.carry``).
``Effects`` holds both kinds as flat arrays and sparse maps, so the piecewise-linear program
is built the same way for each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.core.curves import Curve
from optimizer.core.problem import Problem


@dataclass(frozen=True)
class Effects:
    """Every effect cell of a problem: flat, unit by unit."""

    offset: np.ndarray  # (units + 1,): unit i's effect cells are offset[i]:offset[i+1]
    gain: np.ndarray  # (effects,): GMV per effective yuan
    period: np.ndarray  # (effects,): the period whose curve an effect cell uses
    lo: np.ndarray  # (effects,): least effective input (at the spend's lower bounds)
    hi: np.ndarray  # (effects,): most effective input
    to_gmv: sp.csr_matrix  # (cells, effects): GMV of each (unit, period) per effect GMV
    history: np.ndarray  # (cells,): GMV of each (unit, period) from history's response
    tail: np.ndarray  # (effects,): GMV after the plan per effect GMV
    tail_base: np.ndarray  # (units,): GMV after the plan from history alone
    carried: np.ndarray  # (units,) bool: the unit has a carry map (spend columns of its own)

    @property
    def count(self) -> int:
        """Number of effect cells."""
        return len(self.gain)

    @property
    def width(self) -> int:
        """Most effect cells of one unit (masks over units x effect cells use this width)."""
        return int(np.max(np.diff(self.offset), initial=0))

    def unit_of(self, effect: np.ndarray) -> np.ndarray:
        """The unit of each flat effect cell."""
        return np.searchsorted(self.offset, effect, side="right") - 1

    def per_effect(self, per_gmv: np.ndarray, after: np.ndarray | None = None) -> np.ndarray:
        """Weights per effect GMV of ``sum(per_gmv * GMV) + sum(after * GMV after the plan)``
        (``per_gmv`` of shape (units, periods), ``after`` one per unit)."""
        out = self.to_gmv.T @ np.asarray(per_gmv, dtype=float).ravel()
        if after is not None:
            unit = np.repeat(np.arange(len(self.offset) - 1), np.diff(self.offset))
            out = out + np.asarray(after, dtype=float)[unit] * self.tail
        return out


def effects(problem: Problem) -> Effects:
    """The problem's effect cells, with their domains at the spend's bounds."""
    n = len(problem.periods)
    counts, gains, periods, los, his, carried = [], [], [], [], [], []
    rows, cols, vals, history, tails, bases = [], [], [], [], [], []
    start = 0
    for i, unit in enumerate(problem.units):
        carry = unit.carry
        if carry is None:
            size = n
            gains.append(np.broadcast_to(unit.gain, (n,)).astype(float))
            periods.append(np.arange(n))
            los.append(problem.lo[i].astype(float))
            his.append(problem.hi[i].astype(float))
            rows.append(i * n + np.arange(n))
            cols.append(start + np.arange(n))
            vals.append(np.ones(n))
            history.append(np.zeros(n))
            tails.append(np.zeros(n))
            bases.append(0.0)
        else:
            size = carry.cells
            gains.append(carry.gain)
            periods.append(carry.period_of)
            los.append(carry.effective(problem.lo[i]))
            his.append(carry.effective(problem.hi[i]))
            m = carry.m.tocoo()
            rows.append(i * n + m.row)
            cols.append(start + m.col)
            vals.append(m.data)
            history.append(carry.d)
            tails.append(carry.tail)
            bases.append(carry.tail_base)
        carried.append(carry is not None)
        counts.append(size)
        start += size
    offset = np.concatenate(([0], np.cumsum(counts))).astype(int)
    to_gmv = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(problem.lo.size, start),
    )
    return Effects(
        offset,
        np.concatenate(gains),
        np.concatenate(periods).astype(int),
        np.concatenate(los),
        np.concatenate(his),
        to_gmv,
        np.concatenate(history),
        np.concatenate(tails),
        np.array(bases),
        np.array(carried, dtype=bool),
    )


def effect_curve(problem: Problem, effects_: Effects, unit: int, k: int) -> Curve:
    """The curve of unit's k-th effect cell (its period's scale)."""
    return problem.units[unit].curve.at(int(effects_.period[effects_.offset[unit] + k]))


def effective_inputs(problem: Problem, spend: np.ndarray) -> list[np.ndarray]:
    """Each unit's effect-cell inputs at the spend: the spend itself without carry-over."""
    return [
        spend[i] if u.carry is None else u.carry.effective(spend[i])
        for i, u in enumerate(problem.units)
    ]

"""Carry-over (adstock) of one response unit as matrices every method can use.

A unit with adstock has *effect cells*, each with its own curve: GMV ``h = gain_e f(e)`` at an
effective input ``e``. Spend reaches them linearly and their GMV reaches the plan's weeks
linearly:

    e = A x + c                      (x: the unit's spend per period; c: its history's input)
    GMV in period t = (M h)[t] + d[t]   (d: what history's response brings, after saturation)
    GMV after the plan = tail . h - tail_base

- **before saturation** (Robyn, Meridian, PyMC-Marketing's default): ``e[tau] = sum_l w[l]
  u[tau - l]`` for the plan's periods and the ``L`` weeks after it (the tail), ``u`` being what
  the spend buys (``input`` per yuan, per period); ``M`` picks the plan's periods, ``tail`` sums
  the weeks after, and ``tail_base`` is what history alone would bring then, so the reported
  GMV after the plan is what *this plan's* spend brings.
- **after saturation** (PyMC-Marketing with ``adstock_first=False``): ``e = u`` week by week,
  and ``M`` spreads each week's response over the weeks after it by the weights; ``d`` is the
  history's response carried into the plan (history weeks are priced as the first period).

The weeks after the plan use the last period's gain and curve (its seasonality and CPM go on),
and the weeks before it the first period's. Without adstock a unit has no map: its GMV in a
period is ``gain f(spend)`` of that period alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.core.curves import Curve


@dataclass(frozen=True)
class CarryMap:
    """One unit's carry-over: spend -> effective input of each effect cell -> GMV per period."""

    before: bool  # adstock before saturation (else after)
    weights: np.ndarray  # w[0..L]
    a: sp.csr_matrix  # (E, T): effective input per yuan of spend of each period
    c: np.ndarray  # (E,): effective input from history
    m: sp.csr_matrix  # (T, E): GMV of each period per GMV of each effect cell
    d: np.ndarray  # (T,): GMV of each period from history's response (after saturation)
    tail: np.ndarray  # (E,): GMV after the plan per GMV of each effect cell
    tail_base: float  # GMV after the plan from history alone (not this plan's)
    gain: np.ndarray  # (E,): GMV per effective yuan of each effect cell
    period_of: np.ndarray  # (E,): the period whose curve each effect cell uses

    @property
    def cells(self) -> int:
        """Number of effect cells."""
        return len(self.c)

    def effective(self, spend: np.ndarray) -> np.ndarray:
        """Effective input of every effect cell at the unit's spend per period."""
        return self.a @ spend + self.c

    def effect(self, curve: Curve, e: np.ndarray) -> np.ndarray:
        """GMV of every effect cell at its effective input."""
        return self.gain * _by_cell(curve, self.period_of, e, "value")

    def effect_slope(self, curve: Curve, e: np.ndarray) -> np.ndarray:
        """d GMV / d effective input of every effect cell."""
        return self.gain * _by_cell(curve, self.period_of, e, "slope")

    def gmv(self, curve: Curve, spend: np.ndarray) -> np.ndarray:
        """GMV of each of the plan's periods at the unit's spend, history's carry included."""
        return self.m @ self.effect(curve, self.effective(spend)) + self.d

    def after(self, curve: Curve, spend: np.ndarray) -> float:
        """GMV this spend brings after the plan's last period."""
        return float(self.tail @ self.effect(curve, self.effective(spend)) - self.tail_base)

    def gradient(
        self, curve: Curve, spend: np.ndarray, per_period: np.ndarray, after: float = 0.0
    ) -> np.ndarray:
        """d/d spend of ``per_period . GMV + after x GMV after the plan``, per period."""
        pull = self.m.T @ per_period + after * self.tail
        return self.a.T @ (pull * self.effect_slope(curve, self.effective(spend)))


def _by_cell(curve: Curve, period_of: np.ndarray, e: np.ndarray, what: str) -> np.ndarray:
    """A curve's value or slope at each effect cell, with its period's scale."""
    if np.ndim(curve.scale) == 0:
        return np.asarray(getattr(curve, what)(e), dtype=float)
    out = np.empty_like(e, dtype=float)
    for t in np.unique(period_of):
        here = period_of == t
        out[here] = getattr(curve.at(int(t)), what)(e[here])
    return out


def carry_map(
    weights: np.ndarray,
    before: bool,
    input_per_yuan: np.ndarray,
    history_input: np.ndarray,
    gain: np.ndarray,
    curve: Curve,
) -> CarryMap:
    """The matrices of one unit's carry-over (see the module's docstring).

    ``input_per_yuan`` (T,) turns spend into what adstock carries; ``history_input`` holds the
    weeks before the plan in those units, oldest first; ``gain`` (T,) is GMV per effective
    yuan of each period.
    """
    w = np.asarray(weights, dtype=float)
    n, lags = len(gain), len(w) - 1
    history = np.asarray(history_input, dtype=float)
    # Spend of plan period s reaches week tau = s + l with weight w[l].
    s_idx, l_idx = np.meshgrid(np.arange(n), np.arange(lags + 1), indexing="ij")
    s_idx, l_idx = s_idx.ravel(), l_idx.ravel()
    weight = w[l_idx]
    keep = weight != 0
    s_idx, l_idx, weight = s_idx[keep], l_idx[keep], weight[keep]
    # History week j (0 = oldest) is week j - H relative to the plan's first period.
    h_week = np.arange(len(history)) - len(history)
    if before:
        cells = n + lags
        period_of = np.minimum(np.arange(cells), n - 1)
        a = sp.csr_matrix(
            (weight * input_per_yuan[s_idx], (s_idx + l_idx, s_idx)), shape=(cells, n)
        )
        c = np.zeros(cells)
        for j, amount in zip(h_week, history, strict=True):
            reach = np.arange(max(j, 0), min(j + lags, cells - 1) + 1)
            c[reach] += w[reach - j] * amount
        m = sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n))), shape=(n, cells))
        tail = (np.arange(cells) >= n).astype(float)
        cell_gain = gain[period_of]
        base = cell_gain * _by_cell(curve, period_of, c, "value")
        return CarryMap(
            True, w, a, c, m, np.zeros(n), tail, float(tail @ base), cell_gain, period_of
        )
    period_of = np.arange(n)
    a = sp.diags(np.asarray(input_per_yuan, dtype=float)).tocsr()
    within = s_idx + l_idx < n
    m = sp.csr_matrix((weight[within], ((s_idx + l_idx)[within], s_idx[within])), shape=(n, n))
    tail = np.array([float(np.sum(w[max(n - s, 0) :])) for s in range(n)])
    d = np.zeros(n)
    if len(history):
        first = gain[0] * np.asarray(curve.at(0).value(history), dtype=float)
        for j, response in zip(h_week, first, strict=True):
            reach = np.arange(0, min(j + lags, n - 1) + 1)
            reach = reach[reach - j <= lags]
            d[reach] += w[reach - j] * response
    return CarryMap(False, w, a, np.zeros(n), m, d, tail, 0.0, np.asarray(gain, float), period_of)

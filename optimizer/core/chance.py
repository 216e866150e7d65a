"""What every risk-aware Lagrangian shares: the draws' weights of the objective and rows, and
the cuts that keep a rule in a share of the draws.

A rule with ``probability: p`` is kept through its CVaR: its average over its worst 1 - p
share of draws must hold, which is sure to give p and is convex where the rule is. A rule
broken that way gets a copy of its row weighing those worst draws (``add_cut``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

CUT_TOLERANCE = 1e-9  # a chance rule broken by more gets a cut


class NotConcave(Exception):
    """A cell's Lagrangian term is not concave at these multipliers."""


class DrawWeights(ABC):
    """The objective's weights of the draws (``q``) and each row's (``pi``), with chance cuts.

    A subclass sets ``count``, ``b``, ``a_s``, ``a_g``, ``row_scale``, ``equal``, ``flip``,
    ``row_index`` and the problem, then calls ``start_weights``; it gives ``row_by_draw``.
    """

    count: int
    b: np.ndarray
    a_s: np.ndarray
    a_g: np.ndarray
    row_scale: np.ndarray
    equal: np.ndarray
    flip: np.ndarray
    row_index: np.ndarray

    def start_weights(self, rows: list) -> None:
        """Every row and the objective weighing each draw 1 / K; the chance rows' shares."""
        self.q = np.full(self.count, 1.0 / self.count)
        self.pi = np.full((len(self.b), self.count), 1.0 / self.count)
        self.original = len(self.b)  # rows of the problem; cuts come after
        self.chance = {
            j: 1.0 - float(rows[r].probability)
            for j, r in enumerate(self.row_index)
            if rows[r].probability is not None
        }

    def set_weights(self, q: np.ndarray) -> None:
        """The objective's weight of each draw (the mean's 1 / K by default)."""
        self.q = q

    @abstractmethod
    def row_by_draw(self, x: np.ndarray, j: int) -> np.ndarray:
        """Row j's left-hand side in every draw at spend x, shape (K,)."""

    def broken_chance(
        self, x: np.ndarray, tolerance: float = CUT_TOLERANCE
    ) -> list[tuple[int, np.ndarray]]:
        """Chance rows whose CVaR over their worst 1 - p share of draws is broken at x by
        more than ``tolerance`` (rows are scaled to order one), each with those draws'
        weights (the cut that keeps it)."""
        out = []
        for j, share in self.chance.items():
            excess = self.row_by_draw(x, j) - self.b[j]
            weights = worst_weights(excess, share)
            if float(weights @ excess) > tolerance * max(1.0, float(np.max(np.abs(excess)))):
                out.append((j, weights))
        return out

    def has_cut(self, weights: np.ndarray) -> bool:
        """Whether a cut with these draws' weights is already kept."""
        return any(np.array_equal(weights, row) for row in self.pi[self.original :])

    def add_cut(self, j: int, weights: np.ndarray) -> None:
        """Row j again, its GMV weighing the draws by ``weights``: one more of the chance
        rule's constraints over its worst draws."""
        self.a_s = np.vstack([self.a_s, self.a_s[j]])
        self.a_g = np.vstack([self.a_g, self.a_g[j]])
        self.b = np.append(self.b, self.b[j])
        self.row_scale = np.append(self.row_scale, self.row_scale[j])
        self.equal = np.append(self.equal, self.equal[j])
        self.flip = np.append(self.flip, self.flip[j])
        self.row_index = np.append(self.row_index, self.row_index[j])
        self.pi = np.vstack([self.pi, weights])


def worst_weights(values: np.ndarray, share: float) -> np.ndarray:
    """Weights averaging the largest ``share`` of equally likely values (the upper CVaR's)."""
    count = len(values)
    order = np.argsort(-values, kind="stable")
    mass = share * count
    whole = int(np.floor(mass + 1e-12))
    weights = np.zeros(count)
    weights[order[:whole]] = 1.0 / mass
    if whole < count and mass > whole:
        weights[order[whole]] = (mass - whole) / mass
    return weights


def cvar(values: np.ndarray, level: float) -> float:
    """The average of the worst ``level`` share of equally likely values (lowest first)."""
    ordered = np.sort(values)
    mass = level * len(values)
    whole = int(np.floor(mass + 1e-12))
    total = ordered[:whole].sum()
    if whole < len(values) and mass > whole:
        total += (mass - whole) * ordered[whole]
    return float(total / mass)

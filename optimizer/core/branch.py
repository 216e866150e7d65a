"""Exact plans for S-shaped curves: branch and bound on the Lagrangian bound.

An S-shaped cell (Hill above shape 1) is convex up to its inflection and concave after it. The
Lagrangian still separates and each cell's best spend at given multipliers is still exact: the
better of its lower end and its root on the concave side (``Lagrangian.best_spend``), so
``D(lam)`` still bounds every plan. It is the bound of the problem in which every curve is
replaced by its concave envelope on the cell's range (``Curve.envelope``).

With at most one coupling row (the budget, or any one rule) D is convex in one multiplier, found
by bracketing the root of its gradient. A cell's best spend may jump there, from its lower end to
the concave side: the plan fills the row from the multiplier's feasible side with the cells
that jump, whole cells first, then part of one. Only that part-filled cell sits below the
envelope, so the plan is within the envelope's gap at that cell of the bound.

Branch and bound (Udell and Boyd, "Maximizing a sum of sigmoids", 2013) splits that cell's
range at its spend and bounds both halves: on a shorter range the envelope is closer to the
curve, so the gap closes geometrically. Nodes are taken best bound first, until the best open
bound is within a tenth of the tolerance of the best plan; the proven bound is the highest bound
of any node left unexplored.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.core.lagrangian import Lagrangian

MAX_NODES = 5000
EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class _Point:
    """D, its gradient on the one row, and the cells' best spend at one multiplier."""

    lam: float
    d: float
    grad: float
    x: np.ndarray


@dataclass(frozen=True)
class Relaxation:
    """A node's bound (scaled, rounding included), its best plan and that plan's value."""

    bound: float
    lam: float
    x: np.ndarray
    value: float  # -inf where the plan breaks the row (no multiplier makes it hold)
    split: int  # the cell to branch on (-1: none below its envelope)


@dataclass(order=True)
class _Node:
    priority: float  # minus the bound: the best bound comes off the heap first
    order: int  # creation order, so that ties break the same way on every run
    ranges: dict[int, tuple[float, float]] = field(compare=False)
    relaxation: Relaxation = field(compare=False)


@dataclass(frozen=True)
class Outcome:
    """The best plan found, its multiplier and the proven bound (scaled)."""

    x: np.ndarray
    lam: np.ndarray
    bound: float
    nodes: int


class Branching:
    """Branch and bound over cell ranges for a Lagrangian with at most one coupling row."""

    def __init__(self, dual: Lagrangian, tolerance: float) -> None:
        self.dual = dual
        self.tolerance = tolerance
        self.lo, self.hi = dual.lo.copy(), dual.hi.copy()
        self.nodes = 0

    # --- one node

    def relax(self, ranges: dict[int, tuple[float, float]], start: float | None) -> Relaxation:
        """The bound and a plan for the cells restricted to ``ranges``."""
        dual = self.dual
        dual.lo, dual.hi = self.lo.copy(), self.hi.copy()
        for cell, (lo, hi) in ranges.items():
            dual.lo[cell], dual.hi[cell] = lo, hi
        self.nodes += 1
        if len(dual.b) == 0:
            d, _, x = dual.evaluate(np.zeros(0))
            return self._finish(d, 0.0, x)
        low, high = self._bracket(start)
        x, part = self._fill(high.x, low.x) if high.lam != low.lam else (high.x, -1)
        best = min((low, high), key=lambda p: p.d)
        return self._finish(best.d, best.lam, x, part)

    def _finish(self, d: float, lam: float, x: np.ndarray, part: int = -1) -> Relaxation:
        """The node's bound with its rounding allowance, and the plan's value. The plan sits
        on its cells' envelopes but for the part-filled cell, the one to branch on (if it is
        S-shaped: a concave cell is on its own envelope)."""
        dual = self.dual
        multipliers = np.full(len(dual.b), lam)
        g = dual.value(x)
        value = float(dual.c_s @ x + dual.c_g @ g + dual.c0) if self._holds(x, g) else -np.inf
        bound = d + dual.rounding(multipliers, x)
        split = part if part >= 0 and dual.bent[part] else -1
        return Relaxation(bound, lam, x, value, split)

    def _holds(self, x: np.ndarray, g: np.ndarray) -> bool:
        """True when the coupling row holds at spend x (GMV g), up to float dust (the scaled
        row is of order one; the plan is re-checked on the problem's own rows at the end)."""
        dual = self.dual
        if not len(dual.b):
            return True
        over = float(dual.a_s[0] @ x + dual.a_g[0] @ g - dual.b[0])
        return (abs(over) if dual.equal[0] else over) <= 1e-12

    def _at(self, lam: float) -> _Point:
        d, grad, x = self.dual.evaluate(np.array([lam]))
        return _Point(lam, d, float(grad[0]), x)

    def _bracket(self, start: float | None) -> tuple[_Point, _Point]:
        """Multipliers either side of the root of D's gradient (the row broken left of it,
        holding right of it), as close as floating point allows; both the same point where
        the gradient is zero there, or where the row holds with a zero multiplier."""
        equal = bool(self.dual.equal[0])
        floor = -np.inf if equal else 0.0
        if not equal:
            zero = self._at(0.0)
            if zero.grad >= 0:
                return zero, zero
        here = self._at(start if start is not None and start > floor else 1.0)
        step = 1e-3 * max(abs(here.lam), 1e-3)
        low = high = here
        if here.grad < 0:  # the row is broken: raise the multiplier
            while high.grad < 0:
                if step > 1e30:
                    return high, high  # no multiplier makes it hold: the rules leave no plan
                low, high = high, self._at(here.lam + step)
                step *= 8.0
        else:
            while low.grad >= 0:
                if step > 1e30:
                    return low, low  # an equality that holds however low: D falls forever
                high, low = low, self._at(max(here.lam - step, floor))
                step *= 8.0
        precision = 1e-3 * self.tolerance  # the scaled objective is of order one
        side = 0  # which end was kept last (Illinois: halve the kept end's gradient)
        g_low, g_high = low.grad, high.grad
        for _ in range(400):
            width = high.lam - low.lam
            if high.grad == 0 or width <= 4 * EPS * max(abs(high.lam), 1e-300):
                break
            if width * (high.grad - low.grad) <= precision and self._jumps(low.x, high.x):
                break  # D at either end is close enough, and more steps only find the jump
            mid = high.lam - g_high * width / (g_high - g_low)
            if not low.lam < mid < high.lam:
                mid = 0.5 * (low.lam + high.lam)
            point = self._at(mid)
            if point.grad < 0:
                low, g_low = point, point.grad
                g_high = g_high * 0.5 if side == -1 else g_high
                side = -1
            else:
                high, g_high = point, point.grad
                g_low = g_low * 0.5 if side == 1 else g_low
                side = 1
        if high.grad == 0:
            return high, high
        return low, high

    def _jumps(self, x: np.ndarray, other: np.ndarray) -> bool:
        """True when some cell's best spend differs by a thousandth of its range between two
        close multipliers: a jump from its lower end to its concave side, not a smooth move."""
        dual = self.dual
        return bool(np.any(np.abs(x - other) > 1e-3 * np.maximum(dual.hi - dual.lo, 1e-300)))

    def _fill(self, x: np.ndarray, over: np.ndarray) -> tuple[np.ndarray, int]:
        """The plan between ``x`` (the row holds) and ``over`` (it does not): the cells that
        differ move to their ``over`` spend, largest move first, while the row still holds;
        the next one moves part of the way, to where the row holds exactly (returned too)."""
        dual = self.dual
        a_s, a_g, b = dual.a_s[0], dual.a_g[0], float(dual.b[0])
        g_x, g_over = dual.value(x), dual.value(over)
        slack = b - float(a_s @ x + a_g @ g_x)
        moved = np.flatnonzero(x != over)
        if not moved.size or slack <= 0:
            return x, -1
        size = np.abs(over[moved] - x[moved])
        moved = moved[np.lexsort((moved, -size))]
        use = a_s[moved] * (over[moved] - x[moved]) + a_g[moved] * (g_over[moved] - g_x[moved])
        total = np.cumsum(use)
        fits = int(np.argmax(total > slack)) if np.any(total > slack) else len(moved)
        out = x.copy()
        out[moved[:fits]] = over[moved[:fits]]
        if fits < len(moved):
            cell = int(moved[fits])
            left = slack - (float(total[fits - 1]) if fits else 0.0)
            out[cell] = self._part(cell, x[cell], over[cell], left)
            return out, cell
        return out, -1

    def _part(self, cell: int, start: float, end: float, left: float) -> float:
        """Spend between start and end of one cell that uses ``left`` of the row, or as much
        of it as there is: in closed form on spend alone, by bisection when GMV counts."""
        dual = self.dual
        a_s, a_g = float(dual.a_s[0, cell]), float(dual.a_g[0, cell])
        if a_g == 0.0:
            move = 1.0 if a_s == 0.0 else float(np.clip(left / (a_s * (end - start)), 0.0, 1.0))
            return start + move * (end - start)
        base = dual.cell_value(cell, start)

        def use(t: float) -> float:
            spend = start + t * (end - start)
            return a_s * (spend - start) + a_g * (dual.cell_value(cell, spend) - base)

        if use(1.0) <= left:
            return end
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if use(mid) <= left else (lo, mid)
        return start + lo * (end - start)

    # --- the tree

    def solve(self, deadline: float = float("inf")) -> Outcome:
        """Best-first branch and bound until the best open bound is within a tenth of the
        tolerance of the best plan (or the node limit or ``deadline`` is reached)."""
        root = self.relax({}, None)
        best = root
        heap = [_Node(-root.bound, 0, {}, root)]
        closed = -np.inf  # the highest bound of a node taken off the tree without branching
        while heap:
            node = heap[0]
            if self._close_enough(node.relaxation.bound, best.value):
                break
            if self.nodes >= MAX_NODES or time.perf_counter() > deadline:
                break
            heapq.heappop(heap)
            relaxed = node.relaxation
            if relaxed.split < 0:
                closed = max(closed, relaxed.bound)
                continue
            for ranges in self._halves(node.ranges, relaxed):
                child = self.relax(ranges, relaxed.lam)
                child = _capped(child, relaxed.bound)
                if child.value > best.value:
                    best = child
                heapq.heappush(heap, _Node(-child.bound, self.nodes, ranges, child))
        bound = max([closed, best.value] + [-n.priority for n in heap])
        self.dual.lo, self.dual.hi = self.lo, self.hi
        lam = np.full(len(self.dual.b), best.lam)
        return Outcome(best.x, lam, bound, self.nodes)

    def _close_enough(self, bound: float, value: float) -> bool:
        size = max(abs(bound), abs(value), 1.0 / self.dual.scale)
        return bound - value <= 0.1 * self.tolerance * size

    def _halves(
        self, ranges: dict[int, tuple[float, float]], relaxed: Relaxation
    ) -> list[dict[int, tuple[float, float]]]:
        """The node's ranges with its split cell's cut at the plan's spend (or the middle of
        its range, where the spend sits at an end)."""
        cell = relaxed.split
        lo, hi = ranges.get(cell, (float(self.lo[cell]), float(self.hi[cell])))
        cut = float(relaxed.x[cell])
        if not lo + 0.01 * (hi - lo) < cut < hi - 0.01 * (hi - lo):
            cut = 0.5 * (lo + hi)
        return [{**ranges, cell: (lo, cut)}, {**ranges, cell: (cut, hi)}]


def _capped(child: Relaxation, parent_bound: float) -> Relaxation:
    """A child's bound is its parent's at most: its plans are a subset of the parent's."""
    if child.bound <= parent_bound:
        return child
    return Relaxation(parent_bound, child.lam, child.x, child.value, child.split)

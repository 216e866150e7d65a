"""The Lagrangian of a separable problem over its coupling rows, and its minimisation.

``Lagrangian`` holds the problem scaled so the objective and every row are of order one: the
cells' curves grouped by family (one numpy pass per family), each coupling row as
``a_s . x + a_g . g <= b``, and a channel's per-period limits folded into the cells' bounds. It
gives the cells' best spend at given multipliers, the dual function with its gradient and
Hessian, and ``solve``: L-BFGS-B from zero, then Newton on the binding rows (bisection on a row
without curvature) until they hold to float precision. ``optimizer.core.dual`` turns that into
a plan with a proven gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize

from optimizer.core.curves import Curve
from optimizer.core.forms import CellForm, Row
from optimizer.core.problem import Problem

NEWTON_STEPS = 30
SENSES = {"<=": 0, ">=": 1, "==": 2}


_Coupling = tuple[int, np.ndarray, np.ndarray, float, bool, float]
"""(problem row, spend coefficients, GMV coefficients, right-hand side, is ==, sign applied)"""


def cell_bound(row: Row) -> tuple[int, float, float] | None:
    """(flat cell, coefficient, right-hand side) of a row on one cell's spend alone, which is
    a bound of that cell; None for a row that couples cells or involves GMV."""
    if isinstance(row.num, CellForm):  # the common case, kept quick
        flat = row.num.cell[0] * row.num.shape[1] + row.num.cell[1]
        return flat, row.num.coef, row.limit
    lin, rhs = row.linear()
    where, spend_coef, gmv_coef = lin.entries()
    if len(where) != 1 or np.any(gmv_coef):
        return None
    return int(where[0]), float(spend_coef[0]), rhs - lin.constant


class OutOfTime(Exception):
    """The time limit ran out during the dual's iterations."""


@dataclass(frozen=True)
class _Group:
    """Cells sharing a curve family; ``curve.scale`` and ``curve.shape`` hold one per cell."""

    cells: np.ndarray
    curve: Curve


class Lagrangian:
    """The Lagrangian of one problem, scaled so objective and rows are of order one."""

    def __init__(self, problem: Problem, deadline: float = float("inf")) -> None:
        self.problem = problem
        self.deadline = deadline
        shape = problem.lo.shape
        n_periods = shape[1]
        self.gain = np.concatenate([np.broadcast_to(u.gain, (n_periods,)) for u in problem.units])
        self.lo = problem.lo.ravel().astype(float).copy()
        self.hi = problem.hi.ravel().astype(float).copy()
        self.groups = _groups(problem)
        self.guesses: dict[int, np.ndarray] = {}  # last best spends of Hill groups
        self.bent = np.zeros(problem.lo.size, dtype=bool)  # cells with S-shaped curves
        self.group_of = np.zeros(problem.lo.size, dtype=int)  # each cell's group, and
        self.position = np.zeros(problem.lo.size, dtype=int)  # its place in that group
        for g, group in enumerate(self.groups):
            self.group_of[group.cells] = g
            self.position[group.cells] = np.arange(len(group.cells))
            if group.curve.is_s_shaped():
                self.bent[group.cells] = np.asarray(group.curve.shape) > 1.0
        self.any_bent = bool(self.bent.any())
        sign = 1.0 if problem.maximise else -1.0
        form = problem.objective
        self.sign = sign
        self.c_s, self.c_g = sign * form.spend_coef.ravel(), sign * form.gmv_coef.ravel()
        self.c0 = sign * form.constant
        self.infeasible = ""
        rows = self._coupling_rows(problem)
        cells = problem.lo.size
        if np.any(self.lo > self.hi + 1e-9 * np.maximum(1.0, np.abs(self.hi))):
            self.infeasible = "a cell's bounds cross"
        self.hi = np.maximum(self.hi, self.lo)
        g_hi = self.value(self.hi)
        self.scale = max(float(np.sum(np.abs(self.c_s) * self.hi + np.abs(self.c_g) * g_hi)), 1.0)
        self.row_index = np.array([r[0] for r in rows], dtype=int)
        self.equal = np.array([r[4] for r in rows], dtype=bool)
        self.flip = np.array([r[5] for r in rows])
        size = [
            max(abs(r[3]), float(np.sum(np.abs(r[1]) * self.hi + np.abs(r[2]) * g_hi)), 1.0)
            for r in rows
        ]
        self.row_scale = np.array(size)
        m = len(rows)
        self.a_s = np.array([r[1] for r in rows]).reshape(m, cells) / self.row_scale[:, None]
        self.a_g = np.array([r[2] for r in rows]).reshape(m, cells) / self.row_scale[:, None]
        self.b = np.array([r[3] for r in rows]) / self.row_scale
        self.c_s, self.c_g, self.c0 = (
            self.c_s / self.scale,
            self.c_g / self.scale,
            self.c0 / self.scale,
        )

    def _coupling_rows(self, problem: Problem) -> list[_Coupling]:
        """Every row as ``a_s . x + a_g . g <= b`` (== kept), but a row on one cell's spend,
        which tightens that cell's bounds instead; a row on nothing must hold by itself."""
        rows: list[_Coupling] = []
        cells, n_periods = problem.lo.size, problem.lo.shape[1]
        bounds: list[tuple[int, int, float, float, int]] = []  # (row, cell, a, b, sense)
        for index, row in enumerate(problem.rows):
            num = row.num
            if type(num) is CellForm:  # most rows, on 1,000-channel weekly plans: kept quick
                cell = num.cell[0] * n_periods + num.cell[1]
                bounds.append((index, cell, num.coef, row.limit - num.constant, SENSES[row.sense]))
                continue
            bound = cell_bound(row)
            if bound is not None:
                bounds.append((index, *bound, SENSES[row.sense]))
                continue
            lin, rhs = row.linear()
            where, spend_coef, gmv_coef = lin.entries()
            b = rhs - lin.constant
            flip = -1.0 if row.sense == ">=" else 1.0
            if len(where) == 0:
                if flip * (0.0 - b) > 1e-9 * max(abs(b), 1.0) or (row.sense == "==" and b):
                    self.infeasible = f"{row.name} cannot hold"
            else:
                a_s, a_g = np.zeros(cells), np.zeros(cells)
                a_s[where], a_g[where] = spend_coef, gmv_coef
                rows.append((index, flip * a_s, flip * a_g, flip * b, row.sense == "==", flip))
        self._bounds(np.array(bounds, dtype=float).reshape(-1, 5))
        return rows

    def _bounds(self, bounds: np.ndarray) -> None:
        """Fold rows on one cell's spend (columns: row, cell, a, b, sense as in ``SENSES``;
        ``a x (sense) b``) into the cells' bounds at once, remembering which row set which
        side (``bound_rows``) for their duals."""
        index, cell = bounds[:, 0].astype(int), bounds[:, 1].astype(int)
        a, b, sense = bounds[:, 2], bounds[:, 3], bounds[:, 4]
        empty = a == 0  # 0 (sense) b: holds or not by itself, bounds nothing
        broken = np.where(
            sense == SENSES["<="], b < 0, np.where(sense == SENSES[">="], b > 0, b != 0)
        )
        if np.any(empty & broken):
            self.infeasible = "a rule on a cell's spend with a zero coefficient cannot hold"
        limit = b / np.where(empty, 1.0, a)
        upper = (sense == SENSES["<="]) == (a > 0)
        equal = sense == SENSES["=="]
        to_hi, to_lo = (equal | upper) & ~empty, (equal | ~upper) & ~empty
        np.minimum.at(self.hi, cell[to_hi], limit[to_hi])
        np.maximum.at(self.lo, cell[to_lo], limit[to_lo])
        # (row, cell, coefficient, is the upper side) of each side a row sets
        self.bound_rows = (
            np.concatenate((index[to_hi], index[to_lo])),
            np.concatenate((cell[to_hi], cell[to_lo])),
            np.concatenate((a[to_hi], a[to_lo])),
            np.concatenate((np.ones(int(to_hi.sum()), bool), np.zeros(int(to_lo.sum()), bool))),
        )

    # --- the cells

    def value(self, x: np.ndarray) -> np.ndarray:
        """GMV of every cell at spend x."""
        out = np.empty_like(x)
        for group in self.groups:
            out[group.cells] = group.curve.value(x[group.cells])
        return self.gain * out

    def slope(self, x: np.ndarray) -> np.ndarray:
        """d GMV / d spend of every cell."""
        out = np.empty_like(x)
        for group in self.groups:
            out[group.cells] = group.curve.slope(x[group.cells])
        return self.gain * out

    def cell_value(self, cell: int, spend: float) -> float:
        """GMV of one cell at a spend."""
        curve, at = self.groups[self.group_of[cell]].curve, self.position[cell]
        one = replace(curve, scale=_entry(curve.scale, at), shape=_entry(curve.shape, at))
        return float(self.gain[cell] * one.value(spend))

    def curvature(self, x: np.ndarray) -> np.ndarray:
        """d2 GMV / d spend2 of every cell (negative: the curves are strictly concave)."""
        out = np.empty_like(x)
        for group in self.groups:
            out[group.cells] = group.curve.curvature(x[group.cells])
        return self.gain * out

    def weights(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """W (per GMV) and P (per yuan) of every cell at the multipliers."""
        return self.c_g - lam @ self.a_g, lam @ self.a_s - self.c_s

    def best_spend(self, w: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Each cell's spend maximising W g(x) - P x on [lo, hi]."""
        x = np.empty_like(w)
        rising = w > 0
        everywhere = bool(rising.all())  # the usual case: every cell's GMV is worth something
        with np.errstate(divide="ignore", invalid="ignore"):
            target = (
                p / (w * self.gain) if everywhere else np.where(rising, p / (w * self.gain), np.inf)
            )
        for g, group in enumerate(self.groups):
            found = group.curve.spend_at_slope(target[group.cells], self.guesses.get(g))
            if group.curve.family == "hill":
                self.guesses[g] = found  # the next multipliers are close: start from here
            x[group.cells] = found
        if not everywhere:
            x = np.where(rising, x, self.lo)
        x = np.minimum(np.maximum(x, self.lo), self.hi)
        if self.any_bent:
            # an S-shaped cell's other candidate is its lower end: left of the concave part,
            # W g(x) - P x is convex, and its maximum there is at an end
            at_lo = w * self.value(self.lo) - p * self.lo
            at_x = w * self.value(x) - p * x
            x = np.where(self.bent & (at_lo > at_x), self.lo, x)
        # W <= 0: W g(x) - P x is convex, so its maximum is at an end
        flat = ~rising
        if not everywhere:
            at_lo = w * self.value(self.lo) - p * self.lo
            at_hi = w * self.value(self.hi) - p * self.hi
            x = np.where(flat & (at_hi > at_lo), self.hi, x)
        return x

    # --- the dual function

    def evaluate(self, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """D(lam), its gradient and the cells' best spend (OutOfTime past the deadline)."""
        if time.perf_counter() > self.deadline:
            raise OutOfTime
        w, p = self.weights(lam)
        x = self.best_spend(w, p)
        g = self.value(x)
        d = float(np.sum(w * g - p * x) + lam @ self.b + self.c0)
        return d, self.b - (self.a_s @ x + self.a_g @ g), x

    def rounding(self, lam: np.ndarray, x: np.ndarray) -> float:
        """What D(lam) gets added so that it bounds the plan it comes with: a few ulps of the sum
        of its terms' sizes (the floating-point error of D itself), and the multipliers times
        whatever float dust the plan leaves over a binding row (a row the re-check accepts,
        over by 1e-15, lets the plan's objective pass D by as much)."""
        w, p = self.weights(lam)
        g = self.value(x)
        size = np.sum(np.abs(w * g) + np.abs(p * x)) + abs(lam @ self.b) + abs(self.c0)
        over = np.maximum(self.a_s @ x + self.a_g @ g - self.b, 0.0)
        over = np.where(self.equal, np.abs(self.a_s @ x + self.a_g @ g - self.b), over)
        return float(16 * np.finfo(float).eps * (size + len(x)) + np.abs(lam) @ over)

    def hessian(self, lam: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """D's Hessian over ``rows``: J diag(1 / -W g'') J^T over cells inside their bounds."""
        w, _ = self.weights(lam)
        inside = (w > 0) & (x > self.lo) & (x < self.hi)
        bend = (w * self.curvature(x))[inside]
        jac = self.a_s[rows][:, inside] + self.a_g[rows][:, inside] * self.slope(x)[inside]
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(bend < 0, -1.0 / bend, 0.0)
        return (jac * weight) @ jac.T

    # --- minimising D

    def solve(self, start: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """Multipliers minimising D: L-BFGS-B to close (from ``start``, default zero), then
        Newton on the binding rows."""
        m = len(self.b)
        lam = np.zeros(m) if start is None or len(start) != m else start.copy()
        if m == 0:
            return lam, 0
        bounds = [(None, None) if eq else (0.0, None) for eq in self.equal]

        def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
            d, grad, _ = self.evaluate(v)
            return d, grad

        found = minimize(
            fun,
            lam,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 300, "maxfun": 400, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20},
        )
        lam = np.where(self.equal, found.x, np.maximum(found.x, 0.0))
        return self.polish(lam), int(found.nit)

    def polish(self, lam: np.ndarray) -> np.ndarray:
        """Newton's method on the rows that bind, until they hold to float precision; where
        Newton cannot step (a row whose cells all sit on a bound has no curvature), a row's
        own multiplier is moved to where it holds, by bisection: its gradient is monotone."""
        for _ in range(NEWTON_STEPS):
            d, grad, x = self.evaluate(lam)
            need = np.where(self.equal | (lam > 0), np.abs(grad), np.maximum(-grad, 0.0))
            if not need.size or np.max(need) <= 1e-14:
                break
            rows = np.flatnonzero(self.equal | (lam > 0) | (grad < 0))
            stepped = self._newton(lam, d, grad, x, rows)
            if stepped is None:
                stepped = self._without_newton(lam, grad, need)
                if stepped is None:
                    break
            lam = stepped
        return lam

    def _without_newton(
        self, lam: np.ndarray, grad: np.ndarray, need: np.ndarray
    ) -> np.ndarray | None:
        """The next multipliers where Newton cannot step: the neediest row's own, bisected
        (None would stop polishing)."""
        return self._row_root(lam, int(np.argmax(need)))

    def _newton(
        self, lam: np.ndarray, d: float, grad: np.ndarray, x: np.ndarray, rows: np.ndarray
    ) -> np.ndarray | None:
        """One damped Newton step on ``rows`` that lowers D, or None if there is none."""
        h = self.hessian(lam, x, rows)
        if np.min(np.diag(h), initial=np.inf) <= 1e-300:
            return None
        try:
            step = -np.linalg.solve(h, grad[rows])
        except np.linalg.LinAlgError:
            return None
        trial = lam.copy()
        trial[rows] += step
        trial = np.where(self.equal, trial, np.maximum(trial, 0.0))
        if not np.all(np.isfinite(trial)):
            return None
        t = 1.0
        while t > 1e-6:
            moved = lam + t * (trial - lam)
            if self.evaluate(moved)[0] <= d + 1e-12 * max(abs(d), 1.0):
                return moved
            t *= 0.5
        return None

    def _row_root(self, lam: np.ndarray, r: int) -> np.ndarray:
        """Multipliers with row r's moved to where its gradient b - A x crosses zero (or to 0,
        for an inequality that then holds): the gradient rises with the multiplier."""

        def gradient(value: float) -> float:
            trial = lam.copy()
            trial[r] = value
            return float(self.evaluate(trial)[1][r])

        low = -np.inf if self.equal[r] else 0.0
        here = float(lam[r])
        if gradient(here) < 0:  # broken: raise the multiplier until the row holds
            lo, hi, width = here, here, max(1.0, abs(here))
            while gradient(hi) < 0 and width < 1e30:
                lo, hi, width = hi, here + width, 2.0 * width
        else:  # slack: lower it, to 0 for an inequality that still holds there
            if low == 0.0 and gradient(0.0) >= 0:
                lam = lam.copy()
                lam[r] = 0.0
                return lam
            lo, hi, width = here, here, max(1.0, abs(here))
            while gradient(lo) > 0 and width < 1e30:
                hi, lo, width = lo, max(here - width, low), 2.0 * width
        while lo == 0.0 and hi > 1e-300 and gradient(hi / 16.0) >= 0:
            hi /= 16.0  # multipliers of tiny marginal returns: close in geometrically first
        if lo == 0.0 and hi > 1e-300:
            lo = hi / 16.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if gradient(mid) < 0:
                lo = mid
            else:
                hi = mid
        lam = lam.copy()
        lam[r] = hi  # the side where the row holds
        return lam

    def duals(self, lam: np.ndarray, x: np.ndarray) -> np.ndarray:
        """d objective / d rhs of every problem row, in the problem's own units and sense."""
        out = np.zeros(len(self.problem.rows))
        unscaled = lam * self.scale / self.row_scale
        out[self.row_index] = unscaled * self.flip * self.sign
        w, p = self.weights(lam)
        pull = (w * self.slope(x) - p) * self.scale  # d objective / d spend of each cell
        index, cell, a, upper = self.bound_rows
        at = np.where(upper, self.hi[cell], self.lo[cell])
        held = (x[cell] == at) & (out[index] == 0)
        # an == row sets both sides of its cell, with the same value: either may land
        out[index[held]] = self.sign * pull[cell[held]] / a[held]
        return out


def _groups(problem: Problem) -> list[_Group]:
    """Cells by curve family, each cell with its unit's scale and shape (one numpy pass per
    family, however many channels)."""
    n_periods = problem.lo.shape[1]
    found: dict[str, list[tuple[int, float | np.ndarray, float]]] = {}
    for i, unit in enumerate(problem.units):
        if unit.curve.family == "mixture":  # the draws' curves of a risk-aware plan: its own
            continue
        found.setdefault(unit.curve.family, []).append((i, unit.curve.scale, unit.curve.shape))
    groups = []
    for family, members in found.items():
        index = np.array([m[0] for m in members])
        cells = (index[:, None] * n_periods + np.arange(n_periods)).ravel()
        scales = np.concatenate([np.broadcast_to(m[1], (n_periods,)) for m in members])
        shapes = np.repeat(np.array([m[2] for m in members], dtype=float), n_periods)
        curve = Curve(family, scale=scales, shape=shapes)  # type: ignore[arg-type]
        groups.append(_Group(cells, curve))
    return groups


def _entry(values: float | np.ndarray, at: int | np.ndarray) -> float | np.ndarray:
    """A per-cell parameter's entries at ``at`` (a scalar parameter is everyone's)."""
    if np.ndim(values) == 0:
        return values
    return np.asarray(values)[at]

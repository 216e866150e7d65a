"""The dual method with carry-over: each unit becomes a chain over its periods.

With adstock a unit's GMV in a period depends on its spend in earlier ones, so the cells of one
unit no longer separate; the units still do. Given multipliers of the coupling rows the
Lagrangian is, unit by unit,

    phi_u(x) = sum over effect cells k of W_k gain_k f(e_k) - sum over periods t of P_t x_t,
    e = A x + c,   lo <= x <= hi,

concave in x when every W_k >= 0 (a weight a rule that limits GMV would make negative counts
as 0: GMV is never negative, so D stays an upper bound). Its maximum is found by a projected Newton
method on all units at once (dense T x T Hessians ``A^T diag(W gain f'') A``, batched), warm
started from the previous multipliers' spend. A near-maximum is turned into a sound bound by
concavity: ``max phi <= phi(x) + max over the box of grad phi(x) . (y - x)``, added to D.

``ChainLagrangian`` gives the base class's interface (``evaluate``, ``hessian``, ``duals``), so
the same L-BFGS-B and Newton polish minimise D and ``optimizer.core.dual`` certifies the plan.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from optimizer.core.curves import Curve
from optimizer.core.effects import effects
from optimizer.core.lagrangian import Lagrangian, OutOfTime, _Coupling
from optimizer.core.problem import Problem

INNER_STEPS = 60
BANDED_LAGS = 16  # up to this many lags the Hessian is summed band by band, else A^T D A
CHAIN_FAMILIES = ("exponential", "logistic", "tanh", "michaelis_menten")  # and Hill of shape <= 1


def reason_not_separable(problem: Problem) -> str | None:
    """Why the chain method does not take this carried problem (None when it does)."""
    for unit in problem.units:
        curve = unit.curve
        concave_hill = curve.family == "hill" and bool(np.all(np.asarray(curve.shape) <= 1.0))
        if curve.family not in CHAIN_FAMILIES and not concave_hill:
            return (
                f"{unit.id} has a {curve.family} curve"
                + (f" of shape {curve.shape:g}" if curve.family == "hill" else "")
                + " with carry-over: the chain method takes smooth concave curves"
            )
    return None


class ChainLagrangian(Lagrangian):
    """The Lagrangian of a problem with carry-over, over its coupling rows, scaled."""

    def __init__(self, problem: Problem, deadline: float = float("inf")) -> None:
        rows = self._start(problem, deadline)
        n_units, n_periods = problem.lo.shape
        sign = self.sign
        eff = effects(problem)
        self.eff = eff
        width = eff.width
        self.width = width
        # padded effect layout: unit u's k-th effect cell is u * width + k
        unit_of = np.repeat(np.arange(n_units), np.diff(eff.offset))
        padded = unit_of * width + (np.arange(eff.count) - eff.offset[unit_of])
        self.padded = padded
        to_padded = sp.csr_matrix(
            (np.ones(eff.count), (np.arange(eff.count), padded)), shape=(eff.count, n_units * width)
        )
        mix = (eff.to_gmv @ to_padded).tocsr()  # (cells, padded effects): GMV per effect GMV
        self.a = np.zeros((n_units, width, n_periods))  # e = A x + c, unit by unit
        lags = max(
            [len(u.carry.weights) if u.carry and u.carry.before else 1 for u in problem.units]
        )
        self.lag_w = np.zeros((n_units, lags))  # A[s + l, s] = lag_w[l] per_yuan[s]
        self.per_yuan = np.ones((n_units, n_periods))
        self.c = np.zeros((n_units, width))
        gain = np.zeros(n_units * width)
        scales = np.ones(n_units * width)
        shapes = np.ones(n_units * width)
        families = np.empty(n_units, dtype=object)
        for i, unit in enumerate(problem.units):
            k = eff.offset[i + 1] - eff.offset[i]
            if unit.carry is None:
                self.a[i, :n_periods, :] = np.eye(n_periods)
                self.lag_w[i, 0] = 1.0
            else:
                self.a[i, :k, :] = unit.carry.a.toarray()
                self.c[i, :k] = unit.carry.c
                weights = unit.carry.weights if unit.carry.before else np.ones(1)
                self.lag_w[i, : len(weights)] = weights
                self.per_yuan[i] = unit.carry.per_yuan
            self.c[i, k:] = 1.0  # padding: no gain, an input where every curve is finite
            gain[i * width : i * width + k] = eff.gain[eff.offset[i] : eff.offset[i + 1]]
            period = eff.period[eff.offset[i] : eff.offset[i + 1]]
            scale = np.broadcast_to(np.asarray(unit.curve.scale, dtype=float), (n_periods,))
            scales[i * width : i * width + k] = scale[period]
            scales[i * width + k : (i + 1) * width] = scale[-1]
            shapes[i * width : (i + 1) * width] = float(np.max(unit.curve.shape))
            families[i] = unit.curve.family
        self.a_t = np.ascontiguousarray(np.transpose(self.a, (0, 2, 1)))
        self.gain = gain
        self.groups = []
        for family in dict.fromkeys(families):
            cells = (np.flatnonzero(families == family)[:, None] * width + np.arange(width)).ravel()
            curve = Curve(family, scale=scales[cells], shape=shapes[cells])  # type: ignore[arg-type]
            self.groups.append((cells, curve))
        form = problem.objective
        after = problem.after_weights() if problem.counts_carry_out else None
        tail = np.zeros(n_units * width)
        tail[padded] = eff.tail
        c_g = mix.T @ form.gmv_coef.ravel()
        if after is not None:
            c_g = c_g + np.repeat(after, width) * tail
        self.c_s = sign * form.spend_coef.ravel()
        self.c_g = sign * c_g
        c0 = form.constant + float(form.gmv_coef.ravel() @ eff.history)
        if after is not None:
            c0 -= float(after @ eff.tail_base)
        self.c0 = sign * c0
        self.row_index = np.array([r[0] for r in rows], dtype=int)
        self.equal = np.array([r[4] for r in rows], dtype=bool)
        self.flip = np.array([r[5] for r in rows])
        m = len(rows)
        a_s = np.array([r[1] for r in rows]).reshape(m, problem.lo.size)
        a_g_cells = np.array([r[2] for r in rows]).reshape(m, problem.lo.size)
        a_g = np.asarray((sp.csr_matrix(a_g_cells) @ mix).todense()).reshape(m, mix.shape[1])
        b = np.array([r[3] for r in rows]) - a_g_cells @ eff.history
        h_hi = self.value(self.hi)
        self.scale = max(float(np.sum(np.abs(self.c_s) * self.hi) + np.abs(self.c_g) @ h_hi), 1.0)
        size = np.maximum(np.maximum(np.abs(b), np.abs(a_s) @ self.hi + np.abs(a_g) @ h_hi), 1.0)
        self.row_scale = size
        self.a_s = a_s / size[:, None]
        self.a_g = a_g / size[:, None]
        self.b = b / size
        self.c_s, self.c_g = self.c_s / self.scale, self.c_g / self.scale
        self.c0 = self.c0 / self.scale
        # the inner Newton starts from the last spend; first just inside the box (a Hill curve
        # below shape 1 is infinitely steep at zero)
        self.x_last = self.lo + 1e-3 * (self.hi - self.lo)
        self.t_last = np.ones(n_units)  # each unit's last accepted step length

    def _start(self, problem: Problem, deadline: float) -> list[_Coupling]:
        """The cells' bounds (rows on one cell's spend folded in) and the coupling rows."""
        self.problem = problem
        self.deadline = deadline
        self.lo = problem.lo.ravel().astype(float).copy()
        self.hi = problem.hi.ravel().astype(float).copy()
        self.bent = np.zeros(problem.lo.size, dtype=bool)
        self.any_bent = False
        self.guesses: dict[int, np.ndarray] = {}
        self.infeasible = ""
        self.sign = 1.0 if problem.maximise else -1.0
        rows = self._coupling_rows(problem)
        if np.any(self.lo > self.hi + 1e-9 * np.maximum(1.0, np.abs(self.hi))):
            self.infeasible = "a cell's bounds cross"
        self.hi = np.maximum(self.hi, self.lo)
        return rows

    # --- effect cells

    def effective(self, x: np.ndarray) -> np.ndarray:
        """Effective input of every (padded) effect cell at spend x (flat)."""
        n_units, n_periods = self.problem.lo.shape
        e = np.matmul(self.a, x.reshape(n_units, n_periods, 1))[:, :, 0] + self.c
        return e.ravel()

    def _curve(self, e: np.ndarray, what: str) -> np.ndarray:
        out = np.empty_like(e)
        for cells, curve in self.groups:
            out[cells] = getattr(curve, what)(e[cells])
        return out

    def _curve_of(self, units: np.ndarray, e: np.ndarray, what: str) -> np.ndarray:
        """A curve's ``what`` at the effect cells of some units (e: (len(units), width))."""
        full = np.ones(self.problem.lo.shape[0] * self.width)
        rows = (units[:, None] * self.width + np.arange(self.width)).ravel()
        full[rows] = e.ravel()
        return self._curve(full, what).reshape(-1, self.width)[units]

    def value(self, x: np.ndarray) -> np.ndarray:
        """GMV of every (padded) effect cell at spend x."""
        return self.gain * self._curve(self.effective(x), "value")

    def weights(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """W (per effect GMV, at least 0) and P (per yuan of each cell) at the multipliers.

        A rule that limits GMV (a share, a commission cap) can weigh some GMV negatively;
        GMV is never negative, so counting it at 0 there keeps D an upper bound (a chain with
        a negative weight would not be concave), and exact wherever no weight is negative.
        """
        return np.maximum(self.c_g - lam @ self.a_g, 0.0), lam @ self.a_s - self.c_s

    def _a_g(self, lam: np.ndarray) -> np.ndarray:
        """The rows' GMV coefficients where the weights count GMV (D's gradient sees those)."""
        return self.a_g * ((self.c_g - lam @ self.a_g) > 0)

    def _phi(self, w: np.ndarray, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Each unit's Lagrangian part at spend x."""
        n_units, n_periods = self.problem.lo.shape
        h = (w * self.value(x)).reshape(n_units, -1).sum(axis=1)
        return h - (p * x).reshape(n_units, n_periods).sum(axis=1)

    def _gradient(self, w: np.ndarray, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """d phi / d x of every cell."""
        n_units = self.problem.lo.shape[0]
        q = (w * self.gain * self._curve(self.effective(x), "slope")).reshape(n_units, -1)
        return np.matmul(self.a_t, q[:, :, None]).ravel() - p

    def best_spend(self, w: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Each unit's spend maximising its chain's part of the Lagrangian (projected Newton,
        all units at once)."""
        n_units, n_periods = self.problem.lo.shape
        lo, hi = self.lo.reshape(n_units, n_periods), self.hi.reshape(n_units, n_periods)
        x = np.clip(self.x_last, self.lo, self.hi).reshape(n_units, n_periods)
        for _ in range(INNER_STEPS):
            flat = x.ravel()
            g = self._gradient(w, p, flat).reshape(n_units, n_periods)
            free = ~(((x <= lo) & (g <= 0)) | ((x >= hi) & (g >= 0)))
            size = np.abs(g) * np.maximum(hi - lo, 1.0)
            act = np.flatnonzero(np.any(free & (size > 1e-13), axis=1))  # units not there yet
            if not act.size:
                break
            e = self.effective(flat).reshape(n_units, -1)[act]
            curvature = self._curve_of(act, e, "curvature")
            q = w.reshape(n_units, -1)[act] * self.gain.reshape(n_units, -1)[act] * curvature
            full = self._hessian(act, q)
            step = np.zeros_like(x)
            step[act] = self._newton_step(full, g[act], x[act], lo[act], hi[act], free[act])
            moved = self._line_search(w, p, x, g, step, lo, hi)
            if np.array_equal(moved, x):
                break
            x = moved
        self.x_last = x.ravel().copy()
        return x.ravel()

    def _hessian(self, units: np.ndarray, q: np.ndarray) -> np.ndarray:
        """A^T diag(q) A of some units, (units, T, T); q over their effect cells. Summed band
        by band when the lags are few: H[t, t+k] = u[t] u[t+k] sum_l w[l] w[l-k] q[t+l]."""
        n_periods = self.problem.lo.shape[1]
        lags = self.lag_w.shape[1]
        if lags > BANDED_LAGS:
            return np.matmul(self.a_t[units], q[:, :, None] * self.a[units])
        w, per_yuan = self.lag_w[units], self.per_yuan[units]
        h = np.zeros((len(units), n_periods, n_periods))
        index = np.arange(n_periods)
        for k in range(min(lags, n_periods)):
            band = np.zeros((len(units), n_periods - k))
            for lag in range(k, lags):
                pair = w[:, lag] * w[:, lag - k]
                if pair.any():
                    band += pair[:, None] * q[:, lag : lag + n_periods - k]
            band *= per_yuan[:, : n_periods - k] * per_yuan[:, k:]
            h[:, index[: n_periods - k], index[k:]] = band
            if k:
                h[:, index[k:], index[: n_periods - k]] = band
        return h

    def _newton_step(
        self,
        full: np.ndarray,
        g: np.ndarray,
        x: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        free: np.ndarray,
    ) -> np.ndarray:
        """The projected Newton step of some units: cells whose step would cross a bound are
        put on it and the others' step solved again with theirs fixed (a few passes), so
        that a unit sliding onto its lower bounds is not held up by the projection."""
        n = x.shape[1]
        eye = np.eye(n)
        diag = np.abs(np.diagonal(full, axis1=1, axis2=2))
        mu = 1e-12 * np.max(diag, axis=1, initial=0.0) + 1e-300
        fixed = np.zeros_like(x)  # moves of cells put on a bound
        on = free.copy()
        step = np.zeros_like(x)
        for _ in range(6):
            h = np.where(on[:, :, None] & on[:, None, :], full, 0.0)
            h = h - (mu[:, None, None] + np.where(on, 0.0, 1.0)[:, :, None]) * eye
            rhs = -(g + np.matmul(full, fixed[:, :, None])[:, :, 0])
            with np.errstate(all="ignore"):
                found = np.linalg.solve(h, np.where(on, rhs, 0.0)[:, :, None])[:, :, 0]
            # no curvature (a curve flat in its second derivative where it starts) gives an
            # endless step: the box bounds it, and the line search shortens it
            found = np.nan_to_num(found, nan=0.0, posinf=0.0, neginf=0.0)
            step = np.where(on, found, fixed)
            below, above = on & (x + step < lo), on & (x + step > hi)
            if not (below.any() or above.any()):
                break
            fixed = np.where(below, lo - x, np.where(above, hi - x, fixed))
            on &= ~(below | above)
        return np.clip(step, lo - x, hi - x)

    def _line_search(
        self,
        w: np.ndarray,
        p: np.ndarray,
        x: np.ndarray,
        g: np.ndarray,
        step: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> np.ndarray:
        """Projected Armijo backtracking, each unit with its own step length."""
        base = self._phi(w, p, x.ravel())
        t = np.minimum(4.0 * self.t_last, 1.0)  # flat curves take short steps: start near
        done = np.all(step == 0.0, axis=1)  # the last one's length
        accepted = done.copy()
        out = x.copy()
        for _ in range(40):
            trial = np.clip(x + t[:, None] * step, lo, hi)
            gain = self._phi(w, p, trial.ravel())
            rise = np.sum(g * (trial - x), axis=1)
            ok = ~accepted & (gain >= base + 1e-4 * rise - 1e-15 * np.abs(base))
            out[ok] = trial[ok]
            accepted |= ok
            if accepted.all():
                break
            t = np.where(accepted, t, 0.5 * t)
        self.t_last = np.where(done, self.t_last, np.where(accepted, t, 1e-12))
        return out

    # --- the dual function

    def evaluate(self, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """D(lam) (bounded from above by concavity), its gradient and the cells' spend."""
        if time.perf_counter() > self.deadline:
            raise OutOfTime
        w, p = self.weights(lam)
        x = self.best_spend(w, p)
        h = self.value(x)
        d = float(np.sum(w * h) - p @ x + lam @ self.b + self.c0 + self._constant(lam))
        return d, self.b - (self.a_s @ x + self._row_gmv(lam, h)), x

    def _constant(self, lam: np.ndarray) -> float:
        """The part of D that no spend moves, beyond c0 (none here: history is in b)."""
        return 0.0

    def _row_gmv(self, lam: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Each row's GMV part from the effect cells' GMV h, as D's gradient counts it."""
        return self._a_g(lam) @ h

    def slack_of_box(self, lam: np.ndarray, x: np.ndarray) -> float:
        """Most the chains' parts could rise above their value at x (concavity)."""
        w, p = self.weights(lam)
        g = self._gradient(w, p, x)
        return float(np.sum(np.maximum(g * (self.hi - x), g * (self.lo - x))))

    def rounding(self, lam: np.ndarray, x: np.ndarray) -> float:
        """What D(lam) gets added to bound the plan: float error, the multipliers times any
        dust over a binding row, and what the inner maximum may still lack."""
        w, p = self.weights(lam)
        h = self.value(x)
        size = np.sum(np.abs(w * h)) + np.sum(np.abs(p * x)) + abs(lam @ self.b) + abs(self.c0)
        rows = self.a_s @ x + self.a_g @ h - self.b
        over = np.where(self.equal, np.abs(rows), np.maximum(rows, 0.0))
        eps = 16 * np.finfo(float).eps * (size + len(x))
        return float(eps + np.abs(lam) @ over + max(self.slack_of_box(lam, x), 0.0))

    def _jacobian(self, lam: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """d (row value) / d spend of the given rows, (rows, cells)."""
        n_units = self.problem.lo.shape[0]
        slope = (self.gain * self._curve(self.effective(x), "slope")).reshape(n_units, -1)
        per_effect = self._a_g(lam)[rows].reshape(len(rows), n_units, -1) * slope[None]
        pulled = np.einsum("uet,rue->rut", self.a, per_effect, optimize=True).reshape(len(rows), -1)
        return self.a_s[rows] + pulled

    def hessian(self, lam: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """D's Hessian over ``rows``: J (-H)^-1 J^T over the cells inside their bounds."""
        n_units, n_periods = self.problem.lo.shape
        w, _ = self.weights(lam)
        inside = ((x > self.lo) & (x < self.hi)).reshape(n_units, n_periods)
        q = (w * self.gain * self._curve(self.effective(x), "curvature")).reshape(n_units, -1)
        h = -self._hessian(np.arange(n_units), q)
        both = inside[:, :, None] & inside[:, None, :]
        h = np.where(both, h, 0.0) + np.where(inside, 0.0, 1.0)[:, :, None] * np.eye(n_periods)
        jac = self._jacobian(lam, x, rows).reshape(len(rows), n_units, n_periods)
        jac = np.where(inside[None], jac, 0.0)
        try:
            solved = np.linalg.solve(h, np.transpose(jac, (1, 2, 0)))  # (units, T, rows)
        except np.linalg.LinAlgError:
            return np.zeros((len(rows), len(rows)))
        return np.einsum("rut,uts->rs", jac, solved)

    def duals(self, lam: np.ndarray, x: np.ndarray) -> np.ndarray:
        """d objective / d rhs of every problem row, in the problem's own units and sense."""
        out = np.zeros(len(self.problem.rows))
        unscaled = lam * self.scale / self.row_scale
        out[self.row_index] = unscaled * self.flip * self.sign
        w, p = self.weights(lam)
        pull = self._gradient(w, p, x) * self.scale
        index, cell, a, upper = self.bound_rows
        at = np.where(upper, self.hi[cell], self.lo[cell])
        held = (x[cell] == at) & (out[index] == 0)
        out[index[held]] = self.sign * pull[cell[held]] / a[held]
        return out

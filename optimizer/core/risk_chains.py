"""The risk-aware method with carry-over: every unit a chain over its periods, in every draw.

Draw k of a unit with adstock has its own carry (its decay) and its own curve, so its GMV is

    G_k(x) = M_k (gain_k f_k(A_k x + c_k)) + d_k      (``optimizer.core.carry``),

and a unit without draws has one such chain, the same in every draw. With the objective
weighing draw k by q_k and row j weighing it by pi_jk (``optimizer.core.chance``), the
Lagrangian is, unit by unit,

    phi_u(x) = sum over draws k and effect cells e of W_ke h_ke(x) - P . x,
    W_k = M_k^T (q_k c - sum_j lam_j pi_jk a_j) + q_k after tail_k,

a sum of concave chains where every W >= 0 (a negative weight counts as 0, which keeps D an
upper bound, as in ``optimizer.core.chains``). Its maximum is found by the chains' projected
Newton method; the Hessian ``sum_k A_k^T diag(W_k gain_k f_k'') A_k`` stays banded, summed
band by band over the draws, and nothing of size draws x periods x periods is ever stored:
A_k x is a convolution of the spend with the draw's adstock weights.

The layout is (unit, draw, effect cell), flat: a unit without draws fills its draw 0 and
leaves the others empty (no gain).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.core.carry import CarryMap
from optimizer.core.chains import ChainLagrangian
from optimizer.core.chance import DrawWeights
from optimizer.core.curves import Curve
from optimizer.core.problem import Problem
from optimizer.core.units import Unit

BROKEN = 1e-10  # a scaled row over by more is made to hold when Newton cannot step
FINISH_STEPS = 4  # full Newton steps after the line-searched ones, on units whose inner
FINISHED = 1e-13  # maximum may still lack more than this (scaled: the objective is about 1)
STUCK = 1e-9  # a unit whose maximum may lack more after the warm start starts again, cold


@dataclass(frozen=True)
class MixedCarry:
    """A unit's carry-over over its draws: GMV the weighted sum of each draw's chain.

    It answers what a ``CarryMap`` answers for the plan's numbers (GMV per period, after the
    plan, and their gradient); the curve passed in is ignored, each draw has its own.
    """

    maps: tuple[CarryMap, ...]
    curves: tuple[Curve, ...]
    weights: np.ndarray

    def gmv(self, curve: Curve, spend: np.ndarray) -> np.ndarray:
        """GMV of each period: the draws' GMV, weighted."""
        return sum(  # type: ignore[return-value]
            w * m.gmv(c, spend) for w, m, c in self._draws()
        )

    def _draws(self) -> zip:
        """(weight, carry map, curve) of every draw."""
        return zip(self.weights, self.maps, self.curves, strict=True)

    def after(self, curve: Curve, spend: np.ndarray) -> float:
        """GMV after the plan's last period: the draws', weighted."""
        return float(
            sum(
                w * m.after(c, spend)
                for w, m, c in zip(self.weights, self.maps, self.curves, strict=True)
            )
        )

    def gradient(
        self, curve: Curve, spend: np.ndarray, per_period: np.ndarray, after: float = 0.0
    ) -> np.ndarray:
        """d/d spend of ``per_period . GMV + after x GMV after the plan``, weighted."""
        return sum(  # type: ignore[return-value]
            w * m.gradient(c, spend, per_period, after) for w, m, c in self._draws()
        )

    def _draws(self) -> zip:
        """(weight, carry map, curve) of every draw."""
        return zip(self.weights, self.maps, self.curves, strict=True)


@dataclass(frozen=True)
class Block:
    """One draw's chain of one unit, as lag weights and per-effect-cell arrays."""

    a_lags: np.ndarray  # A[s + l, s] = a_lags[l] per_yuan[s]
    m_lags: np.ndarray  # GMV[t] = sum_l m_lags[l] h[t - l] + d[t]
    per_yuan: np.ndarray  # (T,)
    c: np.ndarray  # (E,): effective input from history
    gain: np.ndarray  # (E,)
    scale: np.ndarray  # (E,): the curve's scale at each effect cell
    shape: float
    tail: np.ndarray  # (E,): GMV after the plan per effect GMV
    tail_base: float
    d: np.ndarray  # (T,): GMV from history's response


def block_of(unit: Unit, curve: Curve, carry: CarryMap | None, n: int) -> Block:
    """The chain of a unit (its ``curve`` and ``carry``; no carry: each period alone)."""
    scale = np.broadcast_to(np.asarray(curve.scale, dtype=float), (n,))
    shape = float(np.max(curve.shape))
    one = np.ones(1)
    if carry is None:
        gain = np.broadcast_to(np.asarray(unit.gain, dtype=float), (n,)).copy()
        zero = np.zeros(n)
        return Block(one, one, np.ones(n), zero, gain, scale.copy(), shape, zero, 0.0, zero)
    a_lags, m_lags = (carry.weights, one) if carry.before else (one, carry.weights)
    return Block(
        np.asarray(a_lags, dtype=float),
        np.asarray(m_lags, dtype=float),
        np.asarray(carry.per_yuan, dtype=float),
        np.asarray(carry.c, dtype=float),
        np.asarray(carry.gain, dtype=float),
        scale[carry.period_of],
        shape,
        np.asarray(carry.tail, dtype=float),
        float(carry.tail_base),
        np.asarray(carry.d, dtype=float),
    )


class RiskChainLagrangian(DrawWeights, ChainLagrangian):
    """The risk-aware Lagrangian of a problem with carry-over, over its coupling rows, scaled.

    ``blocks[u]`` holds unit u's chains: one per draw for a drawn unit, one for the others.
    """

    def __init__(
        self,
        problem: Problem,
        blocks: list[list[Block]],
        families: list[str],
        deadline: float = float("inf"),
    ) -> None:
        rows = self._start(problem, deadline)
        n_units, n_periods = problem.lo.shape
        sign = self.sign
        self.count = max(len(b) for b in blocks)
        self.drawn = np.array([len(b) == self.count for b in blocks])
        self._layout(blocks, families, n_units, n_periods)
        form = problem.objective
        self.c_cells = sign * np.asarray(form.gmv_coef, dtype=float).reshape(n_units, n_periods)
        after = problem.after_weights() if problem.counts_carry_out else np.zeros(n_units)
        self.after = sign * np.asarray(after, dtype=float)
        self.c_s = sign * form.spend_coef.ravel()
        self.c0 = sign * form.constant
        self.row_index = np.array([r[0] for r in rows], dtype=int)
        self.equal = np.array([r[4] for r in rows], dtype=bool)
        self.flip = np.array([r[5] for r in rows])
        m = len(rows)
        a_s = np.array([r[1] for r in rows]).reshape(m, problem.lo.size)
        a_g = np.array([r[2] for r in rows]).reshape(m, problem.lo.size)
        b = np.array([r[3] for r in rows])
        gmv_hi = np.abs(self._draw_gmv(self.value(self.hi))).mean(axis=0).ravel()
        after_hi = np.abs(self._after_by_draw(self.value(self.hi))).mean(axis=0)
        self.scale = max(
            float(np.abs(self.c_s) @ self.hi + np.abs(self.c_cells).ravel() @ gmv_hi)
            + float(np.abs(self.after) @ after_hi),
            1.0,
        )
        size = np.maximum(np.maximum(np.abs(b), np.abs(a_s) @ self.hi + np.abs(a_g) @ gmv_hi), 1.0)
        self.row_scale = size
        self.a_s, self.a_g, self.b = a_s / size[:, None], a_g / size[:, None], b / size
        self.c_s, self.c_cells = self.c_s / self.scale, self.c_cells / self.scale
        self.after, self.c0 = self.after / self.scale, self.c0 / self.scale
        self.start_weights(problem.rows)
        self.x_last = self.lo + 1e-3 * (self.hi - self.lo)
        self.t_last = np.ones(n_units)

    def _layout(
        self, blocks: list[list[Block]], families: list[str], n_units: int, n_periods: int
    ) -> None:
        """The (unit, draw, effect cell) arrays, padded: no gain, an input of 1."""
        count = self.count
        a_len = max(len(b.a_lags) for bs in blocks for b in bs)
        m_len = max(len(b.m_lags) for bs in blocks for b in bs)
        cells = max(max(len(b.c) for bs in blocks for b in bs), n_periods + a_len - 1)
        self.cells = cells
        self.width = count * cells
        shape3 = (n_units, count, cells)
        self.a_lags = np.zeros((n_units, count, a_len))
        self.m_lags = np.zeros((n_units, count, m_len))
        self.per_yuan = np.ones((n_units, count, n_periods))
        self.c = np.ones(shape3)
        gain, scale, shapes = np.zeros(shape3), np.ones(shape3), np.ones(shape3)
        self.tail = np.zeros(shape3)
        self.tail_base = np.zeros((n_units, count))
        self.d = np.zeros((n_units, count, n_periods))
        for u, unit_blocks in enumerate(blocks):
            for k, blk in enumerate(unit_blocks):
                e = len(blk.c)
                self.a_lags[u, k, : len(blk.a_lags)] = blk.a_lags
                self.m_lags[u, k, : len(blk.m_lags)] = blk.m_lags
                self.per_yuan[u, k] = blk.per_yuan
                self.c[u, k, :e] = blk.c
                gain[u, k, :e] = blk.gain
                scale[u, k, :e] = blk.scale
                scale[u, k, e:] = blk.scale[-1]
                shapes[u, k] = blk.shape
                self.tail[u, k, :e] = blk.tail
                self.tail_base[u, k] = blk.tail_base
                self.d[u, k] = blk.d
            scale[u, len(unit_blocks) :] = unit_blocks[0].scale[-1]
            shapes[u, len(unit_blocks) :] = unit_blocks[0].shape
        self.gain = gain.ravel()
        self.groups = []
        fam = np.array(families, dtype=object)
        for family in dict.fromkeys(families):
            units = np.flatnonzero(fam == family)
            flat = (units[:, None] * self.width + np.arange(self.width)).ravel()
            named = family
            if family == "hill" and np.all(shapes[units] == 1.0):  # the same, without powers
                named = "michaelis_menten"
            curve = Curve(named, scale=scale[units].ravel(), shape=shapes[units].ravel())  # type: ignore[arg-type]
            self.groups.append((flat, curve))

    # --- chains, by convolution with each draw's lag weights

    def _shape3(self, values: np.ndarray) -> np.ndarray:
        """A flat (unit, draw, effect cell) array as (units, draws, cells)."""
        return values.reshape(-1, self.count, self.cells)

    def effective(self, x: np.ndarray) -> np.ndarray:
        """Effective input of every (unit, draw, effect cell) at spend x (flat)."""
        n_units, n_periods = self.problem.lo.shape
        bought = self.per_yuan * x.reshape(n_units, 1, n_periods)
        e = self.c.copy()
        for lag in range(self.a_lags.shape[2]):
            e[:, :, lag : lag + n_periods] += self.a_lags[:, :, lag, None] * bought
        return e.ravel()

    def _pull(self, r: np.ndarray) -> np.ndarray:
        """A^T r summed over the draws: (units, periods) from (units, draws, cells)."""
        n_periods = self.problem.lo.shape[1]
        acc = np.zeros((r.shape[0], self.count, n_periods))
        for lag in range(self.a_lags.shape[2]):
            acc += self.a_lags[:, :, lag, None] * r[:, :, lag : lag + n_periods]
        return np.sum(self.per_yuan * acc, axis=1)

    def _spread(self, h: np.ndarray) -> np.ndarray:
        """M h: GMV of each period from its effect cells' GMV, (units, draws, periods)."""
        n_periods = self.problem.lo.shape[1]
        out = np.zeros((h.shape[0], self.count, n_periods))
        for lag in range(self.m_lags.shape[2]):
            out[:, :, lag:] += self.m_lags[:, :, lag, None] * h[:, :, : n_periods - lag]
        return out

    def _spread_t(self, v: np.ndarray) -> np.ndarray:
        """M^T v: per effect GMV, from per-period weights (units, draws, periods)."""
        n_periods = self.problem.lo.shape[1]
        out = np.zeros((v.shape[0], self.count, self.cells))
        for lag in range(self.m_lags.shape[2]):
            out[:, :, : n_periods - lag] += self.m_lags[:, :, lag, None] * v[:, :, lag:]
        return out

    def _draw_gmv(self, h: np.ndarray) -> np.ndarray:
        """GMV of every draw, unit and period (draws, units, periods) from the effect GMV."""
        gmv = self._spread(self._shape3(h)) + self.d
        gmv = np.where(self.drawn[:, None, None], gmv, gmv[:, :1])
        return np.transpose(gmv, (1, 0, 2))

    def _after_by_draw(self, h: np.ndarray) -> np.ndarray:
        """GMV after the plan of every draw and unit (draws, units)."""
        after = np.sum(self.tail * self._shape3(h), axis=2) - self.tail_base
        return np.where(self.drawn[:, None], after, after[:, :1]).T

    def _block_weights(self, weights: np.ndarray) -> np.ndarray:
        """(units, draws): a drawn unit's draw k weighs ``weights[k]``, the others' one chain 1."""
        out = np.zeros((len(self.drawn), self.count))
        out[self.drawn] = weights
        out[~self.drawn, 0] = 1.0
        return out

    def _per_period(self, lam: np.ndarray) -> np.ndarray:
        """v (units, draws, periods): what a yuan of each draw's GMV is worth in the
        Lagrangian at the multipliers."""
        n_units, n_periods = self.problem.lo.shape
        qb = self._block_weights(self.q)
        v = qb[:, :, None] * self.c_cells[:, None, :]
        if len(lam):
            by_draw = ((lam[:, None] * self.pi).T @ self.a_g).reshape(self.count, n_units, -1)
            plain = (lam @ self.a_g).reshape(n_units, n_periods)
            pulled = np.transpose(by_draw, (1, 0, 2))
            pulled[~self.drawn] = 0.0
            pulled[~self.drawn, 0] = plain[~self.drawn]
            v = v - pulled
        return v

    def weights(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """W (per effect GMV, at least 0) and P (per yuan of each cell) at the multipliers."""
        return np.maximum(self._raw_weights(lam), 0.0), lam @ self.a_s - self.c_s

    def _raw_weights(self, lam: np.ndarray) -> np.ndarray:
        """W before counting a negative weight as 0, flat."""
        qb = self._block_weights(self.q)
        w = (
            self._spread_t(self._per_period(lam))
            + (qb * self.after[:, None])[:, :, None] * self.tail
        )
        return w.ravel()

    def _gradient(self, w: np.ndarray, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """d phi / d x of every cell."""
        r = w * self.gain * self._curve(self.effective(x), "slope")
        return self._pull(self._shape3(r)).ravel() - p

    def _hessian(self, units: np.ndarray, q: np.ndarray) -> np.ndarray:
        """sum_k A_k^T diag(q_k) A_k of some units, (units, T, T), band by band:
        H[t, t+j] = sum_k u_k[t] u_k[t+j] sum_l w_k[l] w_k[l-j] q_k[t+l]."""
        n_periods = self.problem.lo.shape[1]
        q = q.reshape(len(units), self.count, self.cells)
        w, per_yuan = self.a_lags[units], self.per_yuan[units]
        lags = w.shape[2]
        h = np.zeros((len(units), n_periods, n_periods))
        index = np.arange(n_periods)
        for j in range(min(lags, n_periods)):
            band = np.zeros((len(units), self.count, n_periods - j))
            for lag in range(j, lags):
                pair = w[:, :, lag] * w[:, :, lag - j]
                if pair.any():
                    band += pair[:, :, None] * q[:, :, lag : lag + n_periods - j]
            summed = np.sum(band * per_yuan[:, :, : n_periods - j] * per_yuan[:, :, j:], axis=1)
            h[:, index[: n_periods - j], index[j:]] = summed
            if j:
                h[:, index[j:], index[: n_periods - j]] = summed
        return h

    def _row_gmv(self, lam: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Each row's GMV part from the effect cells' GMV h, its draws weighed by the row's
        own weights, counting only the effect cells D's gradient sees (``_counted``)."""
        h = self._shape3(h)
        w = self._shape3(self._raw_weights(lam))
        out = np.empty(len(self.b))
        for j in range(len(self.b)):
            per_period = self._row_per_period(j)
            coef = self._spread_t(per_period)
            out[j] = np.sum(coef * np.where(self._counted(w, coef), h, 0.0))
            out[j] += np.sum(per_period * self.d)
        return out

    def _row_per_period(self, j: int) -> np.ndarray:
        """Row j's GMV coefficient of each (unit, draw, period), its draws weighed."""
        n_units, n_periods = self.problem.lo.shape
        per_draw = self._block_weights(self.pi[j])[:, :, None]
        return per_draw * self.a_g[j].reshape(n_units, 1, n_periods)

    @staticmethod
    def _counted(w: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Effect cells whose GMV a row's multiplier moves D by: where their weight is
        positive, or 0 and rising with the multiplier (a draw the objective does not weigh,
        before the row weighs it): D's derivative from above, where it is steepest."""
        return (w > 0) | ((w == 0) & (coef < 0))

    def _rows_of(self, gmv: np.ndarray) -> np.ndarray:
        """(rows,): each row's GMV part from every draw's GMV (draws, units, periods)."""
        per_draw = self.a_g @ gmv.reshape(self.count, -1).T  # (rows, draws)
        return np.sum(self.pi * per_draw, axis=1)

    def best_spend(self, w: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The chains' projected Newton method, then a few full Newton steps kept wherever
        they shrink a unit's projected gradient: near the maximum, a step's gain in phi is
        below float resolution, so the line search cannot see it, yet what the maximum may
        still lack (``slack_of_box``) counts the gradient times the whole box."""
        n_units, n_periods = self.problem.lo.shape
        lo, hi = self.lo.reshape(n_units, n_periods), self.hi.reshape(n_units, n_periods)
        x = super().best_spend(w, p).reshape(n_units, n_periods)
        _, size = self._projected(w, p, x, lo, hi)
        stuck = size > STUCK
        if stuck.any():  # warm started far out on a flat tail, where Newton crawls: again
            cold = (lo + 1e-3 * (hi - lo)).copy()  # from just inside the box, as at first
            self.x_last = np.where(stuck[:, None], cold, x).ravel()
            again = super().best_spend(w, p).reshape(n_units, n_periods)
            better = self._phi(w, p, again.ravel()) > self._phi(w, p, x.ravel())
            x = np.where((stuck & better)[:, None], again, x)
        for _ in range(FINISH_STEPS):
            g, size = self._projected(w, p, x, lo, hi)
            act = np.flatnonzero(size > FINISHED)
            if not act.size:
                break
            e = self._shape3(self.effective(x.ravel())).reshape(n_units, -1)[act]
            curvature = self._curve_of(act, e, "curvature")
            q = w.reshape(n_units, -1)[act] * self.gain.reshape(n_units, -1)[act] * curvature
            free = ~(((x <= lo) & (g <= 0)) | ((x >= hi) & (g >= 0)))
            step = self._newton_step(
                self._hessian(act, q), g[act], x[act], lo[act], hi[act], free[act]
            )
            trial = x.copy()
            trial[act] = np.clip(x[act] + step, lo[act], hi[act])
            _, after = self._projected(w, p, trial, lo, hi)
            better = after < size
            if not better.any():
                break
            x = np.where(better[:, None], trial, x)
        self.x_last = x.ravel().copy()
        return x.ravel()

    def _projected(
        self, w: np.ndarray, p: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The gradient (units, periods) at x and each unit's largest projected component
        times its box: what ``slack_of_box`` counts."""
        g = self._gradient(w, p, x.ravel()).reshape(x.shape)
        reach = np.maximum(g * (hi - x), g * (lo - x))
        return g, np.max(np.maximum(reach, 0.0), axis=1)

    def _without_newton(
        self, lam: np.ndarray, grad: np.ndarray, need: np.ndarray
    ) -> np.ndarray | None:
        """Where no Newton step lowers D, a broken row is moved to where it holds (the base's
        bisection) and a slack one is left (None: polishing stops): its multiplier costs only
        optimality, which the proven gap measures. A chance rule's cuts can be nearly parallel
        rows, along which D is flat to float precision."""
        broken = np.where(self.equal, np.abs(grad), np.maximum(-grad, 0.0))
        if np.max(broken) <= BROKEN:
            return None
        return self._row_root(lam, int(np.argmax(broken)))

    # --- what the cutting planes ask

    def draw_values(self, x: np.ndarray) -> np.ndarray:
        """The scaled objective (to maximise) in every draw at spend x, shape (K,)."""
        h = self.value(x)
        gmv = self._draw_gmv(h).reshape(self.count, -1)
        return (
            float(self.c_s @ x + self.c0)
            + gmv @ self.c_cells.ravel()
            + self._after_by_draw(h) @ self.after
        )

    def row_by_draw(self, x: np.ndarray, j: int) -> np.ndarray:
        """Row j's left-hand side (a_s x + a_g g) in every draw at spend x, shape (K,)."""
        gmv = self._draw_gmv(self.value(x)).reshape(self.count, -1)
        return float(self.a_s[j] @ x) + gmv @ self.a_g[j]

    # --- the dual function

    def _constant(self, lam: np.ndarray) -> float:
        """The part of D that no spend moves: history's GMV as the objective and rows weigh
        it, less what history alone brings after the plan."""
        v = self._per_period(lam)
        qb = self._block_weights(self.q)
        return float(np.sum(v * self.d) - np.sum(qb * self.after[:, None] * self.tail_base))

    def rounding(self, lam: np.ndarray, x: np.ndarray) -> float:
        """What D(lam) gets added so that it bounds the plan it comes with: float error, the
        multipliers times any dust over a binding row, and what the inner maximum may lack."""
        w, p = self.weights(lam)
        h = self.value(x)
        v = self._per_period(lam)
        size = (
            np.sum(np.abs(w * h))
            + np.sum(np.abs(p * x))
            + abs(lam @ self.b)
            + abs(self.c0)
            + np.sum(np.abs(v * self.d))
            + np.sum(np.abs(self.after[:, None] * self.tail_base))
        )
        rows = self.a_s @ x + self._rows_of(self._draw_gmv(h)) - self.b
        over = np.where(self.equal, np.abs(rows), np.maximum(rows, 0.0))
        eps = 16 * np.finfo(float).eps * (size + len(x) * self.count)
        return float(eps + np.abs(lam) @ over + max(self.slack_of_box(lam, x), 0.0))

    def _jacobian(self, lam: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """d (row value) / d spend of the given rows, (rows, cells)."""
        slope = self._shape3(self.gain * self._curve(self.effective(x), "slope"))
        w = self._shape3(self._raw_weights(lam))
        out = np.empty((len(rows), self.problem.lo.size))
        for i, j in enumerate(rows):
            coef = self._spread_t(self._row_per_period(j))
            r = np.where(self._counted(w, coef), coef * slope, 0.0)
            out[i] = self.a_s[j] + self._pull(r).ravel()
        return out

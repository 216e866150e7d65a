"""Risk-aware plans over the curves' draws: the mean, or the CVaR of the worst draws.

With draws, GMV is a random variable: draw k's GMV of a cell is ``G_k(x) = gain_k f_k(x)``.
Rules hold on the mean curves ``mean_k G_k`` (``mean_problem``): every row is linear in GMV, so
that is "the rule holds in expectation". The objective is

- ``mean``: the average over the draws: the deterministic problem on the mean curves, each a
  positive mixture of concave curves and so concave itself, solved by the dual method with a
  proven gap (``RiskLagrangian``);
- ``cvar`` at level a: the average of the worst a share of draws,
  ``CVaR(x) = min over q in Q of sum_k q_k Z_k(x)``, Q = {0 <= q_k <= 1 / (a K), sum q = 1},
  concave in x. By the minimax theorem its maximum is ``min over q in Q of phi(q)``, where
  ``phi(q) = max_x sum_k q_k Z_k(x)`` is the same dual method with the draws weighted by q.
  Kelley's cutting planes on q (a small LP, HiGHS through scipy) pick the next weights; every
  dual bound ``D(q_j)`` bounds the optimum from above, every plan's own CVaR from below, and
  the method stops once the two meet within the tolerance: a proven gap, as the dual method's.

A rule with ``probability: p`` must hold in at least p of the draws. It is kept through its
CVaR: the rule's average over its worst 1 - p share of draws must hold, which is sure to give
p and is convex where the rule is. The method adds, for a rule broken that way, a copy of its
row weighing those worst draws (``RiskLagrangian.add_cut``) and solves again; a relaxation's
dual bound still bounds the optimum, so the gap stays proven.

With carry-over, each draw of a channel is its own chain over the weeks
(``optimizer.core.risk_chains``): the same cutting planes, over a Lagrangian of every
(channel, draw, effect cell). Only curve channels carry draws; curves that are not strictly
concave (S-shaped, linear, piecewise) and on/off switches are not taken, and the method says
so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import OptimizeResult, linprog

from optimizer.core.chance import DrawWeights, NotConcave, cvar
from optimizer.core.checks import (
    FEASIBILITY_TOLERANCE,
    SolveResult,
    broken_rows,
    relative_gap,
)
from optimizer.core.curves import Curve
from optimizer.core.draws import (
    after_by_draw,
    carried_draws,
    draw_arrays,
    draw_count,
    drawn_channels,
)
from optimizer.core.lagrangian import Lagrangian, OutOfTime
from optimizer.core.problem import Problem
from optimizer.core.risk_chains import Block, MixedCarry, RiskChainLagrangian, block_of
from optimizer.core.units import Unit

MAX_CUTS = 200
NEWTON_STEPS = 100


@dataclass(frozen=True)
class MixtureCurve(Curve):
    """``sum_k coef[k, t] f_k(x)``: one unit's curves over the draws, weighted per period.

    ``parts`` is one curve whose scale is (draws, periods) and shape (draws, 1), so one numpy
    pass evaluates every draw; spend comes as one value per period.
    """

    parts: Curve = field(default_factory=lambda: Curve("linear"))
    coef: np.ndarray = field(default_factory=lambda: np.ones((1, 1)))

    def value(self, x: np.ndarray | float) -> np.ndarray:
        """The mixture at one spend per period."""
        return np.sum(self.coef * self.parts.value(np.asarray(x, dtype=float)[None]), axis=0)

    def slope(self, x: np.ndarray | float) -> np.ndarray:
        """Its derivative."""
        return np.sum(self.coef * self.parts.slope(np.asarray(x, dtype=float)[None]), axis=0)

    def curvature(self, x: np.ndarray | float) -> np.ndarray:
        """Its second derivative."""
        return np.sum(self.coef * self.parts.curvature(np.asarray(x, dtype=float)[None]), axis=0)

    def is_strictly_concave(self) -> bool:
        """A positive mixture of strictly concave curves is strictly concave."""
        return self.parts.is_strictly_concave()

    def is_s_shaped(self) -> bool:
        """Never: S-shaped draws are refused before a mixture is made."""
        return False


def can_mix(problem: Problem) -> bool:
    """Whether the problem has draws to mix into mean curves."""
    return bool(drawn_channels(problem.scenario))


def reason_not_applicable(mean: Problem) -> str | None:
    """Why the risk-aware method does not take this mean problem (None when it does)."""
    if draw_count(mean.scenario) == 0:
        return "no channel has draws"
    if mean.switches:
        return "whether a channel is used at all needs binaries"
    for unit in mean.units:
        if isinstance(unit.carry, MixedCarry):  # one curve per draw
            for k, curve in enumerate(unit.carry.curves):
                if not curve.is_strictly_concave():
                    return f"draw {k} of {unit.id} is not strictly concave (a Hill shape above 1)"
        elif isinstance(unit.curve, MixtureCurve):  # one curve over the draws
            parts = unit.curve.parts
            if not parts.is_strictly_concave():
                k = int(np.argmax(np.asarray(parts.shape).ravel() > 1.0))
                return f"draw {k} of {unit.id} is not strictly concave (a Hill shape above 1)"
        elif not unit.curve.is_strictly_concave():
            shape = unit.curve.family + (" S-shaped" if unit.curve.is_s_shaped() else "")
            return f"{unit.id} has a {shape} curve, not strictly concave"
    return None


def draw_curves(problem: Problem) -> dict[int, tuple[Curve, np.ndarray]]:
    """Per drawn unit without adstock: one curve over the draws (scale (K, T), shape (K, 1))
    and the draws' gains (K, T)."""
    s = problem.scenario
    out = {}
    for channel in drawn_channels(s):
        if channel.adstock is None:
            (i,) = [i for i, u in enumerate(problem.units) if u.channel == channel.id]
            out[i] = draw_arrays(s, channel)
    return out


def mixed_unit(unit: Unit, parts: Curve, gains: np.ndarray, weights: np.ndarray) -> Unit:
    """A unit whose GMV is the draws' GMV weighted by ``weights`` (one per draw)."""
    weighted = weights[:, None] * gains
    gain = weighted.sum(axis=0)
    coef = weighted / np.where(gain > 0, gain, 1.0)
    return replace(unit, curve=MixtureCurve("mixture", parts=parts, coef=coef), gain=gain)  # type: ignore[arg-type]


def mean_problem(problem: Problem) -> Problem:
    """The problem on the mean curves: each drawn unit's GMV the average of its draws'
    (a mixture curve without adstock, a mixed carry with it)."""
    count = draw_count(problem.scenario)
    weights = np.full(count, 1.0 / count)
    units = list(problem.units)
    for i, (parts, gains) in draw_curves(problem).items():
        units[i] = mixed_unit(units[i], parts, gains, weights)
    for i, drawn in carried_draws(problem).items():
        maps = tuple(u.carry for u in drawn)
        mixed = MixedCarry(maps, tuple(u.curve for u in drawn), weights)  # type: ignore[arg-type]
        units[i] = replace(units[i], carry=mixed)  # type: ignore[arg-type]
    return replace(problem, units=units)


def chain_blocks(mean: Problem) -> tuple[list[list[Block]], list[str]]:
    """Every unit's chains (one per draw for a drawn unit, else one) and curve family."""
    s, n = mean.scenario, len(mean.periods)
    blocks, families = [], []
    for unit in mean.units:
        if isinstance(unit.carry, MixedCarry):
            pairs = zip(unit.carry.maps, unit.carry.curves, strict=True)
            blocks.append([block_of(unit, curve, carry, n) for carry, curve in pairs])
            families.append(unit.carry.curves[0].family)
        elif isinstance(unit.curve, MixtureCurve):
            (channel,) = [c for c in drawn_channels(s) if c.id == unit.channel]
            parts, gains = draw_arrays(s, channel)
            scale, shape = np.asarray(parts.scale), np.asarray(parts.shape)
            drawn = [
                (replace(unit, gain=gains[k]), replace(parts, scale=scale[k], shape=shape[k, 0]))
                for k in range(len(gains))
            ]
            blocks.append([block_of(u, curve, None, n) for u, curve in drawn])
            families.append(parts.family)
        else:
            blocks.append([block_of(unit, unit.curve, unit.carry, n)])
            families.append(unit.curve.family)
    return blocks, families


@dataclass
class _Mix:
    """The mixture cells of one curve family: every draw's curve and GMV share of each cell."""

    cells: np.ndarray
    curve: Curve  # scale and shape (K, m)
    draws: np.ndarray  # (K, m): each draw's gain over the cell's mean gain


class RiskLagrangian(DrawWeights, Lagrangian):
    """The dual method on the mean problem, with the objective and each row weighing the draws
    by weights of their own: q for the objective, 1 / K (the mean) for a row, or a chance
    row's worst draws (``add_cut``)."""

    def __init__(self, mean: Problem, deadline: float = float("inf")) -> None:
        self.mix = _mixture_cells(mean)
        self.count = self.mix[0].draws.shape[0] if self.mix else 1
        self.guess: np.ndarray | None = None
        super().__init__(mean, deadline)
        self.start_weights(mean.rows)
        self.plain = np.ones(mean.lo.size, dtype=bool)
        for mix in self.mix:
            self.plain[mix.cells] = False

    def _shares(self, mix: _Mix, x: np.ndarray, what: str) -> np.ndarray:
        """(K, m): each draw's GMV (or its derivatives) per unit of mean gain, at x."""
        return mix.draws * getattr(mix.curve, what)(x[mix.cells][None])

    def _mixed(self, x: np.ndarray, what: str, weights: np.ndarray) -> np.ndarray:
        """Every cell's GMV (or derivative), the draws weighted by ``weights`` (K,)."""
        out = np.zeros_like(x)
        for group in self.groups:
            out[group.cells] = getattr(group.curve, what)(x[group.cells])
        for mix in self.mix:
            out[mix.cells] = weights @ self._shares(mix, x, what)
        return self.gain * out

    def value(self, x: np.ndarray) -> np.ndarray:
        """GMV of every cell on the mean curves."""
        return self._mixed(x, "value", np.full(self.count, 1.0 / self.count))

    def slope(self, x: np.ndarray) -> np.ndarray:
        """d GMV / d spend on the mean curves."""
        return self._mixed(x, "slope", np.full(self.count, 1.0 / self.count))

    def curvature(self, x: np.ndarray) -> np.ndarray:
        """d2 GMV / d spend2 on the mean curves."""
        return self._mixed(x, "curvature", np.full(self.count, 1.0 / self.count))

    def row_gmv(self, x: np.ndarray, what: str = "value") -> np.ndarray:
        """(rows, cells): every cell's GMV (or its slope) as each row weighs the draws."""
        plain = self._mixed(x, what, np.full(self.count, 1.0 / self.count))
        out = np.broadcast_to(plain, (len(self.b), x.size)).copy()
        for mix in self.mix:
            out[:, mix.cells] = self.gain[mix.cells] * (self.pi @ self._shares(mix, x, what))
        return out

    def draw_values(self, x: np.ndarray) -> np.ndarray:
        """The scaled objective (to maximise) in every draw at spend x, shape (K,)."""
        g = self.value(x)
        total = np.full(
            self.count, float(self.c_s @ x + self.c0 + self.c_g[self.plain] @ g[self.plain])
        )
        for mix in self.mix:
            gmv = self.gain[mix.cells] * self._shares(mix, x, "value")
            total += gmv @ self.c_g[mix.cells]
        return total

    def row_by_draw(self, x: np.ndarray, j: int) -> np.ndarray:
        """Row j's left-hand side (a_s x + a_g g) in every draw at spend x, shape (K,)."""
        g = self.value(x)
        fixed = float(self.a_s[j] @ x + self.a_g[j, self.plain] @ g[self.plain])
        total = np.full(self.count, fixed)
        for mix in self.mix:
            gmv = self.gain[mix.cells] * self._shares(mix, x, "value")
            total += gmv @ self.a_g[j, mix.cells]
        return total

    def _omega(self, lam: np.ndarray, mix: _Mix) -> np.ndarray:
        """(K, m) weights of each draw's curve in a mixture cell's Lagrangian term."""
        cells = mix.cells
        pulled = self.pi.T @ (lam[:, None] * self.a_g[:, cells]) if len(lam) else 0.0
        return self.gain[cells] * mix.draws * (self.c_g[cells] * self.q[:, None] - pulled)

    def evaluate(self, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """D(lam), its gradient and the cells' best spend, each row and the objective
        weighing the draws by their own weights."""
        if time.perf_counter() > self.deadline:
            raise OutOfTime
        w, p = self.weights(lam)
        x = self.best_spend(w, p)
        for mix in self.mix:
            x[mix.cells] = self._mixture_spend(self._omega(lam, mix), p, mix)
        self.guess = x
        rows = np.sum(self.a_g * self.row_gmv(x), axis=1) if len(lam) else np.zeros(0)
        objective = self._mixed(x, "value", self.q)
        d = float(
            self.c_s @ x + self.c_g @ objective + self.c0 + lam @ (self.b - self.a_s @ x - rows)
        )
        return d, self.b - (self.a_s @ x + rows), x

    def rounding(self, lam: np.ndarray, x: np.ndarray) -> float:
        """What D(lam) gets added so that it bounds the plan it comes with (as the base's)."""
        rows = np.sum(self.a_g * self.row_gmv(x), axis=1) if len(lam) else np.zeros(0)
        objective = self._mixed(x, "value", self.q)
        size = (
            np.sum(np.abs(self.c_g * objective) + np.abs(self.c_s * x))
            + np.abs(lam) @ (np.abs(self.a_s) @ np.abs(x) + np.abs(rows) + np.abs(self.b))
            + abs(self.c0)
        )
        over = np.maximum(self.a_s @ x + rows - self.b, 0.0)
        return float(16 * np.finfo(float).eps * (size + len(x)) + np.abs(lam) @ over)

    def _mixture_spend(self, omega: np.ndarray, p: np.ndarray, mix: _Mix) -> np.ndarray:
        """Each mixture cell's spend maximising sum_k omega_k f_k(x) - p x on its bounds:
        Newton's method inside a bracket that bisection keeps (the derivative falls), on the
        cells not yet converged."""
        if np.any(omega < 0):
            raise NotConcave("a rule weighs a draw's GMV against the objective")
        lo, hi, price = self.lo[mix.cells], self.hi[mix.cells], p[mix.cells]
        at_lo = np.sum(omega * mix.curve.slope(lo[None]), axis=0) - price
        at_hi = np.sum(omega * mix.curve.slope(hi[None]), axis=0) - price
        start = self.guess[mix.cells] if self.guess is not None else 0.5 * (lo + hi)
        x = np.where(at_lo <= 0, lo, np.where(at_hi >= 0, hi, np.clip(start, lo, hi)))
        open_ = np.flatnonzero((at_lo > 0) & (at_hi < 0))
        left, right = lo[open_], hi[open_]
        for _ in range(NEWTON_STEPS):
            if open_.size == 0:
                break
            w, y = omega[:, open_], x[open_]
            curve = _columns(mix.curve, open_)
            r = np.sum(w * curve.slope(y[None]), axis=0) - price[open_]
            left, right = np.where(r > 0, y, left), np.where(r < 0, y, right)
            bend = np.sum(w * curve.curvature(y[None]), axis=0)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                newton = y - r / bend  # a flat tail's step is inf: bisection takes it
            good = (bend < 0) & (newton >= left) & (newton <= right)
            step = np.where(good, newton, 0.5 * (left + right))
            step = np.where(r != 0, step, y)
            x[open_] = step
            done = np.abs(step - y) <= 1e-13 * np.maximum(np.abs(y), 1.0)
            done |= (right - left) <= 4 * np.finfo(float).eps * np.maximum(np.abs(right), 1.0)
            keep = ~done
            open_, left, right = open_[keep], left[keep], right[keep]
        return x

    def hessian(self, lam: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """D's Hessian over ``rows``, each cell's bend that of its own Lagrangian term and
        each row's slope its own weighing of the draws."""
        w, _ = self.weights(lam)
        bend = w * self._mixed(x, "curvature", np.full(self.count, 1.0 / self.count))
        for mix in self.mix:
            omega = self._omega(lam, mix)
            bend[mix.cells] = np.sum(omega * mix.curve.curvature(x[mix.cells][None]), axis=0)
        inside = (x > self.lo) & (x < self.hi) & (bend < 0)
        slopes = self.row_gmv(x, "slope")[rows][:, inside]
        jac = self.a_s[rows][:, inside] + self.a_g[rows][:, inside] * slopes
        return (jac * (-1.0 / bend[inside])) @ jac.T


def _columns(curve: Curve, at: np.ndarray) -> Curve:
    """A (K, m) curve's columns ``at``."""
    return replace(
        curve, scale=np.asarray(curve.scale)[:, at], shape=np.asarray(curve.shape)[:, at]
    )


def _mixture_cells(mean: Problem) -> list[_Mix]:
    """The mean problem's mixture cells by family, with their per-draw curves and shares."""
    n = len(mean.periods)
    found: dict[str, list[tuple[int, MixtureCurve]]] = {}
    for i, unit in enumerate(mean.units):
        if isinstance(unit.curve, MixtureCurve):
            found.setdefault(unit.curve.parts.family, []).append((i, unit.curve))
    out = []
    for family, members in found.items():
        cells = np.concatenate([i * n + np.arange(n) for i, _ in members])
        scale = np.concatenate(
            [np.broadcast_to(c.parts.scale, c.coef.shape) for _, c in members], axis=1
        )
        shape = np.concatenate(
            [np.broadcast_to(c.parts.shape, c.coef.shape) for _, c in members], axis=1
        )
        coef = np.concatenate([c.coef for _, c in members], axis=1)
        draws = coef * coef.shape[0]  # coef = gain_k / (K mean gain): each draw's, times K
        if family == "hill" and np.all(shape == 1.0):  # the same curve, without powers
            family = "michaelis_menten"
        curve = Curve(family, scale=scale, shape=shape)  # type: ignore[arg-type]
        out.append(_Mix(cells, curve, draws))
    return out


def risk_objective(problem: Problem, gmv_by_draw: np.ndarray, spend: np.ndarray) -> float:
    """The scenario's risk measure (mean or CVaR) of its objective over the draws at a spend,
    from every draw's GMV (draws, units, periods) and, when the objective counts it, every
    draw's GMV after the plan."""
    risk = problem.scenario.objective.risk
    assert risk is not None
    form = problem.objective
    fixed = float(np.sum(form.spend_coef * spend) + form.constant)
    values = fixed + np.tensordot(gmv_by_draw, form.gmv_coef, axes=([1, 2], [0, 1]))
    if problem.counts_carry_out:
        values = values + after_by_draw(problem, spend) @ problem.after_weights()
    if risk.measure == "mean":
        return float(values.mean())
    sign = 1.0 if problem.maximise else -1.0
    return sign * cvar(sign * values, risk.level)


def solve_risk(
    problem: Problem, tolerance: float, deadline: float = float("inf")
) -> tuple[SolveResult | None, str]:
    """The risk-aware plan of a problem with draws, with a proven gap, or None and why not."""
    started = time.perf_counter()
    mean = mean_problem(problem)
    reason = reason_not_applicable(mean)
    if reason is not None:
        return None, reason
    risk = problem.scenario.objective.risk
    assert risk is not None
    dual: RiskLagrangian | RiskChainLagrangian
    if mean.carried:
        blocks, families = chain_blocks(mean)
        dual = RiskChainLagrangian(mean, blocks, families, deadline)
    else:
        dual = RiskLagrangian(mean, deadline)
    if dual.infeasible:
        return None, f"the rules leave no plan ({dual.infeasible})"
    count = dual.count
    level = 1.0 if risk.measure == "mean" else risk.level
    try:
        return _cutting_planes(mean, dual, count, level, tolerance, started)
    except OutOfTime:
        return None, "the time limit ran out"
    except NotConcave as error:
        return None, f"the risk-aware method cannot take this problem: {error}"


def _cutting_planes(
    mean: Problem,
    dual: RiskLagrangian | RiskChainLagrangian,
    count: int,
    level: float,
    tolerance: float,
    started: float,
) -> tuple[SolveResult | None, str]:
    """Kelley's method on the draws' weights q (one step for the mean, whose q is fixed)."""
    cap = 1.0 / (level * count)
    q = np.full(count, 1.0 / count)
    upper, lower, best = np.inf, -np.inf, None
    cuts: list[np.ndarray] = []
    plans: list[np.ndarray] = []
    lam, mu = None, None
    rounds = 0
    while rounds < MAX_CUTS:
        rounds += 1
        dual.set_weights(q)
        lam, _ = dual.solve(lam)  # the last weights' multipliers: close to the next ones
        bound, _, x = dual.evaluate(lam)
        upper = min(upper, bound + dual.rounding(lam, x))  # a relaxation's bound holds too
        # a chance rule's worst draws break it: keep those draws, and solve again; a cut
        # already kept and still broken by float dust is judged as every rule is (_holds)
        broken = [(j, w) for j, w in dual.broken_chance(x) if not dual.has_cut(w)]
        if broken:
            for j, weights in broken:
                dual.add_cut(j, weights)
            lam = np.append(lam, np.zeros(len(broken)))
            continue
        candidates = [x]
        if mu is not None:  # the last master's mix of the plans before this one
            candidates.append(np.tensordot(mu, np.array(plans), axes=1))
        for candidate in candidates:
            if _holds(mean, dual, candidate):
                z = dual.draw_values(candidate)
                value = cvar(z, level)
                if value > lower:
                    lower, best = value, candidate
        if not _holds(mean, dual, x):
            return None, "no multipliers make every rule hold: infeasible or non-convex"
        cuts.append(dual.draw_values(x))
        plans.append(x)
        if best is not None and upper - lower <= tolerance * max(abs(upper), abs(lower), 1e-300):
            break
        if level >= 1.0 - 1e-12:
            break
        q, mu = _master(cuts, count, cap)
    if best is None:
        return None, "no multipliers make every rule hold: infeasible or non-convex"
    scale = dual.scale
    value, bound = dual.sign * lower * scale, dual.sign * upper * scale
    spend = best.reshape(mean.lo.shape)
    gap = relative_gap(mean, bound, value)
    what = "mean over" if level >= 1.0 else f"CVaR at {level:g} of"
    how = f"{what} {count} draws: dual bound and {len(cuts)} cutting plane(s) on the weights"
    if gap > tolerance:
        return None, f"its proven gap {gap:.2g} ({how}) is above the tolerance {tolerance:g}"
    assert lam is not None
    return SolveResult(
        status="optimal",
        solver="risk",
        rounds=rounds,
        is_mip=False,
        seconds=time.perf_counter() - started,
        message=f"proven gap {gap:.2g} ({how})",
        spend=spend,
        objective=value,
        bound=bound,
        gap=gap,
        row_duals=dual.duals(lam, best) if level >= 1.0 and not dual.chance else None,
    ), ""


def _holds(mean: Problem, dual: RiskLagrangian | RiskChainLagrangian, x: np.ndarray) -> bool:
    """Whether every coupling row holds at x on the mean curves (cell bounds hold by
    clipping), and every chance rule over its worst draws."""
    rows = [mean.rows[i] for i in sorted(set(dual.row_index.tolist()))]
    broken = broken_rows(replace(mean, rows=rows), x.reshape(mean.lo.shape))
    return not broken and not dual.broken_chance(x, FEASIBILITY_TOLERANCE)


def _master(cuts: list[np.ndarray], count: int, cap: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The weights q in Q = {0 <= q <= cap, sum q = 1} minimising the cuts' maximum, and the
    cuts' dual weights: the mix of the plans so far whose CVaR the master's value bounds."""
    found = _solve_master(cuts, count, cap)
    if found.status != 0:
        return np.full(count, 1.0 / count), None
    mu = np.maximum(-np.asarray(found.ineqlin.marginals), 0.0)
    return np.clip(found.x[:count], 0.0, cap), (mu / mu.sum() if mu.sum() > 0 else None)


def _solve_master(cuts: list[np.ndarray], count: int, cap: float) -> OptimizeResult:
    """min theta s.t. q . z_j <= theta for every cut, q in Q."""
    z = np.array(cuts)
    c = np.zeros(count + 1)
    c[-1] = 1.0
    a_ub = np.hstack([z, -np.ones((len(cuts), 1))])
    a_eq = np.hstack([np.ones((1, count)), np.zeros((1, 1))])
    bounds = [(0.0, cap)] * count + [(None, None)]
    return linprog(
        c, A_ub=a_ub, b_ub=np.zeros(len(cuts)), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs"
    )

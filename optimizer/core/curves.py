"""Response curves, CPM trends and seasonality as vectorised numpy functions.

Every response unit is ``gmv = gain[t] * f(spend)``: ``f`` is a normalised curve in yuan of
"effective spend" (one small function per family) and ``gain[t]`` carries the funnel, the CPM
of the period and its seasonality.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from optimizer.schema.channels import Cpm

Family = Literal[
    "linear", "exponential", "hill", "piecewise", "logistic", "tanh", "michaelis_menten", "mixture"
]
SMOOTH_CONCAVE = ("exponential", "logistic", "tanh", "michaelis_menten")  # and Hill of shape <= 1


def exponential_value(x: np.ndarray, scale: float) -> np.ndarray:
    """scale * (1 - exp(-x / scale)): slope 1 at zero, saturating at ``scale``."""
    return -scale * np.expm1(-x / scale)


def exponential_slope(x: np.ndarray, scale: float) -> np.ndarray:
    """Derivative of exponential_value."""
    return np.exp(-x / scale)


def hill_value(x: np.ndarray, half: float, shape: float) -> np.ndarray:
    """half * u^s / (1 + u^s) with u = x / half: slope 1 at zero when s = 1, max ``half``."""
    u = np.power(np.maximum(x, 0.0) / half, shape)
    return half * u / (1.0 + u)


def hill_slope(x: np.ndarray, half: float, shape: float) -> np.ndarray:
    """Derivative of hill_value (infinite at zero when shape < 1)."""
    x = np.maximum(x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = x / half
        us = np.power(u, shape)
        slope = shape * np.power(u, shape - 1.0) / (1.0 + us) ** 2
    return np.where(np.isfinite(slope), slope, np.inf)


def logistic_value(x: np.ndarray, scale: float) -> np.ndarray:
    """2 scale (1 - exp(-x/scale)) / (1 + exp(-x/scale)): PyMC-Marketing's logistic saturation
    with lam = 1/scale, times 2 scale so the slope is 1 at zero; saturates at 2 scale."""
    return 2.0 * scale * np.tanh(x / (2.0 * scale))


def logistic_slope(x: np.ndarray, scale: float) -> np.ndarray:
    """Derivative of logistic_value: sech^2(x / 2 scale)."""
    return 1.0 / np.cosh(np.minimum(x / (2.0 * scale), 350.0)) ** 2


def tanh_value(x: np.ndarray, scale: float) -> np.ndarray:
    """scale * tanh(x / scale): slope 1 at zero, saturating at ``scale``."""
    return scale * np.tanh(x / scale)


def tanh_slope(x: np.ndarray, scale: float) -> np.ndarray:
    """Derivative of tanh_value: sech^2(x / scale)."""
    return 1.0 / np.cosh(np.minimum(x / scale, 350.0)) ** 2


def michaelis_menten_value(x: np.ndarray, half: float) -> np.ndarray:
    """half * x / (half + x): slope 1 at zero, half its maximum ``half`` at x = half."""
    x = np.maximum(x, 0.0)
    return half * x / (half + x)


def michaelis_menten_slope(x: np.ndarray, half: float) -> np.ndarray:
    """Derivative of michaelis_menten_value: (half / (half + x))^2."""
    return (half / (half + np.maximum(x, 0.0))) ** 2


def piecewise_value(x: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Linear interpolation through the points, flat after the last one."""
    return np.interp(x, xs, ys)


def piecewise_slope(x: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Right-hand slope of piecewise_value (0 after the last point)."""
    slopes = np.append(np.diff(ys) / np.diff(xs), 0.0)
    index = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(slopes) - 1)
    return slopes[index]


@dataclass(frozen=True)
class Curve:
    """A normalised response f(spend) in effective yuan; GMV = gain * f."""

    family: Family
    scale: float = 1.0
    shape: float = 1.0
    xs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ys: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def at(self, t: int) -> Curve:
        """The curve of period t: itself, unless its scale is given per period."""
        if np.ndim(self.scale) == 0:
            return self
        return replace(self, scale=float(np.asarray(self.scale)[t]))

    def value(self, x: np.ndarray | float) -> np.ndarray:
        """f at spend x."""
        x = np.asarray(x, dtype=float)
        if self.family == "exponential":
            return exponential_value(x, self.scale)
        if self.family == "hill":
            return hill_value(x, self.scale, self.shape)
        if self.family == "piecewise":
            return piecewise_value(x, self.xs, self.ys)
        if self.family == "logistic":
            return logistic_value(x, self.scale)
        if self.family == "tanh":
            return tanh_value(x, self.scale)
        if self.family == "michaelis_menten":
            return michaelis_menten_value(x, self.scale)
        return x.copy()

    def slope(self, x: np.ndarray | float) -> np.ndarray:
        """f' at spend x (right derivative where f has kinks)."""
        x = np.asarray(x, dtype=float)
        if self.family == "exponential":
            return exponential_slope(x, self.scale)
        if self.family == "hill":
            return hill_slope(x, self.scale, self.shape)
        if self.family == "piecewise":
            return piecewise_slope(x, self.xs, self.ys)
        if self.family == "logistic":
            return logistic_slope(x, self.scale)
        if self.family == "tanh":
            return tanh_slope(x, self.scale)
        if self.family == "michaelis_menten":
            return michaelis_menten_slope(x, self.scale)
        return np.ones_like(x)

    def curvature(self, x: np.ndarray | float) -> np.ndarray:
        """f'' at spend x (0 on linear pieces)."""
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        s = self.scale
        if self.family == "exponential":
            return -np.exp(-x / s) / s
        if self.family == "logistic":
            y = np.minimum(x / (2.0 * s), 350.0)
            return -np.tanh(y) / np.cosh(y) ** 2 / s
        if self.family == "tanh":
            y = np.minimum(x / s, 350.0)
            return -2.0 * np.tanh(y) / np.cosh(y) ** 2 / s
        if self.family == "michaelis_menten":
            return -2.0 * s**2 / (s + x) ** 3
        if self.family == "hill":
            with np.errstate(divide="ignore", invalid="ignore"):
                u = x / s
                us = np.power(u, self.shape)
                k = self.shape
                value = k * np.power(u, k - 2.0) * ((k - 1.0) - (k + 1.0) * us) / (1.0 + us) ** 3
                # shape 1 is Michaelis-Menten: -2 / (1 + u)^3, finite at 0 (the general form
                # is infinity times 0 there)
                value = np.where(k == 1.0, -2.0 / (1.0 + u) ** 3, value)
            return np.where(np.isfinite(value), value, -np.inf) / s
        return np.zeros_like(x)

    def is_strictly_concave(self) -> bool:
        """f'' < 0 wherever f' > 0: every family but linear, piecewise and S-shaped Hill."""
        hill = self.family == "hill" and bool(np.all(np.asarray(self.shape) <= 1.0))
        return self.family in SMOOTH_CONCAVE or hill

    def is_s_shaped(self) -> bool:
        """True for Hill above shape 1: convex up to its inflection, concave after it."""
        return self.family == "hill" and bool(np.any(np.asarray(self.shape) > 1.0))

    def inflection(self) -> np.ndarray:
        """Spend where f'' changes sign: half * ((k-1)/(k+1))^(1/k) for Hill above shape 1,
        0 for a concave curve."""
        if self.family != "hill":
            return np.zeros(np.shape(self.scale))
        k = np.asarray(self.shape, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(k > 1.0, np.power(np.maximum(k - 1.0, 0.0) / (k + 1.0), 1.0 / k), 0.0)
        return np.asarray(self.scale * u)

    def spend_at_slope(self, c: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
        """The spend x >= 0 where f'(x) = c on the concave part of the curve (f' falls from
        its peak to 0 there): 0 where c is at or above the peak slope, inf where c <= 0;
        closed form but for Hill (Newton's method, from ``guess`` spends where they are
        positive and finite: a previous answer nearby saves most of its steps)."""
        c = np.asarray(c, dtype=float)
        s = self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "exponential":
                x = -s * np.log(c)
            elif self.family in ("logistic", "tanh"):
                width = 2.0 * s if self.family == "logistic" else s
                x = width * np.arccosh(1.0 / np.sqrt(c))
            elif self.family == "michaelis_menten":
                x = s * (1.0 / np.sqrt(c) - 1.0)
            elif self.family == "hill":
                k = np.asarray(self.shape, dtype=float)
                closed = 1.0 / np.sqrt(c) - 1.0  # shape 1 is Michaelis-Menten
                if np.all(k == 1.0):
                    x = s * closed
                else:
                    start = None if guess is None else np.asarray(guess, dtype=float) / s
                    newton = hill_spend_at_slope(c, np.where(k == 1.0, 0.5, k), start)
                    x = s * np.where(k == 1.0, closed, newton)
            else:
                raise ValueError(f"{self.family} has no single spend at a slope")
        # above the slope at zero: no spend (arccosh of a number below 1 is nan: fmax takes 0)
        return np.where(c <= 0.0, np.inf, np.fmax(x, 0.0))

    def tangent_from(self, lo: np.ndarray | float) -> np.ndarray:
        """Where the line from (lo, f(lo)) touches f further right: the concave envelope of f
        on [lo, hi] is that line up to min(t, hi), then f itself. t = lo where f is concave
        from lo on; for S-shaped Hill, the root of f'(t) (t - lo) = f(t) - f(lo) right of the
        inflection (it falls there), by bisection to float precision."""
        lo = np.asarray(lo, dtype=float)
        start = np.broadcast_to(self.inflection(), lo.shape).astype(float)
        bent = lo < start
        if not np.any(bent):
            return lo.copy()
        base = self.value(lo)

        def excess(t: np.ndarray) -> np.ndarray:
            return self.slope(t) * (t - lo) - (self.value(t) - base)

        left, right = np.where(bent, start, lo), np.where(bent, 2.0 * start + 1e-300, lo)
        for _ in range(2100):  # double until the line from lo passes above f there
            rising = bent & (excess(right) > 0)
            if not np.any(rising):
                break
            left, right = np.where(rising, right, left), np.where(rising, 2.0 * right, right)
        for _ in range(200):
            mid = 0.5 * (left + right)
            if np.all((mid == left) | (mid == right)):
                break
            above = excess(mid) > 0
            left, right = np.where(above, mid, left), np.where(above, right, mid)
        return np.where(bent, right, lo)

    def envelope(
        self, x: np.ndarray | float, lo: np.ndarray | float, hi: np.ndarray | float
    ) -> np.ndarray:
        """The concave envelope of f on [lo, hi] (the least concave function above it), at x:
        f itself for a concave curve; for S-shaped Hill the line from lo to its tangent point
        (or the chord to hi, if that comes first), then f."""
        x, lo, hi = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, lo, hi)))
        reach = np.minimum(self.tangent_from(lo), hi)
        base, top = self.value(lo), self.value(reach)
        with np.errstate(divide="ignore", invalid="ignore"):
            line = base + (top - base) * (x - lo) / (reach - lo)
        return np.where(x < reach, line, self.value(x))

    def is_concave(self) -> bool:
        """True unless the curve is S-shaped (Hill with shape > 1)."""
        return not (self.family == "hill" and self.shape > 1.0)

    def is_exact_piecewise(self) -> bool:
        """True when a piecewise-linear model with the right breakpoints is exact."""
        return self.family in ("linear", "piecewise")

    def knots(self, lo: float, hi: float) -> np.ndarray:
        """Breakpoints the curve itself needs inside [lo, hi] (its own kinks)."""
        if self.family != "piecewise":
            return np.array([lo, hi])
        inside = self.xs[(self.xs > lo) & (self.xs < hi)]
        return np.concatenate(([lo], inside, [hi]))


def hill_spend_at_slope(
    c: np.ndarray, shape: float | np.ndarray, guess: np.ndarray | None = None
) -> np.ndarray:
    """u = x / half where the Hill slope k u^(k-1) / (1 + u^k)^2 equals c on its falling
    side (for k > 1, right of the inflection); 0 where c is at or above the peak slope.

    In v = ln u the log-slope ln k + (k-1) v - 2 ln(1 + e^(k v)) is concave (for k < 1 it falls
    everywhere; for k > 1 it rises to its peak at the inflection, then falls), so Newton's
    method from the right of the root converges monotonically: the tangent of a concave
    function lies above it, so every step lands right of the root again. The start is the
    large-u asymptote k u^(-k-1) = c (for k < 1 also the small-u one, k u^(k-1) = c), whichever
    is further right, and never left of the peak; a handful of steps reach float precision.
    A ``guess`` u > 0 replaces that start: from the left of the root on the falling side the
    first step lands right of it, and the rest is as before.
    """
    k = np.asarray(shape, dtype=float)
    target = np.log(np.maximum(c, 1e-300))
    large = (np.log(k) - target) / (k + 1.0)  # k u^(-k-1) = c, right for large u
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.where(k < 1.0, (target - np.log(k)) / (k - 1.0), -np.inf)
        peak = np.where(k > 1.0, np.log(np.maximum(k - 1.0, 1e-300) / (k + 1.0)) / k, -np.inf)
    ekp = np.exp(np.minimum(k * peak, 700.0))
    top = np.where(k > 1.0, np.log(k) + (k - 1.0) * peak - 2.0 * np.log1p(ekp), np.inf)
    rootless = target >= top  # at or above the peak slope: no spend on the concave side pays
    target = np.where(rootless, top - 1.0, target)
    v = np.maximum(np.maximum(small, large), peak + 1.0)
    if guess is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            near = np.log(guess)
        usable = np.isfinite(near) & ~rootless
        v = np.where(usable, np.maximum(near, peak + 1e-3), v)
    for _ in range(60):
        ekv = np.exp(np.minimum(k * v, 700.0))
        phi = np.log(k) + (k - 1.0) * v - 2.0 * np.log1p(ekv) - target
        dphi = (k - 1.0) - 2.0 * k * ekv / (1.0 + ekv)
        step = phi / dphi
        v = v - step
        if np.all(np.abs(step) <= 1e-13 * np.maximum(1.0, np.abs(v))):
            break
    with np.errstate(over="ignore"):  # a slope of 1e-300 is reached past any bound: inf
        return np.where(rootless, 0.0, np.exp(v))


def initial_breakpoints(curve: Curve, lo: float, hi: float, count: int) -> np.ndarray:
    """A first grid on [lo, hi], denser where the curve bends, plus the curve's own kinks."""
    if curve.is_exact_piecewise() or hi <= lo:
        return curve.knots(lo, max(hi, lo))
    reach = min(hi, lo + 6.0 * curve.scale)
    grid = lo + (reach - lo) * np.linspace(0.0, 1.0, count) ** 1.5
    return np.unique(np.concatenate((grid, [hi])))


def tangent_envelope(curve: Curve, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outer approximation of a concave f: breakpoints and values of min over tangents.

    Tangents at ``points`` meet at one kink between each pair of neighbours; the result is a
    concave piecewise-linear function that lies on or above f on [points[0], points[-1]].
    """
    if curve.is_exact_piecewise() or len(points) < 2 or points[-1] <= points[0]:
        return points, curve.value(points)
    p = points
    fp = curve.value(p)
    sp = curve.slope(p)
    finite = np.isfinite(sp)
    if not finite[0] and finite.any():
        # Infinite slope at the left end (Hill with shape < 1): the envelope starts at the first
        # finite tangent, evaluated at the left end, which still bounds f from above.
        p, fp, sp = p[finite], fp[finite], sp[finite]
        left = points[0]
        head_value = fp[0] + sp[0] * (left - p[0])
        xs, ys = _tangent_kinks(p, fp, sp)
        return np.concatenate(([left], xs)), np.concatenate(([head_value], ys))
    return _tangent_kinks(p, fp, sp)


def _tangent_kinks(p: np.ndarray, fp: np.ndarray, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    left_p, right_p = p[:-1], p[1:]
    ds = sp[:-1] - sp[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (fp[1:] - fp[:-1] + sp[:-1] * left_p - sp[1:] * right_p) / ds
    z = np.where(ds > 1e-15, z, 0.5 * (left_p + right_p))
    z = np.clip(z, left_p, right_p)
    zv = fp[:-1] + sp[:-1] * (z - left_p)
    xs = np.concatenate(([p[0]], z, [p[-1]]))
    ys = np.concatenate(([fp[0]], zv, [fp[-1]]))
    keep = np.concatenate(([True], np.diff(xs) > 1e-9 * max(1.0, abs(p[-1]))))
    keep[-1] = True
    xs, ys = xs[keep], ys[keep]
    return xs, np.maximum.accumulate(ys)


def cpm_by_period(base_cny: float, trend: object | None, n_periods: int) -> np.ndarray:
    """CPM of each period from its base and trend: the schema's ``Cpm.by_period``."""
    return Cpm.model_construct(base_cny=base_cny, trend=trend).by_period(n_periods)


def per_period(value: float | list[float] | None, n_periods: int, default: float) -> np.ndarray:
    """Broadcast a scalar-or-list field to one value per period."""
    if value is None:
        return np.full(n_periods, default)
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return np.full(n_periods, float(value))

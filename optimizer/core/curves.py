"""Response curves, CPM trends and seasonality as vectorised numpy functions.

Every response unit is ``gmv = gain[t] * f(spend)``: ``f`` is a normalised curve in yuan of
"effective spend" (one small function per family) and ``gain[t]`` carries the funnel, the CPM
of the period and its seasonality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from optimizer.schema.channels import Cpm

Family = Literal["linear", "exponential", "hill", "piecewise"]


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

    def value(self, x: np.ndarray | float) -> np.ndarray:
        """f at spend x."""
        x = np.asarray(x, dtype=float)
        if self.family == "exponential":
            return exponential_value(x, self.scale)
        if self.family == "hill":
            return hill_value(x, self.scale, self.shape)
        if self.family == "piecewise":
            return piecewise_value(x, self.xs, self.ys)
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
        return np.ones_like(x)

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

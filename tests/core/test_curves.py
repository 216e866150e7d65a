"""Chords lie below and tangent envelopes above every concave curve family."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.core.curves import Curve, cpm_by_period, tangent_envelope

CONCAVE = [
    Curve("exponential", scale=30.0),
    Curve("hill", scale=40.0, shape=1.0),
    Curve("hill", scale=40.0, shape=0.5),
    Curve("linear"),
]


@pytest.mark.parametrize("curve", CONCAVE, ids=lambda c: f"{c.family}-{c.shape}")
@pytest.mark.parametrize("points", [[0, 200], [0, 1, 5, 50, 200], [10, 10.5, 300]])
def test_chord_below_and_envelope_above(curve: Curve, points: list[float]) -> None:
    p = np.array(points, dtype=float)
    grid = np.linspace(p[0], p[-1], 2001)
    chord = np.interp(grid, p, curve.value(p))  # chords: f at the breakpoints
    xs, ys = tangent_envelope(curve, p)
    envelope = np.interp(grid, xs, ys)
    true = curve.value(grid)
    assert np.all(chord <= true + 1e-9)
    assert np.all(envelope >= true - 1e-9)
    assert envelope[0] >= true[0] and envelope[-1] == pytest.approx(true[-1])


def test_exponential_and_hill_have_slope_one_at_zero() -> None:
    for curve in (Curve("exponential", scale=30.0), Curve("hill", scale=40.0)):
        assert curve.slope(0.0) == pytest.approx(1.0)
        h = 1e-6
        assert (curve.value(h) - curve.value(0.0)) / h == pytest.approx(1.0, rel=1e-5)


def test_piecewise_is_flat_after_its_last_point() -> None:
    curve = Curve("piecewise", xs=np.array([0.0, 10.0, 30.0]), ys=np.array([0.0, 8.0, 12.0]))
    assert curve.value(np.array([5.0, 20.0, 100.0])) == pytest.approx([4.0, 10.0, 12.0])
    assert curve.slope(np.array([5.0, 20.0, 100.0])) == pytest.approx([0.8, 0.2, 0.0])


def test_cpm_trends() -> None:
    class Trend:
        def __init__(self, type: str, **kw: object) -> None:
            self.type = type
            self.__dict__.update(kw)

    assert cpm_by_period(40, None, 3) == pytest.approx([40, 40, 40])
    assert cpm_by_period(40, Trend("index", values=[1, 1.2, 1.42]), 3) == pytest.approx(
        [40, 48, 56.8]
    )
    assert cpm_by_period(40, Trend("linear", rate_per_period=0.14), 4) == pytest.approx(
        [40, 45.6, 51.2, 56.8]
    )
    assert cpm_by_period(100, Trend("compound", rate_per_period=0.1), 3) == pytest.approx(
        [100, 110, 121]
    )


def test_a_hill_of_shape_one_bends_like_michaelis_menten_even_at_zero() -> None:
    """f = s x / (s + x): f''(x) = -2 s^2 / (s + x)^3, so -2 / s at 0 (the general Hill form is
    infinity times 0 there, which once broke the chain method's Newton steps)."""
    s = 4e6
    x = np.array([0.0, 1e6, 4e6])
    hill = Curve("hill", scale=s, shape=1.0).curvature(x)
    assert hill == pytest.approx(-2 * s**2 / (s + x) ** 3, rel=1e-12)
    assert hill[0] == pytest.approx(-2 / s, rel=1e-12)

"""Response curves of the scenario schema: saturation of a channel's reach, or GMV given directly.

A saturation curve maps spend to effective spend (a paid channel or KOL tier then turns that
into GMV through its own economics); a response curve maps spend straight to GMV, as a marketing
mix model fits it. Piecewise curves must start at (0, 0) and have diminishing returns, which
keeps the problem convex.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from optimizer.schema.fields import (
    Money,
    PerPeriod,
    Positive,
    Price,
    StrictModel,
    fail_at,
)

PER_PERIOD_MAX = (
    "GMV per period as spend grows without limit (above 0, at most 1e12); or a list, one per "
    "period."
)
PER_PERIOD_WIDTH = (
    "CNY of spend per period at the fitted CPM (0.01 to 1e12); or a list, one per period."
)


class LinearCurve(StrictModel):
    """No saturation: every yuan works like the first."""

    type: Literal["linear"]


class ExponentialCurve(StrictModel):
    """Effective spend = scale * (1 - exp(-spend / scale)); saturates at ``scale_cny``."""

    type: Literal["exponential"]
    scale_cny: Price = Field(description="Spend per period at which returns fall to 37%.")


class HillCurve(StrictModel):
    """Effective spend = half * u^shape / (1 + u^shape), u = spend / half; shape > 1 is S-shaped."""

    type: Literal["hill"]
    half_saturation_cny: Price = Field(description="Spend per period giving half the max.")
    shape: Positive = Field(1.0, gt=0, le=10, description="Hill exponent; 1 is concave.")


class LogisticCurve(StrictModel):
    """Effective spend = 2 scale (1 - e^(-spend/scale)) / (1 + e^(-spend/scale)): PyMC-Marketing's
    logistic saturation with lam = 1 / scale, slope 1 at zero, saturating at 2 x scale."""

    type: Literal["logistic"]
    scale_cny: Price = Field(description="1 / lam, in CNY of spend per period.")


class TanhCurve(StrictModel):
    """Effective spend = scale * tanh(spend / scale): slope 1 at zero, saturating at scale."""

    type: Literal["tanh"]
    scale_cny: Price = Field(description="Spend per period where returns fall to 42%.")


class MichaelisMentenCurve(StrictModel):
    """Effective spend = half * spend / (half + spend): slope 1 at zero, max ``half``."""

    type: Literal["michaelis_menten"]
    half_saturation_cny: Price = Field(description="Spend per period giving half the max.")


class PiecewiseCurve(StrictModel):
    """Effective spend as points (spend_cny, effective_cny) from a test; flat after the last."""

    type: Literal["piecewise"]
    points: list[tuple[Money, Money]] = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _check_points(self) -> PiecewiseCurve:
        _check_curve_points(self.points)
        return self


Saturation = Annotated[
    LinearCurve
    | ExponentialCurve
    | HillCurve
    | LogisticCurve
    | TanhCurve
    | MichaelisMentenCurve
    | PiecewiseCurve,
    Field(discriminator="type"),
]


class LinearResponse(StrictModel):
    """GMV = roas * spend."""

    type: Literal["linear"]
    roas: Positive = Field(gt=0, le=1000, description="GMV per yuan of spend.")


class ExponentialResponse(StrictModel):
    """GMV = max_gmv * (1 - exp(-spend / scale))."""

    type: Literal["exponential"]
    max_gmv_cny: PerPeriod = Field(description=PER_PERIOD_MAX)
    scale_cny: PerPeriod = Field(description=PER_PERIOD_WIDTH)


class HillResponse(StrictModel):
    """GMV = max_gmv * u^shape / (1 + u^shape), u = spend / half_saturation (Robyn-style Hill)."""

    type: Literal["hill"]
    max_gmv_cny: PerPeriod = Field(description=PER_PERIOD_MAX)
    half_saturation_cny: PerPeriod = Field(description=PER_PERIOD_WIDTH)
    shape: Positive = Field(1.0, gt=0, le=10)


class LogisticResponse(StrictModel):
    """GMV = max_gmv * (1 - e^(-spend/scale)) / (1 + e^(-spend/scale)) (PyMC-Marketing's default
    saturation, logistic_saturation with lam = 1 / scale, times its max)."""

    type: Literal["logistic"]
    max_gmv_cny: PerPeriod = Field(description=PER_PERIOD_MAX)
    scale_cny: PerPeriod = Field(
        description="1 / lam, in CNY of spend per period at the fitted CPM; or one per period."
    )


class TanhResponse(StrictModel):
    """GMV = max_gmv * tanh(spend / scale) (PyMC-Marketing's tanh_saturation: scale = b x c)."""

    type: Literal["tanh"]
    max_gmv_cny: PerPeriod = Field(description=PER_PERIOD_MAX)
    scale_cny: PerPeriod = Field(description=PER_PERIOD_WIDTH)


class MichaelisMentenResponse(StrictModel):
    """GMV = max_gmv * spend / (half_saturation + spend) (PyMC-Marketing's michaelis_menten with
    alpha = max_gmv, lam = half_saturation)."""

    type: Literal["michaelis_menten"]
    max_gmv_cny: PerPeriod = Field(description=PER_PERIOD_MAX)
    half_saturation_cny: PerPeriod = Field(description=PER_PERIOD_WIDTH)


class PiecewiseResponse(StrictModel):
    """GMV given as points (spend_cny, gmv_cny); linear between points, flat after the last."""

    type: Literal["piecewise"]
    points: list[tuple[Money, Money]] = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _check_points(self) -> PiecewiseResponse:
        _check_curve_points(self.points)
        return self


Response = Annotated[
    LinearResponse
    | ExponentialResponse
    | HillResponse
    | LogisticResponse
    | TanhResponse
    | MichaelisMentenResponse
    | PiecewiseResponse,
    Field(discriminator="type"),
]


def _check_curve_points(points: list[tuple[float, float]]) -> None:
    """From (0, 0), spend increasing, response never falling, returns diminishing: convex."""
    spends = [p[0] for p in points]
    values = [p[1] for p in points]
    if spends[0] != 0 or values[0] != 0:
        fail_at(("points", 0), "the first point must be (0, 0): no spend, no response")
    for i in range(1, len(points)):
        if spends[i] <= spends[i - 1]:
            fail_at(("points", i), f"spend must increase from point to point, got {spends[i]:g}")
        if values[i] < values[i - 1]:
            fail_at(("points", i), f"response must not fall as spend grows, got {values[i]:g}")
    slopes = [
        (values[i] - values[i - 1]) / (spends[i] - spends[i - 1]) for i in range(1, len(points))
    ]
    for i in range(1, len(slopes)):
        if slopes[i] > slopes[i - 1] * (1 + 1e-9) + 1e-12:
            fail_at(
                ("points", i + 1),
                "returns must diminish: each segment's slope at most the previous one's "
                f"(segment {i + 1} has {slopes[i]:.4g} after {slopes[i - 1]:.4g})",
            )

"""Carry-over (adstock) of the scenario schema: how much of a week's spend still works in the
weeks after it, as the media-mix models that fit it define it.

A channel's adstock is a list of weights ``w[0], w[1], ..., w[L]``: the effective input in
week t is ``w[0] u[t] + w[1] u[t-1] + ... + w[L] u[t-L]``, where ``u`` is what the spend buys
(spend, or impressions at the base CPM for a paid channel) and weeks before the plan come from
the channel's ``history_spend_cny``. ``order`` says whether the weights apply to the spend
before the saturation curve (Robyn, Meridian, PyMC-Marketing's default) or to the response
after it (PyMC-Marketing with ``adstock_first=False``).

The weights are pure arithmetic on these fields (``weights``), so the schema can check them and
the core uses the very same numbers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from optimizer.schema.fields import StrictModel

MAX_LAG = 520  # ten years of weeks
Order = Literal["before_saturation", "after_saturation"]
ORDER_HELP = (
    "before_saturation: the weights carry spend into later weeks and the curve applies to the "
    "carried total (Robyn, Meridian, PyMC-Marketing's default); after_saturation: the curve "
    "applies to each week's spend and its response is carried (PyMC-Marketing with "
    "adstock_first false)."
)
NORMALIZE_HELP = (
    "Divide the weights by their sum, so they add up to 1 (PyMC-Marketing's normalize, "
    "always on in Meridian)."
)


class _AdstockBase(StrictModel, ABC):
    """What every adstock has: where it applies, whether its weights add up to 1."""

    order: Order = Field("before_saturation", description=ORDER_HELP)
    normalize: bool = Field(False, description=NORMALIZE_HELP)

    @abstractmethod
    def raw_weights(self, window: int) -> np.ndarray:
        """Weights before normalising; ``window`` is the weeks of history plus plan."""

    def weights(self, window: int) -> np.ndarray:
        """Weights of lags 0, 1, ..., L (normalised when asked), as float64."""
        w = np.asarray(self.raw_weights(window), dtype=float)
        total = float(np.sum(w))
        return w / total if self.normalize and total > 0 else w


class GeometricAdstock(_AdstockBase):
    """w[l] = decay^l for l = 0..max_lag: Robyn's and PyMC-Marketing's geometric adstock."""

    type: Literal["geometric"]
    decay: float = Field(
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Share of a week's effect still working the next week (Robyn's theta, "
        "PyMC-Marketing's alpha), 0 to below 1.",
    )
    max_lag: int = Field(
        ge=0,
        le=MAX_LAG,
        description="Last lag counted, in weeks (PyMC-Marketing's l_max minus 1; Robyn counts "
        "the whole series: its length minus 1).",
    )

    def raw_weights(self, window: int) -> np.ndarray:
        """decay^l, lags 0..max_lag."""
        return self.decay ** np.arange(self.max_lag + 1, dtype=float)


class WeibullAdstock(_AdstockBase):
    """Robyn's delayed adstock: weights from a Weibull CDF (decaying) or PDF (can peak later).

    As Robyn's ``adstock_weibull``: over lags x = 1..window, the Weibull scale is
    ``round(quantile(1:window, scale))`` (R's type-7 quantile, rounded half to even); ``cdf``
    weights are ``cumprod(c(1, 1 - pweibull(1:(window-1))))``, ``pdf`` weights are
    ``dweibull(1:window)`` rescaled to run from 0 (their least) to 1 (their peak).
    """

    type: Literal["weibull_cdf", "weibull_pdf"]
    shape: float = Field(
        gt=0, le=50, allow_inf_nan=False, description="Robyn's shape (k), above 0, at most 50."
    )
    scale: float = Field(
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Robyn's scale: a quantile of the window, above 0, at most 1.",
    )
    window: int | None = Field(
        None,
        ge=1,
        le=MAX_LAG + 1,
        description="Robyn's windlen: the length of the series the weights span, in weeks "
        "(default: the channel's history plus the plan's periods).",
    )

    def raw_weights(self, window: int) -> np.ndarray:
        """Robyn's thetaVecCum for lags 0..window-1."""
        n = self.window or window
        lags = np.arange(1, n + 1, dtype=float)
        lam = max(float(np.round(1.0 + self.scale * (n - 1))), 1.0)  # R: round(quantile(1:n, s))
        z = lags / lam
        if self.type == "weibull_cdf":
            survive = np.exp(-(z[:-1] ** self.shape))  # 1 - pweibull(x, shape, lam)
            return np.cumprod(np.concatenate(([1.0], survive)))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pdf = (self.shape / lam) * z ** (self.shape - 1.0) * np.exp(-(z**self.shape))
        low, high = float(np.min(pdf)), float(np.max(pdf))
        if not high > low:
            return np.ones(n)  # Robyn's .normalize of a constant: no shape to rescale
        return (pdf - low) / (high - low)


class WeightsAdstock(_AdstockBase):
    """Weights given lag by lag: any other source (Meridian's binomial decay, a PyMC-Marketing
    Weibull adstock, a hand-made delay)."""

    type: Literal["weights"]
    weights_by_lag: list[Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]] = Field(
        min_length=1,
        max_length=MAX_LAG + 1,
        json_schema_extra={"x-cell": "numbers"},
        description="Weight of lag 0 (the week of spend), 1, 2, ...; 0 to 1000 each.",
    )

    def raw_weights(self, window: int) -> np.ndarray:
        """The weights as given."""
        return np.asarray(self.weights_by_lag, dtype=float)


Adstock = Annotated[GeometricAdstock | WeibullAdstock | WeightsAdstock, Field(discriminator="type")]

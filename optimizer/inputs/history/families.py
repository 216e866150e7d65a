"""The curve families ``budgetopt fit`` fits, in exactly the engine's closed forms.

Each maps what a week's spend buys (``x``, CNY at the reference CPM, carried over when the
model has an adstock) to attributed GMV, with the parameters of the scenario's response:

- hill: max * u^shape / (1 + u^shape), u = x / half_saturation
- logistic: max * (1 - e^(-x/scale)) / (1 + e^(-x/scale)) = max * tanh(x / (2 scale))
- exponential: max * (1 - e^(-x/scale))
- michaelis_menten: max * x / (half_saturation + x)

and geometric adstock x_t = sum over l = 0..max_lag of decay^l u_(t-l) (order
before_saturation, weights not normalised), as ``optimizer.core.units`` builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SHAPE_BOUNDS = (0.5, 3.0)  # S-shaped Hill allowed, up to 3: steeper is not told apart weekly
DECAY_BOUNDS = (0.0, 0.9)
DEFAULT_MAX_LAG = 8


def _hill(x: np.ndarray, top: float, width: float, shape: float) -> np.ndarray:
    u = np.power(np.maximum(x, 0.0) / width, shape)
    return top * u / (1.0 + u)


def _logistic(x: np.ndarray, top: float, width: float, shape: float) -> np.ndarray:
    return top * np.tanh(x / (2.0 * width))


def _exponential(x: np.ndarray, top: float, width: float, shape: float) -> np.ndarray:
    return -top * np.expm1(-x / width)


def _michaelis_menten(x: np.ndarray, top: float, width: float, shape: float) -> np.ndarray:
    x = np.maximum(x, 0.0)
    return top * x / (width + x)


@dataclass(frozen=True)
class Family:
    """A response family: its name in the schema, its width parameter, whether it has a shape."""

    name: str
    width: str  # half_saturation_cny or scale_cny
    has_shape: bool
    value: Callable[[np.ndarray, float, float, float], np.ndarray]

    def response(self, top: float, width: float, shape: float) -> dict[str, object]:
        """The scenario's ``response`` mapping for these parameters."""
        doc: dict[str, object] = {"type": self.name, "max_gmv_cny": top, self.width: width}
        if self.has_shape:
            doc["shape"] = shape
        return doc


FAMILIES = {
    f.name: f
    for f in (
        Family("hill", "half_saturation_cny", True, _hill),
        Family("logistic", "scale_cny", False, _logistic),
        Family("exponential", "scale_cny", False, _exponential),
        Family("michaelis_menten", "half_saturation_cny", False, _michaelis_menten),
    )
}


@dataclass(frozen=True)
class Model:
    """A family with or without geometric adstock; its parameter vector ``theta`` is
    (log max_gmv, log width[, shape][, decay]) so that positive parameters stay positive."""

    family: Family
    max_lag: int = 0  # 0: no adstock

    @property
    def label(self) -> str:
        """hill, hill+adstock, ..."""
        return self.family.name + ("+adstock" if self.max_lag else "")

    @property
    def size(self) -> int:
        """Number of parameters."""
        return 2 + int(self.family.has_shape) + int(self.max_lag > 0)

    def names(self) -> list[str]:
        """Names of the natural parameters, in theta's order."""
        names = ["max_gmv_cny", self.family.width]
        if self.family.has_shape:
            names.append("shape")
        if self.max_lag:
            names.append("decay")
        return names

    def natural(self, theta: np.ndarray) -> dict[str, float]:
        """The parameters in the scenario's units."""
        values = [float(np.exp(theta[0])), float(np.exp(theta[1])), *map(float, theta[2:])]
        return dict(zip(self.names(), values, strict=True))

    def parts(self, theta: np.ndarray) -> tuple[float, float, float, float]:
        """(max_gmv, width, shape, decay)."""
        shape = float(theta[2]) if self.family.has_shape else 1.0
        decay = float(theta[-1]) if self.max_lag else 0.0
        return float(np.exp(theta[0])), float(np.exp(theta[1])), shape, decay

    def carried(self, lagged: np.ndarray, decay: float) -> np.ndarray:
        """The input after adstock: lagged (weeks, max_lag + 1) weighted by decay^l."""
        if not self.max_lag:
            return lagged[:, 0]
        return lagged[:, : self.max_lag + 1] @ np.power(decay, np.arange(self.max_lag + 1))

    def predict(self, theta: np.ndarray, lagged: np.ndarray) -> np.ndarray:
        """GMV of every week."""
        top, width, shape, decay = self.parts(theta)
        return self.family.value(self.carried(lagged, decay), top, width, shape)

    def predict_many(self, thetas: np.ndarray, lagged: np.ndarray) -> np.ndarray:
        """GMV of every week for many parameter vectors at once: (draws, weeks)."""
        top = np.exp(thetas[:, 0:1])
        width = np.exp(thetas[:, 1:2])
        shape = thetas[:, 2:3] if self.family.has_shape else 1.0
        if self.max_lag:
            weights = np.power(thetas[:, -1:], np.arange(self.max_lag + 1))  # (draws, lags)
            x = weights @ lagged[:, : self.max_lag + 1].T
        else:
            x = np.broadcast_to(lagged[:, 0], (len(thetas), len(lagged)))
        return self.family.value(x, top, width, shape)  # type: ignore[arg-type]


def lagged_input(units: np.ndarray, max_lag: int) -> np.ndarray:
    """(weeks, max_lag + 1): column l holds the input of l weeks earlier (0 before the data)."""
    n = len(units)
    out = np.zeros((n, max_lag + 1))
    for lag in range(max_lag + 1):
        out[lag:, lag] = units[: n - lag]
    return out

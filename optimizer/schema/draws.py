"""Parameter draws of a curve channel: the uncertainty of its fitted curve, as samples.

A curve channel's ``draws`` give, for some of its response (and adstock) parameters, one value
per draw: posterior samples of a media-mix model, or bootstrap refits of its history
(``budgetopt fit``). Draw k of every channel is one joint draw of the whole scenario, so all
channels with draws have the same number of them, and a parameter without draws keeps its one
value in every draw. The plan's ranges (P10 / P50 / P90, the probability each rule holds) and
the risk-aware objectives read them; a scenario without draws is one certain model.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from optimizer.schema.fields import MAX_CNY, MIN_PRICE_CNY, StrictModel

MAX_DRAWS = 2000

DrawValues = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]],
    Field(min_length=1, max_length=MAX_DRAWS, json_schema_extra={"x-cell": "numbers"}),
]

# The parameters that can be drawn, with the bounds their own fields have: (low, low is
# allowed, high, high is allowed).
RESPONSE_BOUNDS: dict[str, tuple[float, bool, float, bool]] = {
    "roas": (0.0, False, 1000.0, True),
    "max_gmv_cny": (0.0, False, MAX_CNY, True),
    "half_saturation_cny": (MIN_PRICE_CNY, True, MAX_CNY, True),
    "scale_cny": (MIN_PRICE_CNY, True, MAX_CNY, True),
    "shape": (0.0, False, 10.0, True),
}
ADSTOCK_BOUNDS: dict[str, dict[str, tuple[float, bool, float, bool]]] = {
    "geometric": {"decay": (0.0, True, 1.0, False)},
    "weibull_cdf": {"shape": (0.0, False, 50.0, True), "scale": (0.0, False, 1.0, True)},
    "weibull_pdf": {"shape": (0.0, False, 50.0, True), "scale": (0.0, False, 1.0, True)},
}


_DRAWN = Field(None, json_schema_extra={"x-cell": "numbers"})  # one cell: comma-separated


class _DrawnParameters(StrictModel):
    """Drawn parameters by name, each one value per draw; unset ones are not drawn."""

    def items(self) -> list[tuple[str, list[float]]]:
        """(name, values) of the parameters drawn, in field order."""
        return [
            (name, getattr(self, name))
            for name in type(self).model_fields
            if getattr(self, name) is not None
        ]

    def get(self, name: str) -> list[float] | None:
        """One parameter's draws (None when not drawn)."""
        return getattr(self, name, None)

    def __bool__(self) -> bool:
        """Whether any parameter is drawn."""
        return bool(self.items())

    @model_serializer(mode="wrap")
    def _drawn_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only the parameters drawn: a dump reads as the file was written."""
        return {k: v for k, v in handler(self).items() if v is not None}


class DrawnResponse(_DrawnParameters):
    """A response's parameters, one value per draw (those its type has; see RESPONSE_BOUNDS)."""

    max_gmv_cny: DrawValues | None = _DRAWN
    half_saturation_cny: DrawValues | None = _DRAWN
    scale_cny: DrawValues | None = _DRAWN
    shape: DrawValues | None = _DRAWN
    roas: DrawValues | None = _DRAWN


class DrawnAdstock(_DrawnParameters):
    """An adstock's parameters, one value per draw: decay (geometric), shape and scale
    (Weibull)."""

    decay: DrawValues | None = _DRAWN
    shape: DrawValues | None = _DRAWN
    scale: DrawValues | None = _DRAWN


class Draws(StrictModel):
    """Draws of a curve channel's parameters: one value per draw for each parameter named."""

    response: DrawnResponse = Field(
        default_factory=DrawnResponse,
        description="Response parameters, one value per draw (max_gmv_cny, "
        "half_saturation_cny, shape, scale_cny, roas: those the response has); each within "
        "its field's own bounds.",
    )
    adstock: DrawnAdstock = Field(
        default_factory=DrawnAdstock,
        description="Adstock parameters, one value per draw (decay of a geometric adstock; "
        "shape, scale of a Weibull one).",
    )

    def count(self) -> int:
        """Number of draws (every list has it; the checks say so otherwise)."""
        lengths = [len(v) for _, v in (*self.response.items(), *self.adstock.items())]
        return max(lengths, default=0)

    def response_at(self, k: int) -> dict[str, Any]:
        """Draw k's response parameters."""
        return {name: values[k] for name, values in self.response.items()}

    def adstock_at(self, k: int) -> dict[str, Any]:
        """Draw k's adstock parameters."""
        return {name: values[k] for name, values in self.adstock.items()}


class FitSummary(StrictModel):
    """Where a fitted curve comes from and how well it fits (``budgetopt fit``): kept with the
    curve so a plan can warn when it asks for spend the history never saw."""

    family: str = Field(max_length=64, description="The curve family chosen (hill, ...).")
    weeks: int = Field(ge=1, le=100_000, description="Weeks of history fitted.")
    spend_min_cny: float = Field(ge=0, le=MAX_CNY, description="Least weekly spend seen.")
    spend_max_cny: float = Field(ge=0, le=MAX_CNY, description="Most weekly spend seen.")
    r2: float | None = Field(None, le=1, description="R² of the fit on all weeks.")
    holdout_mape: float | None = Field(
        None, ge=0, description="Mean absolute percentage error on held-out weeks (0.1 = 10%)."
    )
    source: str = Field("", max_length=500, description="The history file the fit read.")


def in_bounds(value: float, bounds: tuple[float, bool, float, bool]) -> bool:
    """Whether a drawn value lies within its parameter's bounds."""
    low, low_ok, high, high_ok = bounds
    above = value > low or (low_ok and value == low)
    below = value < high or (high_ok and value == high)
    return above and below


def describe_bounds(bounds: tuple[float, bool, float, bool]) -> str:
    """A parameter's bounds in words, for an error message."""
    low, low_ok, high, high_ok = bounds
    floor = f"{'at least' if low_ok else 'above'} {low:g}"
    return f"{floor} and {'at most' if high_ok else 'below'} {high:g}"

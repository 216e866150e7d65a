"""Field types of the scenario schema: ids, money, prices, rates, per-period values, and bounds.

Every number has physical bounds, so that no product of them (seasonality x 1000 x CTR x CVR
x AOV / CPM, a CAC ceiling times new customers per yuan of GMV, ...) overflows to infinity,
underflows to zero or leaves the range a solver can take: amounts of money are at most
1e12 CNY (a trillion), prices and curve scales at least 0.01 CNY (one fen), rates and shares
between 0 and 1, seasonality and CPM multipliers at most 1000. What the bounds of single fields
cannot catch, the numbers derived from them, the core checks after validation
(``check_numbers``), as the schema must not depend on the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, NoReturn, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]  # where a value is: ('channels', 2, 'cpm', 'base_cny')

MAX_CNY = 1e12  # a trillion yuan: more than any marketing budget, and far from overflow
MIN_PRICE_CNY = 0.01  # one fen: the least a CPM, a cost per reach or a curve scale can be
MAX_AOV_CNY = 1e7  # ten million yuan per order
MAX_MULTIPLIER = 1000.0  # seasonality and CPM index values
MIN_TOLERANCE = 1e-9  # a relative gap below what double precision can prove is never reached
TINY = 1e-9  # the least nonzero rate, share or multiplier: products of a few stay far from 0


def at_least(minimum: float, unit: str = "", *, or_zero: bool = False) -> AfterValidator:
    """A floor checked after ``gt=0`` (or ``ge=0`` with ``or_zero``), so that zero or less is
    still "greater than 0" while a tiny number (5e-324) gets its own message."""

    def check(value: float) -> float:
        if value < minimum and not (or_zero and value == 0):
            expected = f"0 or at least {minimum:g}" if or_zero else f"at least {minimum:g}"
            raise PydanticCustomError(
                "scenario",
                "{message}",
                {"message": f"expected {expected}{unit}, got {value:g}: too small to compute with"},
            )
        return value

    return AfterValidator(check)


def error_at(loc: Loc, message: str) -> InitErrorDetails:
    """A validation error of our own at ``loc``; its message is shown as is (see messages)."""
    return InitErrorDetails(
        type=PydanticCustomError("scenario", "{message}", {"message": message}),
        loc=loc,
        input=None,
    )


def fail_at(loc: Loc, message: str) -> NoReturn:
    """Refuse the value being validated, with ``message`` at ``loc``."""
    raise ValidationError.from_exception_data("Scenario", [error_at(loc, message)])


Positive = Annotated[float, at_least(TINY)]  # with Field(gt=0, ...): a rate or multiplier
NonNegative = Annotated[float, at_least(TINY, or_zero=True)]  # with Field(ge=0, ...)


Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\w\-]+$",
        description="Identifier: letters (any script), digits, '_' or '-'; no spaces or dots.",
    ),
]
Money = Annotated[
    float,
    Field(ge=0, le=MAX_CNY, allow_inf_nan=False, description="Amount in CNY, 0 to 1e12."),
]
PositiveMoney = Annotated[
    float, Field(gt=0, le=MAX_CNY, allow_inf_nan=False, description="CNY, > 0 and <= 1e12.")
]
Price = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_CNY,
        allow_inf_nan=False,
        json_schema_extra={"minimum": MIN_PRICE_CNY},
        description="CNY, 0.01 (one fen) to 1e12.",
    ),
    at_least(MIN_PRICE_CNY, " CNY (one fen)"),
]
OrderValue = Annotated[
    float,
    Field(
        ge=0.01,
        le=MAX_AOV_CNY,
        allow_inf_nan=False,
        description="Average order value, CNY (0.01 to 1e7).",
    ),
]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), at_least(TINY, or_zero=True)]
PerPeriod = Annotated[
    float | list[Annotated[float, Field(allow_inf_nan=False)]],
    Field(description="One number for every period, or a list with one value per period."),
]


def without_unused(data: dict[str, Any], unused: dict[str, Any]) -> dict[str, Any]:
    """A dump without the fields at their "not used" value (``unused``: name -> value), so
    a scenario that does not use a newer feature dumps, and so fingerprints, as before it."""
    for name, value in unused.items():
        if name in data and data[name] == value and type(data[name]) is type(value):
            del data[name]
    return data


class StrictModel(BaseModel):
    """Base for every schema model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_yes_no_for_numbers(cls, data: Any) -> Any:
        """Refuse true/false (YAML's yes/no/on/off) where a number goes: pydantic reads 1/0."""
        if isinstance(data, dict):
            errors = [
                error_at(loc, f"expected a number, got {str(value).lower()} (a yes/no value)")
                for name, value in data.items()
                if isinstance(name, str) and name in cls.model_fields
                if _is_numeric_field(cls, name)
                for loc, value in _bools_in(value, (name,))
            ]
            if errors:
                raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


_NUMERIC_FIELDS: dict[tuple[type, str], bool] = {}


def _is_numeric_field(model: type[BaseModel], name: str) -> bool:
    """Whether a field holds numbers (possibly in lists) and never a true/false."""
    key = (model, name)
    if key not in _NUMERIC_FIELDS:
        kinds = _leaf_types(model.model_fields[name].annotation)
        _NUMERIC_FIELDS[key] = bool(kinds & {int, float}) and bool not in kinds
    return _NUMERIC_FIELDS[key]


def _leaf_types(annotation: Any) -> set[Any]:
    """The plain types inside an annotation: float | list[Annotated[float, ...]] -> {float}."""
    args = get_args(annotation)
    if not args:
        return {annotation}
    return set().union(*(_leaf_types(a) for a in args))


def _bools_in(value: Any, loc: Loc) -> Iterator[tuple[Loc, Any]]:
    """Where true/false values sit in a number or a (nested) list of numbers."""
    if isinstance(value, bool):
        yield loc, value
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _bools_in(item, (*loc, i))

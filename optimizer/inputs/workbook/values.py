"""Cell values as their column reads them: text, comma-separated ids, curve points, numbers.

Excel gives numbers where text was meant (an id typed as 2026) and dates where text was typed
(a period '2026-01'); text columns take the number as text and refuse the date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from optimizer.inputs.workbook.columns import number_text
from optimizer.schema.messages import show

_LIST_SPLIT = re.compile(r"[,，、]")


class CellError(ValueError):
    """A cell's value cannot be read as its column expects."""


def read_value(raw: Any, form: str) -> Any:
    """A non-empty cell's value as a column of ``form`` reads it; CellError if it cannot."""
    convert = _CONVERT.get(form)
    return raw if convert is None else convert(raw)


def _as_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value)
    if isinstance(value, dt.date | dt.time):
        raise CellError(
            f"expected text, got {show(value)}: Excel turned what was typed into a date; "
            "format the cell as Text and type it again"
        )
    return value


def _as_day(value: Any) -> Any:
    """A date cell as its ISO text (2026-05-25); text (a date or an ISO week) as it is."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise CellError(f"expected a date, got {show(value)}: a day has no time of day")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _as_text(value)


def _as_ids(value: Any) -> Any:
    value = _as_text(value)
    if not isinstance(value, str):
        return value
    return [item.strip() for item in _LIST_SPLIT.split(value) if item.strip()] or None


def _as_numbers(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, str):
        raise CellError(f"expected comma-separated numbers, got {show(value)}")
    return [_as_number(item.strip()) for item in _LIST_SPLIT.split(value) if item.strip()]


def _as_points(value: Any) -> list[list[Any]]:
    example = "spend:value pairs separated by ';', e.g. 0:0; 1000000:3000000"
    if not isinstance(value, str):
        raise CellError(f"expected {example}, got {show(value)}")
    points = []
    for part in filter(None, (p.strip() for p in re.split(r"[;；\n]", value))):
        pair = [s.strip() for s in re.split(r"[:：]", part)]
        if len(pair) != 2 or not all(pair):
            raise CellError(f"expected {example}, got {part!r}")
        points.append([_as_number(s) for s in pair])
    return points


def _as_number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # validation says it is not a number, naming the point


def _as_per_period(value: Any) -> Any:
    if isinstance(value, str) and _LIST_SPLIT.search(value):
        raise CellError(
            f"expected one number for every period, got {show(value)}; for one value per "
            "period add a Periods column '<channel id>.<field>' (see Help)"
        )
    return value


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "text": _as_text,
    "choice": _as_text,
    "day": _as_day,
    "ids": _as_ids,
    "numbers": _as_numbers,
    "points": _as_points,
    "per_period": _as_per_period,
}

"""The calendar of a scenario: ISO weeks with their dates, and campaign windows named once.

A period named like ``2026-W23`` is ISO week 23 of 2026, Monday 2026-06-01 to Sunday
2026-06-07 (``date.fromisocalendar``); ISO years have 52 or 53 weeks and a week belongs to the
year of its Thursday, so 2026-W01 starts on Monday 2025-12-29. A window (618, 双11, 12.12,
Spring Festival) is named once, by dates or by periods, and used wherever a period goes: in
per-period values (``{default: 1.0, windows: {"618": 1.8}}``) and in rules' ``periods``.
A week belongs to a window by dates when at least ``week_overlap_days`` (default 1: any) of its
seven days fall inside the window.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from optimizer.schema.fields import Id, StrictModel

WEEK_NAME = re.compile(r"^(\d{4})-W(\d{2})$")
DAY_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DAY_OR_WEEK = r"^\d{4}-(W\d{2}|\d{2}-\d{2})$"


def _as_text(value: Any) -> Any:
    """YAML reads an unquoted 2026-05-25 as a date: take it as its ISO text."""
    return value.isoformat() if isinstance(value, dt.date) else value


DayOrWeek = Annotated[
    str,
    BeforeValidator(_as_text),
    Field(
        pattern=DAY_OR_WEEK,
        description="A date (2026-05-25) or an ISO week (2026-W22: Monday to Sunday).",
    ),
]


class IsoWeekRange(StrictModel):
    """ISO weeks from one week to another, both included: 2026-W01 to 2026-W53."""

    model_config = ConfigDict(serialize_by_alias=True)  # dumped as written: from, not from_

    from_: DayOrWeek = Field(alias="from", description="First week (or a date in it).")
    to: DayOrWeek = Field(description="Last week (or a date in it).")


class IsoWeeks(StrictModel):
    """``periods`` as a range of ISO weeks, named ``2026-W01`` ...; each week's dates known."""

    iso_weeks: IsoWeekRange


class Window(StrictModel):
    """A campaign or holiday window (618, 双11, Spring Festival), by dates or by periods."""

    model_config = ConfigDict(serialize_by_alias=True)

    id: Id = Field(description="Name used in per-period values and rules, e.g. '618'.")
    name: str | None = Field(None, max_length=200, description="Display name; any language.")
    from_: DayOrWeek | None = Field(
        None, alias="from", description="First day (or ISO week); needs ISO-week periods."
    )
    to: DayOrWeek | None = Field(None, description="Last day (or ISO week), included.")
    periods: list[str] | None = Field(
        None, description="The periods it covers, by name (instead of from/to)."
    )


class Calendar(StrictModel):
    """Windows named once and used by per-period values and rules."""

    windows: list[Window] = Field(default_factory=list, max_length=200)
    week_overlap_days: int = Field(
        1,
        ge=1,
        le=7,
        description="A week belongs to a window by dates when at least this many of its 7 days "
        "fall inside it (1: any overlap; 4: most of the week).",
    )


class ByWindow(StrictModel):
    """A per-period value by window: a default, then windows, then single periods override."""

    default: float = Field(description="The value of every period not named below.")
    windows: dict[str, float] = Field(
        default_factory=dict, description="Value in each period of a window, by window id."
    )
    periods: dict[str, float] = Field(
        default_factory=dict, description="Value of single periods, by name; wins over windows."
    )


def parse_day(text: str) -> dt.date:
    """A date from ``2026-05-25``, or the Monday of an ISO week ``2026-W22``."""
    week = WEEK_NAME.match(text)
    if week:
        return week_monday(text)
    day = DAY_NAME.match(text)
    if not day:
        raise ValueError(f"expected a date like 2026-05-25 or a week like 2026-W22, got {text!r}")
    try:
        return dt.date(*(int(g) for g in day.groups()))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}") from None


def week_monday(name: str) -> dt.date:
    """Monday of the ISO week ``YYYY-Www``; a week the year does not have is an error."""
    match = WEEK_NAME.match(name)
    if not match:
        raise ValueError(f"expected an ISO week like 2026-W22, got {name!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise ValueError(f"{name!r}: years run from 1 to 9999") from None
        weeks = weeks_in_year(year)
        raise ValueError(f"{name!r}: ISO year {year} has weeks 1 to {weeks}") from None


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of December 28, which is always in the year's last week."""
    return dt.date(year, 12, 28).isocalendar().week


def week_name(day: dt.date) -> str:
    """The ISO week a day falls in, as a period name: 2026-06-03 -> 2026-W23."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def week_containing(text: str) -> dt.date:
    """Monday of the week named, or of the week containing the date given."""
    day = parse_day(text)
    return day - dt.timedelta(days=day.weekday())


def iso_week_names(first: str, last: str, most: int | None = None) -> list[str]:
    """Every ISO week name from the week of ``first`` to the week of ``last``, in order (the
    first ``most`` + 1 at most, enough to tell a range is too long)."""
    start, end = week_containing(first), week_containing(last)
    count = (end - start).days // 7 + 1
    if most is not None:
        count = min(count, most + 1)
    return [week_name(start + dt.timedelta(weeks=k)) for k in range(max(count, 0))]


def week_sunday(name: str) -> dt.date:
    """Sunday of the ISO week ``YYYY-Www`` (the last day the calendar knows at most)."""
    monday = week_monday(name)
    return monday + dt.timedelta(days=6) if monday < dt.date.max - dt.timedelta(6) else dt.date.max


def is_week_name(name: str) -> bool:
    """Whether a period name is an ISO week (2026-W23) that exists."""
    try:
        week_monday(name)
    except ValueError:
        return False
    return True


def weeks_overlapping(periods: list[str], first: dt.date, last: dt.date, days: int) -> list[str]:
    """The ISO-week periods with at least ``days`` of their 7 days in ``first..last``."""
    chosen = []
    for name in periods:
        monday, sunday = week_monday(name), week_sunday(name)
        overlap = (min(sunday, last) - max(monday, first)).days + 1
        if overlap >= days:
            chosen.append(name)
    return chosen


def add_calendar_forms(
    schema: dict[str, Any], defs: dict[str, Any] | None = None, ref: str = "#/$defs/"
) -> dict[str, Any]:
    """The scenario's JSON Schema with the forms the calendar expands before validation:
    ``periods`` as ISO weeks, and every per-period value by window. ``defs`` holds the
    definitions (default: the schema's ``$defs``), referenced as ``ref`` + name (an OpenAPI
    document keeps them in ``components/schemas``)."""
    defs = schema.setdefault("$defs", {}) if defs is None else defs
    reachable = _reachable(schema, defs, ref)
    for model in (ByWindow, IsoWeeks):
        own = model.model_json_schema(by_alias=True, ref_template=ref + "{model}")
        defs.update(own.pop("$defs", {}))
        defs[model.__name__] = own
    periods = schema["properties"]["periods"]
    listed = {k: v for k, v in periods.items() if k not in ("title", "description")}
    schema["properties"]["periods"] = {
        "anyOf": [listed, {"$ref": ref + "IsoWeeks"}],
        "description": "Period names in time order, or a range of ISO weeks "
        "({iso_weeks: {from: 2026-W01, to: 2026-W53}}, named 2026-W01 ...).",
        "title": periods.get("title", "Periods"),
    }
    by_window = {"$ref": ref + "ByWindow"}
    for node in [schema["properties"], *(defs[name] for name in sorted(reachable))]:
        _by_window_anywhere(node, by_window)
    trend = defs["IndexTrend"]["properties"]
    shown = ("title", "description")
    trend["values"] = {
        "anyOf": [{k: v for k, v in trend["values"].items() if k not in shown}, by_window],
        **{k: v for k, v in trend["values"].items() if k in shown},
    }
    return schema


def _reachable(schema: dict[str, Any], defs: dict[str, Any], ref: str) -> set[str]:
    """The definitions the schema refers to, directly or through others."""
    found: set[str] = set()
    stack: list[Any] = [schema.get("properties", {})]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            target = node.get("$ref")
            if isinstance(target, str) and target.startswith(ref):
                name = target.removeprefix(ref)
                if name not in found and name in defs:
                    found.add(name)
                    stack.append(defs[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _by_window_anywhere(node: Any, by_window: dict[str, str]) -> None:
    """Add the by-window form beside every per-period list (a number list per period)."""
    if isinstance(node, list):
        for item in node:
            _by_window_anywhere(item, by_window)
        return
    if not isinstance(node, dict):
        return
    options = node.get("anyOf")
    if isinstance(options, list) and any(_is_number_list(o) for o in options):
        options.append(dict(by_window))
    for value in node.values():
        _by_window_anywhere(value, by_window)


def _is_number_list(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and node.get("type") == "array"
        and isinstance(node.get("items"), dict)
        and node["items"].get("type") == "number"
    )

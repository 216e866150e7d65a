"""The calendar, expanded before a scenario's fields validate, so the engine sees plain lists.

``periods: {iso_weeks: {from: 2026-W01, to: 2026-W53}}`` becomes the list of week names; each
per-period value given by window (``{default: 1.0, windows: {"618": 1.8}, periods: {...}}``)
becomes one value per period; a rule's ``periods`` may name windows, which become their
periods. Every problem is reported at once, at the field and window or period it concerns
(``seasonality.windows.619: unknown window '619'; known: 618, double11``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from optimizer.schema.calendar import (
    ByWindow,
    Calendar,
    IsoWeeks,
    Window,
    is_week_name,
    iso_week_names,
    parse_day,
    week_sunday,
    weeks_overlapping,
)
from optimizer.schema.checks import repeats
from optimizer.schema.fields import Loc, error_at

MAX_PERIODS = 366
_CHANNEL_FIELDS = ("period_min_spend_cny", "period_max_spend_cny", "seasonality", "cpm_index")
_RESPONSE_FIELDS = ("max_gmv_cny", "scale_cny", "half_saturation_cny")


def expand_calendar(data: Any) -> Any:
    """The scenario's raw data with ISO-week periods, window values and window ids expanded;
    raises a ValidationError naming every problem."""
    if not isinstance(data, dict):
        return data
    data = copy.copy(data)
    errors: list[InitErrorDetails] = []
    if isinstance(data.get("periods"), dict):
        data["periods"] = _iso_weeks(data["periods"], errors)
    periods = data.get("periods")
    if not (isinstance(periods, list) and all(isinstance(p, str) for p in periods)):
        _raise(errors)
        return data
    windows = _windows(data.get("calendar"), periods, errors)
    touched = False
    for loc in list(_per_period_locs(data)):
        parent, key = _parent(data, loc)
        if isinstance(parent[key], dict):
            if not touched:
                data, touched = copy.deepcopy(data), True
                parent, key = _parent(data, loc)
            parent[key] = _by_window(parent[key], periods, windows, loc, errors)
    data = _rule_periods(data, windows)
    _raise(errors)
    return data


def _raise(errors: list[InitErrorDetails]) -> None:
    if errors:
        raise ValidationError.from_exception_data("Scenario", errors)


def _errors_of(exc: ValidationError, prefix: Loc) -> list[InitErrorDetails]:
    """A part's validation errors, placed under ``prefix`` in the scenario."""
    found = []
    for err in exc.errors(include_url=False):
        loc = (*prefix, *err["loc"])
        kind = err["type"]
        if kind in ("scenario", "value_error"):
            found.append(error_at(loc, err["msg"].removeprefix("Value error, ")))
        else:
            error_type = PydanticCustomError(kind, err["msg"])
            found.append(InitErrorDetails(type=error_type, loc=loc, input=err.get("input")))
    return found


def _iso_weeks(raw: dict[str, Any], errors: list[InitErrorDetails]) -> Any:
    """``{iso_weeks: {from, to}}`` -> the week names, or the raw value when it is wrong."""
    try:
        weeks = IsoWeeks.model_validate(raw).iso_weeks
    except ValidationError as exc:
        errors.extend(_errors_of(exc, ("periods",)))
        return raw
    names = []
    for field, text in (("from", weeks.from_), ("to", weeks.to)):
        try:
            parse_day(text)
        except ValueError as exc:
            errors.append(error_at(("periods", "iso_weeks", field), str(exc)))
            return raw
    names = iso_week_names(weeks.from_, weeks.to, most=MAX_PERIODS)
    if not names:
        errors.append(
            error_at(("periods", "iso_weeks", "to"), f"{weeks.to} is before {weeks.from_}")
        )
    elif len(names) > MAX_PERIODS:
        errors.append(
            error_at(
                ("periods", "iso_weeks"),
                f"more than {MAX_PERIODS} weeks from {names[0]} to the week of {weeks.to}; "
                f"at most {MAX_PERIODS}",
            )
        )
    return names if names and len(names) <= MAX_PERIODS else raw


def window_periods(calendar: Any, periods: list[str]) -> dict[str, list[str]]:
    """Window id -> the periods it covers, of a valid scenario's (dumped) calendar."""
    return _windows(calendar, periods, []) or {}


def _windows(
    raw: Any, periods: list[str], errors: list[InitErrorDetails]
) -> dict[str, list[str]] | None:
    """Window id -> the periods it covers; None when the calendar or a window is wrong (its
    own errors say why, and values or rules by window are not checked against it)."""
    if raw is None:
        return {}
    try:
        calendar = Calendar.model_validate(raw)
    except ValidationError as exc:
        errors.extend(_errors_of(exc, ("calendar",)))
        return None
    errors.extend(repeats([w.id for w in calendar.windows], "windows", ("id",), ("calendar",)))
    names = set(periods)
    covered: dict[str, list[str]] = {}
    for i, window in enumerate(calendar.windows):
        loc: Loc = ("calendar", "windows", i)
        if window.id in names:
            errors.append(
                error_at((*loc, "id"), f"'{window.id}' is also a period's name; name it apart")
            )
            continue
        found = _window_periods(window, periods, calendar.week_overlap_days, loc, errors)
        if found is not None:
            covered.setdefault(window.id, found)
    return None if len(covered) < len(calendar.windows) else covered


def _window_periods(
    w: Window, periods: list[str], days: int, loc: Loc, errors: list[InitErrorDetails]
) -> list[str] | None:
    """The periods one window covers, in time order; None (and an error) when it is wrong."""
    by_dates = w.from_ is not None or w.to is not None
    if by_dates == (w.periods is not None):
        errors.append(error_at(loc, "give from and to (dates or ISO weeks), or periods; not both"))
        return None
    if w.periods is not None:
        unknown = [p for p in w.periods if p not in periods]
        if unknown:
            errors.append(error_at((*loc, "periods"), _unknown("period", unknown[0], periods)))
            return None
        return [p for p in periods if p in set(w.periods)]
    if w.from_ is None or w.to is None:
        missing = "from" if w.from_ is None else "to"
        errors.append(error_at((*loc, missing), f"window {w.id} by dates needs both from and to"))
        return None
    if not all(is_week_name(p) for p in periods):
        errors.append(
            error_at(
                (*loc, "from"),
                f"window {w.id} by dates needs ISO-week periods (2026-W01 ...), got "
                f"'{next(p for p in periods if not is_week_name(p))}'; give its periods instead",
            )
        )
        return None
    try:
        first = parse_day(w.from_)
        last = parse_day(w.to)
    except ValueError as exc:
        field = "from" if _is_bad(w.from_) else "to"
        errors.append(error_at((*loc, field), str(exc)))
        return None
    if "W" in w.to:  # a week as the end: up to its Sunday
        last = week_sunday(w.to)
    if last < first:
        errors.append(error_at((*loc, "to"), f"{w.to} is before from {w.from_}"))
        return None
    chosen = weeks_overlapping(periods, first, last, days)
    if not chosen:
        errors.append(
            error_at(
                loc,
                f"window {w.id} ({first} to {last}) is outside the periods "
                f"({periods[0]} to {periods[-1]}): it covers no week",
            )
        )
        return None
    return chosen


def _is_bad(text: str) -> bool:
    try:
        parse_day(text)
    except ValueError:
        return True
    return False


def _unknown(what: str, name: str, known: list[str]) -> str:
    shown = ", ".join(known) if len(known) <= 12 else f"{known[0]} ... {known[-1]}"
    return f"unknown {what} '{name}'; known: {shown or 'none defined'}"


def _per_period_locs(data: dict[str, Any]) -> Iterator[Loc]:
    """Where per-period values sit in the raw scenario."""
    if "seasonality" in data:
        yield ("seasonality",)
    channels = data.get("channels")
    for i, c in enumerate(channels if isinstance(channels, list) else []):
        if not isinstance(c, dict):
            continue
        for name in _CHANNEL_FIELDS:
            if name in c:
                yield ("channels", i, name)
        trend = (c.get("cpm") or {}).get("trend") if isinstance(c.get("cpm"), dict) else None
        if isinstance(trend, dict) and "values" in trend:
            yield ("channels", i, "cpm", "trend", "values")
        response = c.get("response")
        for name in _RESPONSE_FIELDS if isinstance(response, dict) else ():
            if name in response:
                yield ("channels", i, "response", name)
        tiers = c.get("tiers")
        for k, tier in enumerate(tiers if isinstance(tiers, list) else []):
            if isinstance(tier, dict) and "capacity_fee_cny" in tier:
                yield ("channels", i, "tiers", k, "capacity_fee_cny")


def _parent(data: Any, loc: Loc) -> tuple[Any, str | int]:
    for part in loc[:-1]:
        data = data[part]
    return data, loc[-1]


def _by_window(
    raw: dict[str, Any],
    periods: list[str],
    windows: dict[str, list[str]] | None,
    loc: Loc,
    errors: list[InitErrorDetails],
) -> Any:
    """``{default, windows, periods}`` -> one value per period; the raw value when wrong."""
    try:
        value = ByWindow.model_validate(raw)
    except ValidationError as exc:
        errors.extend(_errors_of(exc, loc))
        return raw
    values = dict.fromkeys(periods, value.default)
    owner: dict[str, str] = {}
    ok = True
    for wid, number in value.windows.items():
        if windows is None:
            return raw  # the calendar's own errors say why
        if wid not in windows:
            errors.append(error_at((*loc, "windows", wid), _unknown("window", wid, list(windows))))
            ok = False
            continue
        for p in windows[wid]:
            if p in owner:
                errors.append(
                    error_at(
                        (*loc, "windows", wid),
                        f"windows {owner[p]} and {wid} both cover {p}: give {p} under "
                        "periods to say which value it takes",
                    )
                )
                ok = False
                break
            owner[p] = wid
            values[p] = number
    for name, number in value.periods.items():
        if name not in values:
            errors.append(error_at((*loc, "periods", name), _unknown("period", name, periods)))
            ok = False
            continue
        values[name] = number
    return [values[p] for p in periods] if ok else raw


def _rule_periods(data: dict[str, Any], windows: dict[str, list[str]] | None) -> dict[str, Any]:
    """Rules' ``periods`` with window ids replaced by their periods, each named once."""
    rules = data.get("rules")
    if not windows or not isinstance(rules, list):
        return data
    expanded = []
    for rule in rules:
        named = rule.get("periods") if isinstance(rule, dict) else None
        if isinstance(named, list) and any(isinstance(p, str) and p in windows for p in named):
            names = [q for p in named for q in (windows.get(p, [p]) if isinstance(p, str) else [p])]
            rule = {**rule, "periods": list(dict.fromkeys(names))}
        expanded.append(rule)
    return {**data, "rules": expanded}


def source_of(data: Any, loc: Loc) -> Loc:
    """Where a value the expansion wrote came from, in the raw scenario: a per-period value
    given by window points at ``(..., 'windows', id)``, ``(..., 'periods', name)`` or
    ``(..., 'default')``; any other location is returned as it is."""
    if not isinstance(data, dict) or len(loc) < 2 or not isinstance(loc[-1], int):
        return loc
    raw: Any = data
    for part in loc[:-1]:
        if isinstance(raw, dict) and isinstance(part, str):
            raw = raw.get(part)
        elif isinstance(raw, list) and isinstance(part, int) and 0 <= part < len(raw):
            raw = raw[part]
        else:
            return loc
    periods = _iso_weeks(data["periods"], []) if isinstance(data.get("periods"), dict) else None
    periods = periods if isinstance(periods, list) else data.get("periods")
    by_window = isinstance(raw, dict) and ("default" in raw or "windows" in raw)
    if not by_window or not isinstance(periods, list) or loc[-1] >= len(periods):
        return loc
    period = periods[loc[-1]]
    where = loc[:-1]
    if isinstance(raw.get("periods"), dict) and period in raw["periods"]:
        return (*where, "periods", period)
    windows = _windows(data.get("calendar"), periods, []) or {}
    named = raw.get("windows") if isinstance(raw.get("windows"), dict) else {}
    for wid in named:
        if period in windows.get(wid, []):
            return (*where, "windows", wid)
    return (*where, "default")

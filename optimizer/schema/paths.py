"""Scenario fields named by path, for sweeps: ``channels[live_traffic].cpm.base_cny``.

A path is dotted field names; ``[...]`` picks an item of a list by its ``id`` (channels, tiers,
rules, fixed costs), by period name (a per-period list such as ``seasonality[Q4]``) or by
position (``channels[0]``). Setting a value copies the scenario's data and validates it again,
so a value the schema refuses is an error naming the path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from optimizer.errors import ScenarioError
from optimizer.schema.messages import problems_from
from optimizer.schema.scenario import Scenario

_STEP = re.compile(r"([^.\[\]]+)|\[([^\[\]]*)\]")


Check = Callable[[Scenario, str], None]  # raises ScenarioError naming ``source`` if refused


class PathError(ValueError):
    """A path that names no field of the scenario; the message says what is known there."""


def parse_path(path: str) -> list[str | tuple[str]]:
    """Split ``a.b[c].d`` into steps: field names (str) and selectors (1-tuples)."""
    steps: list[str | tuple[str]] = []
    position = 0
    text = path.strip()
    while position < len(text):
        if text[position] == "." and steps and position + 1 < len(text):
            position += 1
        match = _STEP.match(text, position)
        if match is None or (match.group(2) is not None and not match.group(2).strip()):
            raise PathError(f"cannot read the path at character {position + 1} of '{path}'")
        name, selector = match.groups()
        steps.append(name if name is not None else (selector.strip(),))
        position = match.end()
    if not steps or not isinstance(steps[0], str):
        raise PathError(f"expected a field path such as budget.total_cny, got '{path}'")
    return steps


def set_value(scenario: Scenario, path: str, value: Any) -> Scenario:
    """A copy of the scenario with the field at ``path`` set to ``value``, validated again."""
    return set_values(scenario, {path: value})


def set_values(scenario: Scenario, values: dict[str, Any], check: Check | None = None) -> Scenario:
    """A copy of the scenario with every path set; ScenarioError if the result is invalid.

    ``check(copy, source)`` then runs on the valid copy: a sweep passes the core's
    ``check_numbers`` (which the schema cannot import), so a point whose derived numbers no
    solver can take is refused, named like a point the schema refuses.
    """
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    for path, value in values.items():
        _assign(data, path, value, scenario.periods)
    shown = ", ".join(f"{p}={_show(v)}" for p, v in values.items())
    source = f"{scenario.name} with {shown}"
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, problems_from(exc, {}, data)) from None
    if check is not None:
        check(changed, source)
    return changed


def get_value(scenario: Scenario, path: str) -> Any:
    """The value at ``path`` (per-period scalars read as the same value in every period)."""
    data = scenario.model_dump(mode="json")
    parent, key = _locate(data, path, scenario.periods)
    return parent[key]


def _assign(data: dict[str, Any], path: str, value: Any, periods: list[str]) -> None:
    parent, key = _locate(data, path, periods)
    parent[key] = value


def _locate(data: Any, path: str, periods: list[str]) -> tuple[Any, Any]:
    """The container holding the field at ``path`` and its key there."""
    steps = parse_path(path)
    parent: Any = None
    key: Any = None
    node = data
    where = "the scenario"
    for step in steps:
        if isinstance(step, str):
            if not isinstance(node, dict) or step not in node:
                raise PathError(_unknown_field(path, where, step, node))
            parent, key, node = node, step, node[step]
            where = step if where == "the scenario" else f"{where}.{step}"
            continue
        (selector,) = step
        if _is_number(node) and parent is not None:
            node = parent[key] = [node] * len(periods)  # one number for every period: spread it
        if not isinstance(node, list):
            raise PathError(f"{where} is not a list, so [{selector}] picks nothing")
        index = _select(node, selector, periods, path, where)
        parent, key, node = node, index, node[index]
        where = f"{where}[{selector}]"
    return parent, key


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _select(node: list[Any], selector: str, periods: list[str], path: str, where: str) -> int:
    """Index of the item ``selector`` names: an id, a period name or a position."""
    ids = [item.get("id") for item in node if isinstance(item, dict)]
    if selector in ids:
        return ids.index(selector)
    if len(node) == len(periods) and selector in periods and not ids:
        return periods.index(selector)
    if selector.isdigit() and int(selector) < len(node):
        return int(selector)
    if ids:
        known = ", ".join(str(x) for x in ids if x is not None) or f"positions 0-{len(node) - 1}"
        raise PathError(f"no item '{selector}' in {where}; known: {known}")
    if len(node) == len(periods):
        raise PathError(f"no period '{selector}' in {where}; known: {', '.join(periods)}")
    raise PathError(f"no position {selector} in {where} (it has {len(node)} items)")


def _unknown_field(path: str, where: str, step: str, node: Any) -> str:
    place = where or "the scenario"
    if not isinstance(node, dict):
        return f"{place} is a value, not a group of fields, so it has no '{step}'"
    known = ", ".join(sorted(node))
    return f"no field '{step}' in {place}; known: {known}"


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_values(text: str) -> list[Any]:
    """Values of a --vary option: ``a:b:n`` (n evenly spaced from a to b) or ``v1,v2,...``."""
    text = text.strip()
    if not text:
        raise ValueError("expected values after '=', such as 100e6:160e6:7 or 0.2,0.25,0.3")
    if ":" in text and "," not in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"expected a range start:stop:count, got '{text}'")
        start, stop = (_number(p, text) for p in parts[:2])
        count = _count(parts[2], text)
        if count == 1:
            return [start]
        return [start + (stop - start) * k / (count - 1) for k in range(count)]
    return [_scalar(part.strip()) for part in text.split(",")]


MAX_COUNT = 1000


def _count(raw: str, text: str) -> int:
    try:
        count = int(raw.strip())
    except ValueError:
        raise ValueError(
            f"expected a whole number of points after the last ':', got '{raw}'"
        ) from None
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"expected between 1 and {MAX_COUNT} points in '{text}', got {count}")
    return count


def _number(raw: str, text: str) -> float:
    try:
        value = float(raw.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"expected numbers in the range '{text}', got '{raw}'") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected finite numbers in the range '{text}', got '{raw}'")
    return value


def _scalar(raw: str) -> Any:
    """A listed value: a number, true/false, or text (e.g. an objective kind)."""
    if not raw:
        raise ValueError("expected a value between commas, got an empty one")
    try:
        value = float(raw.replace("_", ""))
    except ValueError:
        lowered = raw.lower()
        return {"true": True, "false": False}.get(lowered, raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got '{raw}'")
    return value

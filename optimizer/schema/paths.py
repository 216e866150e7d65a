"""Scenario fields named by path, for what-ifs: ``channels[live_traffic].cpm.base_cny``.

A path is dotted field names; ``[...]`` picks items of a list: by ``id`` (channels, tiers,
rules, fixed costs), by period name (a per-period list such as ``seasonality[Q4]``) or by
position (``channels[0]``); ``[*]`` picks every item and ``[a,b,c]`` several, so one path can
select many fields (``channels[*].cpm.base_cny``). A selection that matches nothing, an unknown
item (the known ones are listed) or a field that some selected items lack (``channels[*].tiers``
when only KOL channels have tiers: the message lists the others) is a PathError naming the path:
select only the items that have the field. Setting a value copies the scenario's data and
validates it again, so a value the schema refuses is an error naming the path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from optimizer.errors import ScenarioError
from optimizer.schema.expand import window_periods
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
    """A copy of the scenario with the field(s) at ``path`` set to ``value``, validated again."""
    return set_values(scenario, {path: value})


def set_values(scenario: Scenario, values: dict[str, Any], check: Check | None = None) -> Scenario:
    """A copy of the scenario with every path set; ScenarioError if the result is invalid.

    ``check(copy, source)`` then runs on the valid copy: a sweep passes the core's
    ``check_numbers`` (which the schema cannot import), so a point whose derived numbers no
    solver can take is refused, named like a point the schema refuses.
    """
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    for path, value in values.items():
        for target in locate(data, path, scenario.periods):
            target.parent[target.key] = copy.deepcopy(value)
    shown = ", ".join(f"{p}={_show(v)}" for p, v in values.items())
    return revalidated(data, f"{scenario.name} with {shown}", check)


def revalidated(data: dict[str, Any], source: str, check: Check | None = None) -> Scenario:
    """Edited scenario data validated again (ScenarioError naming ``source`` if refused), then
    ``check(copy, source)``: the one way a changed copy of a scenario comes back."""
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, problems_from(exc, {}, data)) from None
    if check is not None:
        check(changed, source)
    return changed


def get_value(scenario: Scenario, path: str) -> Any:
    """The value at ``path`` (per-period scalars read as the same value in every period);
    PathError when the path selects several fields (read those with ``get_values``)."""
    found = get_values(scenario, path)
    if len(found) > 1:
        raise PathError(f"{path} selects {len(found)} fields ({_few(found)}): name one")
    return next(iter(found.values()))


def get_values(scenario: Scenario, path: str) -> dict[str, Any]:
    """Every field ``path`` selects (``[*]``, ``[a,b]``), by its own path, with its value."""
    data = scenario.model_dump(mode="json")
    return {t.where: t.parent[t.key] for t in locate(data, path, scenario.periods)}


@dataclass(frozen=True)
class Target:
    """One field a path selects: its container in the data, its key there, where it is
    (``channels[live].cpm.base_cny``) and its location by position (``('channels', 2, ...)``)."""

    parent: Any
    key: Any
    where: str
    loc: tuple[str | int, ...]


def locate(data: Any, path: str, periods: list[str]) -> list[Target]:
    """Every field ``path`` selects in the scenario's data, at least one; PathError naming the
    path when a selector or field matches nothing, or a field is absent on some items."""
    targets = [Target(None, None, "", ())]
    windows = window_periods(data.get("calendar"), periods) if isinstance(data, dict) else {}
    for step in parse_path(path):
        if isinstance(step, str):
            targets = _field_step(data, targets, step, path)
        else:
            targets = _selector_step(data, targets, step[0], periods, path, windows)
        if not targets:
            raise PathError(f"{path} selects nothing: the list before its last [...] is empty")
    return targets


def _node(data: Any, target: Target) -> Any:
    return data if target.parent is None else target.parent[target.key]


def _field_step(data: Any, targets: list[Target], step: str, path: str) -> list[Target]:
    """Each target's field ``step``; every target must have it."""
    nodes = [_node(data, t) for t in targets]
    lacking = [t for t, n in zip(targets, nodes, strict=True) if not _has(n, step)]
    if lacking and len(lacking) == len(targets):
        where = targets[0].where or "the scenario"
        raise PathError(_unknown_field(where, step, nodes[0]))
    if lacking:
        pairs = list(zip(targets, nodes, strict=True))
        shown = ", ".join(_described(t, n) for t, n in pairs if t in lacking)
        having = ", ".join(t.where for t in targets if t not in lacking)
        raise PathError(
            f"{path}: {len(lacking)} of the {len(targets)} items selected have no '{step}': "
            f"{shown}; select only items that have it ({having})"
        )
    return [
        Target(n, step, f"{t.where}.{step}" if t.where else step, (*t.loc, step))
        for t, n in zip(targets, nodes, strict=True)
    ]


def _has(node: Any, step: str) -> bool:
    return isinstance(node, dict) and step in node


def _described(target: Target, node: Any) -> str:
    kind = node.get("kind") if isinstance(node, dict) else None
    return f"{target.where} ({kind})" if isinstance(kind, str) else target.where


def _selector_step(
    data: Any,
    targets: list[Target],
    selector: str,
    periods: list[str],
    path: str,
    windows: dict[str, list[str]] | None = None,
) -> list[Target]:
    """The items ``selector`` picks in each target's list: ``*``, ``a,b,c`` or one item; in a
    per-period list, a calendar window picks each of its periods."""
    picked: list[Target] = []
    for target in targets:
        node = _node(data, target)
        if _is_number(node) and target.parent is not None:
            # one number for every period: spread it, so one period can differ
            node = target.parent[target.key] = [node] * len(periods)
        if not isinstance(node, list):
            raise PathError(f"{target.where} is not a list, so [{selector}] picks nothing")
        if selector == "*":
            indexes = list(range(len(node)))
        else:
            names = [part.strip() for part in selector.split(",")]
            if not all(names):
                raise PathError(f"an empty name in [{selector}] of '{path}'")
            indexes = list(
                dict.fromkeys(
                    index
                    for n in names
                    for index in _select_window(node, n, periods, windows or {})
                    or [_select(node, n, periods, target.where, windows)]
                )
            )
        for index in indexes:
            label = _label(node, index, periods)
            where = f"{target.where}[{label}]"
            picked.append(Target(node, index, where, (*target.loc, index)))
    return picked


def _label(node: list[Any], index: int, periods: list[str]) -> str:
    """How an item is named in a path: its id, its period, or its position."""
    item = node[index]
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return str(item["id"])
    ids = [x.get("id") for x in node if isinstance(x, dict)]
    if not ids and len(node) == len(periods):
        return periods[index]
    return str(index)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _select_window(
    node: list[Any], selector: str, periods: list[str], windows: dict[str, list[str]]
) -> list[int]:
    """The positions of a window's periods in a per-period list; none if it is not one."""
    is_per_period = len(node) == len(periods) and not any(isinstance(x, dict) for x in node)
    if not is_per_period or selector not in windows:
        return []
    return [periods.index(p) for p in windows[selector]]


def _select(
    node: list[Any],
    selector: str,
    periods: list[str],
    where: str,
    windows: dict[str, list[str]] | None = None,
) -> int:
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
        named = f"; windows: {', '.join(windows)}" if windows else ""
        raise PathError(f"no period '{selector}' in {where}; known: {', '.join(periods)}{named}")
    raise PathError(f"no position {selector} in {where} (it has {len(node)} items)")


def _unknown_field(where: str, step: str, node: Any) -> str:
    place = where
    if not isinstance(node, dict):
        return f"{place} is a value, not a group of fields, so it has no '{step}'"
    known = ", ".join(sorted(node))
    return f"no field '{step}' in {place}; known: {known}"


def _few(found: dict[str, Any]) -> str:
    names = list(found)
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


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

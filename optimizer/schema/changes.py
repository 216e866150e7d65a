"""What-if changes: set, scale or shift the scenario fields a path selects, several at once.

``Change("channels[*].cpm.base_cny", "scale", 1.42)`` makes every CPM 42% dearer;
``Change("budget.total_cny", "scale", 0.9)`` with ``Change("channels[kol].tiers[*].
commission_rate", "shift", 0.05)`` is one linked what-if. ``apply_changes`` applies all of them
to one copy of the scenario and validates that copy once, so changes that only make sense
together (a lower minimum and a lower maximum) are accepted together.

- ``set`` writes the value into every selected field;
- ``scale`` multiplies each selected number by the value, ``shift`` adds the value to it; a
  per-period field given as a list is scaled or shifted element by element, a whole-number
  field (``members``) is rounded to the nearest whole number, and a field that is not a
  number (text, true/false, a group of fields) or not set at all is an error.

A channel is switched off by capping its spend at zero: ``channels[x].max_spend_cny = 0``
(with ``min_spend_cny`` and ``period_min_spend_cny`` at 0, their defaults).

Errors are ``RequestError``s naming ``changes[i].path``, ``changes[i].op`` or
``changes[i].value``; a problem only the changes together cause names ``changes``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from optimizer.errors import FieldProblem, RequestError, ScenarioError
from optimizer.schema.messages import parse_loc, problems_from
from optimizer.schema.paths import Check, PathError, Target, locate, parse_values, revalidated
from optimizer.schema.scenario import Scenario

OPS = ("set", "scale", "shift")
SYMBOLS = {"set": "=", "scale": "*=", "shift": "+="}  # as the CLI's --set writes them
Locs = list[tuple[str | int, ...]]  # the fields one change wrote, by position


@dataclass(frozen=True)
class Change:
    """One what-if change: ``op`` (set, scale or shift) by ``value`` at every field ``path``
    selects."""

    path: str
    op: str = "set"
    value: Any = None

    def __str__(self) -> str:
        value = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.path}{SYMBOLS.get(self.op, '?=')}{value}"

    def to_dict(self) -> dict[str, Any]:
        """``{path, op, value}``, as the API takes it and a plan records it."""
        return {"path": self.path, "op": self.op, "value": self.value}


def apply_changes(
    scenario: Scenario,
    changes: Sequence[Change],
    check: Check | None = None,
    where: str = "changes",
) -> Scenario:
    """A copy of the scenario with every change applied in order, validated once.

    RequestError naming ``{where}[i].path`` / ``.op`` / ``.value`` for a change that cannot
    apply or a value the schema refuses; ``check(copy, source)`` (the core's ``check_numbers``)
    runs on the valid copy, its problems named ``{where}``. No changes: the scenario itself.
    """
    if not changes:
        return scenario
    data, touched, found = _applied(scenario, changes, where)
    if found:
        raise RequestError(found)
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, {}, data)
        raise RequestError([_blame(p, touched, changes, where) for p in problems]) from None
    if check is not None:
        try:
            check(changed, _source(scenario, changes))
        except ScenarioError as exc:
            raise RequestError([FieldProblem(where, str(p)) for p in exc.problems]) from None
    return changed


def with_changes(
    scenario: Scenario, changes: Sequence[Change], check: Check | None = None
) -> Scenario:
    """``apply_changes`` for a what-if point whose paths and ops were checked before: a value
    the schema refuses is a ScenarioError naming the scenario's field, as ``set_values``
    reports it; a change that cannot apply, a ValueError."""
    if not changes:
        return scenario
    data, _, found = _applied(scenario, changes, "changes")
    if found:
        raise ValueError(found[0].message)
    return revalidated(data, _source(scenario, changes), check)


def check_change(scenario: Scenario, change: Change) -> None:
    """ValueError saying why the change cannot apply to this scenario (an unknown op, a path
    selecting nothing, a scale or shift of a field that is not a number); its value is not
    checked against the schema."""
    _apply(scenario, copy.deepcopy(scenario.model_dump(mode="json")), change)


def _applied(
    scenario: Scenario, changes: Sequence[Change], where: str
) -> tuple[dict[str, Any], list[Locs], list[FieldProblem]]:
    """The scenario's data with every change applied, the fields each touched, and the
    changes that could not apply (named ``{where}[i].path`` / ``.op`` / ``.value``)."""
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    found: list[FieldProblem] = []
    touched: list[Locs] = []
    for i, change in enumerate(changes):
        try:
            targets = _apply(scenario, data, change)
        except _Refused as exc:
            found.append(FieldProblem(f"{where}[{i}].{exc.field}", str(exc)))
            targets = []
        touched.append([t.loc for t in targets])
    return data, touched, found


def _source(scenario: Scenario, changes: Sequence[Change]) -> str:
    return f"{scenario.name} with " + ", ".join(str(c) for c in changes)


def split_assignment(text: str) -> tuple[str, str, str, int]:
    """``path=v`` (set), ``path*=v`` (scale), ``path+=v`` / ``path-=v`` (shift) -> the path,
    the op, the value's text and its sign (-1 for ``-=``); ValueError saying the forms."""
    left, sep, raw = text.partition("=")
    op, sign = "set", 1
    if left.endswith(("*", "+", "-")):
        op = "scale" if left.endswith("*") else "shift"
        sign = -1 if left.endswith("-") else 1
        left = left[:-1]
    if not sep or not left.strip():
        raise ValueError(
            "expected PATH=VALUES (PATH*= to scale, PATH+= or PATH-= to shift), e.g. "
            "budget.total_cny=120e6 or channels[*].cpm.base_cny*=1.42"
        )
    return left.strip(), op, raw, sign


def parse_change(text: str) -> Change:
    """One ``--set`` option as a Change: ``budget.total_cny*=0.9``, ``objective.kind=max_gmv``."""
    path, op, raw, sign = split_assignment(text)
    values = parse_values(raw)
    if len(values) != 1:
        raise ValueError(f"expected one value after '=', got '{raw.strip()}'")
    return Change(path, op, signed(values[0], op, sign))


def signed(value: Any, op: str, sign: int) -> Any:
    """The value of a ``-=`` negated; ValueError if a scale or shift is given no number."""
    if op != "set" and not _is_number(value):
        raise ValueError(f"{op} needs a number, got '{value}'")
    return -value if sign < 0 else value


class _Refused(ValueError):
    """A change that cannot apply; ``field`` is ``path``, ``op`` or ``value``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _apply(scenario: Scenario, data: dict[str, Any], change: Change) -> list[Target]:
    """Apply one change to the data in place; the fields it touched."""
    if change.op not in OPS:
        raise _Refused("op", f"unknown op '{change.op}'; choose one of {', '.join(OPS)}")
    try:
        targets = locate(data, change.path, scenario.periods)
    except PathError as exc:
        raise _Refused("path", str(exc)) from None
    if change.op == "set":
        for target in targets:
            target.parent[target.key] = copy.deepcopy(change.value)
        return targets
    if not _is_number(change.value):
        shown = "nothing" if change.value is None else repr(change.value)
        raise _Refused("value", f"{change.op} needs a finite number, got {shown}")
    for target in targets:
        old = target.parent[target.key]
        whole = _is_whole_field(scenario, target.loc)
        target.parent[target.key] = _moved(old, change, target.where, whole)
    return targets


def _moved(old: Any, change: Change, where: str, whole: bool) -> Any:
    """``old`` scaled or shifted by the change's value (each element of a list of numbers)."""
    if isinstance(old, list) and old and all(_is_number(x) for x in old):
        return [_moved(x, change, where, False) for x in old]
    if not _is_number(old):
        raise _Refused("path", f"cannot {change.op} {where}: it is {_kind(old)}, not a number")
    new = old * change.value if change.op == "scale" else old + change.value
    if whole:
        return round(new)
    return new


def _is_whole_field(scenario: Scenario, loc: tuple[str | int, ...]) -> bool:
    """Whether the field at ``loc`` is declared a whole number (``members``)."""
    node: Any = scenario
    for step in loc[:-1]:
        try:
            node = getattr(node, step) if isinstance(step, str) else node[step]
        except (AttributeError, IndexError, KeyError, TypeError):
            return False
    name = loc[-1] if loc else None
    if not isinstance(node, BaseModel) or not isinstance(name, str):
        return False
    field = type(node).model_fields.get(name)
    return field is not None and field.annotation is int


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _kind(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, dict):
        return "a group of fields"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return type(value).__name__


def _blame(
    problem: FieldProblem,
    touched: list[Locs],
    changes: Sequence[Change],
    where: str,
) -> FieldProblem:
    """A problem of the changed scenario, named by the last change that wrote its field (or
    a field inside it): ``changes[1].value``; else by all the changes together."""
    loc = parse_loc(problem.path)
    for i in reversed(range(len(changes))):
        if any(loc[: len(t)] == t or t[: len(loc)] == loc for t in touched[i] if loc):
            return FieldProblem(f"{where}[{i}].value", f"{changes[i]}: {problem}")
    shown = ", ".join(str(c) for c in changes)
    return FieldProblem(where, f"the changes together ({shown}): {problem}")

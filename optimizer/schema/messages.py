"""Pydantic validation errors -> FieldProblems that say where, what was expected and what came."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from optimizer.errors import FieldProblem
from optimizer.schema.expand import source_of
from optimizer.schema.fields import Loc
from optimizer.schema.scenario import Scenario


def problems_from(
    exc: ValidationError, lines: dict[Loc, int], data: Any = None
) -> list[FieldProblem]:
    """Turn pydantic errors into FieldProblems: dotted path, nearest line, expected and got."""
    return problems_from_errors(exc.errors(include_url=False), lines, data)


def problems_from_errors(
    raw: Sequence[Any], lines: dict[Loc, int], data: Any = None
) -> list[FieldProblem]:
    """``problems_from`` for error dicts already taken out of a ValidationError."""
    errors = _drop_union_noise(list(raw))
    problems: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    for err in errors:
        loc = source_of(data, _clean_loc(err["loc"]))
        loc, message = _describe(err, loc, data)
        path = format_path(loc)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(FieldProblem(path, message, nearest_line(loc, lines)))
    return problems


def _branch_index(loc: tuple[Any, ...]) -> int | None:
    """Index of the segment naming a branch of a plain union (``float | list[float]``)."""
    for i, part in enumerate(loc):
        if isinstance(part, str) and (
            part in ("float", "int", "str", "bool") or part.startswith(("list[", "tuple["))
        ):
            return i
    return None


def _drop_union_noise(errors: list[Any]) -> list[Any]:
    """Keep, for a value that may be a number or a list, only the errors of the branch it took."""
    branches: dict[tuple[Any, ...], set[str]] = {}
    for err in errors:
        i = _branch_index(err["loc"])
        if i is not None:
            branches.setdefault(tuple(err["loc"][:i]), set()).add(err["loc"][i])
    kept = []
    for err in errors:
        i = _branch_index(err["loc"])
        if i is None or len(branches[tuple(err["loc"][:i])]) < 2:
            kept.append(err)
            continue
        is_list_branch = err["loc"][i].startswith(("list[", "tuple["))
        if is_list_branch and err["type"] == "list_type":
            continue  # not a list at all: the scalar branch says why
        if not is_list_branch and isinstance(err["input"], list | tuple):
            continue  # a list: the list branch says which item is wrong
        if not is_list_branch:
            err = {**err, "type": "number_or_list"}
        kept.append(err)
    return kept


_UNION_TAGS = frozenset(
    {
        "paid",
        "kol",
        "private_domain",
        "curve",
        "ramp_limit",
        "linear",
        "exponential",
        "hill",
        "piecewise",
        "index",
        "compound",
        "roas_floor",
        "cac_ceiling",
        "commission_cap",
        "gmv_share",
        "spend_limit",
    }
)
_UNION_SLOTS = frozenset({"saturation", "response", "trend"})


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union segments ('paid', 'float', 'function-after[...]'): not fields."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        after_union = i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] in _UNION_SLOTS)
        if isinstance(part, str) and (
            "[" in part
            or (after_union and part in _UNION_TAGS)
            or part in ("float", "int", "str", "bool")
        ):
            continue
        out.append(
            part if isinstance(part, str | int) and not isinstance(part, bool) else str(part)
        )
    return tuple(out)


def _describe(err: Any, loc: Loc, data: Any) -> tuple[Loc, str]:
    """Path and message for one pydantic error: what was expected and what came in."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    message = err["msg"].removeprefix("Value error, ")
    if kind == "scenario":  # our cross-field checks already say what came in
        return loc, message
    if kind == "missing":
        return loc, _missing_message(loc, data)
    if kind == "extra_forbidden":
        return loc, _unknown_field_message(loc, data)
    if kind == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "")).strip("'")
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return (*loc, disc), f"unknown {disc} {show(ctx.get('tag'))}; expected one of: {tags}"
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "")).strip("'")
        tags = ", ".join(_union_tags(loc, data, disc)) or "see scenario.schema.json"
        return (*loc, disc), f"required field is missing; expected one of: {tags}"
    return loc, _value_message(kind, ctx, value, message)


def _value_message(kind: str, ctx: dict[str, Any], value: Any, message: str) -> str:
    """What was expected of a value and what came: its shape, its text or its number."""
    if kind == "number_or_list":
        return f"expected a number, or a list with one number per period, got {show(value)}"
    if kind in ("too_long", "too_short"):
        bound = "at most" if kind == "too_long" else "at least"
        limit = ctx.get("max_length" if kind == "too_long" else "min_length")
        return f"expected {bound} {limit} item(s), got {ctx.get('actual_length', '?')}"
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "?"
        return f"expected at most {ctx.get('max_length')} characters, got {length}"
    if kind == "string_too_short":
        return "expected a non-empty text, got an empty one"
    if kind == "string_pattern_mismatch":
        return (
            f"expected an id of letters, digits, '_' or '-' (no spaces or dots), got {show(value)}"
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of fields, got {show(value)}"
    if kind == "list_type":
        return f"expected a list, got {show(value)}"
    if kind == "string_type" and isinstance(value, bool | int | float | dt.date):
        return f"expected text, got {show(value)}: put it in quotes"
    return _number_message(kind, ctx, value, message)


def _number_message(kind: str, ctx: dict[str, Any], value: Any, message: str) -> str:
    """A number that is not one, not whole, or out of bounds; pydantic's words otherwise."""
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type"):
        hint = ""
        if isinstance(value, str) and "," in value:
            hint = " (write numbers without thousands separators)"
        whole = " whole" if kind.startswith("int") else ""
        if isinstance(value, int) and not isinstance(value, bool):
            return f"expected a number below about 1e308, got {show(value)}"
        return f"expected a{whole} number, got {show(value)}{hint}"
    if kind == "int_from_float":
        return f"expected a whole number, got {show(value)}"
    if kind in _BOUNDS:
        limit = ctx.get(_BOUNDS[kind][0])
        if isinstance(limit, int | float) and abs(limit) >= 10_000:  # 1e12 as 1,000,000,000,000
            return f"expected a number {_BOUNDS[kind][1]} {limit:,.0f}, got {show(value)}"
        message = message.replace("Input should be", "expected a number", 1)
    message = message[0].lower() + message[1:] if message else message
    message = message.replace("input should be", "expected", 1)
    return f"{message}, got {show(value)}"


_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "greater than or equal to"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "less than or equal to"),
}


def show(value: Any) -> str:
    """A short description of an input value for an error message."""
    if value is None:
        return "nothing (empty)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
        return text
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.isoformat()} (a date)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return type(value).__name__


def format_path(loc: Loc) -> str:
    """Format ('channels', 2, 'cpm') as 'channels[2].cpm'."""
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def parse_loc(path: str) -> Loc:
    """'channels[1].cpm.base_cny' -> ('channels', 1, 'cpm', 'base_cny'): ``format_path`` undone."""
    if path == "(top level)":
        return ()
    tokens = re.findall(r"\[(\d+)\]|([^.\[\]]+)", path)
    return tuple(int(index) if index else name for index, name in tokens)


def nearest_line(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """The line of the field at ``loc``, or of the nearest enclosing one the file names."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


# --- which schema model a path points at (for field lists and suggestions) --------------------


def _missing_message(loc: Loc, data: Any) -> str:
    model = _model_at(loc[:-1], data)
    field = model.model_fields.get(str(loc[-1])) if model is not None else None
    if field is not None and field.description:
        return f"required field is missing ({field.description.rstrip('.')})"
    return "required field is missing"


def _unknown_field_message(loc: Loc, data: Any) -> str:
    name = str(loc[-1])
    model = _model_at(loc[:-1], data)
    if model is None:
        return f"unknown field '{name}'"
    known = list(model.model_fields)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown field '{name}'{hint}; expected one of: {', '.join(known)}"


def _model_at(loc: Loc, data: Any) -> type[BaseModel] | None:
    """The schema model that validates the mapping at ``loc`` in ``data``, if one does."""
    tp, value, disc = _type_at(loc, data)
    tp = _resolve(tp, value, disc)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _type_at(loc: Loc, data: Any) -> tuple[Any, Any, str | None]:
    """The annotation at ``loc`` (unions unresolved), the data there and its discriminator."""
    tp: Any = Scenario
    value = data
    disc: str | None = None
    for part in loc:
        tp = _resolve(tp, value, disc)
        disc = None
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = tp.model_fields.get(part)
            if field is None:
                return None, None, None
            tp, disc = field.annotation, field.discriminator
            value = value.get(part) if isinstance(value, dict) else None
        elif get_origin(tp) is list and isinstance(part, int):
            tp = get_args(tp)[0]
            value = value[part] if isinstance(value, list) and part < len(value) else None
        else:
            return None, None, None
    return tp, value, disc


def strip_annotated(tp: Any, disc: str | None = None) -> tuple[Any, str | None]:
    """``Annotated[X, Field(discriminator=d)]`` -> (X, d); any other type comes back as is."""
    if get_origin(tp) is not Annotated:
        return tp, disc
    base, *meta = get_args(tp)
    for item in meta:
        if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
            disc = item.discriminator
    return base, disc


def _resolve(tp: Any, value: Any, disc: str | None) -> Any:
    """Strip Annotated and Optional; pick a tagged union's member by the value's tag."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp, disc = strip_annotated(tp, disc)
            continue
        if origin in (Union, types.UnionType):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
            if disc is None or not isinstance(value, dict):
                return tp
            for member in members:
                if value.get(disc) in _tags_of(member, disc):
                    return member
            return tp
        return tp


def _tags_of(model: Any, disc: str) -> tuple[Any, ...]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ()
    field = model.model_fields.get(disc)
    if field is None or get_origin(field.annotation) is not Literal:
        return ()
    return get_args(field.annotation)


def _union_tags(loc: Loc, data: Any, disc: str) -> list[str]:
    """The tags a tagged union at ``loc`` accepts, e.g. paid, kol, private_domain, curve."""
    tp, _, _ = _type_at(loc, data)
    tp = _resolve(tp, None, None)
    if get_origin(tp) not in (Union, types.UnionType):
        return []
    return [str(t) for m in get_args(tp) for t in _tags_of(m, disc)]

"""Sheet columns derived from the pydantic schema: their paths, forms, conditions and help.

Every leaf field of a model is a column named by its dotted path (``cpm.base_cny``); a tagged
union's members share one set of columns, each noting the tags it applies to. The sheets'
column sets and the Periods columns of a channel are defined here, for writing and reading.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from optimizer.schema.calendar import DAY_OR_WEEK, Window
from optimizer.schema.channels import Channel, KolTier
from optimizer.schema.messages import Loc, strip_annotated
from optimizer.schema.rules import Rule
from optimizer.schema.scenario import FixedCost, Scenario

CELL_KEY = "x-cell"  # a schema field's json_schema_extra: how its cell reads ("numbers")


@dataclass(frozen=True)
class Column:
    """One column: a field path relative to the row's object, how its cells read, its help.

    ``form`` is text, choice, number, bool, per_period (one number here or a Periods column),
    series (Periods only), ids (comma-separated), numbers (comma-separated, not per period) or
    points (``spend:value; ...``). ``only``
    lists (discriminator path, tags) conditions under which the column applies.
    """

    path: tuple[str, ...]
    form: str
    about: str = ""
    choices: tuple[str, ...] = ()
    only: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    defaults: tuple[tuple[tuple[str, ...], str], ...] = ()

    @property
    def name(self) -> str:
        """The header: the dotted field path."""
        return ".".join(self.path)

    @property
    def conditions(self) -> list[str]:
        """Where the column applies, one text per condition: 'kind paid or kol'."""
        return [f"{'.'.join(p)} {' or '.join(t)}" for p, t in self.only]


def columns_of(tp: Any, prefix: tuple[str, ...] = ()) -> list[Column]:
    """The leaf columns of a model or a tagged union of models, as dotted paths."""
    tp, disc = _unwrap(tp)
    if disc is not None:
        return _union_columns(get_args(tp), disc, prefix, "", required=True)
    fields = tp.model_fields.items()
    return [c for name, f in fields for c in _field_columns(f, (*prefix, f.alias or name))]


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """Strip Annotated and a lone Optional; return the type and a tagged union's discriminator."""
    disc = None
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp, disc = strip_annotated(tp, disc)
        elif origin in (Union, types.UnionType) and type(None) in get_args(tp):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, disc
            tp = members[0]
        else:
            return tp, disc


def _holds_models(tp: Any) -> bool:
    tp, _ = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return all(_holds_models(a) for a in get_args(tp))
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_columns(info: FieldInfo, path: tuple[str, ...]) -> list[Column]:
    tp, disc = _unwrap(info.annotation)
    if isinstance(info.discriminator, str):
        disc = info.discriminator
    if disc is not None:
        required = info.is_required()
        return _union_columns(get_args(tp), disc, path, info.description or "", required)
    if _holds_models(tp):
        return columns_of(tp, path)
    if get_origin(tp) is list and _holds_models(get_args(tp)[0]):
        return []  # a list of objects (channels, tiers, rules) is a sheet of its own
    form, choices = _form(tp)
    if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get(CELL_KEY):
        form = str(info.json_schema_extra[CELL_KEY])  # a list of numbers in one cell
    inner = _inner_info(info.annotation)
    if _is_day(info) or _is_day(inner):
        form = "day"
    text = info.description or inner.description or ""
    bounds = _bounds(info) or _bounds(inner)
    notes = [text, "" if re.search("[<>]", text) else bounds, _form_note(form, choices)]
    about = " ".join(filter(None, notes))
    return [Column(path, form, about, choices, defaults=(((), _default_note(info)),))]


def _is_day(info: FieldInfo) -> bool:
    """A date or ISO week (a calendar window's from and to): a date cell is welcome there."""
    return any(getattr(m, "pattern", None) == DAY_OR_WEEK for m in info.metadata)


def _inner_info(annotation: Any) -> FieldInfo:
    """The Field() inside an Optional alias (``Money | None``): its description and bounds."""
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated:
            infos = [m for m in get_args(arg)[1:] if isinstance(m, FieldInfo)]
            if infos:
                return FieldInfo.merge_field_infos(*infos)
    return FieldInfo()


def _form(tp: Any) -> tuple[str, tuple[str, ...]]:
    origin = get_origin(tp)
    if origin is Literal:
        return "choice", tuple(str(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        args = [_unwrap(a)[0] for a in get_args(tp) if a is not type(None)]
        if any(get_origin(a) is list for a in args):
            return "per_period", ()
        return _form(args[0])
    if origin is list:
        item, _ = _unwrap(get_args(tp)[0])
        if get_origin(item) is tuple:
            return "points", ()
        return ("ids" if item is str else "series"), ()
    if tp is bool:
        return "bool", ()
    return ("number" if tp in (int, float) else "text"), ()


def _bounds(info: FieldInfo) -> str:
    longest = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
    if info.annotation is str and longest is not None:
        return f"Text, at most {longest:,} characters."
    signs = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = [
        f"{sign} {number_text(getattr(item, attr))}"
        for item in info.metadata
        for attr, sign in signs.items()
        if isinstance(getattr(item, attr, None), int | float)
    ]
    return f"Range: {' and '.join(parts)}." if parts else ""


def _form_note(form: str, choices: tuple[str, ...]) -> str:
    if form == "choice":
        return f"One of: {', '.join(choices)}."
    return {
        "ids": "Comma-separated.",
        "numbers": "Comma-separated numbers, e.g. 1400000, 1600000.",
        "points": "spend:value pairs separated by ';', e.g. 0:0; 1000000:3000000.",
        "per_period": "One number for every period here, or one value per period in a "
        "Periods column (see Help).",
        "series": "One value per period, in a Periods column (see Help).",
        "day": "A date cell, or text like 2026-05-25 or an ISO week like 2026-W22.",
    }.get(form, "")


def number_text(value: Any) -> str:
    """A number as a cell or help text shows it: 3 not 3.0, TRUE/FALSE for yes/no."""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value) if isinstance(value, int) else repr(value)


def number_as_text(value: Any) -> Any:
    """A number (or yes/no) as ``number_text`` shows it; any other value as it is."""
    return number_text(value) if isinstance(value, int | float) else value


def _default_note(info: FieldInfo) -> str:
    if info.is_required():
        return "Required."
    value = info.default
    if info.default_factory is not None or value is None or value == "":
        return ""
    return f"Default: {number_as_text(value)}."


def _union_columns(
    members: tuple[Any, ...], disc: str, prefix: tuple[str, ...], about: str, required: bool
) -> list[Column]:
    """Columns of a tagged union: its discriminator, then every member's columns, merged."""
    key = (*prefix, disc)
    tags = {m: tuple(str(t) for t in get_args(m.model_fields[disc].annotation)) for m in members}
    every = tuple(t for m in members for t in tags[m])
    kinds = "; ".join(f"{'/'.join(tags[m])}: {_doc(m)}" for m in members)
    note = "Required." if required else "Empty: none."
    about = f"{about} One of {kinds}.".strip()
    merged = {key: Column(key, "choice", about, every, (), (((), note),))}
    for member in members:
        for column in columns_of(member, prefix):
            if column.path == key:
                continue
            column = _tagged(column, key, tags[member])
            old = merged.get(column.path)
            merged[column.path] = column if old is None else _merge(old, column)
    return [_drop_condition(c, key, every) for c in merged.values()]


def _doc(model: type[BaseModel]) -> str:
    return (model.__doc__ or "").strip().splitlines()[0].rstrip(".").replace("``", "")


def _tagged(column: Column, key: tuple[str, ...], tags: tuple[str, ...]) -> Column:
    defaults = tuple((t or tags, text) for t, text in column.defaults)
    only = ((key, tags), *column.only)
    return replace(column, only=only, defaults=defaults)


def _merge(a: Column, b: Column) -> Column:
    """The same column in two union members: it applies where either applies."""
    b_only = dict(b.only)
    only = tuple(
        (path, tags + tuple(t for t in b_only[path] if t not in tags))
        for path, tags in a.only
        if path in b_only
    )
    return replace(a, about=a.about or b.about, only=only, defaults=a.defaults + b.defaults)


def _drop_condition(column: Column, key: tuple[str, ...], every: tuple[str, ...]) -> Column:
    only = tuple((p, t) for p, t in column.only if not (p == key and set(t) >= set(every)))
    return replace(column, only=only)


def column_help(column: Column) -> str:
    """What a column means, its default or whether it is required, and where it applies."""
    texts = {text for _, text in column.defaults if text}
    if len(texts) <= 1:
        default = next(iter(texts), "")
    else:
        default = " ".join(f"{'/'.join(tags)}: {text}" for tags, text in column.defaults if text)
    where = "; ".join(column.conditions)
    return " ".join(filter(None, [column.about, default, f"Only for {where}." if where else ""]))


def _id_first(columns: list[Column]) -> list[Column]:
    return sorted(columns, key=lambda c: c.path != ("id",))


SCENARIO_COLUMNS = [c for c in columns_of(Scenario) if c.path != ("periods",)]
CHANNEL_COLUMNS = _id_first(columns_of(Channel))
TIER_COLUMNS = columns_of(KolTier)
RULE_COLUMNS = _id_first(columns_of(Rule))
FIXED_COLUMNS = columns_of(FixedCost)
WINDOW_COLUMNS = _id_first(columns_of(Window))
_TIER_CHANNEL = Column(
    ("channel",), "text", "Id of the KOL channel (Channels sheet).", defaults=(((), "Required."),)
)
PERIOD = Column(("period",), "text", "Period name, one row per period in time order.")


def _row_columns(columns: list[Column]) -> list[Column]:
    return [c for c in columns if c.form != "series"]


def series_columns(columns: list[Column]) -> list[Column]:
    """The columns that take one value per period, in a Periods column."""
    return [c for c in columns if c.form in ("per_period", "series")]


SHEET_COLUMNS: dict[str, list[Column]] = {
    "Channels": _row_columns(CHANNEL_COLUMNS),
    "KolTiers": [_TIER_CHANNEL, *_row_columns(TIER_COLUMNS)],
    "Rules": RULE_COLUMNS,
    "FixedCosts": FIXED_COLUMNS,
    "Windows": WINDOW_COLUMNS,
}


def walk(data: Any, loc: Loc, create: bool = False) -> Any:
    """The value at ``loc`` in nested dicts and lists, or None; ``create`` adds mappings."""
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.setdefault(part, {}) if create else data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def channel_series(index: int, channel: dict[str, Any]) -> Iterator[tuple[str, tuple[Loc, Column]]]:
    """The Periods columns of one channel: name after '<channel id>.' -> (loc, column)."""
    for column in series_columns(CHANNEL_COLUMNS):
        yield column.name, (("channels", index, *column.path), column)
    for k, tier in enumerate(channel.get("tiers") or []):
        for column in series_columns(TIER_COLUMNS):
            loc = ("channels", index, "tiers", k, *column.path)
            yield f"{tier.get('id')}.{column.name}", (loc, column)

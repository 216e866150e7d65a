"""Validation problems -> cells: each problem named by its sheet and cell, with a hint.

A problem with a field that does not apply to a row says which kind of row it is for; a
missing field says which column or Periods column to fill.
"""

from __future__ import annotations

from typing import Any

from optimizer.errors import FieldProblem
from optimizer.inputs.workbook.columns import (
    CHANNEL_COLUMNS,
    FIXED_COLUMNS,
    RULE_COLUMNS,
    SCENARIO_COLUMNS,
    TIER_COLUMNS,
    Column,
    channel_series,
    walk,
)
from optimizer.schema.messages import Loc, parse_loc


def locate(problem: FieldProblem, cells: dict[Loc, str], data: dict[str, Any]) -> FieldProblem:
    """A validation problem with the sheet and cell of its field in front of the field path."""
    loc = parse_loc(problem.path)
    message = problem.message.replace(": put it in quotes", ": format the cell as Text")
    where = cells.get(loc)
    if message.startswith("unknown field '"):
        message = _not_applicable(loc, data) or message
        where = where or _filled_cell_under(loc, cells, data)
    elif message.startswith("required field is missing"):
        message += _missing_hint(loc, data)
    for end in range(len(loc) - 1, -1, -1):
        where = where or cells.get(loc[:end])
    return FieldProblem(f"{where or 'workbook'} ({problem.path})", message)


def _filled_cell_under(loc: Loc, cells: dict[Loc, str], data: dict[str, Any]) -> str | None:
    """The first cell that gave a value somewhere under ``loc`` (a field that is not allowed)."""
    for key, ref in cells.items():
        if key[: len(loc)] == loc and len(key) > len(loc) and walk(data, key) is not None:
            return ref
    return None


def _not_applicable(loc: Loc, data: dict[str, Any]) -> str | None:
    """Why a filled cell's column does not apply to its row: the row's kind or type."""
    context = _row_context(loc, data)
    if context is None:
        return None
    columns, rel, item = context
    column = next((c for c in columns if c.path[: len(rel)] == rel and c.only), None)
    if column is None:
        return None
    applies = " and ".join(column.conditions)
    row = ", ".join(f"{'.'.join(p)} {walk(item, p)}" for p, _ in column.only)
    return (
        f"'{'.'.join(map(str, rel))}' does not apply to this row: it is only for {applies}, "
        f"and this row has {row}; leave it empty"
    )


def _missing_hint(loc: Loc, data: dict[str, Any]) -> str:
    """Where to give a missing field: a Periods column, or the columns of a missing object."""
    context = _row_context(loc, data)
    if context is None:
        return ""
    columns, rel, item = context
    exact = next((c for c in columns if c.path == rel), None)
    if exact is not None and exact.form == "series":
        return f"; add a Periods column '{_series_header(loc, data)}' with one value per period"
    needed = [
        c.name
        for c in columns
        if len(c.path) > len(rel) and c.path[: len(rel)] == rel and _required_here(c, item)
    ]
    return f"; fill {', '.join(needed)}" if needed else ""


def _required_here(column: Column, item: Any) -> bool:
    applies = all(walk(item, path) in tags for path, tags in column.only)
    return applies and any(text == "Required." for _, text in column.defaults)


def _series_header(loc: Loc, data: dict[str, Any]) -> str:
    """The Periods header of a channel's or tier's per-period field: '<channel id>.<...>'."""
    channel = data["channels"][loc[1]]
    name = next(name for name, (at, _) in channel_series(loc[1], channel) if at == loc)
    return f"{channel.get('id')}.{name}"


def _row_context(loc: Loc, data: dict[str, Any]) -> tuple[list[Column], Loc, Any] | None:
    """The columns of the sheet a field path belongs to, the path within its row, the row."""
    try:
        if loc[:1] == ("channels",) and len(loc) > 4 and loc[2] == "tiers":
            tier = data["channels"][loc[1]]["tiers"][loc[3]]
            return TIER_COLUMNS, loc[4:], tier
        if len(loc) > 2 and loc[0] in ("channels", "rules", "fixed_costs"):
            columns = {"channels": CHANNEL_COLUMNS, "rules": RULE_COLUMNS}
            return columns.get(str(loc[0]), FIXED_COLUMNS), loc[2:], data[loc[0]][loc[1]]
    except (KeyError, IndexError, TypeError):
        return None
    return SCENARIO_COLUMNS, loc, data

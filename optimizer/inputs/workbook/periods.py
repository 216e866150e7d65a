"""The Periods sheet: the period names, and a column for each value given per period.

A column is named after its field: a scenario field (``seasonality``), or a channel's or KOL
tier's (``<channel id>.<field>``, ``<channel id>.<tier id>.<field>``); it is read last, when the
channels and tiers it names are known.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optimizer.inputs.workbook.columns import (
    PERIOD,
    SCENARIO_COLUMNS,
    TIER_COLUMNS,
    Column,
    channel_series,
    series_columns,
    walk,
)
from optimizer.inputs.workbook.sheets import (
    Resolved,
    SheetReader,
    cell_at,
    cell_ref,
    did_you_mean,
)
from optimizer.inputs.workbook.tables import Table
from optimizer.schema.messages import Loc


def read_periods(r: SheetReader) -> None:
    """Periods: the period names, then one list per column of per-period values."""
    table = r.tables["Periods"]
    resolved = r.resolve_header(table, lambda name: _period_column(r, name))
    where = next((i for i, t in resolved.items() if t is PERIOD), None)
    r.cells[("periods",)] = "Periods"
    if where is None:
        r.fail(cell_ref(table.sheet, table.header_row, 0), None, "expected a column 'period'")
        return
    r.cells[("periods",)] = cell_ref("Periods", table.header_row, where)
    for i, channel in enumerate(r.data.get("channels", [])):
        for _, (loc, column) in channel_series(i, channel):
            if column.form == "series":
                r.cells.setdefault(loc, "Periods")
    rows = _period_rows(r, table, where, [i for i in resolved if i != where])
    for index, target in resolved.items():
        if target is not PERIOD:
            _series(r, table, index, target, rows)


def _period_rows(
    r: SheetReader, table: Table, where: int, others: list[int]
) -> list[tuple[int, list[Any]]]:
    """Rows that name a period; a row with values but no period name is a problem."""
    rows: list[tuple[int, list[Any]]] = []
    names: list[Any] = []
    for number, values in table.rows:
        ref = cell_ref("Periods", number, where)
        if cell_at(values, where) is None:
            if any(cell_at(values, i) is not None for i in others):
                r.fail(ref, None, "expected the period's name: this row has values")
            continue
        names.append(r.value(cell_at(values, where), PERIOD, ref, ("periods", len(names))))
        rows.append((number, values))
    if names:
        r.data["periods"] = names
    return rows


def _period_column(r: SheetReader, name: str) -> Resolved:
    """A Periods header: the period names, or the field its values go to (loc, column)."""
    if name == "period":
        return PERIOD, None
    scenario = {c.name: c for c in series_columns(SCENARIO_COLUMNS)}
    if name in scenario:
        return (scenario[name].path, scenario[name]), None
    channels = r.data.get("channels", [])
    ids = [c.get("id") for c in channels]
    head, _, rest = name.partition(".")
    if head not in ids:
        known = ", ".join(["period", *scenario, *(f"{i}.<field>" for i in ids)])
        hint = did_you_mean(head, [str(i) for i in ids])
        return None, (
            f"unknown column '{name}': '{head}' is not a channel id on the Channels "
            f"sheet{hint}; expected one of: {known}"
        )
    channel = channels[ids.index(head)]
    targets = dict(channel_series(ids.index(head), channel))
    if rest in targets:
        return targets[rest], None
    return None, _unknown_series(name, head, rest, channel, list(targets))


def _series(
    r: SheetReader,
    table: Table,
    index: int,
    target: tuple[Loc, Column],
    rows: list[tuple[int, list[Any]]],
) -> None:
    """One Periods column: a list with one value per period, at its field."""
    loc, column = target
    if all(cell_at(values, index) is None for _, values in rows):
        return
    header = cell_ref("Periods", table.header_row, index)
    owner = walk(r.data, loc[:-1], create=True)
    if not isinstance(owner, dict):
        return
    if loc[-1] in owner:
        other = r.cells.get(loc, "its own sheet")
        message = f"given twice: as one number in {other} and per period here; keep one"
        r.fail(header, loc, message)
        return
    number_column = replace(column, form="number")
    owner[loc[-1]] = [
        r.value(cell_at(values, index), number_column, cell_ref("Periods", n, index), (*loc, j))
        for j, (n, values) in enumerate(rows)
    ]
    r.cells[loc] = header


def _unknown_series(
    name: str, head: str, rest: str, channel: dict[str, Any], targets: list[str]
) -> str:
    """What is wrong with a Periods column '<channel id>.<rest>' that names no field."""
    tier, _, field = rest.partition(".")
    if field in {c.name for c in series_columns(TIER_COLUMNS)}:
        if channel.get("kind") != "kol":
            return f"unknown column '{name}': '{head}' is not a KOL channel, so it has no tiers"
        tiers = ", ".join(str(t.get("id")) for t in channel.get("tiers") or []) or "none"
        return (
            f"unknown column '{name}': '{tier}' is not a tier of '{head}' on the KolTiers "
            f"sheet (its tiers: {tiers})"
        )
    allowed = ", ".join(f"{head}.{t}" for t in targets)
    return f"unknown column '{name}'; for channel '{head}' expected one of: {allowed}"

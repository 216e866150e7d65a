"""Reading a workbook into the scenario dict, noting the cell of every field and each problem.

The Scenario sheet holds one field a row; Channels, KolTiers, Rules and FixedCosts one object a
row; Periods one period a row, with a column per per-period field (see ``periods``). Every
sheet is read with a ``SheetReader`` (``sheets``). ``load_workbook_scenario`` validates the dict
and names the cell of each validation problem (see ``cells``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer.core.numbers import check_numbers
from optimizer.errors import ScenarioError
from optimizer.inputs.workbook.cells import locate
from optimizer.inputs.workbook.columns import (
    SCENARIO_COLUMNS,
    SHEET_COLUMNS,
    Column,
    number_as_text,
)
from optimizer.inputs.workbook.periods import read_periods
from optimizer.inputs.workbook.sheets import (
    Resolved,
    SheetReader,
    cell_at,
    cell_ref,
    set_path,
    unknown_name,
    used_rows,
)
from optimizer.inputs.workbook.tables import BadCell, read_bytes, read_tables
from optimizer.schema.messages import Loc, problems_from, show
from optimizer.schema.scenario import Scenario

_LIST_FIELDS: dict[str, tuple[str, ...]] = {
    "Channels": ("channels",),
    "Rules": ("rules",),
    "FixedCosts": ("fixed_costs",),
    "Windows": ("calendar", "windows"),
}


def load_workbook_scenario(path: Path) -> Scenario:
    """Read and validate a scenario workbook; raise ScenarioError naming sheet, cell and field."""
    path = Path(path)
    data, cells = read_workbook(path)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [locate(p, cells, data) for p in problems_from(exc, {}, data)]
        raise ScenarioError(str(path), problems) from None
    try:  # numbers derived from valid fields that no solver can take, at the field's cell
        check_numbers(scenario, str(path))
    except ScenarioError as exc:
        raise ScenarioError(str(path), [locate(p, cells, data) for p in exc.problems]) from None
    return scenario


def read_workbook(path: Path) -> tuple[dict[str, Any], dict[Loc, str]]:
    """A workbook as the dict Scenario.model_validate takes, and the cell of each field path.

    The map also names the empty cell where a missing field would go, the row of each object
    (``"Channels row 3"``) and the sheet of each list, so every problem can point somewhere.
    """
    path = Path(path)
    tables = read_tables(path, read_bytes(path))
    reader = SheetReader(tables)
    _scenario_sheet(reader)
    for sheet, field in _LIST_FIELDS.items():
        _list_sheet(reader, sheet, field)
    _tiers(reader)
    read_periods(reader)  # last: its columns name channels and tiers
    if reader.problems:
        raise ScenarioError(str(path), reader.problems)
    return reader.data, reader.cells


_ELSEWHERE = {
    "periods": "periods are the rows of the Periods sheet",
    "channels": "channels are the rows of the Channels sheet",
    "rules": "rules are the rows of the Rules sheet",
    "fixed_costs": "fixed costs are the rows of the FixedCosts sheet",
    "calendar.windows": "calendar windows are the rows of the Windows sheet",
}


def _list_sheet(r: SheetReader, sheet: str, field: tuple[str, ...]) -> None:
    """A sheet of objects, one a row: channels, rules, fixed costs or calendar windows."""
    r.cells[field] = sheet
    table = r.tables.get(sheet)
    if table is None:
        return
    columns = r.header(table, SHEET_COLUMNS[sheet])
    rows = used_rows(table, columns)
    items = [r.row(table, n, v, columns, (*field, i)) for i, (n, v) in enumerate(rows)]
    if items:
        set_path(r.data, field, items)


def _scenario_sheet(r: SheetReader) -> None:
    """The Scenario sheet: one row per field, with its value."""
    for column in SCENARIO_COLUMNS:
        r.cells.setdefault(column.path[:1], "Scenario")
    table = r.tables["Scenario"]
    layout = ("field", "value", "description")

    def resolve(name: str) -> Resolved:
        return (name, None) if name in layout else (None, unknown_name(name, list(layout)))

    where = {target: index for index, target in r.resolve_header(table, resolve).items()}
    if "field" not in where or "value" not in where:
        message = "expected a header row with columns field, value, description"
        r.fail(cell_ref(table.sheet, table.header_row, 0), None, message)
        return
    first: dict[str, int] = {}
    for number, values in table.rows:
        _scenario_row(r, number, values, where, first)


def _scenario_row(
    r: SheetReader, number: int, values: list[Any], where: dict[str, int], first: dict[str, int]
) -> None:
    """One field of the Scenario sheet."""
    name_ref = cell_ref("Scenario", number, where["field"])
    value_ref = cell_ref("Scenario", number, where["value"])
    name = cell_at(values, where["field"])
    name = number_as_text(name)
    if not isinstance(name, str):
        if cell_at(values, where["value"]) is not None:
            r.fail(name_ref, None, f"expected the field name of the value in {value_ref}")
        return
    known = {c.name: c for c in SCENARIO_COLUMNS}
    problem = _scenario_field_problem(name, known, first)
    if problem is not None:
        r.fail(name_ref, None, problem)
        return
    first[name] = number
    column = known[name]
    value = r.value(cell_at(values, where["value"]), column, value_ref, column.path)
    if value is not None:
        set_path(r.data, column.path, value)


def _tiers(r: SheetReader) -> None:
    """KolTiers: each row a tier of the KOL channel named in its 'channel' column."""
    channels = r.data.get("channels", [])
    kol = _kol_channels(channels)
    for index in kol.values():
        r.cells[("channels", index, "tiers")] = "KolTiers"
    table = r.tables.get("KolTiers")
    if table is None:
        return
    columns = r.header(table, SHEET_COLUMNS["KolTiers"])
    target = next((i for i, c in columns.items() if c.path == ("channel",)), None)
    rows = used_rows(table, columns)
    if rows and target is None:
        r.fail(cell_ref(table.sheet, table.header_row, 0), None, "expected a column 'channel'")
        return
    fields = {i: c for i, c in columns.items() if i != target}
    for number, values in rows:
        index = _tier_owner(r, number, cell_at(values, target or 0), target or 0, channels)
        if index is not None:
            tiers = channels[index].setdefault("tiers", [])
            loc = ("channels", index, "tiers", len(tiers))
            tiers.append(r.row(table, number, values, fields, loc))


def _tier_owner(
    r: SheetReader, number: int, raw: Any, target: int, channels: list[dict[str, Any]]
) -> int | None:
    """Index of the KOL channel a KolTiers row names, or None (and a problem)."""
    ref = cell_ref("KolTiers", number, target)
    kol = _kol_channels(channels)
    if isinstance(raw, BadCell):
        r.fail(ref, None, raw.message)
        return None
    cid = number_as_text(raw)
    if cid in kol:
        return kol[cid]
    kinds = {c.get("id"): c.get("kind") for c in channels if isinstance(c.get("id"), str)}
    r.fail(ref, None, _not_kol(cid, kinds, list(kol)))
    return None


def _kol_channels(channels: list[dict[str, Any]]) -> dict[str, int]:
    """KOL channel id -> its index (the first, if an id is repeated)."""
    kol: dict[str, int] = {}
    for index, channel in enumerate(channels):
        cid = channel.get("id")
        if channel.get("kind") == "kol" and isinstance(cid, str):
            kol.setdefault(cid, index)
    return kol


def _scenario_field_problem(
    name: str, known: dict[str, Column], first: dict[str, int]
) -> str | None:
    """What is wrong with a Scenario sheet row's field name, or None."""
    if name in first:
        return f"field '{name}' given twice (first in row {first[name]}); keep one"
    if name in _ELSEWHERE:
        return f"'{name}' does not go here: {_ELSEWHERE[name]}"
    if name not in known:
        return unknown_name(name, list(known), "field")
    return None


def _not_kol(cid: Any, kinds: dict[Any, Any], kol_ids: list[Any]) -> str:
    """Why a KolTiers row's channel cell names no KOL channel."""
    known = ", ".join(map(str, kol_ids)) or "none on the Channels sheet"
    if cid is None:
        return f"expected the id of a KOL channel ({known}), got an empty cell"
    if cid in kinds:
        return f"'{cid}' is a {kinds[cid]} channel, not kol; KOL channels: {known}"
    return f"unknown channel {show(cid)}: expected the id of a KOL channel ({known})"

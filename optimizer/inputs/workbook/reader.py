"""Reading a workbook into the scenario dict, noting the cell of every field and each problem.

The Scenario sheet holds one field a row; Channels, KolTiers, Rules and FixedCosts one object a
row; Periods one period a row, with a column per per-period field. ``load_workbook_scenario``
validates the dict and names the cell of each validation problem (see ``cells``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from optimizer.core.numbers import check_numbers
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.workbook.cells import locate
from optimizer.inputs.workbook.columns import (
    PERIOD,
    SCENARIO_COLUMNS,
    SHEET_COLUMNS,
    TIER_COLUMNS,
    Column,
    channel_series,
    number_as_text,
    series_columns,
    walk,
)
from optimizer.inputs.workbook.tables import BadCell, Table, read_bytes, read_tables
from optimizer.inputs.workbook.values import CellError, read_value
from optimizer.schema.messages import Loc, format_path, problems_from, show
from optimizer.schema.scenario import Scenario

_LIST_FIELDS = {"Channels": "channels", "Rules": "rules", "FixedCosts": "fixed_costs"}


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
    reader = _Reader(tables)
    reader.run()
    if reader.problems:
        raise ScenarioError(str(path), reader.problems)
    return reader.data, reader.cells


def _at(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def _ref(sheet: str, row: int, index: int) -> str:
    return f"{sheet}!{get_column_letter(index + 1)}{row}"


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _unknown(name: str, known: list[str], what: str = "column") -> str:
    hint = _did_you_mean(name, known)
    return f"unknown {what} '{name}'{hint}; expected one of: {', '.join(known)}"


def _did_you_mean(name: str, known: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or nothing if none is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


_ELSEWHERE = {
    "periods": "periods are the rows of the Periods sheet",
    "channels": "channels are the rows of the Channels sheet",
    "rules": "rules are the rows of the Rules sheet",
    "fixed_costs": "fixed costs are the rows of the FixedCosts sheet",
}


Resolved = tuple[Any, str | None]  # (what a header names, or None and what is wrong with it)


class _Reader:
    """Builds the scenario dict from the tables, noting each field's cell and each problem."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.data: dict[str, Any] = {}
        self.cells: dict[Loc, str] = {}
        self.problems: list[FieldProblem] = []

    def run(self) -> None:
        """Read every sheet: Periods last, as its columns name channels and tiers."""
        self.scenario_sheet()
        for sheet, field in _LIST_FIELDS.items():
            self.list_sheet(sheet, field)
        self.tiers()
        self.periods()

    def fail(self, ref: str, loc: Loc | None, message: str) -> None:
        """Note a problem at a cell, with the field it was meant for."""
        path = f"{ref} ({format_path(loc)})" if loc else ref
        self.problems.append(FieldProblem(path, message))

    def value(self, raw: Any, column: Column, ref: str, loc: Loc) -> Any:
        """A cell's value as its column reads it; None when empty or wrong (then noted)."""
        self.cells[loc] = ref
        if isinstance(raw, BadCell):
            self.fail(ref, loc, raw.message)
            return None
        if raw is None:
            return None
        try:
            return read_value(raw, column.form)
        except CellError as exc:
            self.fail(ref, loc, str(exc))
            return None

    def header(self, table: Table, known: list[Column]) -> dict[int, Any]:
        """Column index -> Column; unknown, repeated and unnamed columns are problems."""
        names = {c.name: c for c in known}

        def resolve(name: str) -> Resolved:
            return (names[name], None) if name in names else (None, _unknown(name, list(names)))

        return self.resolve_header(table, resolve)

    def resolve_header(self, table: Table, resolve: Callable[[str], Resolved]) -> dict[int, Any]:
        """Map each named column through ``resolve``; '#' columns are notes, not read."""
        mapping: dict[int, Any] = {}
        seen: dict[str, str] = {}
        for index, raw in table.header:
            ref = _ref(table.sheet, table.header_row, index)
            if isinstance(raw, BadCell):
                self.fail(ref, None, f"expected a column name, got {raw.message}")
                continue
            name = str(number_as_text(raw))
            if name.startswith("#"):
                continue
            if name in seen:
                self.fail(ref, None, f"column '{name}' given twice (also {seen[name]}); keep one")
                continue
            seen[name] = ref
            target, problem = resolve(name)
            if problem is not None:
                self.fail(ref, None, problem)
            else:
                mapping[index] = target
        self.unnamed(table)
        return mapping

    def unnamed(self, table: Table) -> None:
        """Values in a column without a header are refused: they would be lost."""
        named = {index for index, _ in table.header}
        reported: set[int] = set()
        for number, values in table.rows:
            for index, value in enumerate(values):
                if value is not None and index not in named | reported:
                    reported.add(index)
                    message = "a value in a column without a header: name the column or clear it"
                    self.fail(_ref(table.sheet, number, index), None, message)

    def row(
        self, table: Table, number: int, values: list[Any], columns: dict[int, Column], loc: Loc
    ) -> dict[str, Any]:
        """One table row as an object; its cells noted under ``loc``."""
        self.cells[loc] = f"{table.sheet} row {number}"
        item: dict[str, Any] = {}
        for index, column in columns.items():
            ref = _ref(table.sheet, number, index)
            value = self.value(_at(values, index), column, ref, (*loc, *column.path))
            if value is not None:
                _set_path(item, column.path, value)
        return item

    def list_sheet(self, sheet: str, field: str) -> None:
        """A sheet of objects, one a row: channels, rules or fixed costs."""
        self.cells[(field,)] = sheet
        table = self.tables.get(sheet)
        if table is None:
            return
        columns = self.header(table, SHEET_COLUMNS[sheet])
        rows = _used_rows(table, columns)
        items = [self.row(table, n, v, columns, (field, i)) for i, (n, v) in enumerate(rows)]
        if items:
            self.data[field] = items

    def scenario_sheet(self) -> None:
        """The Scenario sheet: one row per field, with its value."""
        for column in SCENARIO_COLUMNS:
            self.cells.setdefault(column.path[:1], "Scenario")
        table = self.tables["Scenario"]
        layout = ("field", "value", "description")

        def resolve(name: str) -> Resolved:
            return (name, None) if name in layout else (None, _unknown(name, list(layout)))

        where = {target: index for index, target in self.resolve_header(table, resolve).items()}
        if "field" not in where or "value" not in where:
            message = "expected a header row with columns field, value, description"
            self.fail(_ref(table.sheet, table.header_row, 0), None, message)
            return
        first: dict[str, int] = {}
        for number, values in table.rows:
            self.scenario_row(number, values, where, first)

    def scenario_row(
        self, number: int, values: list[Any], where: dict[str, int], first: dict[str, int]
    ) -> None:
        """One field of the Scenario sheet."""
        name_ref = _ref("Scenario", number, where["field"])
        value_ref = _ref("Scenario", number, where["value"])
        name = _at(values, where["field"])
        name = number_as_text(name)
        if not isinstance(name, str):
            if _at(values, where["value"]) is not None:
                self.fail(name_ref, None, f"expected the field name of the value in {value_ref}")
            return
        known = {c.name: c for c in SCENARIO_COLUMNS}
        problem = _scenario_field_problem(name, known, first)
        if problem is not None:
            self.fail(name_ref, None, problem)
            return
        first[name] = number
        column = known[name]
        value = self.value(_at(values, where["value"]), column, value_ref, column.path)
        if value is not None:
            _set_path(self.data, column.path, value)

    def tiers(self) -> None:
        """KolTiers: each row a tier of the KOL channel named in its 'channel' column."""
        channels = self.data.get("channels", [])
        kol = _kol_channels(channels)
        for index in kol.values():
            self.cells[("channels", index, "tiers")] = "KolTiers"
        table = self.tables.get("KolTiers")
        if table is None:
            return
        columns = self.header(table, SHEET_COLUMNS["KolTiers"])
        target = next((i for i, c in columns.items() if c.path == ("channel",)), None)
        rows = _used_rows(table, columns)
        if rows and target is None:
            self.fail(_ref(table.sheet, table.header_row, 0), None, "expected a column 'channel'")
            return
        fields = {i: c for i, c in columns.items() if i != target}
        for number, values in rows:
            index = self.tier_owner(number, _at(values, target or 0), target or 0, channels)
            if index is not None:
                tiers = channels[index].setdefault("tiers", [])
                loc = ("channels", index, "tiers", len(tiers))
                tiers.append(self.row(table, number, values, fields, loc))

    def tier_owner(
        self, number: int, raw: Any, target: int, channels: list[dict[str, Any]]
    ) -> int | None:
        """Index of the KOL channel a KolTiers row names, or None (and a problem)."""
        ref = _ref("KolTiers", number, target)
        kol = _kol_channels(channels)
        if isinstance(raw, BadCell):
            self.fail(ref, None, raw.message)
            return None
        cid = number_as_text(raw)
        if cid in kol:
            return kol[cid]
        kinds = {c.get("id"): c.get("kind") for c in channels if isinstance(c.get("id"), str)}
        self.fail(ref, None, _not_kol(cid, kinds, list(kol)))
        return None

    def periods(self) -> None:
        """Periods: the period names, then one list per column of per-period values."""
        table = self.tables["Periods"]
        resolved = self.resolve_header(table, self.period_column)
        where = next((i for i, t in resolved.items() if t is PERIOD), None)
        self.cells[("periods",)] = "Periods"
        if where is None:
            self.fail(_ref(table.sheet, table.header_row, 0), None, "expected a column 'period'")
            return
        self.cells[("periods",)] = _ref("Periods", table.header_row, where)
        for i, channel in enumerate(self.data.get("channels", [])):
            for _, (loc, column) in channel_series(i, channel):
                if column.form == "series":
                    self.cells.setdefault(loc, "Periods")
        rows = self.period_rows(table, where, [i for i in resolved if i != where])
        for index, target in resolved.items():
            if target is not PERIOD:
                self.series(table, index, target, rows)

    def period_rows(
        self, table: Table, where: int, others: list[int]
    ) -> list[tuple[int, list[Any]]]:
        """Rows that name a period; a row with values but no period name is a problem."""
        rows: list[tuple[int, list[Any]]] = []
        names: list[Any] = []
        for number, values in table.rows:
            ref = _ref("Periods", number, where)
            if _at(values, where) is None:
                if any(_at(values, i) is not None for i in others):
                    self.fail(ref, None, "expected the period's name: this row has values")
                continue
            names.append(self.value(_at(values, where), PERIOD, ref, ("periods", len(names))))
            rows.append((number, values))
        if names:
            self.data["periods"] = names
        return rows

    def period_column(self, name: str) -> Resolved:
        """A Periods header: the period names, or the field its values go to (loc, column)."""
        if name == "period":
            return PERIOD, None
        scenario = {c.name: c for c in series_columns(SCENARIO_COLUMNS)}
        if name in scenario:
            return (scenario[name].path, scenario[name]), None
        channels = self.data.get("channels", [])
        ids = [c.get("id") for c in channels]
        head, _, rest = name.partition(".")
        if head not in ids:
            known = ", ".join(["period", *scenario, *(f"{i}.<field>" for i in ids)])
            hint = _did_you_mean(head, [str(i) for i in ids])
            return None, (
                f"unknown column '{name}': '{head}' is not a channel id on the Channels "
                f"sheet{hint}; expected one of: {known}"
            )
        channel = channels[ids.index(head)]
        targets = dict(channel_series(ids.index(head), channel))
        if rest in targets:
            return targets[rest], None
        return None, _unknown_series(name, head, rest, channel, list(targets))

    def series(
        self,
        table: Table,
        index: int,
        target: tuple[Loc, Column],
        rows: list[tuple[int, list[Any]]],
    ) -> None:
        """One Periods column: a list with one value per period, at its field."""
        loc, column = target
        if all(_at(values, index) is None for _, values in rows):
            return
        header = _ref("Periods", table.header_row, index)
        owner = walk(self.data, loc[:-1], create=True)
        if not isinstance(owner, dict):
            return
        if loc[-1] in owner:
            other = self.cells.get(loc, "its own sheet")
            message = f"given twice: as one number in {other} and per period here; keep one"
            self.fail(header, loc, message)
            return
        number_column = replace(column, form="number")
        owner[loc[-1]] = [
            self.value(_at(values, index), number_column, _ref("Periods", n, index), (*loc, j))
            for j, (n, values) in enumerate(rows)
        ]
        self.cells[loc] = header


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


def _used_rows(table: Table, columns: dict[int, Any]) -> list[tuple[int, list[Any]]]:
    """Rows with a value in some read column (a row of notes only is skipped)."""
    return [(n, v) for n, v in table.rows if any(_at(v, i) is not None for i in columns)]


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
    if name in first:
        return f"field '{name}' given twice (first in row {first[name]}); keep one"
    if name in _ELSEWHERE:
        return f"'{name}' does not go here: {_ELSEWHERE[name]}"
    if name not in known:
        return _unknown(name, list(known), "field")
    return None


def _not_kol(cid: Any, kinds: dict[Any, Any], kol_ids: list[Any]) -> str:
    known = ", ".join(map(str, kol_ids)) or "none on the Channels sheet"
    if cid is None:
        return f"expected the id of a KOL channel ({known}), got an empty cell"
    if cid in kinds:
        return f"'{cid}' is a {kinds[cid]} channel, not kol; KOL channels: {known}"
    return f"unknown channel {show(cid)}: expected the id of a KOL channel ({known})"

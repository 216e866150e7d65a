"""The machinery every sheet is read with: cell references, headers, rows and cell values.

A ``SheetReader`` builds the scenario dict from the tables, noting the cell of each field (so a
validation problem can name it) and each problem in the workbook itself (an unknown column, a
value in a column without a header, a cell that is not what its column holds).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from openpyxl.utils import get_column_letter

from optimizer.errors import FieldProblem
from optimizer.inputs.workbook.columns import Column, number_as_text
from optimizer.inputs.workbook.tables import BadCell, Table
from optimizer.inputs.workbook.values import CellError, read_value
from optimizer.schema.messages import Loc, format_path


def cell_at(values: list[Any], index: int) -> Any:
    """The value in column ``index`` of a row; None past its last cell."""
    return values[index] if index < len(values) else None


def cell_ref(sheet: str, row: int, index: int) -> str:
    """'Channels!B3': the cell at a row and a column index (from 0) of a sheet."""
    return f"{sheet}!{get_column_letter(index + 1)}{row}"


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in nested mappings, making the mappings on the way."""
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def unknown_name(name: str, known: list[str], what: str = "column") -> str:
    """'unknown column ...': the name, the closest known one and every known one."""
    hint = did_you_mean(name, known)
    return f"unknown {what} '{name}'{hint}; expected one of: {', '.join(known)}"


def did_you_mean(name: str, known: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or nothing if none is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


Resolved = tuple[Any, str | None]  # (what a header names, or None and what is wrong with it)


class SheetReader:
    """Builds the scenario dict from the tables, noting each field's cell and each problem."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.data: dict[str, Any] = {}
        self.cells: dict[Loc, str] = {}
        self.problems: list[FieldProblem] = []

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
            return (names[name], None) if name in names else (None, unknown_name(name, list(names)))

        return self.resolve_header(table, resolve)

    def resolve_header(self, table: Table, resolve: Callable[[str], Resolved]) -> dict[int, Any]:
        """Map each named column through ``resolve``; '#' columns are notes, not read."""
        mapping: dict[int, Any] = {}
        seen: dict[str, str] = {}
        for index, raw in table.header:
            ref = cell_ref(table.sheet, table.header_row, index)
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
                    self.fail(cell_ref(table.sheet, number, index), None, message)

    def row(
        self, table: Table, number: int, values: list[Any], columns: dict[int, Column], loc: Loc
    ) -> dict[str, Any]:
        """One table row as an object; its cells noted under ``loc``."""
        self.cells[loc] = f"{table.sheet} row {number}"
        item: dict[str, Any] = {}
        for index, column in columns.items():
            ref = cell_ref(table.sheet, number, index)
            value = self.value(cell_at(values, index), column, ref, (*loc, *column.path))
            if value is not None:
                set_path(item, column.path, value)
        return item


def used_rows(table: Table, columns: dict[int, Any]) -> list[tuple[int, list[Any]]]:
    """Rows with a value in some read column (a row of notes only is skipped)."""
    return [(n, v) for n, v in table.rows if any(cell_at(v, i) is not None for i in columns)]

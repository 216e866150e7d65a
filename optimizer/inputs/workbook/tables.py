"""Reading an .xlsx file into raw tables: file and container checks, sheets, cell values.

Nothing here knows the scenario's fields: a table is a sheet's header row and the non-empty
rows below it, with text trimmed and formulas without a saved result or Excel errors marked.
"""

from __future__ import annotations

import difflib
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.text import MAX_FILE_BYTES

REQUIRED_SHEETS = ("Scenario", "Periods", "Channels")
OPTIONAL_SHEETS = ("KolTiers", "Rules", "FixedCosts", "Windows")
MAX_ROWS = 10_000  # data rows per sheet
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a 5 MiB zip of repeated XML could hold gigabytes

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx encrypted with a password
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")


def _fail(path: Path, message: str) -> ScenarioError:
    return ScenarioError(str(path), [FieldProblem("file", message)])


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or ScenarioError: missing, a folder, too large, an Excel lock file."""
    if path.name.startswith("~$"):
        raise _fail(
            path,
            "an Excel lock file, not a workbook: Excel keeps a '~$' file next to a workbook "
            "while it is open; read the workbook itself (its name has no '~$')",
        )
    try:
        if not path.exists():
            raise _fail(path, "no such file")
        if not path.is_file():
            raise _fail(path, "expected a file, got a directory")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = f"{MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES // (1024 * 1024)} MiB)"
            raise _fail(path, f"too large: expected at most {limit}, got {size:,} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None


def _check_container(path: Path, raw: bytes) -> None:
    """Refuse what is not an .xlsx zip: encrypted workbooks, .xls files, other files, bombs."""
    if raw.startswith(_OLE_MAGIC):
        if _ENCRYPTED in raw:
            raise _fail(
                path,
                "the workbook is password-protected (encrypted): remove the password in Excel "
                "(File > Info > Protect Workbook > Encrypt with Password) and save it again",
            )
        raise _fail(path, "an old-format Excel file (.xls): open it in Excel, save as .xlsx")
    hint = "open it in Excel and save it as Excel Workbook (.xlsx)"
    if not raw:
        raise _fail(path, "expected an .xlsx workbook, got an empty file")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise _fail(path, f"expected an .xlsx workbook, got a file that is not one; {hint}")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _fail(path, f"a damaged .xlsx workbook ({exc}); {hint}") from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _fail(
            path,
            f"too large once unzipped: expected at most {MAX_UNZIPPED_BYTES:,} bytes, got "
            f"{unzipped:,}",
        )


@dataclass
class BadCell:
    """A cell whose value cannot be used (a formula with no saved result, an Excel error)."""

    message: str


@dataclass
class Table:
    """One sheet: its header row (column index -> name) and its non-empty rows below it."""

    sheet: str
    header_row: int
    header: list[tuple[int, Any]]
    rows: list[tuple[int, list[Any]]]


def read_tables(path: Path, raw: bytes) -> dict[str, Table]:
    """Every sheet the scenario uses, as a table; ScenarioError for unreadable files."""
    _check_container(path, raw)
    problems: list[FieldProblem] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops
            values = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            formulas = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
            sheets = _match_sheets(values.sheetnames, problems)
            tables = {
                name: _read_table(name, values[actual], formulas[actual], problems)
                for name, actual in sheets.items()
            }
            values.close()
            formulas.close()
    except Exception as exc:  # openpyxl raises all kinds of errors on damaged parts
        message = f"cannot read the workbook ({type(exc).__name__}: {exc})"
        raise _fail(path, f"{message}; open it in Excel and save it again as .xlsx") from None
    if problems:
        raise ScenarioError(str(path), problems)
    return {name: table for name, table in tables.items() if table is not None}


def _sheet_key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _match_sheets(names: list[str], problems: list[FieldProblem]) -> dict[str, str]:
    """Scenario sheet name -> the workbook's sheet (case, spaces and '_' do not matter)."""
    known = {_sheet_key(s): s for s in (*REQUIRED_SHEETS, *OPTIONAL_SHEETS)}
    found: dict[str, str] = {}
    others: dict[str, str] = {}
    for name in names:
        sheet = known.get(_sheet_key(name))
        if sheet is None:
            others[_sheet_key(name)] = name
        elif sheet in found:
            problems.append(
                FieldProblem("file", f"two sheets for {sheet}: '{found[sheet]}' and '{name}'")
            )
        else:
            found[sheet] = name
    for sheet in (*REQUIRED_SHEETS, *OPTIONAL_SHEETS):
        close = difflib.get_close_matches(_sheet_key(sheet), others, n=1, cutoff=0.75)
        if sheet not in found and close:
            problems.append(
                FieldProblem(others[close[0]], f"sheet not read: did you mean '{sheet}'? Rename it")
            )
    missing = [s for s in REQUIRED_SHEETS if s not in found]
    if missing:
        problems.append(FieldProblem("file", _missing_sheets(missing, names)))
    return found


def _missing_sheets(missing: list[str], names: list[str]) -> str:
    return (
        f"missing sheet(s) {', '.join(missing)}; expected sheets {', '.join(REQUIRED_SHEETS)} "
        f"(required) and {', '.join(OPTIONAL_SHEETS)} (optional), got: "
        f"{', '.join(names) or 'none'}"
    )


def _read_table(
    name: str, values: Any, formulas: Any, problems: list[FieldProblem]
) -> Table | None:
    """A sheet's non-empty rows: trimmed text, empty text as None, formula results or BadCell."""
    if not isinstance(values, ReadOnlyWorksheet):
        problems.append(FieldProblem(name, "expected a sheet of cells, got a chart sheet"))
        return None
    values.reset_dimensions()  # some writers record a wrong size
    formulas.reset_dimensions()
    rows: list[tuple[int, list[Any]]] = []
    pairs = zip(
        values.iter_rows(values_only=True), formulas.iter_rows(values_only=True), strict=True
    )
    for number, (shown, typed) in enumerate(pairs, start=1):
        cells = [_clean(v, f) for v, f in zip_longest(shown, typed)]
        if all(c is None for c in cells):
            continue
        if len(rows) > MAX_ROWS:
            message = f"too many rows: expected at most {MAX_ROWS:,} below the header, got more"
            problems.append(FieldProblem(f"{name}!A{number}", f"{message} (row {number:,})"))
            return None
        rows.append((number, cells))
    if not rows:
        return Table(name, 1, [], [])
    header_row, header = rows[0]
    named = [(i, v) for i, v in enumerate(header) if v is not None]
    return Table(name, header_row, named, rows[1:])


def _clean(value: Any, typed: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value in ERROR_CODES:
            return BadCell(
                f"the cell shows the Excel error {value}: fix its formula or type a value"
            )
        return value or None
    if value is None and _is_formula(typed):
        text = typed.text if isinstance(typed, ArrayFormula) else str(typed)
        return BadCell(
            f"a formula ({text}) with no saved result: open the file in Excel and save it, so "
            "the result is stored with it"
        )
    return value


def _is_formula(value: Any) -> bool:
    if isinstance(value, ArrayFormula | DataTableFormula):
        return True
    return isinstance(value, str) and value.startswith("=")

"""Excel input workbooks: a scenario as table-shaped sheets finance can fill in, and back.

``write_template`` lays a scenario out as a Help sheet and six tables (Scenario, Periods,
Channels, KolTiers, Rules, FixedCosts); ``read_workbook`` turns such a workbook back into the
plain dict a YAML file gives, noting the cell of every field; ``load_workbook_scenario``
validates it, naming the sheet, the cell and the field of every problem. The columns are
derived from the pydantic schema, so new schema fields show up on their own.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import re
import types
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import zip_longest
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.io import MAX_FILE_BYTES
from optimizer.messages import Loc, format_path, problems_from, show
from optimizer.scenario import Channel, FixedCost, KolTier, Rule, Scenario

REQUIRED_SHEETS = ("Scenario", "Periods", "Channels")
OPTIONAL_SHEETS = ("KolTiers", "Rules", "FixedCosts")
HELP_SHEET = "Help"
MAX_ROWS = 10_000  # data rows per sheet
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a 5 MiB zip of repeated XML could hold gigabytes
FIXED_TIME = dt.datetime(2026, 1, 1)  # in the file's properties and zip entries: same bytes
FILL_ROWS = 500  # dropdowns and grey-out rules reach this row, for rows finance adds

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx encrypted with a password
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_LIST_SPLIT = re.compile(r"[,，、]")
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_GREY = PatternFill("solid", fgColor="E7E6E6", bgColor="E7E6E6")
_WRAP = Alignment(wrap_text=True, vertical="top")


# --- columns derived from the schema ---------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: a field path relative to the row's object, how its cells read, its help.

    ``form`` is text, choice, number, bool, per_period (one number here or a Periods column),
    series (Periods only), ids (comma-separated) or points (``spend:value; ...``). ``only``
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


def columns_of(tp: Any, prefix: tuple[str, ...] = ()) -> list[Column]:
    """The leaf columns of a model or a tagged union of models, as dotted paths."""
    tp, disc = _unwrap(tp)
    if disc is not None:
        return _union_columns(get_args(tp), disc, prefix, "", required=True)
    return [c for name, f in tp.model_fields.items() for c in _field_columns(f, (*prefix, name))]


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """Strip Annotated and a lone Optional; return the type and a tagged union's discriminator."""
    disc = None
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            base, *meta = get_args(tp)
            for item in meta:
                if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
                    disc = item.discriminator
            tp = base
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
    inner = _inner_info(info.annotation)
    text = info.description or inner.description or ""
    bounds = _bounds(info) or _bounds(inner)
    notes = [text, "" if re.search("[<>]", text) else bounds, _form_note(form, choices)]
    about = " ".join(filter(None, notes))
    return [Column(path, form, about, choices, defaults=(((), _default_note(info)),))]


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
        f"{sign} {_number_text(getattr(item, attr))}"
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
        "points": "spend:value pairs separated by ';', e.g. 0:0; 1000000:3000000.",
        "per_period": "One number for every period here, or one value per period in a "
        "Periods column (see Help).",
        "series": "One value per period, in a Periods column (see Help).",
    }.get(form, "")


def _number_text(value: Any) -> str:
    """A number as a cell or help text shows it: 3 not 3.0, TRUE/FALSE for yes/no."""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value) if isinstance(value, int) else repr(value)


def _default_note(info: FieldInfo) -> str:
    if info.is_required():
        return "Required."
    value = info.default
    if info.default_factory is not None or value is None or value == "":
        return ""
    return f"Default: {_number_text(value) if isinstance(value, int | float) else value}."


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
    return Column(column.path, column.form, column.about, column.choices, only, defaults)


def _merge(a: Column, b: Column) -> Column:
    """The same column in two union members: it applies where either applies."""
    b_only = dict(b.only)
    only = tuple(
        (path, tags + tuple(t for t in b_only[path] if t not in tags))
        for path, tags in a.only
        if path in b_only
    )
    return Column(a.path, a.form, a.about or b.about, a.choices, only, a.defaults + b.defaults)


def _drop_condition(column: Column, key: tuple[str, ...], every: tuple[str, ...]) -> Column:
    only = tuple((p, t) for p, t in column.only if not (p == key and set(t) >= set(every)))
    return Column(column.path, column.form, column.about, column.choices, only, column.defaults)


def column_help(column: Column) -> str:
    """What a column means, its default or whether it is required, and where it applies."""
    texts = {text for _, text in column.defaults if text}
    if len(texts) <= 1:
        default = next(iter(texts), "")
    else:
        default = " ".join(f"{'/'.join(tags)}: {text}" for tags, text in column.defaults if text)
    where = "; ".join(f"{'.'.join(p)} {' or '.join(t)}" for p, t in column.only)
    return " ".join(filter(None, [column.about, default, f"Only for {where}." if where else ""]))


def _id_first(columns: list[Column]) -> list[Column]:
    return sorted(columns, key=lambda c: c.path != ("id",))


_SCENARIO_COLUMNS = [c for c in columns_of(Scenario) if c.path != ("periods",)]
_CHANNEL_COLUMNS = _id_first(columns_of(Channel))
_TIER_COLUMNS = columns_of(KolTier)
_RULE_COLUMNS = _id_first(columns_of(Rule))
_FIXED_COLUMNS = columns_of(FixedCost)
_TIER_CHANNEL = Column(
    ("channel",), "text", "Id of the KOL channel (Channels sheet).", defaults=(((), "Required."),)
)
_PERIOD = Column(("period",), "text", "Period name, one row per period in time order.")


def _row_columns(columns: list[Column]) -> list[Column]:
    return [c for c in columns if c.form != "series"]


def _series_columns(columns: list[Column]) -> list[Column]:
    return [c for c in columns if c.form in ("per_period", "series")]


SHEET_COLUMNS: dict[str, list[Column]] = {
    "Channels": _row_columns(_CHANNEL_COLUMNS),
    "KolTiers": [_TIER_CHANNEL, *_row_columns(_TIER_COLUMNS)],
    "Rules": _RULE_COLUMNS,
    "FixedCosts": _FIXED_COLUMNS,
}
_LIST_FIELDS = {"Channels": "channels", "Rules": "rules", "FixedCosts": "fixed_costs"}


# --- writing ---------------------------------------------------------------------------------


def write_template(scenario: Scenario) -> bytes:
    """The scenario as an .xlsx input workbook finance can fill in (see its Help sheet)."""
    data = scenario.model_dump(exclude_defaults=True)  # an empty cell is the default
    book = Workbook()
    _help_sheet(book.active)
    _scenario_sheet(book.create_sheet("Scenario"), data)
    _periods_sheet(book.create_sheet("Periods"), data)
    tiers = [
        {"channel": c["id"], **tier} for c in data["channels"] for tier in c.get("tiers") or []
    ]
    rows = {"Channels": data["channels"], "KolTiers": tiers}
    rows |= {"Rules": data.get("rules", []), "FixedCosts": data.get("fixed_costs", [])}
    for sheet, columns in SHEET_COLUMNS.items():
        _table_sheet(book.create_sheet(sheet), columns, rows[sheet])
    return _save(book)


def _save(book: Workbook) -> bytes:
    """The workbook's bytes, the same for the same content: fixed dates, fixed zip times."""
    book.properties.creator = "budgetopt"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    ExcelWriter(book, _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return buffer.getvalue()


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry FIXED_TIME instead of the time of writing."""

    def writestr(self, name: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(name, str):
            name = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            name.compress_type = zipfile.ZIP_DEFLATED
            name.external_attr = 0o600 << 16
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        with open(filename, "rb") as source:  # openpyxl streams worksheets to temporary files
            self.writestr(str(arcname or Path(filename).name), source.read())


def _help_sheet(sheet: Worksheet) -> None:
    sheet.title = HELP_SHEET
    for row, line in enumerate(_HELP_LINES, start=1):
        sheet.cell(row, 1, line).font = Font(bold=row == 1, size=14 if row == 1 else 11)
    start = len(_HELP_LINES) + 2
    _header(sheet, ["sheet", "column", "description"], row=start)
    for row, (name, column, text) in enumerate(_help_rows(), start=start + 1):
        sheet.cell(row, 1, name)
        sheet.cell(row, 2, column)
        sheet.cell(row, 3, text).alignment = _WRAP
    for letter, width in zip("ABC", (12, 42, 110), strict=True):
        sheet.column_dimensions[letter].width = width


_HELP_LINES = (
    "budgetopt scenario workbook",
    "Fill in the sheets, save, then check and plan the file in a terminal:",
    "    budgetopt validate FILE.xlsx     lists every problem with its sheet, cell and field",
    "    budgetopt plan FILE.xlsx         the best split (add --format xlsx --out plan.xlsx)",
    "    budgetopt batch FOLDER --out DIR every scenario file (.xlsx, .yaml) in a folder",
    "Scenario: one row per setting (field, value); the description column says what it means.",
    "Periods: one row per period, in time order, named in the 'period' column. Other columns "
    "hold one value per period: 'seasonality', '<channel id>.<field>' (e.g. "
    "live_traffic.period_max_spend_cny) or '<channel id>.<tier id>.capacity_fee_cny'.",
    "Channels: one row per channel. Its kind (paid, kol, private_domain, curve) says which "
    "columns apply: grey cells do not apply to the row's kind or type.",
    "KolTiers: one row per influencer tier; 'channel' is the id of its KOL channel.",
    "Rules: one row per rule; its kind says which value columns apply. FixedCosts: one row "
    "per fixed cost. Money is in CNY.",
    "An empty cell means 'not given': the default in the table below applies.",
    "A per-period field takes one number for every period on its own sheet, or a Periods "
    "column with one value per period; fill one of the two, not both.",
    "Lists (groups, tags, a rule's channels, groups and periods) are comma-separated text. "
    "Curve points are spend:value pairs separated by ';', e.g. 0:0; 1000000:3000000.",
    "Columns whose header starts with # are not read (use them for notes); nor are sheets "
    "with other names.",
)


def _help_rows() -> Iterator[tuple[str, str, str]]:
    for column in _SCENARIO_COLUMNS:
        yield "Scenario", column.name, column_help(column)
    yield "Periods", "period", column_help(_PERIOD)
    seasonality = next(c for c in _SCENARIO_COLUMNS if c.path == ("seasonality",))
    yield "Periods", "seasonality", column_help(seasonality)
    for column in _series_columns(_CHANNEL_COLUMNS):
        yield "Periods", f"<channel id>.{column.name}", column_help(column)
    for column in _series_columns(_TIER_COLUMNS):
        yield "Periods", f"<channel id>.<tier id>.{column.name}", column_help(column)
    for sheet, columns in SHEET_COLUMNS.items():
        for column in columns:
            yield sheet, column.name, column_help(column)


def _header(
    sheet: Worksheet, names: list[str], row: int = 1, notes: list[str] | None = None
) -> None:
    for index, name in enumerate(names, start=1):
        cell = sheet.cell(row, index, name)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        if notes and notes[index - 1]:
            cell.comment = Comment(notes[index - 1], "budgetopt", width=320, height=140)


def _scenario_sheet(sheet: Worksheet, data: dict[str, Any]) -> None:
    _header(sheet, ["field", "value", "description"])
    for row, column in enumerate(_SCENARIO_COLUMNS, start=2):
        sheet.cell(row, 1, column.name)
        _write_cell(sheet.cell(row, 2), _cell_out(_get_path(data, column.path), column), column)
        sheet.cell(row, 2).alignment = Alignment(wrap_text=True, horizontal="left")
        sheet.cell(row, 3, column_help(column)).alignment = _WRAP
        if column.form == "choice":
            _dropdown(sheet, column, f"B{row}")
    for letter, width in zip("ABC", (28, 40, 100), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"


def _periods_sheet(sheet: Worksheet, data: dict[str, Any]) -> None:
    series = list(_period_series(data))
    notes = [column_help(_PERIOD), *(column_help(c) for _, c, _ in series)]
    _header(sheet, ["period", *(n for n, _, _ in series)], notes=notes)
    for row, period in enumerate(data["periods"], start=2):
        _write_cell(sheet.cell(row, 1), period, _PERIOD)
        for index, (_, column, values) in enumerate(series, start=2):
            _write_cell(sheet.cell(row, index), values[row - 2], column)
    _fit_widths(sheet)
    sheet.freeze_panes = "B2"


def _period_series(data: dict[str, Any]) -> Iterator[tuple[str, Column, list[Any]]]:
    """Every per-period list of the scenario: (Periods header, column, values)."""
    for column in _SCENARIO_COLUMNS:
        if isinstance(data.get(column.path[0]), list) and column.form == "per_period":
            yield column.name, column, data[column.path[0]]
    for channel in data["channels"]:
        for column in _series_columns(_CHANNEL_COLUMNS):
            value = _get_path(channel, column.path)
            if isinstance(value, list):
                yield f"{channel['id']}.{column.name}", column, value
        for tier in channel.get("tiers") or []:
            for column in _series_columns(_TIER_COLUMNS):
                value = _get_path(tier, column.path)
                if isinstance(value, list):
                    yield f"{channel['id']}.{tier['id']}.{column.name}", column, value


def _table_sheet(sheet: Worksheet, columns: list[Column], rows: list[dict[str, Any]]) -> None:
    _header(sheet, [c.name for c in columns], notes=[column_help(c) for c in columns])
    for row, item in enumerate(rows, start=2):
        for index, column in enumerate(columns, start=1):
            value = _cell_out(_get_path(item, column.path), column)
            _write_cell(sheet.cell(row, index), value, column)
    last = max(FILL_ROWS, len(rows) + 1)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.form == "choice":
            _dropdown(sheet, column, f"{letter}2:{letter}{last}")
        _grey_when_not_applicable(sheet, columns, column, f"{letter}2:{letter}{last}")
    _fit_widths(sheet)
    keys = sum(1 for c in columns if c.path in (("id",), ("channel",)))
    sheet.freeze_panes = f"{get_column_letter(keys + 1)}2"


def _cell_out(value: Any, column: Column) -> Any:
    """What a cell shows for a field's value; lists per period go to the Periods sheet."""
    if value is None or (isinstance(value, list) and column.form not in ("ids", "points")):
        return None
    if column.form == "ids":
        return ", ".join(value) or None
    if column.form == "points":
        return "; ".join(f"{_number_text(a)}:{_number_text(b)}" for a, b in value)
    return value


def _write_cell(cell: Cell, value: Any, column: Column) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    money = column.path[-1].endswith("_cny")
    if money and isinstance(value, int | float) and not isinstance(value, bool):
        cell.number_format = "#,##0" if float(value).is_integer() else "#,##0.00"


def _dropdown(sheet: Worksheet, column: Column, cells: str) -> None:
    choices = ",".join(column.choices)
    check = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
    check.showErrorMessage = True
    check.error = f"Choose one of: {', '.join(column.choices)}"
    sheet.add_data_validation(check)
    check.add(cells)


def _grey_when_not_applicable(
    sheet: Worksheet, columns: list[Column], column: Column, cells: str
) -> None:
    """Grey the cells of a column that does not apply to the row's kind or type."""
    letters = {c.path: get_column_letter(i) for i, c in enumerate(columns, start=1)}
    tests = []
    for path, tags in column.only:
        if path in letters:
            ref = f"${letters[path]}2"
            tests.append("AND(" + ",".join([f'{ref}<>""', *(f'{ref}<>"{t}"' for t in tags)]) + ")")
    if tests:
        rule = FormulaRule(formula=[f"OR({','.join(tests)})"], fill=_GREY)
        sheet.conditional_formatting.add(cells, rule)


def _fit_widths(sheet: Worksheet) -> None:
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                shown = f"{cell.value:,}" if isinstance(cell.value, int | float) else cell.value
                width = _display_width(str(shown))
                widths[cell.column] = max(widths.get(cell.column, 0), width)
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _get_path(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


# --- reading ---------------------------------------------------------------------------------


def load_workbook_scenario(path: Path) -> Scenario:
    """Read and validate a scenario workbook; raise ScenarioError naming sheet, cell and field."""
    path = Path(path)
    data, cells = read_workbook(path)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_locate(p, cells, data) for p in problems_from(exc, {}, data)]
        raise ScenarioError(str(path), problems) from None


def read_workbook(path: Path) -> tuple[dict[str, Any], dict[Loc, str]]:
    """A workbook as the dict Scenario.model_validate takes, and the cell of each field path.

    The map also names the empty cell where a missing field would go, the row of each object
    (``"Channels row 3"``) and the sheet of each list, so every problem can point somewhere.
    """
    path = Path(path)
    tables = _read_tables(path, _read_bytes(path))
    reader = _Reader(tables)
    reader.run()
    if reader.problems:
        raise ScenarioError(str(path), reader.problems)
    return reader.data, reader.cells


def _fail(path: Path, message: str) -> ScenarioError:
    return ScenarioError(str(path), [FieldProblem("file", message)])


def _read_bytes(path: Path) -> bytes:
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
class _Bad:
    """A cell whose value cannot be used (a formula with no saved result, an Excel error)."""

    message: str


@dataclass
class _Table:
    """One sheet: its header row (column index -> name) and its non-empty rows below it."""

    sheet: str
    header_row: int
    header: list[tuple[int, Any]]
    rows: list[tuple[int, list[Any]]]


def _read_tables(path: Path, raw: bytes) -> dict[str, _Table]:
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
) -> _Table | None:
    """A sheet's non-empty rows: trimmed text, empty text as None, formula results or _Bad."""
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
        return _Table(name, 1, [], [])
    header_row, header = rows[0]
    named = [(i, v) for i, v in enumerate(header) if v is not None]
    return _Table(name, header_row, named, rows[1:])


def _clean(value: Any, typed: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value in ERROR_CODES:
            return _Bad(f"the cell shows the Excel error {value}: fix its formula or type a value")
        return value or None
    if value is None and _is_formula(typed):
        text = typed.text if isinstance(typed, ArrayFormula) else str(typed)
        return _Bad(
            f"a formula ({text}) with no saved result: open the file in Excel and save it, so "
            "the result is stored with it"
        )
    return value


def _is_formula(value: Any) -> bool:
    if isinstance(value, ArrayFormula | DataTableFormula):
        return True
    return isinstance(value, str) and value.startswith("=")


class _CellError(ValueError):
    """A cell's value cannot be read as its column expects."""


def _as_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    if isinstance(value, dt.date | dt.time):
        raise _CellError(
            f"expected text, got {show(value)}: Excel turned what was typed into a date; "
            "format the cell as Text and type it again"
        )
    return value


def _as_ids(value: Any) -> Any:
    value = _as_text(value)
    if not isinstance(value, str):
        return value
    return [item.strip() for item in _LIST_SPLIT.split(value) if item.strip()] or None


def _as_points(value: Any) -> list[list[Any]]:
    example = "spend:value pairs separated by ';', e.g. 0:0; 1000000:3000000"
    if not isinstance(value, str):
        raise _CellError(f"expected {example}, got {show(value)}")
    points = []
    for part in filter(None, (p.strip() for p in re.split(r"[;；\n]", value))):
        pair = [s.strip() for s in re.split(r"[:：]", part)]
        if len(pair) != 2 or not all(pair):
            raise _CellError(f"expected {example}, got {part!r}")
        points.append([_as_number(s) for s in pair])
    return points


def _as_number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # validation says it is not a number, naming the point


def _as_per_period(value: Any) -> Any:
    if isinstance(value, str) and _LIST_SPLIT.search(value):
        raise _CellError(
            f"expected one number for every period, got {show(value)}; for one value per "
            "period add a Periods column '<channel id>.<field>' (see Help)"
        )
    return value


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "text": _as_text,
    "choice": _as_text,
    "ids": _as_ids,
    "points": _as_points,
    "per_period": _as_per_period,
}


def _at(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def _ref(sheet: str, row: int, index: int) -> str:
    return f"{sheet}!{get_column_letter(index + 1)}{row}"


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _unknown(name: str, known: list[str], what: str = "column") -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{name}'{hint}; expected one of: {', '.join(known)}"


_ELSEWHERE = {
    "periods": "periods are the rows of the Periods sheet",
    "channels": "channels are the rows of the Channels sheet",
    "rules": "rules are the rows of the Rules sheet",
    "fixed_costs": "fixed costs are the rows of the FixedCosts sheet",
}


Resolved = tuple[Any, str | None]  # (what a header names, or None and what is wrong with it)


class _Reader:
    """Builds the scenario dict from the tables, noting each field's cell and each problem."""

    def __init__(self, tables: dict[str, _Table]) -> None:
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
        if isinstance(raw, _Bad):
            self.fail(ref, loc, raw.message)
            return None
        if raw is None:
            return None
        try:
            return _CONVERT.get(column.form, _same)(raw)
        except _CellError as exc:
            self.fail(ref, loc, str(exc))
            return None

    def header(self, table: _Table, known: list[Column]) -> dict[int, Any]:
        """Column index -> Column; unknown, repeated and unnamed columns are problems."""
        names = {c.name: c for c in known}

        def resolve(name: str) -> Resolved:
            return (names[name], None) if name in names else (None, _unknown(name, list(names)))

        return self.resolve_header(table, resolve)

    def resolve_header(self, table: _Table, resolve: Callable[[str], Resolved]) -> dict[int, Any]:
        """Map each named column through ``resolve``; '#' columns are notes, not read."""
        mapping: dict[int, Any] = {}
        seen: dict[str, str] = {}
        for index, raw in table.header:
            ref = _ref(table.sheet, table.header_row, index)
            if isinstance(raw, _Bad):
                self.fail(ref, None, f"expected a column name, got {raw.message}")
                continue
            name = _number_text(raw) if isinstance(raw, int | float) else str(raw)
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

    def unnamed(self, table: _Table) -> None:
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
        self, table: _Table, number: int, values: list[Any], columns: dict[int, Column], loc: Loc
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
        for column in _SCENARIO_COLUMNS:
            self.cells.setdefault(column.path[:1], "Scenario")
        table = self.tables["Scenario"]
        layout = ("field", "value", "description")

        def resolve(name: str) -> Resolved:
            return (name, None) if name in layout else (None, _unknown(name, list(layout)))

        where = {target: index for index, target in self.resolve_header(table, resolve).items()}
        if "field" not in where or "value" not in where:
            message = "expected a header row with columns field, value, description"
            self.fail(f"Scenario!A{table.header_row}", None, message)
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
        name = _number_text(name) if isinstance(name, int | float) else name
        if not isinstance(name, str):
            if _at(values, where["value"]) is not None:
                self.fail(name_ref, None, f"expected the field name of the value in {value_ref}")
            return
        known = {c.name: c for c in _SCENARIO_COLUMNS}
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
            self.fail(f"KolTiers!A{table.header_row}", None, "expected a column 'channel'")
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
        if isinstance(raw, _Bad):
            self.fail(ref, None, raw.message)
            return None
        cid = _number_text(raw) if isinstance(raw, int | float) else raw
        if cid in kol:
            return kol[cid]
        kinds = {c.get("id"): c.get("kind") for c in channels if isinstance(c.get("id"), str)}
        self.fail(ref, None, _not_kol(cid, kinds, list(kol)))
        return None

    def periods(self) -> None:
        """Periods: the period names, then one list per column of per-period values."""
        table = self.tables["Periods"]
        resolved = self.resolve_header(table, self.period_column)
        where = next((i for i, t in resolved.items() if t is _PERIOD), None)
        self.cells[("periods",)] = "Periods"
        if where is None:
            self.fail(f"Periods!A{table.header_row}", None, "expected a column 'period'")
            return
        self.cells[("periods",)] = _ref("Periods", table.header_row, where)
        for i, channel in enumerate(self.data.get("channels", [])):
            for _, (loc, column) in _channel_series(i, channel):
                if column.form == "series":
                    self.cells.setdefault(loc, "Periods")
        rows = self.period_rows(table, where, [i for i in resolved if i != where])
        for index, target in resolved.items():
            if target is not _PERIOD:
                self.series(table, index, target, rows)

    def period_rows(
        self, table: _Table, where: int, others: list[int]
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
            names.append(self.value(_at(values, where), _PERIOD, ref, ("periods", len(names))))
            rows.append((number, values))
        if names:
            self.data["periods"] = names
        return rows

    def period_column(self, name: str) -> Resolved:
        """A Periods header: the period names, or the field its values go to (loc, column)."""
        if name == "period":
            return _PERIOD, None
        scenario = {c.name: c for c in _series_columns(_SCENARIO_COLUMNS)}
        if name in scenario:
            return (scenario[name].path, scenario[name]), None
        channels = self.data.get("channels", [])
        ids = [c.get("id") for c in channels]
        head, _, rest = name.partition(".")
        if head not in ids:
            known = ", ".join(["period", *scenario, *(f"{i}.<field>" for i in ids)])
            close = difflib.get_close_matches(head, [str(i) for i in ids], n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return None, (
                f"unknown column '{name}': '{head}' is not a channel id on the Channels "
                f"sheet{hint}; expected one of: {known}"
            )
        channel = channels[ids.index(head)]
        targets = dict(_channel_series(ids.index(head), channel))
        if rest in targets:
            return targets[rest], None
        return None, _unknown_series(name, head, rest, channel, list(targets))

    def series(
        self,
        table: _Table,
        index: int,
        target: tuple[Loc, Column],
        rows: list[tuple[int, list[Any]]],
    ) -> None:
        """One Periods column: a list with one value per period, at its field."""
        loc, column = target
        if all(_at(values, index) is None for _, values in rows):
            return
        header = _ref("Periods", table.header_row, index)
        owner = _walk(self.data, loc[:-1])
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
    if field in {c.name for c in _series_columns(_TIER_COLUMNS)}:
        if channel.get("kind") != "kol":
            return f"unknown column '{name}': '{head}' is not a KOL channel, so it has no tiers"
        tiers = ", ".join(str(t.get("id")) for t in channel.get("tiers") or []) or "none"
        return (
            f"unknown column '{name}': '{tier}' is not a tier of '{head}' on the KolTiers "
            f"sheet (its tiers: {tiers})"
        )
    allowed = ", ".join(f"{head}.{t}" for t in targets)
    return f"unknown column '{name}'; for channel '{head}' expected one of: {allowed}"


def _same(value: Any) -> Any:
    return value


def _used_rows(table: _Table, columns: dict[int, Any]) -> list[tuple[int, list[Any]]]:
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


def _channel_series(
    index: int, channel: dict[str, Any]
) -> Iterator[tuple[str, tuple[Loc, Column]]]:
    """The Periods columns of one channel: name after '<channel id>.' -> (loc, column)."""
    for column in _series_columns(_CHANNEL_COLUMNS):
        yield column.name, (("channels", index, *column.path), column)
    for k, tier in enumerate(channel.get("tiers") or []):
        for column in _series_columns(_TIER_COLUMNS):
            loc = ("channels", index, "tiers", k, *column.path)
            yield f"{tier.get('id')}.{column.name}", (loc, column)


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


def _walk(data: Any, loc: Loc) -> Any:
    """The object at ``loc``, creating missing mappings on the way (``cpm.trend``)."""
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.setdefault(part, {})
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _not_kol(cid: Any, kinds: dict[Any, Any], kol_ids: list[Any]) -> str:
    known = ", ".join(map(str, kol_ids)) or "none on the Channels sheet"
    if cid is None:
        return f"expected the id of a KOL channel ({known}), got an empty cell"
    if cid in kinds:
        return f"'{cid}' is a {kinds[cid]} channel, not kol; KOL channels: {known}"
    return f"unknown channel {show(cid)}: expected the id of a KOL channel ({known})"


# --- validation problems -> cells ------------------------------------------------------------


def _locate(problem: FieldProblem, cells: dict[Loc, str], data: dict[str, Any]) -> FieldProblem:
    """A validation problem with the sheet and cell of its field in front of the field path."""
    loc = _parse_path(problem.path)
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


def _parse_path(path: str) -> Loc:
    """'channels[1].cpm.base_cny' -> ('channels', 1, 'cpm', 'base_cny')."""
    if path == "(top level)":
        return ()
    tokens = re.findall(r"\[(\d+)\]|([^.\[\]]+)", path)
    return tuple(int(index) if index else name for index, name in tokens)


def _filled_cell_under(loc: Loc, cells: dict[Loc, str], data: dict[str, Any]) -> str | None:
    """The first cell that gave a value somewhere under ``loc`` (a field that is not allowed)."""
    for key, ref in cells.items():
        if key[: len(loc)] == loc and len(key) > len(loc) and _walk_value(data, key) is not None:
            return ref
    return None


def _walk_value(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _not_applicable(loc: Loc, data: dict[str, Any]) -> str | None:
    """Why a filled cell's column does not apply to its row: the row's kind or type."""
    context = _row_context(loc, data)
    if context is None:
        return None
    columns, rel, item = context
    column = next((c for c in columns if c.path[: len(rel)] == rel and c.only), None)
    if column is None:
        return None
    applies = " and ".join(f"{'.'.join(p)} {' or '.join(t)}" for p, t in column.only)
    row = ", ".join(f"{'.'.join(p)} {_get_path(item, p)}" for p, _ in column.only)
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
    applies = all(_get_path(item, path) in tags for path, tags in column.only)
    return applies and any(text == "Required." for _, text in column.defaults)


def _series_header(loc: Loc, data: dict[str, Any]) -> str:
    channel = data["channels"][loc[1]]
    if loc[2] == "tiers":
        tier = channel["tiers"][loc[3]]
        return ".".join(map(str, (channel.get("id"), tier.get("id"), *loc[4:])))
    return ".".join(map(str, (channel.get("id"), *loc[2:])))


def _row_context(loc: Loc, data: dict[str, Any]) -> tuple[list[Column], Loc, Any] | None:
    """The columns of the sheet a field path belongs to, the path within its row, the row."""
    try:
        if loc[:1] == ("channels",) and len(loc) > 4 and loc[2] == "tiers":
            tier = data["channels"][loc[1]]["tiers"][loc[3]]
            return _TIER_COLUMNS, loc[4:], tier
        if len(loc) > 2 and loc[0] in ("channels", "rules", "fixed_costs"):
            columns = {"channels": _CHANNEL_COLUMNS, "rules": _RULE_COLUMNS}
            return columns.get(str(loc[0]), _FIXED_COLUMNS), loc[2:], data[loc[0]][loc[1]]
    except (KeyError, IndexError, TypeError):
        return None
    return _SCENARIO_COLUMNS, loc, data

"""Reading a hand-made split (spend by unit and period) from a CSV, with the line of each entry."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.text import read_text


class Allocation(dict[str, dict[str, float]]):
    """Spend by unit and period, read from a CSV; ``lines`` says where each entry was."""

    lines: dict[tuple[str, str], int]

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.lines = {}


def load_allocation(path: str | Path) -> Allocation:
    """Read a hand-made split: CSV with columns unit (or channel), period, spend_cny.

    A plan's own CSV output is accepted as is: only its ``unit_period`` rows are read.
    """
    path = Path(path)
    text = read_text(path).removeprefix("\ufeff")
    reader = csv.DictReader(text.splitlines())
    key = _unit_column(reader, path)
    allocation, problems = _read_rows(reader, key)
    if problems:
        raise _split_error(path, problems)
    if not allocation:
        problem = FieldProblem("file", "expected at least one allocation row, got none")
        raise _split_error(path, [problem])
    return allocation


def _unit_column(reader: csv.DictReader[str], path: Path) -> str:
    """The column naming units (unit, or channel); ScenarioError if the header lacks one."""
    try:
        columns = set(reader.fieldnames or [])
    except csv.Error as exc:
        raise _split_error(path, [FieldProblem("header", f"invalid CSV: {exc}", 1)]) from None
    key = "unit" if "unit" in columns else "channel"
    missing = {key, "period", "spend_cny"} - columns
    if missing:
        found = ", ".join(sorted(columns)) or "none"
        hint = ""
        if any(sep in name for name in columns for sep in (";", "\t")):
            hint = " (separate columns with commas)"
        problem = FieldProblem(
            "header",
            f"missing column(s) {', '.join(sorted(missing))}; expected unit (or channel), "
            f"period, spend_cny, got {found}{hint}",
            1,
        )
        raise _split_error(path, [problem])
    return key


def _read_rows(reader: csv.DictReader[str], key: str) -> tuple[Allocation, list[FieldProblem]]:
    """The split in the rows below the header, and what is wrong with any of them."""
    allocation = Allocation()
    first_line = allocation.lines
    problems: list[FieldProblem] = []
    width = len(reader.fieldnames or [])
    try:
        for row in reader:
            line_no = reader.line_num
            problem = _allocation_row_problem(row, key, width, line_no)
            if problem is not None:
                problems.append(problem)
                continue
            if row.get("level") not in (None, "", "unit_period"):
                continue  # a plan's own CSV: only its unit_period rows are a split
            unit, period = row[key].strip(), row["period"].strip()
            if (unit, period) in first_line:
                message = f"given twice (first on line {first_line[unit, period]})"
                problems.append(FieldProblem(f"{unit}/{period}", message, line_no))
                continue
            first_line[unit, period] = line_no
            allocation.setdefault(unit, {})[period] = float(row["spend_cny"])
    except csv.Error as exc:
        problems.append(FieldProblem("file", f"invalid CSV: {exc}", reader.line_num))
    return allocation, problems


def _split_error(path: Path, problems: list[FieldProblem]) -> ScenarioError:
    """A ScenarioError about the allocation file."""
    return ScenarioError(str(path), problems, subject="allocation")


def _allocation_row_problem(
    row: dict[Any, Any], key: str, width: int, line_no: int
) -> FieldProblem | None:
    """What is wrong with one CSV row, or None."""
    if None in row:
        extra = len(row[None])
        return FieldProblem(
            "row", f"expected {width} cells like the header, got {width + extra}", line_no
        )
    if row.get("level") not in (None, "", "unit_period"):
        return None  # a plan's own CSV: channel, period and total rows are not read
    for column in (key, "period", "spend_cny"):
        if row.get(column) is None:
            cells = sum(v is not None for v in row.values())
            return FieldProblem(
                column,
                f"missing value: expected {width} cells like the header, got {cells}",
                line_no,
            )
        if not row[column].strip():
            return FieldProblem(column, "expected a value, got an empty cell", line_no)
    raw = row["spend_cny"].strip()
    where = f"{row[key].strip()}/{row['period'].strip()}.spend_cny"
    try:
        value = float(raw)
    except ValueError:
        hint = " (write numbers without thousands separators)" if "," in raw else ""
        return FieldProblem(where, f"expected a number, got {raw!r}{hint}", line_no)
    if not math.isfinite(value) or value < 0:
        return FieldProblem(where, f"expected a finite number >= 0, got {raw!r}", line_no)
    return None

"""Reading scenario files (YAML, JSON or a workbook) with errors that name the field and the line.

``load_scenario`` reads the file (``text``), parses it noting each field's line (``document``)
or reads a workbook (``workbook``), and ``validate_scenario`` checks it against the schema and
the numbers derived from it against what a solver can take.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer.core.numbers import check_numbers
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.document import parse_document
from optimizer.inputs.text import read_text
from optimizer.schema.messages import Loc, nearest_line, parse_loc, problems_from, show
from optimizer.schema.scenario import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ScenarioError naming field and line."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):  # .xls: told to save as .xlsx
        from optimizer.inputs.workbook import load_workbook_scenario  # openpyxl only for workbooks

        return load_workbook_scenario(path)
    text = read_text(path)
    data, lines = parse_document(text, str(path), json_only=path.suffix.lower() == ".json")
    return validate_scenario(data, str(path), lines)


def validate_scenario(data: Any, source: str, lines: dict[Loc, int] | None = None) -> Scenario:
    """Validate parsed data against the schema; raise ScenarioError with paths and lines.

    Then check the numbers derived from the fields (the core's ``check_numbers``): a valid
    scenario a solver cannot take is refused here, where its lines are known, as before any
    solve.
    """
    if not isinstance(data, dict):
        got = "an empty document" if data is None else show(data)
        raise ScenarioError(
            source,
            [FieldProblem("file", f"expected a mapping of fields (version, name, ...), got {got}")],
        )
    lines = lines or {}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, problems_from(exc, lines, data)) from None
    try:  # numbers derived from valid fields that no solver can take, on the field's line
        check_numbers(scenario, source)
    except ScenarioError as exc:
        located = [replace(p, line=nearest_line(parse_loc(p.path), lines)) for p in exc.problems]
        raise ScenarioError(source, located) from None
    return scenario

"""Reading scenario files (YAML or JSON) with errors that name the field and the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.scenario import Scenario

MAX_FILE_BYTES = 5 * 1024 * 1024
Loc = tuple[str | int, ...]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ScenarioError naming field and line."""
    path = Path(path)
    text = read_text(path)
    data, lines = parse_document(text, str(path), json_only=path.suffix.lower() == ".json")
    return validate_scenario(data, str(path), lines)


def read_text(path: Path) -> str:
    """Return a file's UTF-8 text, or raise ScenarioError saying why it cannot be read."""
    if not path.exists():
        raise ScenarioError(str(path), [FieldProblem("file", "no such file")])
    if not path.is_file():
        raise ScenarioError(str(path), [FieldProblem("file", "not a regular file")])
    if path.stat().st_size > MAX_FILE_BYTES:
        limit = f"{MAX_FILE_BYTES // (1024 * 1024)} MiB"
        raise ScenarioError(str(path), [FieldProblem("file", f"larger than {limit}")])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start}): save the file as UTF-8"
        raise ScenarioError(str(path), [FieldProblem("file", message)]) from None
    except OSError as exc:
        raise ScenarioError(str(path), [FieldProblem("file", exc.strerror or str(exc))]) from None


def parse_document(
    text: str, source: str, *, json_only: bool = False
) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML (a superset of JSON) into data and a map from field path to 1-based line."""
    if json_only:
        try:
            return json.loads(text), {}
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                source, [FieldProblem("file", f"invalid JSON: {exc.msg}", exc.lineno)]
            ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(
            source, [FieldProblem("file", f"invalid YAML: {reason}", line)]
        ) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            lines[child] = key.start_mark.line + 1
            _collect_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _collect_lines(item, (*loc, i), lines)


def validate_scenario(data: Any, source: str, lines: dict[Loc, int] | None = None) -> Scenario:
    """Validate parsed data against the schema; raise ScenarioError with paths and lines."""
    if not isinstance(data, dict):
        got = type(data).__name__ if data is not None else "an empty document"
        raise ScenarioError(
            source, [FieldProblem("file", f"expected a mapping of fields, got {got}")]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, problems_from(exc, lines or {})) from None


def problems_from(exc: ValidationError, lines: dict[Loc, int]) -> list[FieldProblem]:
    """Turn pydantic errors into FieldProblems with a dotted path and the nearest line."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling against scenario.schema.json)"
        problems.append(FieldProblem(format_path(loc), message, _nearest_line(loc, lines)))
    return problems


_UNION_TAGS = frozenset(
    {
        "paid",
        "kol",
        "private_domain",
        "curve",
        "linear",
        "exponential",
        "hill",
        "piecewise",
        "index",
        "compound",
        "roas_floor",
        "cac_ceiling",
        "commission_cap",
        "gmv_share",
        "spend_limit",
    }
)


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union-tag segments ('paid', 'function-after[...]') that are not fields."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        after_union = i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] in _UNION_SLOTS)
        if isinstance(part, str) and ("[" in part or (after_union and part in _UNION_TAGS)):
            continue
        out.append(part)
    return tuple(out)


_UNION_SLOTS = frozenset({"saturation", "response", "trend"})


def format_path(loc: Loc) -> str:
    """Format ('channels', 2, 'cpm') as 'channels[2].cpm'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _nearest_line(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def load_allocation(path: str | Path) -> dict[str, dict[str, float]]:
    """Read a hand-made split: CSV with columns unit (or channel), period, spend_cny.

    A plan's own CSV output is accepted as is: only its ``unit_period`` rows are read.
    """
    import csv

    path = Path(path)
    text = read_text(path).removeprefix("\ufeff")
    reader = csv.DictReader(text.splitlines())
    columns = set(reader.fieldnames or [])
    key = "unit" if "unit" in columns else "channel"
    missing = {key, "period", "spend_cny"} - columns
    if missing:
        found = ", ".join(sorted(columns)) or "none"
        problem = FieldProblem(
            "header",
            f"missing column(s) {', '.join(sorted(missing))}; found "
            f"{found}; expected unit (or channel), period, spend_cny",
            1,
        )
        raise ScenarioError(str(path), [problem])
    allocation: dict[str, dict[str, float]] = {}
    problems = []
    for line_no, row in enumerate(reader, start=2):
        if row.get("level") not in (None, "", "unit_period"):
            continue
        unit, period, raw = row[key], row["period"], row["spend_cny"]
        try:
            value = float(raw)
        except (TypeError, ValueError):
            problems.append(FieldProblem("spend_cny", f"expected a number, got '{raw}'", line_no))
            continue
        if period in allocation.get(unit, {}):
            problems.append(FieldProblem(f"{unit}/{period}", "given twice", line_no))
        allocation.setdefault(unit, {})[period] = value
    if problems:
        raise ScenarioError(str(path), problems)
    if not allocation:
        raise ScenarioError(str(path), [FieldProblem("file", "no allocation rows")])
    return allocation

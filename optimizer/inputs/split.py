"""Reading a per-channel split {channel: CNY for the year}: from the command line
(``live=30e6,kol=20e6``) or a file (CSV with columns channel, spend_cny; or YAML/JSON)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.document import parse_document
from optimizer.inputs.text import read_text


def parse_split(text: str, source: str = "--split") -> dict[str, float]:
    """``live=30e6,kol=20e6`` as {channel: CNY}; ScenarioError naming each bad entry."""
    pairs = []
    problems = []
    for entry in (part.strip() for part in text.split(",")):
        channel, sign, amount = entry.partition("=")
        if not sign or not channel.strip():
            problems.append(
                FieldProblem(entry or "(empty)", "expected channel=CNY, e.g. live=30e6")
            )
            continue
        pairs.append((channel.strip(), amount.strip(), None))
    return _split(pairs, problems, source)


def load_split(path: str | Path) -> dict[str, float]:
    """A split from a file: CSV (channel, spend_cny) or a YAML/JSON mapping {channel: CNY}."""
    path = Path(path)
    text = read_text(path).removeprefix("\ufeff")
    if path.suffix.lower() == ".csv":
        return _from_csv(text, str(path))
    data, lines = parse_document(text, str(path))
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        problem = FieldProblem("file", f"expected a mapping {{channel: CNY}}, got {kind}")
        raise ScenarioError(str(path), [problem], subject="split")
    pairs = [(str(k), v, lines.get((k,))) for k, v in data.items()]
    return _split(pairs, [], str(path))


def _from_csv(text: str, source: str) -> dict[str, float]:
    """Rows of channel, spend_cny (the header names them; other columns are ignored)."""
    reader = csv.DictReader(text.splitlines())
    missing = {"channel", "spend_cny"} - set(reader.fieldnames or [])
    if missing:
        found = ", ".join(reader.fieldnames or []) or "none"
        absent = ", ".join(sorted(missing))
        message = f"missing column(s) {absent}; expected channel, spend_cny, got {found}"
        raise ScenarioError(source, [FieldProblem("header", message, 1)], subject="split")
    pairs = [
        ((row.get("channel") or "").strip(), (row.get("spend_cny") or "").strip(), reader.line_num)
        for row in reader
    ]
    return _split(pairs, [], source)


def _split(
    pairs: list[tuple[str, Any, int | None]], problems: list[FieldProblem], source: str
) -> dict[str, float]:
    """{channel: CNY} from (channel, amount, line) entries; each amount a finite number >= 0,
    each channel once, at least one channel."""
    split: dict[str, float] = {}
    for channel, raw, line in pairs:
        value = _amount(raw)
        if channel in split:
            problems.append(FieldProblem(channel, "given twice", line))
        elif value is None:
            problems.append(
                FieldProblem(channel, f"expected a number >= 0 (CNY), got {raw!r}", line)
            )
        else:
            split[channel] = value
    if not split and not problems:
        problems.append(FieldProblem("file", "expected at least one channel, got none"))
    if problems:
        raise ScenarioError(source, problems, subject="split")
    return split


def _amount(raw: Any) -> float | None:
    """A finite number >= 0 from text (30e6, 30_000_000) or a number; None otherwise."""
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None

"""The plain curve-parameter format: one row per channel, as CSV or YAML, for any other source.

Every row is a channel's fitted curve in CNY per week, its carry-over and, optionally, the
spend of the weeks before the plan. Columns (YAML: the same names as keys of each mapping
under ``channels``; CSV: a header row, lists separated by ``;``):

=======================  =====================================================================
column                   meaning
=======================  =====================================================================
id                       channel id (letters, digits, ``_``, ``-``); required
name                     display name; optional
response                 hill, logistic, tanh, michaelis_menten, exponential or linear
max_gmv_cny              GMV per week as spend grows without limit (all but linear)
half_saturation_cny      hill, michaelis_menten: weekly spend giving half of max_gmv_cny
shape                    hill: exponent (default 1)
scale_cny                logistic, tanh, exponential: weekly spend scale (logistic: 1 / lam)
roas                     linear: GMV per CNY
adstock                  none (default), geometric, weibull_cdf, weibull_pdf or weights
adstock_decay            geometric: share carried to the next week, 0 to below 1
adstock_max_lag          geometric: last lag in weeks
adstock_shape            weibull_*: Robyn's shape
adstock_scale            weibull_*: Robyn's scale (0 to 1)
adstock_window           weibull_*: Robyn's series length in weeks (default history + plan)
adstock_weights          weights: weight of lag 0, 1, 2, ...
adstock_normalize        true / false: divide the weights by their sum (default false)
adstock_order            before_saturation (default) or after_saturation
history_spend_cny        spend of the weeks before the plan, oldest first (needs adstock)
aov_cny                  average order value in CNY (default: the import's --aov-cny)
draws                    YAML only: the curve's draws as a scenario writes them (``response:``
                         and ``adstock:``, parameter -> one value per draw), passed through
=======================  =====================================================================

An import asking for fewer draws than the file holds takes that many, spread evenly and the
same for every channel (draw k stays one joint draw); ``draws 0`` leaves them out.

The formulas are budgetopt's own (README, "Import from a media-mix model").
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.document import parse_document
from optimizer.inputs.mmm.build import ImportedChannel, ImportOptions, scenario_document
from optimizer.inputs.mmm.draws import ModelImport, Sampling
from optimizer.inputs.text import read_text

RESPONSE_FIELDS = {
    "hill": ("max_gmv_cny", "half_saturation_cny"),
    "logistic": ("max_gmv_cny", "scale_cny"),
    "tanh": ("max_gmv_cny", "scale_cny"),
    "michaelis_menten": ("max_gmv_cny", "half_saturation_cny"),
    "exponential": ("max_gmv_cny", "scale_cny"),
    "linear": ("roas",),
}
OPTIONAL_RESPONSE = {"hill": ("shape",)}
ADSTOCK_FIELDS = {
    "geometric": {"adstock_decay": "decay", "adstock_max_lag": "max_lag"},
    "weibull_cdf": {"adstock_shape": "shape", "adstock_scale": "scale"},
    "weibull_pdf": {"adstock_shape": "shape", "adstock_scale": "scale"},
    "weights": {"adstock_weights": "weights_by_lag"},
}
ADSTOCK_OPTIONAL = {
    "adstock_window": "window",
    "adstock_normalize": "normalize",
    "adstock_order": "order",
}
COLUMNS = {
    "id",
    "name",
    "response",
    "max_gmv_cny",
    "half_saturation_cny",
    "shape",
    "scale_cny",
    "roas",
    "adstock",
    "adstock_decay",
    "adstock_max_lag",
    "adstock_shape",
    "adstock_scale",
    "adstock_window",
    "adstock_weights",
    "adstock_normalize",
    "adstock_order",
    "history_spend_cny",
    "aov_cny",
}
LISTS = ("adstock_weights", "history_spend_cny")


def import_params(path: Path, options: ImportOptions, draws: int = 0) -> ModelImport:
    """A scenario document from a CSV or YAML of curve parameters, one row per channel, with
    at most ``draws`` of the draws a YAML file gives (0: none)."""
    source = str(path)
    text = read_text(path).removeprefix("\ufeff")
    rows = _csv_rows(text, source) if path.suffix.lower() == ".csv" else _yaml_rows(text, source)
    problems: list[FieldProblem] = []
    channels = []
    for where, line, row in rows:
        try:
            channels.append(_channel(row, where, line))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(source, problems, subject="curve parameters")
    if not channels:
        raise ScenarioError(
            source, [FieldProblem("channels", "expected at least one row")], "curve parameters"
        )
    taken, notes = _take_draws(channels, draws)
    document = scenario_document(
        channels,
        options,
        name=f"Curves from {path.name}",
        description=f"Imported from the curve parameters in {path.name}.",
    )
    return ModelImport(document, tuple(notes), taken)


def _take_draws(channels: list[ImportedChannel], count: int) -> tuple[int, list[str]]:
    """Keep at most ``count`` of the file's draws: the same evenly spread ones for every
    channel, none for 0. Draws of uneven lengths are left for the schema to name. Returns
    the draws kept and the notes."""
    drawn = [(c, c.draws) for c in channels if c.draws]
    lengths = {len(v) for _, d in drawn for part in d.values() for v in part.values()}
    if not drawn or len(lengths) != 1:
        return 0, []
    sampling = Sampling.evenly(count, lengths.pop())
    for channel, draws in drawn:
        picked = {
            part: {name: [values[i] for i in sampling.picks] for name, values in params.items()}
            for part, params in draws.items()
        }
        channel.draws = picked if sampling.count else None
    if not sampling.count:
        return 0, ["the file's draws are left out (draws 0)"]
    return sampling.count, sampling.notes()


def _yaml_rows(text: str, source: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    data, lines = parse_document(text, source)
    rows = data.get("channels") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ScenarioError(
            source,
            [FieldProblem("channels", "expected a list of channels, one mapping each")],
            "curve parameters",
        )
    out = []
    for i, row in enumerate(rows):
        where = f"channels[{i}]"
        if not isinstance(row, dict):
            raise ScenarioError(
                source, [FieldProblem(where, "expected a mapping of fields")], "curve parameters"
            )
        out.append((where, lines.get(("channels", i)), row))
    return out


def _csv_rows(text: str, source: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    out = []
    try:
        for row in reader:
            line = reader.line_num
            values = {k: v.strip() for k, v in row.items() if k is not None and v and v.strip()}
            if None in row:
                raise ScenarioError(
                    source,
                    [FieldProblem(f"row {line}", "more values than header columns", line)],
                    "curve parameters",
                )
            for key in LISTS:
                if key in values:
                    values[key] = [v.strip() for v in values[key].split(";") if v.strip()]
            out.append((f"row {line}", line, values))
    except csv.Error as exc:
        problem = FieldProblem("file", f"invalid CSV: {exc}", reader.line_num)
        raise ScenarioError(source, [problem], "curve parameters") from None
    return out


def _channel(row: dict[str, Any], where: str, line: int | None) -> ImportedChannel:
    """One row as a curve channel; ScenarioError naming the row and the field."""

    def problem(field: str, message: str) -> ScenarioError:
        return ScenarioError("row", [FieldProblem(f"{where}.{field}", message, line)])

    unknown = sorted(set(row) - COLUMNS - {"draws"})  # draws: YAML only, checked below
    if unknown:
        raise problem(unknown[0], f"unknown column; expected some of {', '.join(sorted(COLUMNS))}")
    if not row.get("id"):
        raise problem("id", "missing: every channel needs an id")
    family = str(row.get("response", ""))
    if family not in RESPONSE_FIELDS:
        raise problem("response", f"expected one of {', '.join(RESPONSE_FIELDS)}, got {family!r}")
    response: dict[str, Any] = {"type": family}
    for field in RESPONSE_FIELDS[family] + OPTIONAL_RESPONSE.get(family, ()):
        if field in row:
            response[field] = _number(row[field])
        elif field not in OPTIONAL_RESPONSE.get(family, ()):
            raise problem(field, f"missing: a {family} response needs it")
    kind = str(row.get("adstock", "none") or "none")
    adstock: dict[str, Any] | None = None
    if kind != "none":
        if kind not in ADSTOCK_FIELDS:
            raise problem("adstock", f"expected none or {', '.join(ADSTOCK_FIELDS)}, got {kind!r}")
        adstock = {"type": kind}
        for column, field in ADSTOCK_FIELDS[kind].items():
            if column not in row:
                raise problem(column, f"missing: a {kind} adstock needs it")
            adstock[field] = _value(row[column])
        for column, field in ADSTOCK_OPTIONAL.items():
            if column in row:
                adstock[field] = _value(row[column])
    draws = row.get("draws")
    if draws is not None and not _is_draws(draws):
        raise problem(
            "draws",
            "expected a YAML mapping of response: and/or adstock:, each parameter -> a list of "
            "one value per draw (draws cannot be given in a CSV)",
        )
    history = [_number(v) for v in row.get("history_spend_cny", [])]
    if history and adstock is None:
        raise problem(
            "history_spend_cny", "history needs an adstock: its carry-over is all it adds"
        )
    return ImportedChannel(
        id=str(row["id"]),
        name=str(row["name"]) if row.get("name") else None,
        response=response,
        adstock=adstock,
        history_spend_cny=history,
        aov_cny=_number(row["aov_cny"]) if "aov_cny" in row else None,
        mean_weekly_spend_cny=sum(history) / len(history) if history else None,
        draws=draws or None,  # an empty block draws nothing
    )


def _is_draws(value: Any) -> bool:
    """Whether a row's draws have the shape of a scenario's (their values the schema checks)."""
    return (
        isinstance(value, dict)
        and set(value) <= {"response", "adstock"}
        and all(
            isinstance(part, dict) and all(isinstance(v, list) for v in part.values())
            for part in value.values()
        )
    )


def _value(raw: Any) -> Any:
    """A CSV cell as a number, true/false or a list of numbers (YAML values pass through)."""
    if isinstance(raw, list):
        return [_number(v) for v in raw]
    if isinstance(raw, str):
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return _number(raw)
    return raw


def _number(raw: Any) -> Any:
    """A number from a CSV cell; anything else is left for the schema to name."""
    if isinstance(raw, str):
        try:
            return int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            return raw
    return raw

"""What every importer shares: the options of an import, the channels it found, and the
scenario document assembled from them.

An importer turns a model file into ``ImportedChannel``s (a budgetopt response curve in CNY per
week, its adstock and the spend of the model's last weeks); ``scenario_document`` wraps them in
a scenario with the budget, periods and objective of ``ImportOptions``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.schema.carry import MAX_LAG

DEFAULT_AOV_CNY = 200.0
DEFAULT_WEEKS = 52


@dataclass(frozen=True)
class ImportOptions:
    """What the model file does not say: the plan's weeks, budget, order value and objective."""

    weeks: int = DEFAULT_WEEKS  # the plan's weeks, unless period_names (one per week) are given
    period_names: tuple[str, ...] = ()
    budget_total_cny: float | None = None
    aov_cny: float = DEFAULT_AOV_CNY
    objective: str = "max_gmv"
    gmv_target_cny: float | None = None
    gross_margin: float | None = None
    name: str | None = None

    @classmethod
    def with_periods(cls, periods: str | None, weeks: int, **fields: Any) -> ImportOptions:
        """Options whose plan periods come from comma-separated names (``2026-W01,2026-W02``),
        or W01 .. W<weeks> without them: what the command line and the API take."""
        names = tuple(p.strip() for p in periods.split(",") if p.strip()) if periods else ()
        return cls(weeks=len(names) or weeks, period_names=names, **fields)

    def periods(self) -> list[str]:
        """The plan's period names: as given, else W01, W02, ... for ``weeks`` weeks."""
        if self.period_names:
            return list(self.period_names)
        return [f"W{i + 1:02d}" for i in range(self.weeks)]


@dataclass
class ImportedChannel:
    """One budgetopt curve channel from a model: response in CNY per week of spend in CNY."""

    id: str
    response: dict[str, Any]
    adstock: dict[str, Any] | None = None
    history_spend_cny: list[float] = field(default_factory=list)
    name: str | None = None
    aov_cny: float | None = None
    mean_weekly_spend_cny: float | None = None
    cpm_index: list[float] | None = None
    new_customer_share: float | None = None
    draws: dict[str, Any] | None = None
    fit: dict[str, Any] | None = None

    def document(self, default_aov_cny: float) -> dict[str, Any]:
        """The channel as a scenario file writes it."""
        doc: dict[str, Any] = {"id": self.id, "kind": "curve"}
        if self.name and self.name != self.id:
            doc["name"] = self.name
        doc["response"] = self.response
        if self.cpm_index is not None:
            doc["cpm_index"] = self.cpm_index
        doc["aov_cny"] = self.aov_cny or default_aov_cny
        if self.new_customer_share is not None:
            doc["new_customer_share"] = self.new_customer_share
        if self.adstock is not None:
            doc["adstock"] = self.adstock
            if self.history_spend_cny:
                doc["history_spend_cny"] = self.history_spend_cny
        if self.draws:
            doc["draws"] = self.draws
        if self.fit is not None:
            doc["fit"] = self.fit
        return doc


def scenario_document(
    channels: list[ImportedChannel], options: ImportOptions, *, name: str, description: str
) -> dict[str, Any]:
    """A scenario (version 1) holding the imported channels, budget, periods and objective."""
    periods = options.periods()
    budget = options.budget_total_cny or _budget_from_history(channels, len(periods))
    objective: dict[str, Any] = {"kind": options.objective}
    if options.gmv_target_cny is not None:
        objective["gmv_target_cny"] = options.gmv_target_cny
    doc: dict[str, Any] = {
        "version": "1",
        "name": options.name or name,
        "description": description,
        "periods": periods,
        "budget": {"total_cny": budget},
        "objective": objective,
        "channels": [_plain(c.document(options.aov_cny)) for c in channels],
    }
    if options.gross_margin is not None:
        doc["accounting"] = {"gross_margin": options.gross_margin}
    return doc


def _plain(value: Any) -> Any:
    """Numbers as Python floats (not numpy scalars), so the document dumps as plain YAML."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    return int(value) if isinstance(value, Integral) else float(value)  # numpy's too


def _budget_from_history(channels: list[ImportedChannel], weeks: int) -> float:
    """The model's mean weekly spend (all channels) times the plan's weeks, rounded to CNY."""
    weekly = [c.mean_weekly_spend_cny for c in channels if c.mean_weekly_spend_cny is not None]
    total = round(sum(weekly) * weeks, 2)
    if not weekly or total <= 0:
        raise ScenarioError(
            "options",
            [
                FieldProblem(
                    "budget_total_cny",
                    "the model file holds no spend history to size the budget from: give the "
                    "total budget (--budget-cny)",
                )
            ],
            subject="import",
        )
    return total


def channel_id(label: str) -> str:
    """A scenario id from a model's channel name: letters, digits, '_' and '-' only."""
    cleaned = re.sub(r"[^\w\-]+", "_", str(label)).strip("_") or "channel"
    return cleaned[:64]


def history_cny(values: Any, lags: int) -> list[float]:
    """The model's spend of its last ``lags`` weeks (at most MAX_LAG), oldest first: the weeks
    whose carry-over reaches the plan."""
    keep = min(max(lags, 0), MAX_LAG)
    return [float(v) for v in list(values)[len(values) - keep :]] if keep else []


def fail(source: str, path: str, message: str) -> ScenarioError:
    """The error an importer raises: the file, where in it, and what is wrong."""
    return ScenarioError(source, [FieldProblem(path, message)], subject="model file")


def finite(value: Any) -> bool:
    """Whether a value is a real number (not NaN, not infinite)."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False

"""What-if results: sweeps, tornados and frontiers as data, and their JSON both ways.

``optimizer.analysis.whatif`` computes these; ``optimizer.outputs`` renders them as rows, tables
and charts; the API stores their JSON on a job and rebuilds them from it. Keeping the data here,
below all three, lets each import it without importing the others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from optimizer.results.plan import json_ready


@dataclass(frozen=True)
class Vary:
    """Fields to vary (a path may select several) and the values they take: absolute values
    (op ``set``), multipliers of the current values (``scale``) or amounts added (``shift``)."""

    path: str
    values: tuple[Any, ...]
    op: str = "set"

    @property
    def label(self) -> str:
        """The column naming its values: the path, with ``*`` for factors, ``+`` for shifts."""
        return self.path + {"scale": "*", "shift": "+"}.get(self.op, "")


@dataclass(frozen=True)
class Point:
    """One solved point: the values set, the plan's headline figures and spend by channel."""

    values: dict[str, Any]
    metrics: dict[str, Any]
    spend_by_channel: dict[str, float]
    error: str | None = None

    def row(self) -> dict[str, Any]:
        """Flat row for CSV and Excel: values, metrics, then spend_cny:<channel>."""
        spend = {f"spend_cny:{c}": v for c, v in self.spend_by_channel.items()}
        return {**self.values, **self.metrics, **spend, "error": self.error}


@dataclass(frozen=True)
class Sweep:
    """A grid over one or more fields (every combination), in grid order."""

    scenario: str
    varies: list[Vary]
    points: list[Point]
    channels: list[str]


@dataclass(frozen=True)
class TornadoBar:
    """One field moved alone: the metric at each of its values, and the swing it causes."""

    path: str
    base_value: Any
    points: list[Point]
    low: float | None
    high: float | None

    @property
    def swing(self) -> float:
        """Spread of the metric over this field's values (0 when no point has a plan)."""
        return 0.0 if self.low is None or self.high is None else self.high - self.low


@dataclass(frozen=True)
class Tornado:
    """One-at-a-time sensitivities around the scenario as given, widest swing first."""

    scenario: str
    metric: str
    base: Point
    bars: list[TornadoBar]
    channels: list[str]


@dataclass(frozen=True)
class FrontierPoint:
    """The best plan at one total budget, and the return on the money added since the last."""

    budget_total_cny: float
    point: Point
    spend_basis_cny: float | None
    marginal_roas: float | None
    marginal_gmv_per_budget: float | None


@dataclass(frozen=True)
class Frontier:
    """GMV, profit and ROAS against the total budget, with the budgets where returns fall off.

    ``marginal_roas`` of a point is GMV gained per extra yuan of spend (on the scenario's spend
    basis) between the previous budget and this one. ``below_one_cny`` and ``below_floor_cny``
    are where that return crosses 1 and the ROAS floor, interpolated between interval midpoints.
    """

    scenario: str
    objective: str
    points: list[FrontierPoint]
    roas_floor: float | None
    below_one_cny: float | None
    below_floor_cny: float | None
    channels: list[str]
    notes: list[str] = field(default_factory=list)


WhatIf = Sweep | Tornado | Frontier


# --- JSON both ways ----------------------------------------------------------------------------


def frontier_summary(frontier: Frontier) -> dict[str, Any]:
    """Where returns fall off: the ROAS floor and the budgets where marginal ROAS crosses."""
    return {
        "scenario": frontier.scenario,
        "objective": frontier.objective,
        "roas_floor": frontier.roas_floor,
        "marginal_roas_below_1_at_budget_cny": frontier.below_one_cny,
        "marginal_roas_below_floor_at_budget_cny": frontier.below_floor_cny,
        "notes": frontier.notes,
    }


def to_json_data(result: WhatIf) -> dict[str, Any]:
    """JSON-ready dictionary of a what-if result (NaN and infinities become None)."""
    data = json_ready(asdict(result))
    if isinstance(result, Tornado):
        for bar, raw in zip(result.bars, data["bars"], strict=True):
            raw["swing"] = bar.swing
    if isinstance(result, Frontier):
        data["summary"] = frontier_summary(result)
    return data


def from_json_data(kind: str, data: dict[str, Any]) -> WhatIf:
    """Rebuild a result from ``to_json_data`` output (a stored job result); kind: sweep,
    tornado or frontier."""
    if kind == "tornado":
        return _tornado(data)
    if kind == "frontier":
        return _frontier(data)
    varies = [Vary(v["path"], tuple(v["values"]), v.get("op", "set")) for v in data["varies"]]
    return Sweep(data["scenario"], varies, _points(data["points"]), data["channels"])


def _tornado(data: dict[str, Any]) -> Tornado:
    bars = [
        TornadoBar(b["path"], b["base_value"], _points(b["points"]), b["low"], b["high"])
        for b in data["bars"]
    ]
    return Tornado(data["scenario"], data["metric"], _point(data["base"]), bars, data["channels"])


def _frontier(data: dict[str, Any]) -> Frontier:
    points = [
        FrontierPoint(
            p["budget_total_cny"],
            _point(p["point"]),
            p["spend_basis_cny"],
            p["marginal_roas"],
            p["marginal_gmv_per_budget"],
        )
        for p in data["points"]
    ]
    return Frontier(
        data["scenario"],
        data["objective"],
        points,
        data["roas_floor"],
        data["below_one_cny"],
        data["below_floor_cny"],
        data["channels"],
        data.get("notes", []),
    )


def _points(raw: list[dict[str, Any]]) -> list[Point]:
    return [_point(p) for p in raw]


def _point(raw: dict[str, Any]) -> Point:
    return Point(raw["values"], raw["metrics"], raw["spend_by_channel"], raw.get("error"))

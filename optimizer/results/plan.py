"""The plan a user sees, as data: allocation, metrics, rule report and how it was solved.

``build`` assembles a Plan from a spend on the true curves; ``serialise`` writes it (the one
serialiser); ``to_dict`` and ``from_dict`` are its JSON round trip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, is_dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import numpy as np

METRICS = (
    "spend_cny",
    "commission_cny",
    "impressions",
    "orders",
    "gmv_cny",
    "new_customers",
    "roas",
    "cac_cny",
    "marginal_roas",
)


@dataclass(frozen=True)
class Metrics:
    """Totals for one slice of the plan (a channel, a period, a channel-period, or all)."""

    spend_cny: float
    commission_cny: float
    impressions: float | None
    orders: float
    gmv_cny: float
    new_customers: float
    roas: float | None
    cac_cny: float | None
    marginal_roas: float | None


@dataclass(frozen=True)
class RuleCheck:
    """One rule re-evaluated at the plan: its measured value, limit, slack and whether it binds.

    ``shadow_price`` is the solver's dual: objective change per unit of the row's right-hand
    side. ``value_of_relaxing`` turns it into the objective improvement per unit the rule's
    limit is loosened (budget +1 CNY, ROAS floor -1.0, CAC ceiling +1 CNY, share +1.0 = 100
    points); it is >= 0 for a binding inequality and 0 for one with slack.
    """

    name: str
    kind: str
    description: str
    value: float | None
    limit: float
    sense: str
    slack: float
    binds: bool
    holds: bool
    shadow_price: float | None = None
    value_of_relaxing: float | None = None


@dataclass(frozen=True)
class SolverInfo:
    """How the plan was found: backend, status, rounds, bound and the gap reached."""

    solver: str
    status: str
    rounds: int
    tolerance: float
    gap: float | None
    bound: float | None
    is_mip: bool
    mip_gap: float | None
    polished: bool
    message: str
    evidence: str | None = None  # for "infeasible": proven, or confirmed by a second solver
    seconds: float = 0.0  # wall clock: in the table, never in the JSON (same input, same bytes)


@dataclass(frozen=True)
class Plan:
    """A full plan or evaluation, ready for table, JSON or CSV output."""

    scenario: str
    fingerprint: str
    version: str
    status: str
    message: str
    objective_kind: str
    objective_value: float | None
    periods: list[str]
    channels: list[str]
    units: list[str]
    names: dict[str, str]
    spend: dict[str, dict[str, float]]
    by_unit_period: dict[str, dict[str, Metrics]]
    by_channel: dict[str, Metrics]
    by_period: dict[str, Metrics]
    total: Metrics | None
    fixed_costs_cny: float
    contingency_cny: float
    budget_total_cny: float
    gross_profit_cny: float | None
    rules: list[RuleCheck]
    solver: SolverInfo | None
    conflict: list[str] = field(default_factory=list)
    diagnosis: list[Any] = field(default_factory=list)
    comparison: dict[str, Any] | None = None
    activation_costs_cny: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    # evaluations only: the per-channel split scored ({by_channel_cny, spread, spread_evenly})
    # and the one-line verdict on it; None on plans
    split: dict[str, Any] | None = None
    verdict: str | None = None
    # channels with adstock only: GMV after the plan's last period that its spend brings, GMV
    # in the plan's periods that spend before the plan brings, and whether the objective
    # counts the former ({counted_in_objective, gmv_after_cny, gmv_from_history_cny,
    # by_channel: {id: {gmv_after_cny, gmv_from_history_cny}}}); None without adstock
    carry_over: dict[str, Any] | None = None
    # curves with draws only: P10 / P50 / P90 and mean over the draws ({draws, total: {gmv_cny,
    # roas, cac_cny, gross_profit_cny}, by_channel: {id: {gmv_cny, roas}}, by_period: {p:
    # {gmv_cny}}, rules: [{name, description, probability, value}]}); None without draws
    ranges: dict[str, Any] | None = None
    # what the reader should know before trusting a number (spend far outside the history a
    # curve was fitted on)
    warnings: list[str] = field(default_factory=list)
    # a risk-aware objective ({measure: mean | cvar, level}) or None: what objective_value is
    risk: dict[str, Any] | None = None

    @property
    def is_feasible(self) -> bool:
        """True when a plan was found and every rule holds on the true curves."""
        return self.total is not None and all(r.holds for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (NaN and infinities become None), without wall-clock
        time, so that the same scenario gives the same bytes on every route and run."""
        data = json_ready(self)
        if data["solver"] is not None:
            del data["solver"]["seconds"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Rebuild a plan from ``to_dict`` output (a stored plan, for exports)."""

        def metrics(value: dict[str, Any] | None) -> Metrics | None:
            return None if value is None else Metrics(**value)

        fields = dict(data)
        fields["by_unit_period"] = {
            unit: {p: metrics(m) for p, m in by.items()}
            for unit, by in data["by_unit_period"].items()
        }
        fields["by_channel"] = {k: metrics(m) for k, m in data["by_channel"].items()}
        fields["by_period"] = {k: metrics(m) for k, m in data["by_period"].items()}
        fields["total"] = metrics(data["total"])
        fields["rules"] = [RuleCheck(**r) for r in data["rules"]]
        fields["solver"] = None if data["solver"] is None else SolverInfo(**data["solver"])
        return cls(**fields)


def json_ready(value: Any) -> Any:
    """Plain JSON-ready data: dataclasses become dicts of their fields (one pass, no deep
    copies: ``dataclasses.asdict`` took a fifth of a small plan's time through the API),
    numpy numbers Python ones, NaN and infinities None."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {k: json_ready(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [json_ready(v) for v in value]
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclass_fields(value)}
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value

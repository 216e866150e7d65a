"""The result a user sees: allocation, metrics recomputed on the true curves, rule report.

Nothing here trusts a solver's figure: every metric is computed from the response model at the
returned spend, and every rule is re-evaluated there with its slack.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from optimizer.core.checks import FEASIBILITY_TOLERANCE, SolveResult, row_scale, row_slack
from optimizer.core.forms import Row, Switch, is_used
from optimizer.core.problem import Problem
from optimizer.core.solvers import library_versions
from optimizer.core.solvers.output import highs_options
from optimizer.schema.scenario import Scenario, SolveSettings

BINDING_TOLERANCE = 1e-4
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


def package_version() -> str:
    """Installed budgetopt version (or 0+unknown when run from a bare checkout)."""
    try:
        return metadata.version("budgetopt")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def fingerprint(scenario: Scenario, run: SolveSettings | None = None) -> str:
    """Hash of everything that can change a plan's numbers: the normalised scenario with the
    solve settings in force (``run`` overrides the scenario's own), the package version and
    the versions of the solver libraries. Same fingerprint, same plan, byte for byte."""
    if run is not None:
        scenario = scenario.model_copy(update={"settings": run})
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    libraries = json.dumps(library_versions(), sort_keys=True)
    digest = hashlib.sha256(f"{package_version()}\n{libraries}\n{canonical}".encode())
    return digest.hexdigest()[:16]


def run_settings(run: SolveSettings) -> dict[str, Any]:
    """What a plan records of how it was solved: every setting that can change its numbers."""
    return {
        **run.model_dump(mode="json"),
        "highs": {
            k: v for k, v in highs_options(0.0, run.tolerance / 10).items() if k != "time_limit"
        },
        "blas_threads": 1,
        "libraries": library_versions(),
    }


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

    @property
    def is_feasible(self) -> bool:
        """True when a plan was found and every rule holds on the true curves."""
        return self.total is not None and all(r.holds for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (NaN and infinities become None), without wall-clock
        time, so that the same scenario gives the same bytes on every route and run."""
        data = json_ready(asdict(self))
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
    """Plain JSON-ready data: numpy numbers become Python ones, NaN and infinities None."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# --- building ----------------------------------------------------------------------------------


class _Tables:
    """Per unit-period metric arrays at a spend, on the true curves."""

    def __init__(self, problem: Problem, spend: np.ndarray) -> None:
        s = problem.scenario
        self.spend = spend
        self.gmv = problem.gmv(spend)
        self.rate = problem.unit_constant("commission_rate")
        self.commission = self.rate * self.gmv
        self.orders = self.gmv / problem.unit_constant("aov_cny")
        self.new = self.orders * problem.unit_constant("new_customer_share")
        self.marginal = problem.marginal_roas(spend)
        self.acquiring = problem.unit_constant("counts_toward_cac") > 0
        basis_commission = s.accounting.spend_basis == "media_plus_commission"
        self.basis = spend + (self.commission if basis_commission else 0.0)
        cpm = [
            u.cpm_cny if u.cpm_cny is not None else np.full(len(s.periods), np.nan)
            for u in problem.units
        ]
        self.impressions = 1000.0 * spend / np.stack(cpm)

    def metrics(self, mask: np.ndarray) -> Metrics:
        spend = float(np.sum(self.spend[mask]))
        gmv = float(np.sum(self.gmv[mask]))
        basis = float(np.sum(self.basis[mask]))
        acq_spend = float(np.sum(self.basis[mask & self.acquiring]))
        acq_new = float(np.sum(self.new[mask & self.acquiring]))
        impressions = self.impressions[mask]
        known = impressions[np.isfinite(impressions)]
        weights = self.spend[mask]
        marginal = self.marginal[mask]
        finite = np.isfinite(marginal)
        if weights[finite].sum() > 0:
            marginal_roas = float(np.average(marginal[finite], weights=weights[finite]))
        elif finite.any():
            marginal_roas = float(np.max(marginal[finite]))
        else:
            marginal_roas = None
        return Metrics(
            spend_cny=spend,
            commission_cny=float(np.sum(self.commission[mask])),
            impressions=float(known.sum()) if known.size else None,
            orders=float(np.sum(self.orders[mask])),
            gmv_cny=gmv,
            new_customers=float(np.sum(self.new[mask])),
            roas=gmv / basis if basis > 0 else None,
            cac_cny=acq_spend / acq_new if acq_new > 0 else None,
            marginal_roas=marginal_roas,
        )


def check_rule(
    row: Row,
    spend: np.ndarray,
    gmv: np.ndarray,
    dual: float | None = None,
    maximise: bool = True,
) -> RuleCheck:
    """Re-evaluate one rule on the true curves; price it from the solver's dual if given."""
    num = row.num.evaluate(spend, gmv)
    if row.den is None:
        value: float | None = num
    else:
        den = row.den.evaluate(spend, gmv)
        value = num / den if abs(den) > 1e-12 else None
    slack = row_slack(row, spend, gmv)
    scale = row_scale(row, spend, gmv)
    if value is not None:
        measured_slack = {"<=": row.limit - value, ">=": value - row.limit}.get(
            row.sense, -abs(value - row.limit)
        )
    else:
        measured_slack = slack
    return RuleCheck(
        name=row.name,
        kind=row.kind,
        description=row.description,
        value=value,
        limit=row.limit,
        sense=row.sense,
        slack=measured_slack,
        # A ratio rule over a scope with no spend and no GMV is trivially 0 >= 0: not binding.
        binds=abs(slack) <= BINDING_TOLERANCE * scale and (row.den is None or value is not None),
        holds=slack >= -FEASIBILITY_TOLERANCE * scale,
        shadow_price=dual,
        value_of_relaxing=_value_of_relaxing(row, spend, gmv, dual, maximise),
    )


def _value_of_relaxing(
    row: Row, spend: np.ndarray, gmv: np.ndarray, dual: float | None, maximise: bool
) -> float | None:
    """Objective improvement per unit the limit is loosened, from d objective / d rhs.

    A ratio rule ``num - limit * den (sense) 0`` moves its right-hand side by ``den`` per unit
    of limit; loosening is raising a ``<=`` limit and lowering a ``>=`` one.
    """
    if dual is None:
        return None
    per_unit = 1.0 if row.den is None else row.den.evaluate(spend, gmv)
    direction = -1.0 if row.sense == ">=" else 1.0
    change = dual * direction * per_unit
    return change if maximise else -change


def _dual(result: SolveResult | None, index: int) -> float | None:
    if result is None or result.row_duals is None:
        return None
    return float(result.row_duals[index])


def build_plan(
    problem: Problem,
    result: SolveResult | None,
    spend: np.ndarray | None,
    tolerance: float,
    run: SolveSettings | None = None,
) -> Plan:
    """Assemble a plan from a spend array (None when no plan was found); ``run`` is the
    settings the solve used (None for a scored split)."""
    s = problem.scenario
    solver = None
    if result is not None:
        solver = SolverInfo(
            solver=result.solver,
            status=result.status,
            rounds=result.rounds,
            tolerance=tolerance,
            gap=result.gap,
            bound=result.bound,
            is_mip=result.is_mip,
            mip_gap=result.mip_gap,
            polished=result.polished,
            message=result.message,
            evidence=result.evidence,
            seconds=result.seconds,
        )
    status = result.status if result is not None else "evaluated"
    message = result.message if result is not None else ""
    base: dict[str, Any] = dict(
        scenario=s.name,
        fingerprint=fingerprint(s, run),
        settings=run_settings(run) if run is not None else {},
        version=package_version(),
        status=status,
        message=message,
        objective_kind=s.objective.kind,
        periods=list(s.periods),
        channels=s.channel_ids(),
        units=[u.id for u in problem.units],
        names={c.id: c.name or c.id for c in s.channels} | {u.id: u.name for u in problem.units},
        fixed_costs_cny=sum(c.amount_cny for c in s.fixed_costs),
        contingency_cny=s.budget.contingency_cny,
        budget_total_cny=s.budget.total_cny,
        solver=solver,
        conflict=list(result.conflict) if result is not None else [],
        diagnosis=list(result.diagnosis) if result is not None else [],
    )
    if spend is None:
        return Plan(
            **base,
            objective_value=None,
            spend={},
            by_unit_period={},
            by_channel={},
            by_period={},
            total=None,
            gross_profit_cny=None,
            rules=[],
        )
    tables = _Tables(problem, spend)
    n_units, n_periods = spend.shape
    channel_of = np.array([u.channel for u in problem.units])
    period_index = np.arange(n_periods)

    def cell(unit_mask: np.ndarray, period_mask: np.ndarray) -> np.ndarray:
        return unit_mask[:, None] & period_mask[None, :]

    all_units = np.ones(n_units, dtype=bool)
    all_periods = np.ones(n_periods, dtype=bool)
    total = tables.metrics(cell(all_units, all_periods))
    margin = s.accounting.gross_margin
    profit = None
    if margin is not None:
        profit = (
            margin * total.gmv_cny
            - total.spend_cny
            - total.commission_cny
            - base["fixed_costs_cny"]
            - problem.activation_cost(spend)
        )
    return Plan(
        **base,
        objective_value=problem.objective.evaluate(spend, tables.gmv),
        spend={
            u.id: {p: float(spend[i, t]) for t, p in enumerate(s.periods)}
            for i, u in enumerate(problem.units)
        },
        by_unit_period={
            u.id: {
                p: tables.metrics(cell(np.arange(n_units) == i, period_index == t))
                for t, p in enumerate(s.periods)
            }
            for i, u in enumerate(problem.units)
        },
        by_channel={c: tables.metrics(cell(channel_of == c, all_periods)) for c in s.channel_ids()},
        by_period={
            p: tables.metrics(cell(all_units, period_index == t)) for t, p in enumerate(s.periods)
        },
        total=total,
        gross_profit_cny=profit,
        activation_costs_cny=problem.activation_cost(spend),
        rules=[
            check_rule(row, spend, tables.gmv, _dual(result, r), problem.maximise)
            for r, row in enumerate(problem.rows)
        ]
        + [check_switch(switch, spend) for switch in problem.switches],
    )


def check_switch(switch: Switch, spend: np.ndarray) -> RuleCheck:
    """'0 or at least X' re-checked at the plan; the value is the channel's total spend."""
    total = float(np.sum(spend[switch.mask]))
    used = is_used(spend, switch.mask)
    minimum = switch.min_if_used_cny
    slack = total - minimum if used else 0.0
    cost = (
        f", activation {switch.activation_cost_cny:,.0f} CNY" if switch.activation_cost_cny else ""
    )
    return RuleCheck(
        name=f"{switch.channel}.if_used",
        kind="min_spend_if_used",
        description=f"{switch.channel} spends 0 or at least {minimum:,.0f} CNY{cost}",
        value=total,
        limit=minimum,
        sense=">=",
        slack=slack,
        binds=used and abs(slack) <= BINDING_TOLERANCE * max(minimum, 1.0),
        holds=slack >= -FEASIBILITY_TOLERANCE * max(minimum, 1.0),
    )

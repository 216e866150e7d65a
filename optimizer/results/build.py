"""Assemble the plan a user sees: allocation, metrics recomputed on the true curves, rule report.

Nothing here trusts a solver's figure: every metric is computed from the response model at the
returned spend, and every rule is re-evaluated there with its slack (``rules``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.core.checks import SolveResult
from optimizer.core.problem import Problem
from optimizer.results.fingerprint import fingerprint, package_version, run_settings
from optimizer.results.plan import Metrics, Plan, SolverInfo
from optimizer.results.rules import check_rule, check_switch
from optimizer.schema.scenario import SolveSettings


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
        """Totals over the masked unit-periods."""
        spend = float(np.sum(self.spend[mask]))
        gmv = float(np.sum(self.gmv[mask]))
        basis = float(np.sum(self.basis[mask]))
        acq_spend = float(np.sum(self.basis[mask & self.acquiring]))
        acq_new = float(np.sum(self.new[mask & self.acquiring]))
        impressions = self.impressions[mask]
        known = impressions[np.isfinite(impressions)]
        return Metrics(
            spend_cny=spend,
            commission_cny=float(np.sum(self.commission[mask])),
            impressions=float(known.sum()) if known.size else None,
            orders=float(np.sum(self.orders[mask])),
            gmv_cny=gmv,
            new_customers=float(np.sum(self.new[mask])),
            roas=gmv / basis if basis > 0 else None,
            cac_cny=acq_spend / acq_new if acq_new > 0 else None,
            marginal_roas=self.marginal_roas(mask),
        )

    def marginal_roas(self, mask: np.ndarray) -> float | None:
        """Spend-weighted marginal ROAS (the steepest one where nothing is spent)."""
        weights = self.spend[mask]
        marginal = self.marginal[mask]
        finite = np.isfinite(marginal)
        if weights[finite].sum() > 0:
            return float(np.average(marginal[finite], weights=weights[finite]))
        if finite.any():
            return float(np.max(marginal[finite]))
        return None


def build_plan(
    problem: Problem,
    result: SolveResult | None,
    spend: np.ndarray | None,
    tolerance: float,
    run: SolveSettings | None = None,
) -> Plan:
    """Assemble a plan from a spend array (None when no plan was found); ``run`` is the
    settings the solve used (None for a scored split)."""
    header = _header(problem, result, tolerance, run)
    if spend is None:
        return Plan(
            **header,
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
    breakdown = _breakdown(problem, tables)
    return Plan(
        **header,
        **breakdown,
        objective_value=problem.objective.evaluate(spend, tables.gmv),
        gross_profit_cny=_gross_profit(problem, breakdown["total"], spend),
        activation_costs_cny=problem.activation_cost(spend),
        rules=[
            check_rule(row, spend, tables.gmv, _dual(result, r), problem.maximise)
            for r, row in enumerate(problem.rows)
        ]
        + [check_switch(switch, spend) for switch in problem.switches],
    )


def _header(
    problem: Problem, result: SolveResult | None, tolerance: float, run: SolveSettings | None
) -> dict[str, Any]:
    """What every plan says, found or not: its scenario, settings, budget and verdict."""
    s = problem.scenario
    return dict(
        scenario=s.name,
        fingerprint=fingerprint(s, run),
        settings=run_settings(run) if run is not None else {},
        version=package_version(),
        status=result.status if result is not None else "evaluated",
        message=result.message if result is not None else "",
        objective_kind=s.objective.kind,
        periods=list(s.periods),
        channels=s.channel_ids(),
        units=[u.id for u in problem.units],
        names={c.id: c.name or c.id for c in s.channels} | {u.id: u.name for u in problem.units},
        fixed_costs_cny=sum(c.amount_cny for c in s.fixed_costs),
        contingency_cny=s.budget.contingency_cny,
        budget_total_cny=s.budget.total_cny,
        solver=_solver_info(result, tolerance),
        conflict=list(result.conflict) if result is not None else [],
        diagnosis=list(result.diagnosis) if result is not None else [],
    )


def _solver_info(result: SolveResult | None, tolerance: float) -> SolverInfo | None:
    """How the plan was found (None for a scored split)."""
    if result is None:
        return None
    return SolverInfo(
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


def _breakdown(problem: Problem, tables: _Tables) -> dict[str, Any]:
    """The spend and the metrics by unit-period, channel, period and in total."""
    s = problem.scenario
    n_units, n_periods = tables.spend.shape
    channel_of = np.array([u.channel for u in problem.units])
    unit_index, period_index = np.arange(n_units), np.arange(n_periods)
    all_units = np.ones(n_units, dtype=bool)
    all_periods = np.ones(n_periods, dtype=bool)

    def cell(unit_mask: np.ndarray, period_mask: np.ndarray) -> Metrics:
        return tables.metrics(unit_mask[:, None] & period_mask[None, :])

    return dict(
        spend={
            u.id: {p: float(tables.spend[i, t]) for t, p in enumerate(s.periods)}
            for i, u in enumerate(problem.units)
        },
        by_unit_period={
            u.id: {p: cell(unit_index == i, period_index == t) for t, p in enumerate(s.periods)}
            for i, u in enumerate(problem.units)
        },
        by_channel={c: cell(channel_of == c, all_periods) for c in s.channel_ids()},
        by_period={p: cell(all_units, period_index == t) for t, p in enumerate(s.periods)},
        total=cell(all_units, all_periods),
    )


def _gross_profit(problem: Problem, total: Metrics, spend: np.ndarray) -> float | None:
    """Margin on GMV less spend, commission, fixed and activation costs (None without a
    gross margin)."""
    s = problem.scenario
    margin = s.accounting.gross_margin
    if margin is None:
        return None
    return (
        margin * total.gmv_cny
        - total.spend_cny
        - total.commission_cny
        - sum(c.amount_cny for c in s.fixed_costs)
        - problem.activation_cost(spend)
    )


def _dual(result: SolveResult | None, index: int) -> float | None:
    """The solver's dual of problem row ``index``, if it has one."""
    if result is None or result.row_duals is None:
        return None
    return float(result.row_duals[index])

"""Assemble the plan a user sees: allocation, metrics recomputed on the true curves, rule report.

Nothing here trusts a solver's figure: every metric is computed from the response model at the
returned spend, and every rule is re-evaluated there with its slack (``rules``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.core.checks import SolveResult
from optimizer.core.draws import gmv_by_draw
from optimizer.core.problem import Problem
from optimizer.core.risk import risk_objective
from optimizer.results.fingerprint import fingerprint, package_version, run_settings
from optimizer.results.plan import Metrics, Plan, SolverInfo
from optimizer.results.ranges import fit_warnings, plan_ranges
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

    def metrics(self, labels: np.ndarray, count: int) -> list[Metrics]:
        """Totals over each group of unit-periods, ``labels`` naming every cell's group
        (0 .. count - 1): one pass over the cells for all the groups."""
        group = labels.ravel()

        def total(values: np.ndarray) -> np.ndarray:
            return np.bincount(group, weights=values.ravel(), minlength=count)

        spend, gmv, basis = total(self.spend), total(self.gmv), total(self.basis)
        acquiring = np.broadcast_to(self.acquiring, self.spend.shape)
        acq_spend = total(np.where(acquiring, self.basis, 0.0))
        acq_new = total(np.where(acquiring, self.new, 0.0))
        commission, orders, new = total(self.commission), total(self.orders), total(self.new)
        seen = np.isfinite(self.impressions)
        impressions = total(np.where(seen, self.impressions, 0.0))
        has_impressions = total(seen.astype(float)) > 0
        marginal = self._marginal_roas(group, count)
        return [
            Metrics(
                spend_cny=float(spend[k]),
                commission_cny=float(commission[k]),
                impressions=float(impressions[k]) if has_impressions[k] else None,
                orders=float(orders[k]),
                gmv_cny=float(gmv[k]),
                new_customers=float(new[k]),
                roas=float(gmv[k] / basis[k]) if basis[k] > 0 else None,
                cac_cny=float(acq_spend[k] / acq_new[k]) if acq_new[k] > 0 else None,
                marginal_roas=marginal[k],
            )
            for k in range(count)
        ]

    def _marginal_roas(self, group: np.ndarray, count: int) -> list[float | None]:
        """Each group's spend-weighted marginal ROAS (the steepest one where nothing is
        spent; None where no cell has one)."""
        finite = np.isfinite(self.marginal).ravel()
        marginal = np.where(finite, self.marginal.ravel(), 0.0)
        spend = np.where(finite, self.spend.ravel(), 0.0)
        weighted = np.bincount(group, weights=marginal * spend, minlength=count)
        weights = np.bincount(group, weights=spend, minlength=count)
        steepest = np.full(count, -np.inf)
        np.maximum.at(steepest, group[finite], marginal[finite])
        has = np.bincount(group[finite], minlength=count) > 0
        return [
            float(weighted[k] / weights[k])
            if weights[k] > 0
            else (float(steepest[k]) if has[k] else None)
            for k in range(count)
        ]


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
        objective_value=_objective_value(problem, spend),
        carry_over=_carry_over(problem, spend),
        ranges=plan_ranges(problem, spend),
        warnings=fit_warnings(problem, spend),
        gross_profit_cny=_gross_profit(problem, breakdown["total"], spend),
        activation_costs_cny=problem.activation_cost(spend),
        rules=[
            check_rule(row, spend, tables.gmv, _dual(result, r), problem.maximise)
            for r, row in enumerate(problem.rows)
        ]
        + [check_switch(switch, spend) for switch in problem.switches],
    )


def _objective_value(problem: Problem, spend: np.ndarray) -> float:
    """The objective at the spend: with a risk-aware objective, its mean or CVaR recomputed
    over every draw's curves."""
    if problem.scenario.objective.risk is None:
        return problem.objective_value(spend)
    return risk_objective(problem, gmv_by_draw(problem, spend), spend)


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
        risk=s.objective.risk.model_dump() if s.objective.risk is not None else None,
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
    channels = s.channel_ids()
    channel_of = np.array([channels.index(u.channel) for u in problem.units], dtype=int)
    cells = tables.metrics(
        np.arange(n_units * n_periods).reshape(n_units, n_periods), tables.spend.size
    )
    by_channel = tables.metrics(
        np.repeat(channel_of, n_periods).reshape(n_units, n_periods), len(channels)
    )
    by_period = tables.metrics(np.tile(np.arange(n_periods), (n_units, 1)), n_periods)
    (total,) = tables.metrics(np.zeros((n_units, n_periods), dtype=int), 1)
    spend = tables.spend.tolist()
    return dict(
        spend={
            u.id: dict(zip(s.periods, spend[i], strict=True)) for i, u in enumerate(problem.units)
        },
        by_unit_period={
            u.id: dict(zip(s.periods, cells[i * n_periods : (i + 1) * n_periods], strict=True))
            for i, u in enumerate(problem.units)
        },
        by_channel=dict(zip(channels, by_channel, strict=True)),
        by_period=dict(zip(s.periods, by_period, strict=True)),
        total=total,
    )


def _carry_over(problem: Problem, spend: np.ndarray) -> dict[str, Any] | None:
    """GMV after the plan from its spend, and GMV in it from spend before it, per channel
    (None when no channel has adstock)."""
    if not problem.carried:
        return None
    channels = problem.scenario.channel_ids()
    after = problem.gmv_after(spend)
    history = problem.gmv(np.zeros_like(spend)).sum(axis=1)  # what no spend in the plan gets
    unit_channel = np.array([u.channel for u in problem.units])
    by_channel = {
        c: {
            "gmv_after_cny": float(np.sum(after[unit_channel == c])),
            "gmv_from_history_cny": float(np.sum(history[unit_channel == c])),
        }
        for c in channels
        if any(u.channel == c and u.carry is not None for u in problem.units)
    }
    return {
        "counted_in_objective": problem.counts_carry_out,
        "gmv_after_cny": float(np.sum(after)),
        "gmv_from_history_cny": float(np.sum(history)),
        "by_channel": by_channel,
    }


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

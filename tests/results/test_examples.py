"""Every example scenario solves, and its reported figures equal a recomputation from the file.

The recomputation below reads the scenario's fields and applies the documented formulas
(README "Fields") without going through optimizer.core.problem or optimizer.core.curves.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from helpers import linear, scenario
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.core.diagnosis import Relaxation
from optimizer.core.solvers import available_solvers
from optimizer.inputs.allocation import load_allocation
from optimizer.inputs.files import load_scenario
from optimizer.outputs.text import to_table
from optimizer.planner import evaluate, plan
from optimizer.results.plan import Plan
from optimizer.results.serialise import stored_plan, to_json

SOLVERS = available_solvers()
EXAMPLES = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
FEASIBLE = [p for p in EXAMPLES if "infeasible" not in p.name]
INFEASIBLE = [p for p in EXAMPLES if "infeasible" in p.name]
# The weekly example's share and commission rules make its LP a MILP of thousands of binaries
# (over a minute): it is solved here by the exact dual (chain) method and SLSQP, and by the LP
# route once, in tests/core/test_carry.py, where the three are compared.
WEEKLY_METHODS = ("dual", "nlp")
WEEKLY = ("weekly_2026.yaml", "fitted_2026.yaml")
# A risk-aware example is solved by the one method that takes its objective, on the mean of
# its draws: tested on its own below.
RISK_AWARE = ("cautious_2026.yaml",)
CASES = [
    (path, method)
    for path in FEASIBLE
    if path.name not in RISK_AWARE
    for method in (WEEKLY_METHODS if path.name in WEEKLY else SOLVERS)
]


def saturation(spec, x: float) -> float:
    """Effective spend for a saturation spec (README formulas)."""
    if spec.type == "exponential":
        return spec.scale_cny * (1 - math.exp(-x / spec.scale_cny))
    if spec.type == "hill":
        u = (x / spec.half_saturation_cny) ** spec.shape
        return spec.half_saturation_cny * u / (1 + u)
    if spec.type == "piecewise":
        return interpolate(spec.points, x)
    return x


def interpolate(points, x: float) -> float:
    """Linear between points, flat after the last."""
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def response(spec, x: float) -> float:
    """GMV of a curve channel's response spec."""
    if spec.type == "linear":
        return spec.roas * x
    if spec.type == "exponential":
        return spec.max_gmv_cny * (1 - math.exp(-x / spec.scale_cny))
    if spec.type == "hill":
        u = (x / spec.half_saturation_cny) ** spec.shape
        return spec.max_gmv_cny * u / (1 + u)
    if spec.type == "michaelis_menten":
        return spec.max_gmv_cny * x / (spec.half_saturation_cny + x)
    if spec.type == "logistic":
        e = math.exp(-x / spec.scale_cny)
        return spec.max_gmv_cny * (1 - e) / (1 + e)
    if spec.type == "tanh":
        return spec.max_gmv_cny * math.tanh(x / spec.scale_cny)
    return interpolate(spec.points, x)


def bought(channel, t: int) -> float:
    """What a yuan buys in period t, as carried (README "Carry-over"): impressions at the base
    CPM for a paid channel, 1 / cpm_index for a curve channel, else the yuan itself."""
    if channel.kind == "paid":
        return channel.cpm.base_cny / cpm(channel, t)
    if channel.kind == "curve":
        return 1.0 / per_period(channel.cpm_index, t, 1.0)
    return 1.0


def per_period(value, t: int, default: float) -> float:
    if value is None:
        return default
    return value[t] if isinstance(value, list) else value


def cpm(channel, t: int) -> float:
    trend = channel.cpm.trend
    base = channel.cpm.base_cny
    if trend is None:
        return base
    if trend.type == "index":
        return base * trend.values[t]
    if trend.type == "linear":
        return base * (1 + trend.rate_per_period * t)
    return base * (1 + trend.rate_per_period) ** t


def adstock_weights(adstock, window: int) -> list[float]:
    """Weights of lags 0, 1, ... (README "Carry-over"; Robyn's formulas for Weibull)."""
    if adstock.type == "geometric":
        w = [adstock.decay**lag for lag in range(adstock.max_lag + 1)]
    elif adstock.type == "weights":
        w = list(adstock.weights_by_lag)
    else:
        n = adstock.window or window
        lam = max(round(1 + adstock.scale * (n - 1)), 1)
        k = adstock.shape
        if adstock.type == "weibull_cdf":
            w = [1.0]
            for x in range(1, n):
                w.append(w[-1] * math.exp(-((x / lam) ** k)))
        else:
            pdf = [
                (k / lam) * (x / lam) ** (k - 1) * math.exp(-((x / lam) ** k))
                for x in range(1, n + 1)
            ]
            w = [(v - min(pdf)) / (max(pdf) - min(pdf)) for v in pdf]
    total = sum(w)
    return [v / total for v in w] if adstock.normalize else w


def recompute(scenario, spend: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per unit: gmv, commission, new customers, acquisition spend and new, from the fields.

    With adstock, the input of period t is the weighted sum of the spend (paid channels:
    impressions at the base CPM, spend x base CPM / CPM of the period) of periods t, t-1, ...
    and of the history before the plan, and the curve applies to it (README "Carry-over").
    """
    n = len(scenario.periods)
    out = {}
    for c in scenario.channels:
        season = c.seasonality if c.seasonality is not None else scenario.seasonality
        units = []
        if c.kind == "kol":
            units = [(f"{c.id}.{tier.id}", tier) for tier in c.tiers]
        else:
            units = [(c.id, c)]
        for uid, spec in units:
            acc = {"gmv": 0.0, "commission": 0.0, "new": 0.0, "spend": 0.0}
            carried = None
            if c.adstock is not None:
                assert c.adstock.order == "before_saturation"  # what the examples use
                history = list(getattr(spec, "history_spend_cny", []) or c.history_spend_cny)
                longest = max(
                    [len(c.history_spend_cny)]
                    + [len(t.history_spend_cny) for t in getattr(c, "tiers", [])]
                )
                w = adstock_weights(c.adstock, longest + n)
                per_yuan = [bought(c, t) for t in range(n)]
                history = [h * per_yuan[0] for h in history]  # priced as the first period
                inputs = history + [
                    spend[uid][p] * per_yuan[t] for t, p in enumerate(scenario.periods)
                ]
                first = len(history)
                carried = [
                    sum(
                        w[lag] * inputs[first + t - lag]
                        for lag in range(len(w))
                        if first + t - lag >= 0
                    )
                    for t in range(n)
                ]
            for t, period in enumerate(scenario.periods):
                x = spend[uid][period] if carried is None else carried[t]
                s = per_period(season, t, 1.0)
                if c.kind == "paid":
                    price = cpm(c, t) if carried is None else c.cpm.base_cny
                    gmv = s * 1000 * c.ctr * c.cvr * c.aov_cny / price * saturation(c.saturation, x)
                elif c.kind == "kol":
                    gmv = s * spec.fee_roas * saturation(spec.saturation, x)
                elif c.kind == "private_domain":
                    reach_scale = c.members * c.cost_per_reach_cny
                    ceiling = c.members * c.repurchase_rate * c.orders_per_buyer * c.aov_cny / n
                    gmv = s * ceiling * (1 - math.exp(-x / reach_scale))
                else:
                    x = x if carried is not None else x * bought(c, t)  # spend / cpm_index
                    gmv = s * response(c.response, x)
                acc["gmv"] += gmv
                x = spend[uid][period]
                acc["spend"] += x
                acc["commission"] += gmv * getattr(spec, "commission_rate", 0.0)
                acc["new"] += gmv / spec.aov_cny * spec.new_customer_share
            default_cac = c.kind != "private_domain"
            acc["acquires"] = default_cac if c.counts_toward_cac is None else c.counts_toward_cac
            out[uid] = acc
    return out


def test_there_are_examples_of_each_kind() -> None:
    names = {p.name for p in EXAMPLES}
    assert {
        "annual_2026.yaml",
        "monthly_2026.yaml",
        "min_spend_2026.yaml",
        "infeasible_2026.yaml",
    } <= names


@pytest.mark.parametrize(("path", "solver"), CASES, ids=lambda v: getattr(v, "name", v))
def test_example_solves_and_its_figures_equal_a_recomputation(path: Path, solver: str) -> None:
    scenario = load_scenario(path)
    result = plan(scenario, solver=solver)
    assert result.status == "optimal", result.message
    if solver != "nlp":  # SLSQP proves no bound
        assert result.solver.gap <= scenario.settings.tolerance
    assert all(rule.holds for rule in result.rules), [r for r in result.rules if not r.holds]

    units = recompute(scenario, result.spend)
    gmv = sum(u["gmv"] for u in units.values())
    spend = sum(u["spend"] for u in units.values())
    commission = sum(u["commission"] for u in units.values())
    basis = spend + (commission if scenario.accounting.spend_basis != "media" else 0.0)
    assert result.total.gmv_cny == pytest.approx(gmv, rel=1e-9)
    assert result.total.spend_cny == pytest.approx(spend, rel=1e-9)
    assert result.total.commission_cny == pytest.approx(commission, rel=1e-9, abs=1e-6)
    assert result.total.roas == pytest.approx(gmv / basis, rel=1e-9)
    acquiring = [u for u in units.values() if u["acquires"]]
    new = sum(u["new"] for u in acquiring)
    if new > 0:
        acq_spend = sum(u["spend"] for u in acquiring)
        if scenario.accounting.spend_basis != "media":
            acq_spend += sum(u["commission"] for u in acquiring)
        assert result.total.cac_cny == pytest.approx(acq_spend / new, rel=1e-9)
    for channel in scenario.channels:
        channel_gmv = sum(v["gmv"] for k, v in units.items() if k.split(".")[0] == channel.id)
        assert result.by_channel[channel.id].gmv_cny == pytest.approx(
            channel_gmv, rel=1e-9, abs=1e-6
        )
    media = (
        scenario.budget.total_cny
        - scenario.budget.contingency_cny
        - sum(f.amount_cny for f in scenario.fixed_costs)
    )
    assert spend <= media * (1 + 1e-9)


@functools.cache
def planned(path: Path) -> Plan:
    """The plan of an example file, solved once for the tests that read it."""
    return plan(load_scenario(path))


@pytest.mark.parametrize("path", INFEASIBLE, ids=lambda p: p.name)
def test_infeasible_example_exits_1_and_names_the_conflicting_rules(path: Path) -> None:
    outcome = CliRunner().invoke(app, ["plan", str(path)])
    assert outcome.exit_code == 1
    assert "cannot all hold together" in outcome.output
    result = planned(path)
    assert result.status == "infeasible"
    assert result.conflict
    assert outcome.output.count("Conflicting rules") == 1


@pytest.mark.parametrize("path", INFEASIBLE, ids=lambda p: p.name)
def test_a_stored_infeasible_plan_renders_like_the_original(path: Path, tmp_path: Path) -> None:
    original = planned(path)
    assert original.diagnosis and original.total is None
    # what plan --format json writes, and a batch's plans/<fingerprint>.json, reloaded the
    # way compare and batch reload plans: the same plan, but for the wall-clock time that a
    # stored plan may leave out
    stored = tmp_path / "plan.json"
    stored.write_text(to_json(original), encoding="utf-8")
    reloaded = stored_plan(json.loads(stored.read_text(encoding="utf-8")))
    assert [type(s) for s in reloaded.diagnosis] == [Relaxation] * len(original.diagnosis)
    assert reloaded.diagnosis == original.diagnosis
    assert reloaded.solver is not None and original.solver is not None
    timed = replace(original, solver=replace(original.solver, seconds=reloaded.solver.seconds))
    assert reloaded == timed
    assert to_table(reloaded) == to_table(timed)
    assert "Conflicting rules" in to_table(reloaded)
    compared = CliRunner().invoke(app, ["compare", str(stored), str(stored), "-f", "json"])
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.stdout)["plans"][0]["status"] == "infeasible"


def test_plan_csv_round_trips_through_evaluate_with_zero_gap(tmp_path: Path) -> None:
    path = FEASIBLE[0]
    out = tmp_path / "plan.csv"
    runner = CliRunner()
    assert runner.invoke(app, ["plan", str(path), "-f", "csv", "-o", str(out)]).exit_code == 0
    scored = runner.invoke(app, ["evaluate", str(path), "--allocation", str(out), "-f", "json"])
    assert scored.exit_code == 0, scored.output
    payload = json.loads(scored.stdout[scored.stdout.index("{") :])
    assert abs(payload["comparison"]["objective_gap_relative"]) < 1e-9


def test_a_hand_made_split_scores_its_gap_to_the_optimum(tmp_path: Path) -> None:
    # Optimum: search (ROAS 6, cap 60) gets 60, kol (ROAS 4) 40: GMV 520. Even split: 500.
    s = scenario([linear("search", 6, cap=60), linear("kol", 4)], budget=100)
    split = tmp_path / "split.csv"
    split.write_text("channel,period,spend_cny\nsearch,Y,50\nkol,Y,50\n", encoding="utf-8")
    scored = evaluate(s, load_allocation(split), optimum=plan(s))
    assert scored.objective_value == pytest.approx(500)
    assert scored.comparison["objective_gap"] == pytest.approx(20)
    assert scored.comparison["spend_delta_cny"]["search"]["Y"] == pytest.approx(-10)
    assert scored.is_feasible


# --- the examples fitted from history, with draws --------------------------------------------

SCENARIOS = Path(__file__).parents[2] / "scenarios"
PLAN_WEEKS = ",".join(f"2026-W{i:02d}" for i in range(1, 53))
FIT_ARGS = ["--periods", PLAN_WEEKS, "--budget-cny", "120000000", "--gross-margin", "0.45"]


def fitted(tmp_path: Path, *extra: str) -> str:
    """What `budgetopt fit scenarios/history_2025.csv` writes with the examples' options."""
    out = tmp_path / "fitted.yaml"
    args = ["fit", str(SCENARIOS / "history_2025.csv"), *FIT_ARGS, *extra, "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_the_fitted_example_is_what_fit_writes_from_the_example_history(tmp_path: Path) -> None:
    name = ["--name", "2026 plan on curves fitted from 2024-2025 history"]
    assert fitted(tmp_path, *name) == (SCENARIOS / "fitted_2026.yaml").read_text(encoding="utf-8")


def test_the_cautious_example_has_the_fitted_curves_with_carry_over() -> None:
    ours = yaml.safe_load((SCENARIOS / "cautious_2026.yaml").read_text(encoding="utf-8"))
    fit = yaml.safe_load((SCENARIOS / "fitted_2026.yaml").read_text(encoding="utf-8"))
    assert ours["channels"] == fit["channels"]  # which a test above regenerates from history
    assert any(c.get("draws", {}).get("adstock") for c in ours["channels"])
    assert ours["objective"]["risk"] == {"measure": "cvar", "level": 0.1}


def test_the_cautious_example_maximises_the_cvar_recomputed_from_every_draw() -> None:
    """Its objective is the mean of the worst 20 of 200 draws' GMV, each draw's GMV recomputed
    from the file's fields and that draw's parameters (its decay too) by the README formulas;
    its own figures are the mean curves': the mean of the draws' GMV; its ROAS floor holds in
    90% of draws."""
    s = load_scenario(SCENARIOS / "cautious_2026.yaml")
    result = plan(s)
    assert result.status == "optimal", result.message
    assert result.solver.solver == "risk"
    assert result.solver.gap <= s.settings.tolerance
    totals = []
    for k in range(200):
        channels = []
        for c in s.channels:
            params = {name: values[k] for name, values in c.draws.response.items()}
            update = {"response": c.response.model_copy(update=params)}
            if c.draws.adstock:
                decay = {name: values[k] for name, values in c.draws.adstock.items()}
                update["adstock"] = c.adstock.model_copy(update=decay)
            channels.append(c.model_copy(update=update))
        drawn = s.model_copy(update={"channels": channels})
        totals.append(sum(u["gmv"] for u in recompute(drawn, result.spend).values()))
    worst = sorted(totals)[:20]
    assert result.objective_value == pytest.approx(sum(worst) / 20, rel=1e-9)
    assert result.total.gmv_cny == pytest.approx(sum(totals) / 200, rel=1e-9)
    floor = next(r for r in result.ranges["rules"] if r["name"] == "roas_floor")
    holds = sum(t / result.total.spend_cny >= 5.7 * (1 - 1e-9) for t in totals) / 200
    assert floor["probability"] == pytest.approx(holds)
    assert floor["probability"] >= 0.9
    assert all(rule.holds for rule in result.rules)

"""Risk-aware objectives over the curves' draws: optima a person can compute by hand.

The hand case: two channels with GMV = M (1 - exp(-x / s)), s = 10M, a 20M budget to spend.
Channel a is certain (M = 10M); channel b has two equally likely draws, M = 15M and 5M, whose
mean is a's curve. The mean objective cannot tell them apart: 10M each. The CVaR of the worse
half is the worse draw's GMV, 10M (1 - e^(-a/s)) + 5M (1 - e^(-b/s)), whose optimum has
e^(-a/s) = 0.5 e^(-b/s), so a - b = s ln 2 and a = 10M + (s / 2) ln 2 = 13.466M: the cautious
plan moves 3.466M to the certain channel.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import exponential, scenario
from scipy.optimize import minimize

from optimizer.core.draws import gmv_by_draw
from optimizer.core.problem import build_problem
from optimizer.core.risk import cvar, mean_problem
from optimizer.errors import ScenarioError
from optimizer.inputs.files import validate_scenario
from optimizer.planner import plan, solve_problem

S = 10e6
MOVED = S / 2 * math.log(2)  # 3,465,735.90 CNY


def two(risk: dict | None, draws_b: list[float], mode: str = "spend_all", **fields: object):
    """The hand case: a certain, b uncertain with the given draws of its max GMV."""
    objective: dict = {"kind": "max_gmv"} | ({"risk": risk} if risk else {})
    return scenario(
        [
            exponential("a", 10e6, S),
            exponential("b", 10e6, S, draws={"response": {"max_gmv_cny": draws_b}}),
        ],
        20e6,
        mode=mode,
        objective=objective,
        **fields,
    )


def spend(p, unit: str) -> float:
    """A unit's total spend in a plan."""
    return sum(p.spend[unit].values())


def test_cvar_moves_money_to_the_certain_channel_by_the_hand_computed_amount() -> None:
    p = plan(two({"measure": "cvar", "level": 0.5}, [15e6, 5e6]))
    assert p.status == "optimal" and p.solver.solver == "risk"
    assert spend(p, "a") == pytest.approx(10e6 + MOVED, rel=1e-9)
    assert spend(p, "b") == pytest.approx(10e6 - MOVED, rel=1e-9)
    a, b = spend(p, "a"), spend(p, "b")
    worse = 10e6 * (1 - math.exp(-a / S)) + 5e6 * (1 - math.exp(-b / S))
    assert p.objective_value == pytest.approx(worse, rel=1e-12)
    assert p.solver.gap <= 1e-9


def test_the_mean_cannot_tell_a_certain_channel_from_an_uncertain_one_of_the_same_mean() -> None:
    p = plan(two({"measure": "mean"}, [15e6, 5e6]))
    assert spend(p, "a") == pytest.approx(10e6, rel=1e-9)
    assert spend(p, "b") == pytest.approx(10e6, rel=1e-9)
    assert p.objective_value == pytest.approx(20e6 * (1 - math.exp(-1)), rel=1e-12)


def test_a_cvar_at_level_one_is_the_mean() -> None:
    cautious = plan(two({"measure": "cvar", "level": 1.0}, [15e6, 5e6]))
    mean = plan(two({"measure": "mean"}, [15e6, 5e6]))
    assert spend(cautious, "a") == pytest.approx(spend(mean, "a"), rel=1e-9)


@pytest.mark.parametrize("risk", [{"measure": "mean"}, {"measure": "cvar", "level": 0.1}])
@pytest.mark.parametrize("solver", ["auto", "dual", "nlp", "lp"])
def test_one_draw_at_the_curves_own_values_is_the_deterministic_plan(risk, solver) -> None:
    rules = [{"kind": "roas_floor", "min_roas": 1.1}]
    periods = ["Q1", "Q2"]
    fields = {"rules": rules, "periods": periods, "seasonality": [1.0, 1.4], "mode": "up_to"}
    certain = plan(two(None, [10e6], **fields), solver="dual")
    assert certain.status == "optimal"
    assert certain.total.spend_cny < 19e6  # the ROAS floor binds: the budget does not
    drawn = plan(two(risk, [10e6], **fields), solver=solver)
    for unit in ("a", "b"):
        for period in periods:
            assert drawn.spend[unit][period] == pytest.approx(certain.spend[unit][period], rel=1e-9)
    assert drawn.objective_value == pytest.approx(certain.objective_value, rel=1e-12)


def test_the_mean_objective_agrees_with_slsqp_on_the_mean_curves() -> None:
    """An independent route: SLSQP on the mean problem (the mixture curves' own gradient)."""
    s = three_channels({"measure": "mean"})
    p = plan(s)
    problem = mean_problem(build_problem(s))
    other = solve_problem(problem, "nlp", 1e-9, 60)
    assert other.status == "optimal"
    assert p.objective_value == pytest.approx(problem.objective_value(other.spend), rel=1e-7)
    assert p.objective_value >= problem.objective_value(other.spend) * (1 - 1e-9)


def three_channels(risk: dict) -> object:
    """Three channels, two quarters, eight joint draws of two of them, and a ROAS floor."""
    rng = np.random.default_rng(7)
    b = (20e6 * rng.lognormal(0.0, 0.35, 8)).tolist()
    c = (8e6 * rng.lognormal(0.0, 0.2, 8)).tolist()
    half = (4e6 * rng.lognormal(0.0, 0.2, 8)).tolist()
    return scenario(
        [
            exponential("a", 12e6, 6e6),
            exponential("b", 20e6, 9e6, draws={"response": {"max_gmv_cny": b}}),
            {
                "id": "c",
                "kind": "curve",
                "response": {"type": "hill", "max_gmv_cny": 8e6, "half_saturation_cny": 4e6},
                "aov_cny": 100,
                "draws": {"response": {"max_gmv_cny": c, "half_saturation_cny": half}},
            },
        ],
        24e6,
        periods=["H1", "H2"],
        seasonality=[1.0, 1.3],
        objective={"kind": "max_gmv", "risk": risk},
        rules=[{"kind": "roas_floor", "min_roas": 1.2}],
    )


def test_cvar_agrees_with_the_sample_average_program_solved_by_slsqp() -> None:
    """The CVaR plan against its textbook form, max t - E[(t - Z)^+] / a over (x, t, s),
    solved by SLSQP from scratch on every draw's GMV: the same optimum."""
    level = 0.25
    s = three_channels({"measure": "cvar", "level": level})
    p = plan(s)
    assert p.status == "optimal"
    problem = build_problem(s)
    shape = problem.lo.shape
    count = 8

    def z(x: np.ndarray) -> np.ndarray:
        return gmv_by_draw(problem, x.reshape(shape)).sum(axis=(1, 2))

    def mean_gmv(x: np.ndarray) -> float:
        return float(mean_problem(problem).gmv(x.reshape(shape)).sum())

    cells = int(np.prod(shape))
    scale = 1e7

    def objective(v: np.ndarray) -> float:
        t, slack = v[cells], v[cells + 1 :]
        return -(t - slack.sum() / (level * count))

    constraints = [
        {
            "type": "ineq",
            "fun": lambda v: v[cells + 1 :] - (v[cells] - z(v[:cells] * scale) / scale),
        },
        {"type": "ineq", "fun": lambda v: 2.4 - v[:cells].sum()},
        {
            "type": "ineq",
            "fun": lambda v: mean_gmv(v[:cells] * scale) / scale - 1.2 * v[:cells].sum(),
        },
    ]
    start = np.concatenate([np.full(cells, 2.4 / cells), [0.0], np.zeros(count)])
    bounds = [(0, 2.4)] * cells + [(None, None)] + [(0, None)] * count
    found = minimize(
        objective,
        start,
        method="SLSQP",
        bounds=bounds,
        constraints=constraints,
        options={"maxiter": 500, "ftol": 1e-12},
    )
    assert found.success
    best = cvar(z(found.x[:cells] * scale), level)
    assert p.objective_value == pytest.approx(best, rel=1e-6)
    assert p.objective_value >= best * (1 - 1e-8)  # the proven optimum is never beaten


def test_a_risk_plan_reports_its_numbers_on_the_mean_curves_and_its_ranges() -> None:
    s = three_channels({"measure": "cvar", "level": 0.25})
    p = plan(s)
    problem = mean_problem(build_problem(s))
    x = np.array([[p.spend[u][t] for t in ("H1", "H2")] for u in ("a", "b", "c")])
    assert p.total.gmv_cny == pytest.approx(float(problem.gmv(x).sum()), rel=1e-12)
    z = gmv_by_draw(problem, x).sum(axis=(1, 2))
    assert p.objective_value == pytest.approx(cvar(z, 0.25), rel=1e-12)
    assert p.ranges["draws"] == 8
    assert p.ranges["total"]["gmv_cny"]["mean"] == pytest.approx(p.total.gmv_cny, rel=1e-12)
    assert all(r.holds for r in p.rules)


def test_cvar_of_equally_likely_values_by_hand() -> None:
    assert cvar(np.array([4.0, 1.0, 3.0, 2.0]), 0.5) == pytest.approx(1.5)
    assert cvar(np.array([4.0, 1.0, 3.0, 2.0]), 0.25) == pytest.approx(1.0)
    assert cvar(np.array([4.0, 1.0, 3.0, 2.0]), 0.375) == pytest.approx((1 + 0.5 * 2) / 1.5)
    assert cvar(np.array([4.0, 1.0, 3.0, 2.0]), 1.0) == pytest.approx(2.5)


def test_the_same_risk_plan_gives_the_same_bytes() -> None:
    s = three_channels({"measure": "cvar", "level": 0.25})
    assert plan(s).to_dict() == plan(s).to_dict()


# --- what the method does not take, and bad input -------------------------------------------


def test_a_risk_objective_needs_draws() -> None:
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(
            {
                "version": "1",
                "name": "x",
                "periods": ["Y"],
                "budget": {"total_cny": 100},
                "objective": {"kind": "max_gmv", "risk": {"measure": "cvar"}},
                "channels": [exponential("a", 100, 50)],
            },
            "x.yaml",
        )
    assert "objective.risk" in str(caught.value)
    assert "no channel has draws" in str(caught.value)


@pytest.mark.parametrize("level", [0, -0.1, 1.5])
def test_a_cvar_level_outside_0_to_1_is_refused(level: float) -> None:
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(
            {
                "version": "1",
                "name": "x",
                "periods": ["Y"],
                "budget": {"total_cny": 100},
                "objective": {"kind": "max_gmv", "risk": {"measure": "cvar", "level": level}},
                "channels": [exponential("a", 100, 50, draws={"response": {"max_gmv_cny": [90]}})],
            },
            "x.yaml",
        )
    assert "objective.risk.level" in str(caught.value)


def test_s_shaped_draws_are_refused_with_the_reason() -> None:
    channel = {
        "id": "h",
        "kind": "curve",
        "response": {"type": "hill", "max_gmv_cny": 100, "half_saturation_cny": 50},
        "aov_cny": 100,
        "draws": {"response": {"shape": [1.0, 2.0]}},
    }
    p = plan(scenario([channel], 100, objective={"kind": "max_gmv", "risk": {"measure": "mean"}}))
    assert p.status == "error"
    assert "draw 1 of h is not strictly concave" in p.message


# --- a rule held in a share of the draws ----------------------------------------------------

MAXIMA = [700.0 + 100.0 * k for k in range(10)]  # 700 .. 1600, mean 1150


def floor_plan(probability: float | None) -> object:
    """GMV_k = m_k (1 - e^(-x/100)), ROAS >= 6, maximise the mean GMV."""
    rule = {"id": "floor", "kind": "roas_floor", "min_roas": 6}
    if probability is not None:
        rule["probability"] = probability
    channel = exponential("c", 1150, 100, draws={"response": {"max_gmv_cny": MAXIMA}})
    return plan(
        scenario(
            [channel],
            1000,
            objective={"kind": "max_gmv", "risk": {"measure": "mean"}},
            rules=[rule],
        )
    )


def test_a_rule_held_in_80_percent_of_draws_holds_on_its_worst_20_percent_by_hand() -> None:
    """Its CVaR over the worst 2 of 10 draws: 6x = mean(700, 800) (1 - e^(-x/100))."""
    from scipy.optimize import brentq

    p = floor_plan(0.8)
    assert p.status == "optimal", p.message
    x = brentq(lambda v: 750 * (1 - math.exp(-v / 100)) - 6 * v, 1, 100, xtol=1e-14)
    assert spend(p, "c") == pytest.approx(x, rel=1e-9)
    # the draws it holds in: m_k >= 750, 9 of 10 (the CVaR form is sure to give 0.8)
    odds = next(r for r in p.ranges["rules"] if r["name"] == "floor")
    assert odds["probability"] == pytest.approx(0.9)
    assert odds["required"] == 0.8
    on_the_mean = floor_plan(None)
    y = brentq(lambda v: 1150 * (1 - math.exp(-v / 100)) - 6 * v, 1, 200, xtol=1e-14)
    assert spend(on_the_mean, "c") == pytest.approx(y, rel=1e-9)
    assert spend(p, "c") < spend(on_the_mean, "c")


def test_a_rule_probability_needs_a_risk_objective() -> None:
    channel = exponential("c", 1150, 100, draws={"response": {"max_gmv_cny": MAXIMA}})
    rule = {"kind": "roas_floor", "min_roas": 6, "probability": 0.9}
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(
            {
                "version": "1",
                "name": "x",
                "periods": ["Y"],
                "budget": {"total_cny": 1000},
                "objective": {"kind": "max_gmv"},
                "channels": [channel],
                "rules": [rule],
            },
            "x.yaml",
        )
    assert "rules[0].probability" in str(caught.value)

"""Risk-aware objectives on channels with carry-over: optima a person can compute by hand.

The hand case: one channel, two periods, GMV of a period f(e) = M (1 - exp(-e / s)) of its
effective spend, with geometric adstock of one lag: e_0 = x_0, e_1 = x_1 + d x_0. A budget B is
spent in full. With decay d known, the optimum has f'(x_0) + d f'(e_1) = f'(e_1), so
exp(-x_0 / s) = (1 - d) exp(-e_1 / s), x_0 = e_1 - s ln(1 - d) and, with e_1 = B - (1 - d) x_0,

    x_0 = (B - s ln(1 - d)) / (2 - d).

With two equally likely decays, 0 and d, the draw without carry-over is never better (its
second period lacks d x_0 >= 0), so the CVaR of the worse half is that draw's GMV, maximised by
the even split B / 2, B / 2: the cautious plan does not bank on the carry-over.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import exponential, scenario
from scipy.optimize import minimize

from optimizer.core.draws import after_by_draw, gmv_by_draw, problem_at_draw
from optimizer.core.problem import build_problem
from optimizer.core.risk import mean_problem
from optimizer.planner import plan, solve_problem

S, M, B, DECAY = 10e6, 10e6, 20e6, 0.5
SETTINGS = {"settings": {"tolerance": 1e-9}}


def carried(decays: list[float], risk: dict | None, **fields: object):
    """The hand case: one channel with one lag of adstock, its decay drawn."""
    channel = exponential(
        "a",
        M,
        S,
        adstock={"type": "geometric", "decay": DECAY, "max_lag": 1},
        draws={"adstock": {"decay": decays}},
    )
    objective: dict = {"kind": "max_gmv"} | ({"risk": risk} if risk else {})
    periods = ["H1", "H2"]
    return scenario(
        [channel], B, periods=periods, mode="spend_all", objective=objective, **SETTINGS, **fields
    )


def spend(p, unit: str = "a") -> list[float]:
    """A unit's spend per period in a plan."""
    return list(p.spend[unit].values())


@pytest.mark.parametrize("risk", [{"measure": "mean"}, {"measure": "cvar", "level": 0.3}])
def test_one_draw_of_the_decay_gives_the_hand_computed_split(risk) -> None:
    p = plan(carried([DECAY], risk))
    assert p.status == "optimal" and p.solver.solver == "risk", p.message
    first = (B - S * math.log(1 - DECAY)) / (2 - DECAY)  # 17,954,163 CNY
    assert spend(p) == pytest.approx([first, B - first], rel=1e-9)
    e1 = B - first + DECAY * first
    gmv = M * (1 - math.exp(-first / S)) + M * (1 - math.exp(-e1 / S))
    assert p.objective_value == pytest.approx(gmv, rel=1e-12)
    assert p.solver.gap <= 1e-9


def test_the_cautious_plan_does_not_bank_on_the_carry_over() -> None:
    p = plan(carried([0.0, DECAY], {"measure": "cvar", "level": 0.5}))
    assert p.status == "optimal", p.message
    assert spend(p) == pytest.approx([B / 2, B / 2], rel=1e-9)
    assert p.objective_value == pytest.approx(2 * M * (1 - math.exp(-1.0)), rel=1e-12)


def test_the_mean_banks_on_half_the_carry_over_and_agrees_with_slsqp() -> None:
    s = carried([0.0, DECAY], {"measure": "mean"})
    p = plan(s)
    x0, x1 = spend(p)
    # the mean's first-order condition, by hand: f'(x0) (1) + d/2 f'(x1 + d x0) = the slope
    # of period 2, (f'(x1) + f'(x1 + d x0)) / 2
    slope = math.exp(-x0 / S) + DECAY / 2 * math.exp(-(x1 + DECAY * x0) / S)
    assert slope == pytest.approx(
        (math.exp(-x1 / S) + math.exp(-(x1 + DECAY * x0) / S)) / 2, rel=1e-9
    )
    assert B / 2 < x0 < (B - S * math.log(1 - DECAY)) / (2 - DECAY)
    mean = mean_problem(build_problem(s))
    other = solve_problem(mean, "nlp", 1e-9, 60)
    assert p.objective_value == pytest.approx(mean.objective_value(other.spend), rel=1e-9)
    assert p.objective_value >= mean.objective_value(other.spend) * (1 - 1e-12)


def mixed(risk: dict, rules: list[dict] | None = None, count_carry_out: bool = False):
    """Two channels over three periods and six joint draws: one with adstock whose decay and
    size are drawn, one without adstock whose size is drawn; a budget up to 30M."""
    rng = np.random.default_rng(11)
    decays = rng.uniform(0.2, 0.7, 6).tolist()
    sizes = (25e6 * rng.lognormal(0.0, 0.3, 6)).tolist()
    other = (15e6 * rng.lognormal(0.0, 0.15, 6)).tolist()
    a = exponential(
        "a",
        25e6,
        8e6,
        adstock={"type": "geometric", "decay": 0.45, "max_lag": 2},
        history_spend_cny=[3e6, 4e6],
        draws={"response": {"max_gmv_cny": sizes}, "adstock": {"decay": decays}},
    )
    b = exponential("b", 15e6, 6e6, draws={"response": {"max_gmv_cny": other}})
    objective = {"kind": "max_gmv", "risk": risk, "count_carry_out": count_carry_out}
    return scenario(
        [a, b],
        30e6,
        periods=["Q1", "Q2", "Q3"],
        objective=objective,
        rules=rules or [],
        **SETTINGS,
    )


def draw_objectives(s, x: np.ndarray) -> np.ndarray:
    """Every draw's objective at spend x, each draw's problem built on its own."""
    base = build_problem(s)
    return np.array([problem_at_draw(base, k).objective_value(x) for k in range(6)])


def saa_cvar(s, level: float, floor: float | None) -> float:
    """The textbook sample-average program of the CVaR (Rockafellar-Uryasev) by SLSQP:
    max t - sum_k u_k / (level K) with u_k >= t - Z_k(x), u >= 0, the budget and a mean ROAS
    floor, from several starts."""
    shape = (2, 3)
    base = build_problem(s)
    scale = 1e7

    def parts(v):
        return v[:6].reshape(shape) * scale, v[6] * scale, v[7:] * scale

    def objective(v):
        _, t, u = parts(v)
        return -(t - u.sum() / (level * 6)) / 1e8

    cons = [
        {"type": "ineq", "fun": lambda v: (3e7 - parts(v)[0].sum()) / scale},
        {
            "type": "ineq",
            "fun": lambda v: (parts(v)[2] - parts(v)[1] + draw_objectives(s, parts(v)[0])) / 1e8,
        },
    ]
    if floor is not None:
        mean = mean_problem(base)
        cons.append(
            {
                "type": "ineq",
                "fun": lambda v: (mean.gmv(parts(v)[0]).sum() - floor * parts(v)[0].sum()) / 1e8,
            }
        )
    best = -np.inf
    for start in (0.3, 0.5, 0.8):
        x = np.full(6, start)
        v0 = np.concatenate(
            [x, [draw_objectives(s, x.reshape(shape) * scale).min() / scale], np.zeros(6)]
        )
        bounds = [(0, 3)] * 6 + [(None, None)] + [(0, None)] * 6
        found = minimize(
            objective,
            v0,
            method="SLSQP",
            bounds=bounds,
            constraints=cons,
            options={"ftol": 1e-14, "maxiter": 500},
        )
        if found.success:
            best = max(best, -found.fun * 1e8)
    return best


@pytest.mark.parametrize("floor", [None, 3.0])
def test_cvar_with_carry_over_equals_its_sample_average_program(floor) -> None:
    rules = [{"kind": "roas_floor", "min_roas": floor}] if floor else []
    s = mixed({"measure": "cvar", "level": 0.34}, rules)
    p = plan(s)
    assert p.status == "optimal" and p.solver.solver == "risk", p.message
    x = np.array([spend(p, "a"), spend(p, "b")])
    z = np.sort(draw_objectives(s, x))
    mass = 0.34 * 6  # the worst 2.04 draws: two whole, 0.04 of the third
    assert p.objective_value == pytest.approx((z[0] + z[1] + 0.04 * z[2]) / mass, rel=1e-9)
    textbook = saa_cvar(s, 0.34, floor)
    assert p.objective_value == pytest.approx(textbook, rel=1e-6)
    assert p.objective_value >= textbook * (1 - 1e-9)
    if floor:
        assert p.total.roas >= floor * (1 - 1e-9)


def test_carry_out_counts_in_every_draw_when_the_objective_counts_it() -> None:
    s = mixed({"measure": "mean"}, count_carry_out=True)
    p = plan(s)
    x = np.array([spend(p, "a"), spend(p, "b")])
    base = build_problem(s)
    after = after_by_draw(base, x)
    assert np.all(after[:, 0] > 0) and np.ptp(after[:, 0]) > 0  # each draw's own decay
    within = gmv_by_draw(base, x).sum(axis=(1, 2))
    assert p.objective_value == pytest.approx(float(np.mean(within + after.sum(axis=1))), rel=1e-12)
    mean = mean_problem(base)
    other = solve_problem(mean, "nlp", 1e-9, 60)
    assert p.objective_value >= mean.objective_value(other.spend) * (1 - 1e-12)
    assert p.objective_value == pytest.approx(mean.objective_value(other.spend), rel=1e-8)


def test_a_chance_rule_with_carry_over_holds_in_its_share_of_draws() -> None:
    rules = [{"kind": "roas_floor", "min_roas": 3.2, "probability": 0.5}]
    s = mixed({"measure": "cvar", "level": 0.5}, rules)
    p = plan(s)
    assert p.status == "optimal", p.message
    x = np.array([spend(p, "a"), spend(p, "b")])
    roas = gmv_by_draw(build_problem(s), x).sum(axis=(1, 2)) / x.sum()
    worst = np.sort(roas)[:3]
    assert worst.mean() == pytest.approx(3.2, rel=1e-9)  # its CVaR over the worst half binds
    floor = next(r for r in p.ranges["rules"] if r["name"].startswith("roas_floor"))
    assert floor["probability"] == pytest.approx(np.mean(roas >= 3.2 * (1 - 1e-9)))
    assert floor["probability"] >= 0.5


def test_an_s_shaped_draw_with_carry_over_is_refused_by_name() -> None:
    channel = {
        "id": "a",
        "kind": "curve",
        "response": {"type": "hill", "max_gmv_cny": 8e6, "half_saturation_cny": 4e6},
        "adstock": {"type": "geometric", "decay": 0.3, "max_lag": 1},
        "aov_cny": 100,
        "draws": {"response": {"shape": [1.0, 2.0]}},
    }
    s = scenario(
        [channel],
        5e6,
        periods=["H1", "H2"],
        objective={"kind": "max_gmv", "risk": {"measure": "mean"}},
    )
    p = plan(s)
    assert p.status == "error"
    assert "draw 1 of a is not strictly concave" in p.message


def test_a_channel_saturated_far_below_the_budget_still_gets_its_best_spend() -> None:
    """b saturates at a fraction of the budget: at the first multipliers every cell spends its
    whole box, far out on a flat tail; the plan is still the mean problem's optimum (SLSQP)."""
    rng = np.random.default_rng(3)
    a = exponential(
        "a",
        20e6,
        5e6,
        adstock={"type": "geometric", "decay": 0.5, "max_lag": 4},
        history_spend_cny=[6e5] * 4,
        draws={"adstock": {"decay": rng.uniform(0.3, 0.7, 5).tolist()}},
    )
    b = exponential(
        "b",
        5e6,
        6e5,
        adstock={"type": "geometric", "decay": 0.5, "max_lag": 4},
        history_spend_cny=[6e5] * 4,
        draws={"response": {"scale_cny": (6e5 * rng.lognormal(0, 0.2, 5)).tolist()}},
    )
    s = scenario(
        [a, b],
        300e6,
        periods=["Q1", "Q2", "Q3", "Q4"],
        objective={"kind": "max_gmv", "risk": {"measure": "mean"}},
        rules=[{"kind": "roas_floor", "min_roas": 2.0}],
        **SETTINGS,
    )
    p = plan(s)
    assert p.status == "optimal", p.message
    mean = mean_problem(build_problem(s))
    other = solve_problem(mean, "nlp", 1e-9, 60)
    assert p.objective_value >= mean.objective_value(other.spend) * (1 - 1e-9)
    assert p.objective_value == pytest.approx(mean.objective_value(other.spend), rel=1e-6)
    assert p.total.spend_cny < 300e6  # the floor, not the budget, binds


@pytest.mark.parametrize("order", ["before_saturation", "after_saturation"])
@pytest.mark.parametrize("risk", [{"measure": "mean"}, {"measure": "cvar", "level": 0.5}])
def test_one_draw_at_the_channels_own_values_is_the_deterministic_plan(order, risk) -> None:
    """Either order of adstock and saturation, history carried in, carry-out counted, a ROAS
    floor: the risk-aware chains with one draw give what the plain dual method gives."""

    def make(risk_part: dict | None):
        a = exponential(
            "a",
            25e6,
            8e6,
            adstock={"type": "geometric", "decay": 0.45, "max_lag": 3, "order": order},
            history_spend_cny=[3e6, 4e6, 2e6],
            draws={"adstock": {"decay": [0.45]}, "response": {"max_gmv_cny": [25e6]}},
        )
        b = exponential("b", 15e6, 6e6)
        objective = {"kind": "max_gmv", "count_carry_out": True}
        objective |= {"risk": risk_part} if risk_part else {}
        return scenario(
            [a, b],
            30e6,
            periods=["Q1", "Q2", "Q3", "Q4"],
            objective=objective,
            rules=[{"kind": "roas_floor", "min_roas": 1.5}],
            **SETTINGS,
        )

    certain = plan(make(None), solver="nlp")
    drawn = plan(make(risk))
    assert drawn.status == "optimal" and drawn.solver.solver == "risk", drawn.message
    assert drawn.objective_value == pytest.approx(certain.objective_value, rel=1e-9)
    for unit in ("a", "b"):
        assert spend(drawn, unit) == pytest.approx(spend(certain, unit), rel=1e-5, abs=1.0)

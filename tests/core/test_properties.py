"""Random scenarios: the plan keeps every rule, and no random feasible split beats it."""

from __future__ import annotations

import numpy as np
from helpers import exponential, scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.core.checks import objective_value, violated_rows
from optimizer.core.problem import build_problem
from optimizer.planner import plan

channel_params = st.tuples(
    st.floats(100, 2000),  # max GMV per period
    st.floats(10, 200),  # saturation scale
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.lists(channel_params, min_size=1, max_size=4),
    periods=st.integers(1, 3),
    budget=st.floats(50, 600),
    roas_floor=st.one_of(st.none(), st.floats(1.5, 6)),
    seed=st.integers(0, 2**16),
)
def test_no_random_feasible_split_beats_the_plan(params, periods, budget, roas_floor, seed):
    channels = [exponential(f"c{i}", m, s) for i, (m, s) in enumerate(params)]
    rules = [{"kind": "roas_floor", "min_roas": roas_floor}] if roas_floor else []
    s = scenario(channels, budget=budget, periods=[f"P{t}" for t in range(periods)], rules=rules)
    result = plan(s)
    if result.status == "infeasible":
        return
    assert result.status == "optimal"
    assert all(r.holds for r in result.rules)
    problem = build_problem(s)
    rng = np.random.default_rng(seed)
    shape = (len(channels), periods)
    for _ in range(200):
        spend = rng.dirichlet(np.ones(shape[0] * shape[1])).reshape(shape)
        spend *= budget * rng.uniform(0.0, 1.0)
        if violated_rows(problem, spend):
            continue
        assert objective_value(problem, spend) <= result.objective_value * (1 + 1e-6)

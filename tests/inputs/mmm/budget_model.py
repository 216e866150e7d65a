"""budgetopt's weekly GMV of an imported curve channel, written out from the schema's formulas
(optimizer/schema/curves.py, carry.py) as the core computes it: the importers' tests compare
it with each source's own numbers. When ``optimizer.core.problem.build_problem`` has the
carry-over, ``core_gmv`` asks it too."""

from __future__ import annotations

import numpy as np

from optimizer.schema.scenario import Scenario


def response_gmv(response, spend: np.ndarray) -> np.ndarray:
    """The response's GMV of each week's (effective) spend; scalar parameters."""
    x = np.asarray(spend, dtype=float)
    kind = response.type
    if kind == "linear":
        return response.roas * x
    top = response.max_gmv_cny
    if kind == "hill":
        u = (x / response.half_saturation_cny) ** response.shape
        return top * u / (1 + u)
    if kind == "logistic":
        e = np.exp(-x / response.scale_cny)
        return top * (1 - e) / (1 + e)
    if kind == "tanh":
        return top * np.tanh(x / response.scale_cny)
    if kind == "michaelis_menten":
        return top * x / (response.half_saturation_cny + x)
    if kind == "exponential":
        return top * (1 - np.exp(-x / response.scale_cny))
    raise AssertionError(kind)


def channel_gmv(scenario: Scenario, channel_id: str, plan_spend: np.ndarray) -> np.ndarray:
    """GMV of the plan's weeks of one curve channel for a spend path, carry-in included."""
    channel = next(c for c in scenario.channels if c.id == channel_id)
    plan_spend = np.asarray(plan_spend, dtype=float)
    if channel.adstock is None:
        return response_gmv(channel.response, plan_spend)
    history = np.asarray(channel.history_spend_cny, dtype=float)
    weights = channel.adstock.weights(len(history) + len(plan_spend))
    series = np.concatenate([history, plan_spend])
    start = len(history)
    if channel.adstock.order == "after_saturation":
        series = response_gmv(channel.response, series)
    carried = np.array(
        [
            sum(w * series[t - lag] for lag, w in enumerate(weights) if t - lag >= 0)
            for t in range(start, len(series))
        ]
    )
    if channel.adstock.order == "after_saturation":
        return carried
    return response_gmv(channel.response, carried)


def core_gmv(
    scenario: Scenario, spend_by_channel: dict[str, np.ndarray]
) -> dict[str, np.ndarray] | None:
    """The core's in-window GMV per channel when build_problem(...).gmv exists, else None."""
    try:
        from optimizer.core.problem import build_problem
    except ImportError:
        return None
    if not _core_has_carry_over(build_problem):
        return None
    problem = build_problem(scenario)
    spend = np.array([spend_by_channel[c.id] for c in scenario.channels], dtype=float)
    gmv = np.asarray(problem.gmv(spend))
    return {c.id: gmv[i] for i, c in enumerate(scenario.channels)}


def _core_has_carry_over(build_problem) -> bool:
    """Whether the core counts a channel's history: zero spend after a week of history sells."""
    probe = Scenario.model_validate(
        {
            "version": "1",
            "name": "probe",
            "periods": ["W1"],
            "budget": {"total_cny": 1.0},
            "objective": {"kind": "max_gmv"},
            "channels": [
                {
                    "id": "c",
                    "kind": "curve",
                    "response": {"type": "linear", "roas": 1.0},
                    "aov_cny": 1.0,
                    "adstock": {"type": "geometric", "decay": 0.5, "max_lag": 1},
                    "history_spend_cny": [10.0],
                }
            ],
        }
    )
    problem = build_problem(probe)
    return hasattr(problem, "gmv") and float(np.sum(problem.gmv(np.zeros((1, 1))))) > 0

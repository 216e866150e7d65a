"""budgetopt's weekly GMV of an imported scenario, two ways: written out here from the schema's
formulas (optimizer/schema/curves.py, carry.py), and asked of the core
(``optimizer.core.problem.build_problem(scenario).gmv``); the importers' tests compare both
with each source's own numbers."""

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


def core_gmv(scenario: Scenario, spend_by_channel: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The core's in-window GMV per channel (``build_problem(...).gmv``, carry-in included)."""
    from optimizer.core.problem import build_problem

    spend = np.array([spend_by_channel[c.id] for c in scenario.channels], dtype=float)
    gmv = np.asarray(build_problem(scenario).gmv(spend))
    return {c.id: gmv[i] for i, c in enumerate(scenario.channels)}


def assert_gmv(
    scenario: Scenario,
    spend_by_channel: dict[str, np.ndarray],
    expected_by_channel: dict[str, np.ndarray],
    rtol: float = 1e-9,
) -> None:
    """Both the formulas written out here and the core give the expected weekly GMV."""
    core = core_gmv(scenario, spend_by_channel)
    for cid, expected in expected_by_channel.items():
        own = channel_gmv(scenario, cid, spend_by_channel[cid])
        np.testing.assert_allclose(own, expected, rtol=rtol, atol=0, err_msg=f"{cid}: formulas")
        np.testing.assert_allclose(core[cid], expected, rtol=rtol, atol=0, err_msg=f"{cid}: core")

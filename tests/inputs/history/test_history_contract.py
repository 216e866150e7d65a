"""The written scenario is the fitted model: the engine's GMV of the history's spend is the fit's
prediction, the plan's first weeks carry the history's last weeks, and the planner plans it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimizer.core.problem import build_problem
from optimizer.inputs.history import FitOptions, ImportOptions, fit_file
from optimizer.inputs.history.document import scenario_from_fit
from optimizer.inputs.history.families import lagged_input
from optimizer.planner import plan
from optimizer.schema.scenario import Scenario

EXAMPLE = Path(__file__).resolve().parents[3] / "scenarios" / "history_2025.csv"


@pytest.fixture(scope="module")
def example():
    return fit_file(EXAMPLE, FitOptions(draws=20), ImportOptions(weeks=8))


def test_the_engine_reproduces_the_fit_on_the_history(example):
    history = example.fit.history
    doc = scenario_from_fit(example.fit, ImportOptions(period_names=tuple(history.week_names())))
    for channel in doc["channels"]:
        channel.pop("history_spend_cny", None)  # the weeks before the data: none, as in the fit
    problem = build_problem(Scenario.model_validate(doc))
    spend = np.array([c.channel.spend_cny for c in example.fit.channels])
    engine = problem.gmv(spend)
    for k, c in enumerate(example.fit.channels):
        assert engine[k] == pytest.approx(c.predict(), rel=1e-6), c.channel.id
    assert {c.channel.id: c.model.label for c in example.fit.channels}["live_traffic"].endswith(
        "+adstock"
    )


def test_the_plan_weeks_carry_the_history_and_the_cpm_trend(example):
    scenario = Scenario.model_validate(example.document)
    problem = build_problem(scenario)
    spend = np.full((len(scenario.channels), 8), 500_000.0)
    engine = problem.gmv(spend)
    for k, c in enumerate(example.fit.channels):
        index = np.asarray(scenario.channels[k].cpm_index or [1.0] * 8)
        units = np.concatenate([c.channel.spend_cny / c.index, spend[k] / index])
        lagged = lagged_input(units, c.model.max_lag)[-8:]
        expected = c.model.predict(c.chosen.theta, lagged)
        assert engine[k] == pytest.approx(expected, rel=1e-6), c.channel.id


def test_the_written_scenario_has_fit_draws_and_plans(example):
    scenario = Scenario.model_validate(example.document)
    live = scenario.channels[0]
    assert live.id == "live_traffic" and live.cpm_index is not None
    assert live.fit.family == live.response.type and live.fit.weeks == 104
    assert live.fit.spend_min_cny == 246_200.0  # the least weekly spend in the CSV
    assert {c.draws.count() for c in scenario.channels} == {20}
    assert len(live.history_spend_cny) == live.adstock.max_lag
    result = plan(scenario)
    assert result.is_feasible and result.total.gmv_cny > 0
    assert result.total.spend_cny == pytest.approx(scenario.budget.total_cny, rel=1e-6)

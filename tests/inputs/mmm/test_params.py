"""The plain curve-parameter format (CSV or YAML, one row per channel): every column lands in
the scenario as written, and a bad row is named with its line and column."""

from __future__ import annotations

import numpy as np
import pytest
from budget_model import assert_gmv, channel_gmv
from conftest import FIXTURES

from optimizer.errors import ScenarioError
from optimizer.inputs.mmm import ImportOptions, import_model
from optimizer.schema.scenario import Scenario


def test_csv_rows_become_curve_channels():
    doc = import_model("params", FIXTURES / "curves.csv", ImportOptions(weeks=6, aov_cny=150))
    live, search, kol, display = doc["channels"]
    assert live["name"] == "自播 live" and live["aov_cny"] == 187 and kol["aov_cny"] == 150
    assert live["response"] == {
        "type": "hill",
        "max_gmv_cny": 2400000,
        "half_saturation_cny": 350000,
        "shape": 1.6,
    }
    assert live["adstock"] == {"type": "geometric", "decay": 0.45, "max_lag": 8, "normalize": True}
    assert live["history_spend_cny"] == [300000, 320000, 280000, 310000]
    assert search["adstock"] == {
        "type": "weights",
        "weights_by_lag": [1, 0.5, 0.25],
        "order": "after_saturation",
    }
    assert kol["response"]["type"] == "michaelis_menten" and "adstock" not in kol
    assert display["response"] == {"type": "linear", "roas": 1.2}
    assert doc["budget"]["total_cny"] == pytest.approx(6 * (302500 + 100000))


def test_csv_curves_give_the_documented_formulas():
    scenario = Scenario.model_validate(
        import_model("params", FIXTURES / "curves.csv", ImportOptions(weeks=3))
    )
    plan = np.array([400_000.0, 0.0, 200_000.0])
    history = np.array([300000, 320000, 280000, 310000], dtype=float)
    series = np.concatenate([history, plan])
    w = 0.45 ** np.arange(9)
    w = w / w.sum()
    carried = [sum(w[k] * series[t - k] for k in range(9) if t - k >= 0) for t in (4, 5, 6)]
    u = (np.array(carried) / 350_000) ** 1.6
    np.testing.assert_allclose(channel_gmv(scenario, "live", plan), 2.4e6 * u / (1 + u), rtol=1e-12)
    search = np.concatenate([[90000, 110000], plan])
    r = 900_000 * (1 - np.exp(-search / 260_000)) / (1 + np.exp(-search / 260_000))
    expected = [r[t] + 0.5 * r[t - 1] + 0.25 * r[t - 2] for t in (2, 3, 4)]
    np.testing.assert_allclose(channel_gmv(scenario, "search", plan), expected, rtol=1e-12)
    assert_gmv(scenario, dict.fromkeys(scenario.channel_ids(), plan), {"search": expected})


def test_yaml_rows_read_like_csv_rows():
    options = ImportOptions(period_names=("2026-W01", "2026-W02"))
    doc = import_model("params", FIXTURES / "curves.yaml", options)
    assert doc["periods"] == ["2026-W01", "2026-W02"]
    live = doc["channels"][0]
    assert live["adstock"] == {"type": "weibull_cdf", "shape": 1.2, "scale": 0.1, "window": 20}
    assert [c["response"]["type"] for c in doc["channels"]] == ["hill", "tanh", "exponential"]
    Scenario.model_validate(doc)


def _problems(tmp_path, name: str, text: str, **options) -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        import_model("params", path, ImportOptions(weeks=4, **options))
    return [str(p) for p in caught.value.problems]


def test_a_bad_row_is_named_by_line_and_column(tmp_path):
    text = (
        "id,response,max_gmv_cny,half_saturation_cny,scale_cny,adstock,colour\n"
        "a,hill,1000000,,,,\n"
        "b,sigmoid,1000000,,,,\n"
        "c,tanh,1000000,,50000,,red\n"
        "d,tanh,1000000,,50000,geometric,\n"
    )
    assert _problems(tmp_path, "p.csv", text) == [
        "row 2.half_saturation_cny (line 2): missing: a hill response needs it",
        "row 3.response (line 3): expected one of hill, logistic, tanh, michaelis_menten, "
        "exponential, linear, got 'sigmoid'",
        "row 4.colour (line 4): unknown column; expected some of adstock, adstock_decay, "
        "adstock_max_lag, adstock_normalize, adstock_order, adstock_scale, adstock_shape, "
        "adstock_weights, adstock_window, aov_cny, half_saturation_cny, history_spend_cny, id, "
        "max_gmv_cny, name, response, roas, scale_cny, shape",
        "row 5.adstock_decay (line 5): missing: a geometric adstock needs it",
    ]


def test_values_out_of_range_are_named_in_the_scenario(tmp_path):
    text = (
        "channels:\n  - id: a\n    response: hill\n    max_gmv_cny: 1e6\n"
        "    half_saturation_cny: -5\n"
    )
    (problem,) = _problems(tmp_path, "p.yaml", text, budget_total_cny=1e6)
    assert problem.startswith("channels[0].response.half_saturation_cny")


def test_no_history_and_no_budget_asks_for_the_budget(tmp_path):
    text = "id,response,roas\na,linear,2\n"
    (problem,) = _problems(tmp_path, "p.csv", text)
    assert problem.startswith("budget_total_cny: the model file holds no spend history")
    assert "--budget-cny" in problem
    assert _problems(tmp_path, "q.yaml", "rows: []\n") == [
        "channels: expected a list of channels, one mapping each"
    ]

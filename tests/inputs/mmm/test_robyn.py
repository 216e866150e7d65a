"""Robyn: the imported curves give Robyn's own weekly response (its R code, ported in
robyn_reference) for the same spend after the fitted weeks, to 1e-9."""

from __future__ import annotations

import json

import numpy as np
import pytest
import robyn_reference as robyn
from budget_model import assert_gmv
from conftest import FIXTURES, spend_path

from optimizer.errors import ScenarioError
from optimizer.inputs.mmm import ImportOptions, import_model
from optimizer.schema.scenario import Scenario

CASES = [
    ("robyn_geometric_v3_12.json", "max"),
    ("robyn_weibull_pdf_v3_11.json", "interpolate"),
    ("robyn_weibull_cdf_v3_6.json", "quantile"),
]
WEEKS = 12


def model_input(doc: dict, spend: str, var: str) -> np.ndarray:
    """The model's input series: spend, or (3.12) exposure * cpe_window (exposure_handling)."""
    ic = doc["InputCollect"]
    rows = sorted(doc["Extras"]["raw_data"], key=lambda r: r["DATE"])
    column = np.array([r[spend] for r in rows], dtype=float)
    if var == spend:
        return column
    exposure = np.array([r[var] for r in rows], dtype=float)
    lo, hi = ic["rollingWindowStartWhich"][0] - 1, ic["rollingWindowEndWhich"][0]
    return exposure * (column[lo:hi].sum() / exposure[lo:hi].sum())


def robyn_channels(doc: dict) -> list[tuple[str, str, float, dict[str, float]]]:
    """(spend name, model variable, coef, hyperparameters) of the paid channels with coef > 0."""
    ic, em = doc["InputCollect"], doc["ExportedModel"]
    coefs = {row["variable"]: row["coef"] for row in em["summary"]}
    out = []
    for spend, var in zip(ic["paid_media_spends"], ic["paid_media_vars"], strict=True):
        var = var if "v3.12" in ic["version"][0] else spend
        hyper = {
            key.removeprefix(f"{var}_"): value[0]
            for key, value in em["hyper_values"].items()
            if key.startswith(f"{var}_")
        }
        if coefs[var] > 0:
            out.append((spend, var, coefs[var], hyper))
    return out


@pytest.mark.parametrize(("name", "rule"), CASES)
def test_imported_curves_give_robyns_response(name, rule):
    doc = json.loads((FIXTURES / name).read_text())
    scenario = Scenario.model_validate(
        import_model("robyn", FIXTURES / name, ImportOptions(weeks=WEEKS))
    )
    ic = doc["InputCollect"]
    window = (ic["rollingWindowStartWhich"][0], ic["rollingWindowEndWhich"][0])
    plans, expected = {}, {}
    for k, (spend, var, coef, hyper) in enumerate(robyn_channels(doc)):
        plan = spend_path(WEEKS, seed=k, high=2 * float(np.mean(model_input(doc, spend, var))))
        plans[spend] = plan
        expected[spend] = robyn.response(
            model_input(doc, spend, var),
            plan,
            adstock=ic["adstock"][0],
            hyper=hyper,
            coef=coef,
            window=window,
            rule=rule,
        )
    assert list(expected) == scenario.channel_ids() and len(expected) >= 2
    assert_gmv(scenario, plans, expected)


def test_zero_coefficient_and_organic_channels_are_left_out():
    doc = import_model("robyn", FIXTURES / "robyn_geometric_v3_12.json", ImportOptions(weeks=4))
    assert [c["id"] for c in doc["channels"]] == ["tv_S", "facebook_S", "search_S"]
    assert "ooh_S" in doc["description"] and "'max' rule" in doc["description"]
    facebook = doc["channels"][1]
    assert facebook["name"] == "facebook_S (facebook_I)"
    assert facebook["adstock"] == {"type": "geometric", "decay": 0.17, "max_lag": 104 + 4 - 1}
    assert len(facebook["history_spend_cny"]) == 104


def test_weibull_keeps_robyns_window_and_history():
    doc = import_model("robyn", FIXTURES / "robyn_weibull_pdf_v3_11.json", ImportOptions(weeks=8))
    live = doc["channels"][0]
    assert live["adstock"] == {"type": "weibull_pdf", "shape": 2.7, "scale": 0.04, "window": 80}
    assert len(live["history_spend_cny"]) == 79
    assert live["response"]["type"] == "hill" and live["response"]["shape"] == 1.7


def test_the_budget_defaults_to_the_mean_weekly_spend_in_the_window():
    doc = import_model("robyn", FIXTURES / "robyn_weibull_cdf_v3_6.json", ImportOptions(weeks=10))
    data = json.loads((FIXTURES / "robyn_weibull_cdf_v3_6.json").read_text())
    rows = data["Extras"]["raw_data"][2:58]
    weekly = sum(np.mean([r[c] for r in rows]) for c in ("search_S", "display_S"))
    assert doc["budget"]["total_cny"] == pytest.approx(10 * weekly, abs=0.005)
    given = import_model(
        "robyn",
        FIXTURES / "robyn_weibull_cdf_v3_6.json",
        ImportOptions(weeks=10, budget_total_cny=5e6, aov_cny=150, objective="max_gmv"),
    )
    assert given["budget"]["total_cny"] == 5e6
    assert {c["aov_cny"] for c in given["channels"]} == {150}


def _broken(tmp_path, name: str, change) -> str:
    doc = json.loads((FIXTURES / "robyn_geometric_v3_12.json").read_text())
    change(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def _problem(source: str, path) -> str:
    with pytest.raises(ScenarioError) as caught:
        import_model(source, path, ImportOptions(weeks=4))
    return "\n".join(str(p) for p in caught.value.problems)


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (
            lambda d: d["ExportedModel"]["hyper_values"].pop("tv_S_thetas"),
            "ExportedModel.hyper_values.tv_S_thetas",
            "missing",
        ),
        (lambda d: d.pop("Extras"), "Extras.raw_data", "add_data = TRUE"),
        (
            lambda d: d["InputCollect"].update(adstock=["exponential"]),
            "InputCollect.adstock",
            "expected one of geometric",
        ),
        (
            lambda d: d["InputCollect"].update(dep_var_type=["conversion"]),
            "InputCollect.dep_var_type",
            "not GMV",
        ),
        (
            lambda d: d["InputCollect"].update(version=["Robyn (stable) v3.10.5 [R-4.3]"]),
            "InputCollect.paid_media_vars[1]",
            "Michaelis-Menten",
        ),
        (
            lambda d: d["InputCollect"].update(version=["Robyn, unknown"]),
            "InputCollect.version",
            "expected a version",
        ),
        (
            lambda d: d["Extras"]["raw_data"][3].update(tv_S="lots"),
            "Extras.raw_data.tv_S",
            "expected numbers",
        ),
    ],
)
def test_a_broken_file_names_the_field(tmp_path, change, where, says):
    message = _problem("robyn", _broken(tmp_path, "model.json", change))
    assert message.startswith(where) and says in message


def test_not_json_and_wrong_source_are_clear(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"InputCollect": {\n  "adstock": [geometric]\n}}')
    assert _problem("robyn", bad).startswith("file (line 2): invalid JSON")
    assert "not a NetCDF" in _problem("pymc-marketing", FIXTURES / "robyn_geometric_v3_12.json")
    assert "UTF-8" in _problem("robyn", FIXTURES / "meridian_binomial.nc")
    assert "expected one of robyn" in _problem("sas", bad)

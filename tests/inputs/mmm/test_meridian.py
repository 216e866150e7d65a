"""Meridian: the imported curves give Meridian's contribution (its formulas in float64 to 1e-9;
Meridian's own float32 numbers from make_meridian.py to 1e-5) for the same spend after the
fitted weeks."""

from __future__ import annotations

import json

import meridian_reference as meridian
import numpy as np
import pytest
from budget_model import assert_gmv, channel_gmv
from conftest import FIXTURES
from netcdf_files import altered, set_json

from optimizer.errors import ScenarioError
from optimizer.inputs.mmm import ImportOptions, import_model
from optimizer.schema.scenario import Scenario

pytest.importorskip("xarray")

MODEL = FIXTURES / "meridian_binomial.nc"


def _expected() -> dict:
    return json.loads((FIXTURES / "meridian_binomial.expected.json").read_text())


def _imported(plan: np.ndarray) -> tuple[Scenario, dict[str, np.ndarray]]:
    """The scenario and its GMV per channel id for plan spend (geo x week x channel)."""
    expected = _expected()
    scenario = Scenario.model_validate(
        import_model("meridian", MODEL, ImportOptions(weeks=plan.shape[1]))
    )
    gmv = {}
    for g, geo in enumerate(expected["geos"]):
        for m, channel in enumerate(expected["channels"]):
            cid = f"{channel}-{geo}"
            gmv[cid] = channel_gmv(scenario, cid, plan[g, :, m])
    return scenario, gmv


def test_imported_curves_give_meridians_contribution():
    expected = _expected()
    plan = np.array(expected["plan_spend_cny"])
    own = np.array(expected["contribution_cny"])
    reference = meridian.contribution(meridian.load(MODEL), plan)
    scenario, _ = _imported(plan)
    pairs = [(g, m) for m in range(len(expected["channels"])) for g in range(len(expected["geos"]))]
    ids = [f"{expected['channels'][m]}-{expected['geos'][g]}" for g, m in pairs]
    spend = {cid: plan[g, :, m] for cid, (g, m) in zip(ids, pairs, strict=True)}
    assert_gmv(
        scenario, spend, {cid: reference[g, :, m] for cid, (g, m) in zip(ids, pairs, strict=True)}
    )
    own_numbers = {cid: own[g, :, m] for cid, (g, m) in zip(ids, pairs, strict=True)}
    assert_gmv(scenario, spend, own_numbers, rtol=1e-5)  # Meridian computes in float32


def test_another_spend_path_matches_too():
    rng = np.random.default_rng(4)
    plan = rng.uniform(0, 800_000, (2, 20, 2))
    reference = meridian.contribution(meridian.load(MODEL), plan)
    _, gmv = _imported(plan)
    got = np.array([[gmv[f"{c}-{g}"] for c in ("tv", "social")] for g in ("north", "south")])
    np.testing.assert_allclose(got.transpose(0, 2, 1), reference, rtol=1e-9)


def test_geos_become_channels_grouped_by_media_channel():
    doc = import_model("meridian", MODEL, ImportOptions(weeks=4))
    ids = [c["id"] for c in doc["channels"]]
    assert ids == ["tv-north", "tv-south", "social-north", "social-south"]
    tv = doc["channels"][0]
    assert tv["groups"] == ["tv"]
    assert tv["adstock"]["type"] == "weights" and len(tv["adstock"]["weights_by_lag"]) == 7
    assert tv["adstock"]["normalize"] is True
    social = doc["channels"][2]["adstock"]
    assert social["type"] == "geometric" and social["max_lag"] == 6
    assert len(doc["channels"][0]["history_spend_cny"]) == 6


def _problem(path) -> str:
    with pytest.raises(ScenarioError) as caught:
        import_model("meridian", path, ImportOptions(weeks=4))
    return "\n".join(str(p) for p in caught.value.problems)


def test_a_broken_file_names_the_field(tmp_path):
    decay = set_json("adstock_decay_spec", lambda d: {**d, "tv": "weibull"})
    assert _problem(altered(MODEL, tmp_path / "a.nc", attrs=decay)).startswith(
        "attrs.adstock_decay_spec: expected geometric or binomial"
    )
    no_spend = altered(
        MODEL,
        tmp_path / "b.nc",
        groups=lambda g: g.update(constant_data=g["constant_data"].drop_vars("media_spend")),
    )
    assert _problem(no_spend).startswith("constant_data.media_spend: missing")
    kpi = altered(
        MODEL,
        tmp_path / "c.nc",
        attrs=lambda a: a.update(kpi_type="non_revenue"),
        groups=lambda g: g.update(constant_data=g["constant_data"].drop_vars("revenue_per_kpi")),
    )
    assert _problem(kpi).startswith("constant_data.revenue_per_kpi: missing")
    assert _problem(altered(MODEL, tmp_path / "d.nc", attrs=lambda a: a.pop("max_lag"))) == (
        "attrs.max_lag: missing attribute"
    )
    pymc = _problem(FIXTURES / "pymc_geometric_logistic.nc")
    assert pymc.startswith("attrs.source: expected 'meridian'") and "PyMC-Marketing" in pymc


def test_the_posterior_draws_stay_available_for_ranges():
    from optimizer.inputs.mmm.meridian import posterior_draws

    draws = posterior_draws(MODEL)
    assert draws["beta_gm"].shape == (2, 50, 2, 2) and draws["alpha_m"].shape == (2, 50, 2)

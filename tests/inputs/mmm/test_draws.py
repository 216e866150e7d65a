"""Draws of imported curves: draw k of every channel is the point import's conversion of the
k-th picked posterior sample, so the core's GMV at draw k is the source model's contribution
at that sample (PyMC-Marketing's and Meridian's formulas in float64, to 1e-9). The samples are
spread evenly over the flattened (chain, draw) index, the same for every channel and every
import of the same file."""

from __future__ import annotations

import copy
import functools
import shutil

import meridian_reference as meridian
import numpy as np
import pymc_reference as pymc
import pytest
from budget_model import assert_gmv
from conftest import FIXTURES

from optimizer.errors import ScenarioError
from optimizer.inputs.mmm import ImportOptions, ModelImport, import_model, read_model
from optimizer.inputs.mmm.draws import Sampling
from optimizer.schema.draws import Draws
from optimizer.schema.scenario import Scenario

pytest.importorskip("xarray")

MERIDIAN = FIXTURES / "meridian_binomial.nc"
# 80 samples (2 chains x 40 draws), 5 picked: flat (2k + 1) * 80 // 10 = 8, 24, 40, 56, 72.
PYMC_PICKS = [(0, 8), (0, 24), (1, 0), (1, 16), (1, 32)]
# 100 samples (2 chains x 50 draws), 4 picked: (2k + 1) * 100 // 8 = 12, 37, 62, 87.
MERIDIAN_PICKS = [(0, 12), (0, 37), (1, 12), (1, 37)]


def at_draw(document: dict, k: int) -> Scenario:
    """The scenario of draw k: each channel's drawn parameters at their k-th value, no draws."""
    doc = copy.deepcopy(document)
    for channel in doc["channels"]:
        draws = Draws.model_validate(channel.pop("draws"))
        channel["response"].update(draws.response_at(k))
        if draws.adstock:
            channel["adstock"].update(draws.adstock_at(k))
    return Scenario.model_validate(doc)


def test_samples_are_spread_evenly_and_all_used_when_fewer():
    assert Sampling.evenly(5, 80).picks.tolist() == [8, 24, 40, 56, 72]
    assert Sampling.evenly(4, 4).picks.tolist() == [0, 1, 2, 3]
    everything = Sampling.evenly(200, 80)
    assert everything.picks.tolist() == list(range(80))
    assert everything.notes() == [
        "asked for 200 draws, the model holds 80 samples: all 80 are used"
    ]
    assert Sampling.evenly(0, 80).count == 0


@functools.cache
def _imported(source: str, name: str, draws: int, weeks: int = 6) -> ModelImport:
    return read_model(source, FIXTURES / name, ImportOptions(weeks=weeks), draws=draws)


# The adstock each fixture writes as weights keeps its posterior means in every draw.
@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("pymc_geometric_logistic", ()),
        ("pymc_delayed_hill_after", ("adstock_alpha", "adstock_theta")),
    ],
)
def test_pymc_draw_k_is_pymc_marketings_contribution_at_the_kth_sample(name, kept):
    doc = _imported("pymc-marketing", f"{name}.nc", 5).document
    ids = [c["id"] for c in doc["channels"]]
    plan = np.random.default_rng(7).uniform(0, 900_000, (6, len(ids)))
    spend = {cid: plan[:, i] for i, cid in enumerate(ids)}
    model = pymc.load(FIXTURES / f"{name}.nc")
    for k, sample in enumerate(PYMC_PICKS):
        reference = pymc.contribution(pymc.at_sample(model, sample, keep=kept), plan)
        expected = {cid: reference[:, i] for i, cid in enumerate(ids)}
        assert_gmv(at_draw(doc, k), spend, expected)


def test_meridian_draw_k_is_meridians_contribution_at_the_kth_sample():
    doc = _imported("meridian", MERIDIAN.name, 4).document
    plan = np.random.default_rng(5).uniform(0, 800_000, (2, 6, 2))  # geo x week x channel
    pairs = [(g, m) for m in range(2) for g in range(2)]
    ids = [c["id"] for c in doc["channels"]]
    spend = {cid: plan[g, :, m] for cid, (g, m) in zip(ids, pairs, strict=True)}
    model = meridian.load(MERIDIAN)
    for k, sample in enumerate(MERIDIAN_PICKS):
        at = meridian.at_sample(model, sample, mean_alpha=(0,))  # tv: binomial weights
        reference = meridian.contribution(at, plan)
        expected = {cid: reference[g, :, m] for cid, (g, m) in zip(ids, pairs, strict=True)}
        assert_gmv(at_draw(doc, k), spend, expected)


def test_the_point_curve_stays_at_the_posterior_means():
    with_draws = _imported("meridian", MERIDIAN.name, 4).document
    without = _imported("meridian", MERIDIAN.name, 0).document
    for drawn, point in zip(with_draws["channels"], without["channels"], strict=True):
        assert drawn["response"] == point["response"] and drawn["adstock"] == point["adstock"]
        assert "draws" not in point
    assert "Draws:" not in without["description"]


def test_what_is_drawn_and_what_keeps_its_point_value():
    geometric = _imported("pymc-marketing", "pymc_geometric_logistic.nc", 5)
    live = geometric.document["channels"][0]["draws"]
    assert set(live["response"]) == {"max_gmv_cny", "scale_cny"}
    assert list(live["adstock"]) == ["decay"] and geometric.notes == ()
    assert geometric.draws == 5
    delayed = _imported("pymc-marketing", "pymc_delayed_hill_after.nc", 5)
    hill = delayed.document["channels"][0]["draws"]
    assert set(hill) == {"response"}
    assert set(hill["response"]) == {"max_gmv_cny", "half_saturation_cny", "shape"}
    assert "the adstock of live, search is written lag by lag" in delayed.notes[0]
    assert "The adstock of live, search" in delayed.document["description"]
    tv, _, social, _ = _imported("meridian", MERIDIAN.name, 4).document["channels"]
    assert "adstock" not in tv["draws"] and list(social["draws"]["adstock"]) == ["decay"]
    assert "shape" not in tv["draws"]["response"]  # slope_m is 1 in every sample: not drawn


def test_the_count_and_every_draw_validate_with_the_default():
    imported = read_model("meridian", MERIDIAN)  # the default: 200 asked, 100 in the file
    assert imported.draws == 100
    assert imported.notes[0] == "asked for 200 draws, the model holds 100 samples: all 100 are used"
    scenario = Scenario.model_validate(imported.document)
    assert {c.draws.count() for c in scenario.channels} == {100}
    assert "Draws: all 100 posterior samples" in imported.document["description"]


def test_the_same_file_gives_the_same_draws(tmp_path):
    source = FIXTURES / "pymc_geometric_logistic.nc"
    copied = shutil.copy(source, tmp_path / "other name.nc")
    first = _imported("pymc-marketing", source.name, 5).document
    again = import_model("pymc-marketing", copied, ImportOptions(weeks=6), draws=5)
    assert first["channels"] == again["channels"]


def test_robyn_has_no_posterior_so_no_draws():
    imported = read_model("robyn", FIXTURES / "robyn_geometric_v3_12.json", draws=50)
    assert all("draws" not in c for c in imported.document["channels"])
    assert imported.draws == 0 and "no posterior samples" in imported.notes[0]
    assert read_model("robyn", FIXTURES / "robyn_geometric_v3_12.json", draws=0).notes == ()


PARAMS_WITH_DRAWS = """
channels:
  - id: live
    response: hill
    max_gmv_cny: 2000000
    half_saturation_cny: 300000
    adstock: geometric
    adstock_decay: 0.4
    adstock_max_lag: 4
    draws:
      response: {max_gmv_cny: [1, 2, 3, 4, 5, 6], shape: [1.1, 1.2, 1.3, 1.4, 1.5, 1.6]}
      adstock: {decay: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}
  - id: video
    response: tanh
    max_gmv_cny: 800000
    scale_cny: 300000
    draws:
      response: {scale_cny: [10, 20, 30, 40, 50, 60]}
"""


def test_params_yaml_draws_pass_through_and_are_thinned_evenly(tmp_path):
    path = tmp_path / "curves.yaml"
    path.write_text(PARAMS_WITH_DRAWS)
    options = ImportOptions(weeks=2, budget_total_cny=1e6)
    all_of_them = read_model("params", path, options, draws=10)
    live = all_of_them.document["channels"][0]
    assert live["draws"]["adstock"] == {"decay": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}
    assert all_of_them.notes == ("asked for 10 draws, the model holds 6 samples: all 6 are used",)
    three = read_model("params", path, options, draws=3).document["channels"]
    assert three[0]["draws"]["response"]["max_gmv_cny"] == [2, 4, 6]  # (2k + 1) * 6 // 6
    assert three[1]["draws"]["response"]["scale_cny"] == [20, 40, 60]
    none = read_model("params", path, options, draws=0).document["channels"]
    assert all("draws" not in c for c in none)


def test_params_draws_are_yaml_only_and_checked(tmp_path):
    csv = tmp_path / "curves.csv"
    csv.write_text("id,response,roas,draws\nsearch,linear,2,1;2\n")
    with pytest.raises(ScenarioError) as caught:
        import_model("params", csv, ImportOptions(weeks=2, budget_total_cny=1e6))
    assert str(caught.value.problems[0]).startswith("row 2.draws (line 2): expected a YAML mapping")
    uneven = tmp_path / "uneven.yaml"
    uneven.write_text(PARAMS_WITH_DRAWS.replace("[10, 20, 30, 40, 50, 60]", "[10, 20]"))
    with pytest.raises(ScenarioError) as caught:
        import_model("params", uneven, ImportOptions(weeks=2, budget_total_cny=1e6))
    assert "expected 6 draws" in str(caught.value)


def test_a_bad_posterior_sample_names_the_variable(tmp_path):
    from netcdf_files import altered

    def negative_ec(groups):
        post = groups["posterior"]
        ec = post["ec_m"].copy()
        ec[0, 12, 0] = -1.0  # the first picked sample; the mean stays positive
        groups["posterior"] = post.assign(ec_m=ec)

    path = altered(MERIDIAN, tmp_path / "bad.nc", groups=negative_ec)
    with pytest.raises(ScenarioError) as caught:
        import_model("meridian", path, ImportOptions(weeks=4), draws=4)
    assert str(caught.value.problems[0]) == (
        "posterior.ec_m: expected numbers >= 0 in every sample"
    )
    point_only = import_model("meridian", path, ImportOptions(weeks=4), draws=0)
    assert all("draws" not in c for c in point_only["channels"])  # the means are fine

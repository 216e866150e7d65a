"""PyMC-Marketing: the imported curves give the contribution PyMC-Marketing itself computed
(tests/fixtures/mmm/make_pymc_marketing.py) for the same spend after the fitted weeks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from budget_model import assert_gmv
from conftest import FIXTURES
from netcdf_files import altered, set_json

from optimizer.errors import ScenarioError
from optimizer.inputs.mmm import ImportOptions, import_model
from optimizer.inputs.mmm.pymc_marketing import posterior_draws
from optimizer.schema.scenario import Scenario

pytest.importorskip("xarray")  # the mmm extra; `make test` installs it

CASES = ["pymc_geometric_logistic", "pymc_delayed_hill_after"]


def _expected(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


def _scenario(name: str, weeks: int) -> Scenario:
    return Scenario.model_validate(
        import_model("pymc-marketing", FIXTURES / f"{name}.nc", ImportOptions(weeks=weeks))
    )


@pytest.mark.parametrize("name", CASES)
def test_imported_curves_give_pymc_marketings_contribution(name):
    expected = _expected(name)
    plan = np.array(expected["plan_spend_cny"])
    scenario = _scenario(name, len(plan))
    assert scenario.channel_ids() == expected["channels"]
    contribution = np.array(expected["contribution_cny"])
    channels = expected["channels"]
    assert_gmv(
        scenario,
        {cid: plan[:, i] for i, cid in enumerate(channels)},
        {cid: contribution[:, i] for i, cid in enumerate(channels)},
    )


def test_scaling_is_undone_into_cny():
    doc = import_model(
        "pymc-marketing", FIXTURES / "pymc_geometric_logistic.nc", ImportOptions(weeks=4)
    )
    live = doc["channels"][0]
    assert live["response"]["type"] == "logistic"
    assert live["adstock"]["type"] == "geometric" and live["adstock"]["max_lag"] == 5
    assert live["adstock"]["normalize"] is True
    assert live["adstock"]["order"] == "before_saturation"
    assert len(live["history_spend_cny"]) == 5
    after = import_model(
        "pymc-marketing", FIXTURES / "pymc_delayed_hill_after.nc", ImportOptions(weeks=4)
    )
    search = after["channels"][1]
    assert search["response"]["type"] == "hill"
    assert search["adstock"]["type"] == "weights" and len(search["adstock"]["weights_by_lag"]) == 5
    assert search["adstock"]["order"] == "after_saturation"
    assert search["adstock"]["normalize"] is False


def test_the_posterior_draws_stay_available_for_ranges():
    draws = posterior_draws(FIXTURES / "pymc_geometric_logistic.nc")
    assert set(draws) == {"adstock_alpha", "saturation_lam", "saturation_beta"}
    assert draws["saturation_beta"].shape == (2, 40, 3)
    doc = import_model(
        "pymc-marketing", FIXTURES / "pymc_geometric_logistic.nc", ImportOptions(weeks=4)
    )
    assert "posterior means of 80 draws" in doc["description"]


def _problem(path) -> str:
    with pytest.raises(ScenarioError) as caught:
        import_model("pymc-marketing", path, ImportOptions(weeks=4))
    return "\n".join(str(p) for p in caught.value.problems)


def test_a_broken_file_names_the_field(tmp_path):
    source = FIXTURES / "pymc_geometric_logistic.nc"
    root = set_json("saturation", lambda s: {**s, "lookup_name": "root"})
    message = _problem(altered(source, tmp_path / "a.nc", attrs=root))
    assert message.startswith("attrs.saturation.lookup_name: expected one of logistic")
    varying = _problem(
        altered(source, tmp_path / "b.nc", attrs=lambda a: a.update(time_varying_media="true"))
    )
    assert varying.startswith("attrs.time_varying_media")
    no_scale = _problem(
        altered(
            source,
            tmp_path / "c.nc",
            groups=lambda g: g.update(constant_data=g["constant_data"].drop_vars("channel_scale")),
        )
    )
    assert no_scale.startswith("constant_data.channel_scale: missing")
    no_posterior = _problem(altered(source, tmp_path / "d.nc", groups=lambda g: g.pop("posterior")))
    assert no_posterior.startswith("posterior: missing group")
    junk = tmp_path / "e.nc"
    junk.write_bytes(b"\x89HDF not really")
    assert _problem(junk).startswith("file: not a NetCDF")
    assert _problem(tmp_path / "none.nc") == "file: no such file"
    meridian = _problem(FIXTURES / "meridian_binomial.nc")
    assert meridian == "attrs.source: a Meridian export: import it as meridian"

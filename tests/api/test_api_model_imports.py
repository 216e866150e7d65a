"""POST /v1/scenarios/import-model: a media-mix model file (multipart, with its source and
options) stored as a new scenario, as `budgetopt import` writes it; a broken file is a 422
naming the field in the file, and nothing is stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from api_helpers import assert_problem, errors

from optimizer.inputs.mmm import ImportOptions, import_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mmm"


def _upload(api, source: str, name: str, content: bytes, role: str = "planner", **form):
    files = {"file": (name, io.BytesIO(content), "application/octet-stream")}
    data = {"source": source, **{k: str(v) for k, v in form.items()}}
    return api.call("POST", "/v1/scenarios/import-model", role=role, files=files, data=data)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("robyn", "robyn_weibull_pdf_v3_11.json"),
        ("pymc-marketing", "pymc_delayed_hill_after.nc"),
        ("meridian", "meridian_binomial.nc"),
        ("params", "curves.yaml"),
    ],
)
def test_a_model_file_is_stored_as_the_command_imports_it(api, source, name):
    content = (FIXTURES / name).read_bytes()
    response = _upload(api, source, name, content, weeks=6, budget_cny=4e6, aov_cny=160)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/scenarios/{body['id']}"
    stored = api.call("GET", f"/v1/scenarios/{body['id']}", role="viewer").json()
    document = stored["latest"]["scenario"]
    expected = import_model(
        source, FIXTURES / name, ImportOptions(weeks=6, budget_total_cny=4e6, aov_cny=160)
    )
    assert [c["id"] for c in document["channels"]] == [c["id"] for c in expected["channels"]]
    assert document["channels"][0]["response"] == pytest.approx(expected["channels"][0]["response"])
    assert document["budget"]["total_cny"] == 4e6 and len(document["periods"]) == 6


def test_a_broken_model_is_a_422_naming_the_field_and_nothing_is_stored(api):
    before = api.call("GET", "/v1/scenarios", role="viewer").json()["total"]
    bad = b'{"InputCollect": {}, "ExportedModel": {}}'
    found = errors(_upload(api, "robyn", "model.json", bad))
    assert found == {"file.InputCollect.version": "missing"}
    nc = errors(_upload(api, "meridian", "model.nc", b"not HDF5"))
    assert list(nc) == ["file"] and "not a NetCDF" in nc["file"]
    wrong = errors(_upload(api, "sas", "model.json", bad))
    assert "body.source" in wrong
    viewer = _upload(api, "robyn", "model.json", bad, role="viewer")
    assert_problem(viewer, 403, "forbidden")
    assert api.call("GET", "/v1/scenarios", role="viewer").json()["total"] == before


def test_draws_is_a_form_field_of_0_to_2000_defaulting_to_200(api):
    content = (FIXTURES / "pymc_geometric_logistic.nc").read_bytes()
    asked = _upload(api, "pymc-marketing", "mmm.nc", content, weeks=4, draws=3)
    assert asked.status_code == 201, asked.text
    stored = api.call("GET", f"/v1/scenarios/{asked.json()['id']}", role="viewer").json()
    channels = stored["latest"]["scenario"]["channels"]
    expected = import_model(
        "pymc-marketing", FIXTURES / "pymc_geometric_logistic.nc", ImportOptions(weeks=4), draws=3
    )
    assert [c["draws"] for c in channels] == [c["draws"] for c in expected["channels"]]
    default = _upload(api, "pymc-marketing", "mmm.nc", content, weeks=4)
    assert default.status_code == 201, default.text
    stored = api.call("GET", f"/v1/scenarios/{default.json()['id']}", role="viewer").json()
    live = stored["latest"]["scenario"]["channels"][0]
    assert len(live["draws"]["response"]["max_gmv_cny"]) == 80  # 200 asked, all 80 the file has
    none = _upload(api, "pymc-marketing", "mmm.nc", content, weeks=4, draws=0)
    stored = api.call("GET", f"/v1/scenarios/{none.json()['id']}", role="viewer").json()
    assert all("draws" not in c for c in stored["latest"]["scenario"]["channels"])
    assert "body.draws" in errors(_upload(api, "pymc-marketing", "mmm.nc", content, draws=2001))

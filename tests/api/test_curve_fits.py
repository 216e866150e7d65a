"""POST /v1/curves/fit: a weekly history (multipart, with the options of `budgetopt fit`)
fitted into a scenario and its report, stored when asked; a bad file is a 422 naming the
column and line, and nothing is stored."""

from __future__ import annotations

import io
from pathlib import Path

from api_helpers import assert_problem, errors

from optimizer.inputs.history import FitOptions, ImportOptions, fit_file

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "history_2025.csv"
QUICK = {"families": "michaelis_menten,exponential", "adstock": "false", "draws": 5}  # < 1 s


def _upload(api, name: str, content: bytes, role: str = "planner", **form):
    files = {"file": (name, io.BytesIO(content), "text/csv")}
    data = {k: str(v) for k, v in form.items()}
    return api.call("POST", "/v1/curves/fit", role=role, files=files, data=data)


def test_a_history_is_fitted_as_the_command_fits_it(api):
    response = _upload(api, "history.csv", EXAMPLE.read_bytes(), weeks=4, seed=3, **QUICK)
    assert response.status_code == 200, response.text
    body = response.json()
    options = FitOptions(("michaelis_menten", "exponential"), adstock=False, draws=5, seed=3)
    expected = fit_file(EXAMPLE, options, ImportOptions(weeks=4))
    for channel in expected.document["channels"]:
        channel["fit"]["source"] = "history.csv"  # the upload's name, not the file's here
    assert body["scenario"]["channels"] == expected.document["channels"]
    assert [c["chosen"] for c in body["report"]["channels"]] == [
        c["chosen"] for c in expected.report["channels"]
    ]
    assert body["report"]["source"] == "history.csv" and body["stored"] is None


def test_store_keeps_it_as_a_new_scenario(api):
    response = _upload(api, "h.csv", EXAMPLE.read_bytes(), weeks=4, store="true", **QUICK)
    assert response.status_code == 201, response.text
    stored = response.json()["stored"]
    assert response.headers["location"] == f"/v1/scenarios/{stored['id']}"
    got = api.call("GET", f"/v1/scenarios/{stored['id']}", role="viewer").json()
    assert got["latest"]["scenario"]["channels"][0]["id"] == "live_traffic"


def test_a_bad_history_is_a_422_naming_column_and_line_and_nothing_is_stored(api):
    before = api.call("GET", "/v1/scenarios", role="viewer").json()["total"]
    bad = b"week,channel,spend_cny,gmv_cny\n2024-W01,kol,-5,10\n"
    found = errors(_upload(api, "bad.csv", bad, store="true"))
    assert found == {"file.spend_cny": "line 2: expected a number >= 0, got '-5'"}
    flat = "".join(f"2024-W{k:02d},kol,100,{k}\n" for k in range(1, 21))
    found = errors(_upload(api, "flat.csv", ("week,channel,spend_cny,gmv_cny\n" + flat).encode()))
    assert "too little variation in spend" in found["file.spend_cny"]
    assert "body.families" in errors(_upload(api, "h.csv", EXAMPLE.read_bytes(), families="x"))
    viewer = _upload(api, "h.csv", b"week", role="viewer")
    assert_problem(viewer, 403, "forbidden")
    assert api.call("GET", "/v1/scenarios", role="viewer").json()["total"] == before


def test_every_bad_history_is_a_422_naming_column_and_line(api):
    header = "week,channel,spend_cny,gmv_cny\n"
    cases = {
        "2024-W01,kol,5,ten\n": {"file.gmv_cny": "line 2: expected a number, got 'ten'"},
        "2024-W01,kol,5,10\n2024-W01,kol,6,11\n": {
            "file.week": "line 3: a second row for channel 'kol' in week 2024-W01 (the first "
            "is line 2)"
        },
        "2024-W01,,5,10\n": {"file.channel": "line 2: expected a channel name, got a blank"},
        "2024-W01,kol,5,10\n2024-W03,kol,5,10\n": {
            "file.week": "line 2: channel 'kol' has no row for week(s) 2024-W02; every channel "
            "needs a row for every week from 2024-W01 to 2024-W03 (spend_cny 0 for a week "
            "without spend)"
        },
    }
    for rows, expected in cases.items():
        assert errors(_upload(api, "bad.csv", (header + rows).encode())) == expected
    missing = errors(_upload(api, "bad.csv", b"week,channel,spend\n2024-W01,kol,5\n"))
    assert "missing gmv_cny" in missing["file.header"]
    unknown = _upload(api, "h.csv", EXAMPLE.read_bytes(), channels="kol,search")
    assert unknown.status_code == 422
    assert [e["message"] for e in unknown.json()["errors"]] == [
        "line 2: unknown channel 'live_traffic': expected one of kol, search",
        "line 4: unknown channel 'private_domain': expected one of kol, search",
    ]

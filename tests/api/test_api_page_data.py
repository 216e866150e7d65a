"""What the planner's page reads besides plans: response curves of a plan, scenario files
uploaded as they are, the page itself and its front-end files served without a CDN."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from api_helpers import assert_problem, errors, small_scenario, stored_scenario

from optimizer.inputs.workbook.writer import write_template
from optimizer.schema.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]


def _plan(api, sid: str) -> dict:
    response = api.call("POST", f"/v1/scenarios/{sid}/plans", json={})
    assert response.status_code == 201, response.text
    return response.json()


def test_curves_pass_through_the_plan_and_follow_the_response_model(api):
    # live: ROAS 5, capped at 400,000 spend; search: ROAS 3. The best plan spends 400k and
    # 600k, so live's curve over 0..800k in 5 points is 5 x spend (the cap bounds the plan,
    # not the response: the curve shows what spend past it would return)
    plan = _plan(api, stored_scenario(api))
    response = api.call("GET", f"/v1/plans/{plan['id']}/curves?points=5", role="viewer")
    assert response.status_code == 200, response.text
    curves = {c["channel"]: c for c in response.json()["curves"]}
    live, search = curves["live"], curves["search"]
    assert live["spread"] == "plan" and live["name"] == "live"
    assert live["spend_cny"] == [0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0]
    assert live["gmv_cny"] == [0.0, 1_000_000.0, 2_000_000.0, 3_000_000.0, 4_000_000.0]
    assert live["chosen_spend_cny"] == 400_000.0 and live["chosen_gmv_cny"] == 2_000_000.0
    assert search["chosen_gmv_cny"] == pytest.approx(1_800_000.0, rel=1e-9)
    assert search["gmv_cny"][-1] == pytest.approx(3 * 1_200_000.0, rel=1e-9)
    by_channel = plan["result"]["by_channel"]
    for cid, curve in curves.items():  # the curve passes through the plan's reported GMV
        assert curve["chosen_gmv_cny"] == by_channel[cid]["gmv_cny"]


def test_a_channel_the_plan_leaves_at_zero_is_drawn_evenly(api):
    doc = small_scenario()
    doc["channels"][1]["max_spend_cny"] = 0.0  # switched off: the plan leaves it at zero
    plan = _plan(api, stored_scenario(api, doc))
    curves = api.call("GET", f"/v1/plans/{plan['id']}/curves?points=3", role="viewer").json()
    search = {c["channel"]: c for c in curves["curves"]}["search"]
    assert search["spread"] == "even" and search["chosen_spend_cny"] == 0.0
    # up to an even share of the 1,000,000 media budget over two channels
    assert search["spend_cny"] == [0.0, 250_000.0, 500_000.0]
    assert search["gmv_cny"] == [0.0, 750_000.0, 1_500_000.0]  # ROAS 3


def test_curves_errors(api):
    plan = _plan(api, stored_scenario(api))
    response = api.call("GET", f"/v1/plans/{plan['id']}/curves?points=1", role="viewer")
    assert "query.points" in errors(response)
    assert_problem(api.call("GET", "/v1/plans/pln_nope/curves", role="viewer"), 404, "not-found")
    other = api.call("GET", f"/v1/plans/{plan['id']}/curves", role="viewer", workspace="rival")
    assert_problem(other, 404, "not-found")


def _upload(api, name: str, content: bytes, role: str = "planner"):
    files = {"file": (name, io.BytesIO(content), "application/octet-stream")}
    return api.call("POST", "/v1/scenarios/import", role=role, files=files)


def test_import_yaml_json_and_workbook_store_the_same_scenario(api):
    doc = small_scenario(name="上传 · upload")
    stored = []
    for name, content in (
        ("plan.yaml", yaml.safe_dump(doc, allow_unicode=True).encode()),
        ("plan.json", Scenario.model_validate(doc).model_dump_json().encode()),
        ("plan.xlsx", write_template(Scenario.model_validate(doc))),
    ):
        response = _upload(api, name, content)
        assert response.status_code == 201, (name, response.text)
        assert response.headers["location"] == f"/v1/scenarios/{response.json()['id']}"
        stored.append(response.json())
    assert {s["name"] for s in stored} == {"上传 · upload"}
    assert len({s["latest"]["fingerprint"] for s in stored}) == 1
    plan = _plan(api, stored[2]["id"])
    assert plan["result"]["total"]["gmv_cny"] == pytest.approx(3_800_000.0, rel=1e-9)


def test_import_names_the_field_and_line_of_a_bad_file(api):
    text = yaml.safe_dump(small_scenario(), sort_keys=False)
    text = text.replace("roas: 5.0", "roas: -5.0")
    response = _upload(api, "bad.yaml", text.encode())
    body = assert_problem(response, 422, "validation-error")
    [error] = body["errors"]
    assert error["path"] == "file.channels[0].response.roas"
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "roas: -5.0" in t)
    assert error["message"].endswith(f"(line {line})")
    assert body["detail"].startswith("bad.yaml: ")


def test_import_refuses_other_files_and_viewers_and_keeps_the_store(api):
    before = api.call("GET", "/v1/scenarios", role="viewer").json()["total"]
    assert "file" in errors(_upload(api, "notes.txt", b"hello"))
    assert "file" in errors(_upload(api, "broken.xlsx", b"not a zip"))
    assert "file" in errors(_upload(api, "empty.yaml", b""))
    assert_problem(_upload(api, "plan.yaml", b"x: 1", role="viewer"), 403, "forbidden")
    missing = api.call("POST", "/v1/scenarios/import", files={})
    assert "body.file" in errors(missing)
    assert api.call("GET", "/v1/scenarios", role="viewer").json()["total"] == before


def test_the_page_and_every_file_it_loads_are_served_here(api):
    page = api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "预算规划" in html and "Budget planner" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "a file from another host"
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", html)
    assert len(assets) >= 4
    for url in assets:
        response = api.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].split(";")[0] in ("text/css", "text/javascript")
    font_css = api.client.get("/static/vendor/noto-sans-sc/400.css").text
    font = re.search(r"url\(\./(files/[^)]+\.woff2)\)", font_css).group(1)
    assert api.client.get(f"/static/vendor/noto-sans-sc/{font}").status_code == 200
    assert api.client.get("/static/vendor/noto-sans-sc/../../package.json").status_code == 404


def test_pages_keep_the_browser_on_this_server(api):
    page = api.client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in page and "unsafe-inline" not in page.split("style-src")[0]
    assert "default-src 'self'" in page and "connect-src 'self'" in page
    for docs in ("/docs", "/redoc"):  # their start-up is an inline script
        policy = api.client.get(docs).headers["content-security-policy"]
        assert (
            "script-src 'self' 'unsafe-inline';" in policy
            and "img-src 'self' data: blob:" in policy
        )
    assert "content-security-policy" not in api.client.get("/healthz").headers

"""/docs and /redoc load nothing from other hosts: every script, style and icon they name is
served by the app itself, with its content type."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from api_helpers import Api, running_api

PAGES = ("/docs", "/redoc")
LINK = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")
TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def docs_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app on a SQLite file for the whole module (these tests only read)."""
    folder = tmp_path_factory.mktemp("docs")
    with running_api(f"sqlite:///{folder}/api.db", workers=0) as running:
        yield running


def links(html: str) -> list[str]:
    """Every URL the page names in src=, href=, spec-url= or Swagger UI's url: option."""
    return [a or b for a, b in LINK.findall(html)]


@pytest.mark.parametrize("page", PAGES)
def test_docs_pages_name_only_local_urls(docs_api: Api, page: str) -> None:
    response = docs_api.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text
    assert "fonts.googleapis" not in response.text
    found = links(response.text)
    assert found and all(url.startswith("/") for url in found), found


@pytest.mark.parametrize("page", PAGES)
def test_every_file_a_docs_page_names_is_served(docs_api: Api, page: str) -> None:
    html = docs_api.client.get(page).text
    for url in links(html):
        served = docs_api.client.get(url)
        assert served.status_code == 200, url
        kind = served.headers["content-type"]
        suffix = next((s for s in TYPES if url.endswith(s)), None)
        expected = TYPES[suffix] if suffix else "json"  # the OpenAPI document
        assert expected in kind, (url, kind)


def test_docs_pages_are_not_in_the_schema(docs_api: Api) -> None:
    paths = docs_api.client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/docs/oauth2-redirect", "/redoc"} & set(paths)


def test_oauth2_redirect_page_is_served(docs_api: Api) -> None:
    response = docs_api.client.get("/docs/oauth2-redirect")
    assert response.status_code == 200 and "https://" not in response.text


# --- errors in the OpenAPI document --------------------------------------------------------


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    """(method, path, operation) for every operation of the document."""
    return [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def test_every_error_answer_is_declared_as_a_problem(docs_api: Api) -> None:
    schema = docs_api.client.get("/openapi.json").json()
    for method, path, operation in operations(schema):
        errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
        assert "500" in errors, (method, path)
        for code, response in errors.items():
            content = response["content"]
            assert list(content) == ["application/problem+json"], (method, path, code)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
            assert response["description"], (method, path, code)
    text = docs_api.client.get("/openapi.json").text
    assert "HTTPValidationError" not in text and "#/components/schemas/ValidationError" not in text


def test_operations_declare_the_errors_they_answer(docs_api: Api) -> None:
    paths = docs_api.client.get("/openapi.json").json()["paths"]
    statuses = {
        (m, p): {int(c) for c in op["responses"] if int(c) >= 400}
        for m, p, op in operations({"paths": paths})
    }
    assert statuses[("get", "/healthz")] == {500}
    assert statuses[("get", "/readyz")] == {500, 503}
    assert statuses[("get", "/v1/keys")] == {401, 403, 500}
    evaluations = statuses[("post", "/v1/scenarios/{scenario_id}/evaluations")]
    assert evaluations == {401, 403, 404, 413, 422, 500}
    assert 409 in statuses[("post", "/v1/scenarios/{scenario_id}/versions")]
    assert {404, 409} <= statuses[("post", "/v1/compare")]
    assert 409 in statuses[("get", "/v1/jobs/{job_id}/result")]


def test_the_problem_schema_matches_what_is_sent(docs_api: Api) -> None:
    schema = docs_api.client.get("/openapi.json").json()["components"]["schemas"]["Problem"]
    missing = docs_api.client.get("/v1/plans/pln_00", headers=docs_api.headers("viewer"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    body = missing.json()
    assert set(schema["required"]) <= set(body) <= set(schema["properties"])
    invalid = docs_api.client.post("/v1/compare", json={"plan_ids": 3}, headers=docs_api.headers())
    assert invalid.status_code == 422
    item = schema["properties"]["errors"]["items"]
    assert all(set(e) == set(item["required"]) for e in invalid.json()["errors"])

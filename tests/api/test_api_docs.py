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

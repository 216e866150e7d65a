"""The planner's page, driven in headless Chromium against a real ``budgetopt serve``.

Debian's Chromium (``make test`` installs it when missing; ``BUDGETOPT_CHROMIUM`` names another
binary) is driven by Playwright; without a browser these tests fail, they never skip. Each step
leaves a screenshot in ``out/browser/`` to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import openpyxl
import pytest
import yaml
from api_helpers import small_scenario
from playwright.sync_api import Browser, Page, expect, sync_playwright
from served import BUDGETOPT, ROOT, Server

SHOTS = ROOT / "out" / "browser"
# as root, in a container, on a machine with no outside network (see the machine notes)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANNUAL = "2026 年度营销预算 · annual plan (v1)"
TIMEOUT_MS = 60_000  # generous: a loaded 2-core CI machine, never a measure of speed
expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str:
    """The Chromium binary to drive; a failure (not a skip) when there is none."""
    path = os.environ.get("BUDGETOPT_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "no Chromium: `make test` installs Debian's chromium, or set BUDGETOPT_CHROMIUM "
            "to a Chromium binary"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``budgetopt serve --dev`` with the example scenarios, on a fresh SQLite file."""
    tmp = tmp_path_factory.mktemp("page")
    running = Server(
        tmp, "--dev", "--examples", "scenarios", "--database-url", f"sqlite:///{tmp}/page.db"
    )
    yield running
    running.stop()


def shot(page: Page, name: str, whole: bool = True) -> None:
    """Save what the page shows now (whole, or the window), for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=whole)


def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """A new page at the planner, and the list its script errors are collected into."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url + "/")
    expect(page.locator("#scenario option")).not_to_have_count(0)
    return page, problems


def best_plan(page: Page) -> None:
    """Pick the annual example and ask for its best plan."""
    page.select_option("#scenario", label=ANNUAL)
    page.click("#plan-btn")
    expect(page.locator("#plan")).to_be_visible()
    expect(page.locator("#tray li")).to_have_count(1)


def plan_json(server: Server, plan_id: str) -> dict:
    """The stored plan as the API gives it."""
    return httpx.get(f"{server.url}/v1/plans/{plan_id}", timeout=30).json()


def tray_ids(page: Page) -> list[str]:
    """Plan ids in the comparison tray, in order."""
    return page.locator("#tray .mono").all_inner_texts()


def test_open_the_example_and_see_its_best_plan(browser, server):
    page, problems = open_page(browser, server.url)
    best_plan(page)
    plan = plan_json(server, tray_ids(page)[0])["result"]
    totals = page.locator("#totals").inner_text()
    assert f"{round(plan['total']['gmv_cny']):,}" in totals  # the API's figure, to the yuan
    assert f"{plan['total']['roas']:.2f}" in totals
    assert "Certified gap" in totals and f"{plan['solver']['gap']:.1e}" in totals
    table = page.locator("#spend-table").inner_text()
    assert "自营直播投流" in table and f"{round(plan['total']['spend_cny']):,}" in table
    binding = page.locator("#rules-table").inner_text()
    assert "cac_ceiling" in binding and "budget" in binding
    # both charts drew on their canvases
    for chart in ("#chart-periods canvas", "#chart-curves canvas"):
        expect(page.locator(chart).first).to_be_visible()
    page.select_option("#units", "wan")
    expect(page.locator("#totals")).to_contain_text("亿")
    shot(page, "01-best-plan")
    assert not problems


def test_edit_a_split_and_see_the_verdict_change(browser, server):
    page, problems = open_page(browser, server.url)
    best_plan(page)
    live = page.locator("#split-table input[data-channel=live_traffic]")
    best_live = float(live.input_value())
    live.fill(str(round(best_live * 0.5)))
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("less GMV")
    first = verdict.inner_text()
    shot(page, "02-split-half-live")
    live.fill(str(round(best_live * 1.6)))  # past the budget: a rule breaks
    expect(verdict).not_to_have_text(first)
    expect(verdict).to_contain_text("budget")
    expect(page.locator("#split-rules .broken").first).to_be_visible()
    shot(page, "03-split-over-budget")
    page.click("#split-reset")
    page.check("#per-period")
    cell = page.locator("#split-table input[data-unit=search][data-period=Q1]")
    cell.fill("0")
    expect(verdict).to_contain_text("less GMV")
    shot(page, "04-split-per-period")
    assert not problems


def test_linked_what_if_and_compare_two_plans(browser, server):
    page, problems = open_page(browser, server.url)
    best_plan(page)
    best = plan_json(server, tray_ids(page)[0])["result"]
    page.fill("#wi-cpm", "1.42")
    page.fill("#wi-budget", "-10")
    page.click("#whatif-btn")
    expect(page.locator("#plan-title")).to_contain_text("CPM ×1.42")
    expect(page.locator("#tray li")).to_have_count(2)
    changed = plan_json(server, tray_ids(page)[1])
    assert changed["result"]["budget_total_cny"] == pytest.approx(0.9 * best["budget_total_cny"])
    assert changed["result"]["total"]["gmv_cny"] < best["total"]["gmv_cny"]
    shot(page, "05-what-if")
    page.click("#compare-btn")
    table = page.locator("#compare-table")
    expect(table).to_contain_text("B: ")
    gap = changed["result"]["total"]["gmv_cny"] - best["total"]["gmv_cny"]
    assert gap < 0
    expect(table).to_contain_text(f"-{round(-gap):,}")  # B's GMV delta to A, with its sign
    shot(page, "06-compare")
    page.click("#frontier-btn")
    expect(page.locator("#frontier-summary")).not_to_be_empty()
    expect(page.locator("#chart-frontier canvas")).to_be_visible()
    shot(page, "07-frontier")
    assert not problems


def test_download_the_plan_and_the_comparison(browser, server, tmp_path):
    page, problems = open_page(browser, server.url)
    best_plan(page)
    with page.expect_download() as download:
        page.click("[data-download=xlsx]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert {"Summary", "Allocation"} <= set(book.sheetnames)
    page.fill("#wi-budget", "10")
    page.click("#whatif-btn")
    expect(page.locator("#tray li")).to_have_count(2)
    for fmt in ("xlsx", "csv"):
        with page.expect_download() as download:
            page.click(f"[data-compare-download={fmt}]")
        path = tmp_path / f"comparison.{fmt}"
        download.value.save_as(path)
        if fmt == "xlsx":
            assert "compare" in openpyxl.load_workbook(path).sheetnames
        else:
            assert path.read_text(encoding="utf-8-sig").startswith("level,")
    shot(page, "08-downloads")
    assert not problems


def test_with_keys_the_page_asks_for_one_and_uses_it(browser, tmp_path):
    database = f"sqlite:///{tmp_path}/keys.db"
    running = Server(tmp_path, "--examples", "scenarios", "--database-url", database)
    try:
        key = subprocess.run(
            [BUDGETOPT, "keys", "create", "--workspace", "default", "--role", "planner"],
            env={**os.environ, "DATABASE_URL": database},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(running.url + "/")
        expect(page.locator("#error")).to_contain_text("API key")
        shot(page, "09-key-needed")
        page.fill("#api-key", key)
        page.click("#key-save")
        expect(page.locator("#scenario option")).not_to_have_count(0)
        best_plan(page)
        expect(page.locator("#error")).to_be_hidden()
        page.fill("#api-key", "bo_wrong")
        page.click("#key-save")
        expect(page.locator("#error")).to_contain_text("API key")
        expect(page.locator("#scenario option")).to_have_count(0)
    finally:
        running.stop()


def test_api_docs_render_offline(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    asked: list[str] = []  # every request that left the page, but those its policy refused
    refused: list[str] = []
    page.on("requestfinished", lambda request: asked.append(request.url))
    page.on(
        "requestfailed",
        lambda r: (refused if r.failure == "csp" else asked).append(r.url),
    )
    page.goto(server.url + "/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("/v1/scenarios/import")
    shot(page, "10-docs", whole=False)
    page.goto(server.url + "/redoc")
    expect(page.locator("h1").first).to_contain_text("budgetopt")
    expect(page.get_by_text("application/problem+json").first).to_be_attached()
    shot(page, "11-redoc", whole=False)
    elsewhere = [url for url in asked if not url.startswith((server.url, "data:", "blob:"))]
    assert not elsewhere, elsewhere
    assert all("cdn.redoc.ly" in url for url in refused), refused  # only ReDoc's footer logo


def test_an_uploaded_scenario_is_planned_and_its_names_stay_text(browser, server, tmp_path):
    hostile = '<img src=x onerror="window.__owned = 1">'
    doc = small_scenario(name=f"上传 {hostile}")
    doc["channels"][0]["name"] = f"直播 {hostile}"
    upload = tmp_path / "hostile.yaml"
    upload.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    page, problems = open_page(browser, server.url)
    page.set_input_files("#upload", str(upload))
    expect(page.locator("#plan-title")).to_contain_text(hostile)  # shown as text
    expect(page.locator("#totals")).to_contain_text("3,800,000")  # 5 x 400k + 3 x 600k
    # the curve chart's tooltip of the plan's point on the live channel
    # drawn once the curves have come (a DOM wait: the page's policy refuses eval'd polling)
    expect(page.locator("#chart-curves canvas")).to_be_visible()
    tip = "{type: 'showTip', seriesIndex: 1, dataIndex: 0}"
    page.evaluate(f"state.charts['chart-curves'].dispatchAction({tip})")
    expect(page.locator("#chart-curves")).to_contain_text(f"直播 {hostile}")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__owned") is None
    shot(page, "12-upload")
    assert not problems

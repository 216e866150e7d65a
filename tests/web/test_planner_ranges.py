"""The planner's page with a plan over curves with draws: bands under the totals, the fan chart
of GMV by period, each rule's odds, the warnings and bands in the comparison.
Driven in headless Chromium against a real ``budgetopt serve``, as ``test_planner_page``."""

from __future__ import annotations

import test_planner_page as page_tests
from playwright.sync_api import expect
from ranges_helpers import annual_doc, with_draws, write_yaml
from test_planner_page import ANNUAL, SHOTS, open_page, plan_json, shot, tray_ids

from optimizer.outputs.ranges import odds_text

# the page tests' headless Chromium and ``budgetopt serve --dev`` (module fixtures)
browser = page_tests.browser
server = page_tests.server


def yuan(value: float) -> str:
    """As the page writes an amount in yuan: 581,239,980."""
    return f"{round(value):,}"


def test_ranges_odds_and_warnings_show_only_for_a_plan_with_draws(browser, server, tmp_path):
    doc = with_draws(annual_doc(), spend_max_cny=2e6)
    doc["name"] = "年度计划 · draws on launches"  # not the example's name, which others pick
    upload = write_yaml(doc, tmp_path / "ranged.yaml")
    page, problems = open_page(browser, server.url)
    page.select_option("#scenario", label=ANNUAL)  # first the example: no draws, no ranges
    page.click("#plan-btn")
    expect(page.locator("#totals")).to_contain_text("Certified gap")
    expect(page.locator("#ranges")).to_be_hidden()
    expect(page.locator("#warnings")).to_be_hidden()
    assert "P10" not in page.locator("#totals").inner_text()
    assert "Holds in draws" not in page.locator("#rules-table").inner_text()
    expect(page.locator("#tray li")).to_have_count(1)
    page.set_input_files("#upload", str(upload))
    expect(page.locator("#ranges")).to_be_visible()
    expect(page.locator("#tray li")).to_have_count(2)  # the plan joins the tray once shown
    result = plan_json(server, tray_ids(page)[1])["result"]
    ranges = result["ranges"]
    total = ranges["total"]
    expect(page.locator("#ranges-title")).to_have_text("Ranges over 200 draws of the curves")
    expect(page.locator("#warnings")).to_contain_text("extrapolation")
    gmv = total["gmv_cny"]
    expect(page.locator("#totals")).to_contain_text(f"{yuan(gmv['p10'])} – {yuan(gmv['p90'])}")
    bands = page.locator("#bands-table").inner_text()
    for p in ("p10", "p50", "p90"):
        assert yuan(gmv[p]) in bands  # the API's figure, to the yuan
    assert (
        f"{total['roas']['p10']:.2f}" in bands and yuan(total["gross_profit_cny"]["p10"]) in bands
    )
    odds = {r["name"]: r["probability"] for r in ranges["rules"]}
    row = page.locator("#odds-table tr", has_text="cac_ceiling")
    expect(row).to_contain_text(odds_text(odds["cac_ceiling"]))
    expect(page.locator("#odds-steady")).to_contain_text("do not depend on the draws")
    binding = page.locator("#rules-table")
    expect(binding).to_contain_text("Holds in draws")
    expect(binding.locator("tr", has_text="kol_share")).to_contain_text(
        odds_text(odds["kol_share.max"])
    )
    expect(page.locator("#chart-fan canvas")).to_be_visible()
    page.evaluate(
        "state.charts['chart-fan'].dispatchAction({type: 'showTip', seriesIndex: 2, dataIndex: 2})"
    )
    q3 = ranges["by_period"]["Q3"]["gmv_cny"]
    expect(page.locator("#chart-fan")).to_contain_text(f"P10: {yuan(q3['p10'])}")
    expect(page.locator("#chart-fan")).to_contain_text(f"P90: {yuan(q3['p90'])}")
    page.wait_for_timeout(300)  # the chart's animation ends before the picture
    shot(page, "20-ranges-plan")
    page.locator("#ranges").screenshot(path=str(SHOTS / "21-ranges-fan.png"))
    page.click("#compare-btn")  # A: the example, B: the plan with draws
    table = page.locator("#compare-table")
    expect(table).to_contain_text("GMV P10")
    p10 = table.locator("tr", has_text="GMV P10")
    expect(p10).to_contain_text(yuan(gmv["p10"]))
    assert p10.locator("td").nth(1).inner_text() == "—"  # the example has no draws
    shot(page, "22-ranges-compare")
    assert not problems

"""The table of a plan: a long plan's spend reads a row per period, every figure whole."""

from __future__ import annotations

from helpers import exponential, scenario

from optimizer.outputs.text import to_table
from optimizer.planner import plan

WEEKS = [f"W{t:02d}" for t in range(1, 53)]


def test_a_52_week_plan_lists_its_spend_a_row_per_week() -> None:
    s = scenario([exponential("a", 40e6, 10e6), exponential("b", 20e6, 5e6)], 52e6, periods=WEEKS)
    found = plan(s)
    text = to_table(found)
    assert "Spend by period and channel (CNY)" in text
    for week in WEEKS:
        line = next(row for row in text.splitlines() if row.startswith(f"│ {week} "))
        cells = [c.strip() for c in line.strip("│").split("│")]
        spend_a, spend_b, total = (float(c.replace(",", "")) for c in cells[1:4])
        assert spend_a == round(found.spend["a"][week])
        assert spend_b == round(found.spend["b"][week])
        assert total == round(found.by_period[week].spend_cny)
    assert max(len(row) for row in text.splitlines()) <= 160


def test_a_quarterly_plan_keeps_a_row_per_channel() -> None:
    s = scenario([exponential("a", 40e6, 10e6)], 4e6, periods=["Q1", "Q2", "Q3", "Q4"])
    text = to_table(plan(s))
    assert "Spend by channel and period (CNY)" in text
    assert any(row.startswith("│ a ") for row in text.splitlines())

"""The verdict's figure for each kind of rule: the measured value against the limit."""

from __future__ import annotations

import pytest

from optimizer.results.plan import RuleCheck
from optimizer.results.verdict import figure


def rule(name: str, kind: str, value: float, limit: float, sense: str) -> RuleCheck:
    """A broken rule as the rule report has it."""
    return RuleCheck(name, kind, "", value, limit, sense, -1.0, False, False)


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (rule("roas_floor", "roas_floor", 2.714, 3.0, ">="), "ROAS 2.71 < 3.00"),
        (rule("cac_ceiling", "cac_ceiling", 40.5, 35.0, "<="), "CAC 40.50 > 35.00 CNY"),
        (rule("kol_share.max", "gmv_share", 0.44, 0.35, "<="), "GMV share 44.0% > 35.0%"),
        # broken by a hair: enough decimals to show it
        (rule("kol.rate", "commission_cap", 0.2504, 0.25, "<="), "commission rate 25.04% > 25.00%"),
        (rule("budget", "budget", 110.0, 100.0, "<="), "spend 110 > 100 CNY"),
        (rule("budget", "budget", 90.0, 100.0, "=="), "spend 90 != 100 CNY"),
        (rule("gmv_target", "gmv_target", 400.0, 580.0, ">="), "GMV 400 < 580 CNY"),
    ],
)
def test_a_broken_rule_reads_as_its_figure(check: RuleCheck, text: str) -> None:
    assert figure(check) == text

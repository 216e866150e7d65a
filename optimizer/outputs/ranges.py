"""A plan's ranges over its curves' draws (``Plan.ranges``) as flat figures and sentences, for
every output that shows them: the table, CSV, workbooks, comparisons, what-ifs and batches.

The cautious end of a figure is its P10, but for CAC (lower is better) its P90.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.results.plan import RuleCheck

Band = dict[str, float | None] | None

# Flat columns of a slice's bands (total, channel or period): (column, figure, percentile).
BAND_COLUMNS = (
    ("gmv_p10_cny", "gmv_cny", "p10"),
    ("gmv_p50_cny", "gmv_cny", "p50"),
    ("gmv_p90_cny", "gmv_cny", "p90"),
    ("roas_p10", "roas", "p10"),
    ("roas_p90", "roas", "p90"),
    ("cac_p90_cny", "cac_cny", "p90"),
    ("profit_p10_cny", "gross_profit_cny", "p10"),
)
BAND_NAMES = tuple(name for name, _, _ in BAND_COLUMNS)
# relative spread under which a figure counts as the same in every draw
SAME = 1e-9


def band_values(block: dict[str, Band] | None) -> dict[str, float | None]:
    """A slice's bands as flat columns (``BAND_NAMES``), None where it has no such band."""
    block = block or {}
    return {name: _at(block.get(figure), p) for name, figure, p in BAND_COLUMNS}


def total_band_values(ranges: dict[str, Any] | None) -> dict[str, float | None]:
    """The plan's total bands as flat columns; every column None without draws."""
    return band_values(ranges["total"] if ranges else None)


def _at(band: Band, percentile: str) -> float | None:
    return None if band is None else band.get(percentile)


def varies(band: Band) -> bool:
    """Whether a figure differs between draws (P10 below P90)."""
    if band is None or band.get("p10") is None or band.get("p90") is None:
        return False
    low, high = float(band["p10"]), float(band["p90"])  # type: ignore[arg-type]
    return high - low > SAME * max(abs(low), abs(high), 1.0)


def is_uncertain(odds: dict[str, Any]) -> bool:
    """Whether a rule's outcome depends on the draws: its value moves, or it holds in some
    draws only."""
    return varies(odds.get("value")) or 0.0 < odds["probability"] < 1.0


def weakest_rule(ranges: dict[str, Any] | None) -> tuple[str | None, float | None]:
    """The rule least likely to hold over the draws, and that share: among equals, one the
    draws move before one they do not, then the first in plan order."""
    rules = (ranges or {}).get("rules") or []
    if not rules:
        return None, None
    weakest = min(rules, key=lambda r: (r["probability"], not is_uncertain(r)))
    return weakest["name"], weakest["probability"]


def odds_text(probability: float) -> str:
    """83% of draws; never rounded to a certainty it is not (>99%, <1%)."""
    if probability >= 1.0:
        return "100%"
    if probability <= 0.0:
        return "0%"
    shown = round(100 * probability)
    if shown >= 100:
        return ">99%"
    if shown <= 0:
        return "<1%"
    return f"{shown}%"


def rule_value_text(rule: RuleCheck | None, value: float | None) -> str:
    """A rule's measured value as its limit reads: a ROAS or CAC, a share, or yuan."""
    if value is None:
        return "-"
    kind = rule.kind if rule is not None else ""
    name = rule.name if rule is not None else ""
    if kind in ("gmv_share",) or (kind == "commission_cap" and name.endswith(".rate")):
        return f"{100 * value:.1f}%"
    if kind in ("roas_floor", "cac_ceiling"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def odds_sentence(odds: dict[str, Any], rule: RuleCheck | None) -> str:
    """'roas_floor: ROAS of all channels >= 4.5 holds in 83% of draws (value P10-P90 4.76 to
    4.96)'."""
    what = odds.get("description") or (rule.description if rule is not None else "")
    text = f"{odds['name']}: {what} holds in {odds_text(odds['probability'])} of draws"
    if odds.get("required") is not None:
        text += f" (required: {odds['required']:.0%})"
    band = odds.get("value")
    if varies(band):
        low = rule_value_text(rule, band["p10"])  # type: ignore[index]
        high = rule_value_text(rule, band["p90"])  # type: ignore[index]
        text += f" (value P10-P90 {low} to {high})"
    return text


def rule_odds(ranges: dict[str, Any], rules: Sequence[RuleCheck]) -> list[dict[str, Any]]:
    """Each rule's odds with its check in the plan (matched by name), least likely first."""
    by_name = {r.name: r for r in rules}
    found = [{**odds, "rule": by_name.get(odds["name"])} for odds in ranges.get("rules") or []]
    return sorted(found, key=lambda o: o["probability"])


def steady_summary(odds: Sequence[dict[str, Any]]) -> str | None:
    """One line for the rules the draws do not move: how many hold in every draw, and which
    break in every draw (None when there are none)."""
    steady = [o for o in odds if not is_uncertain(o)]
    if not steady:
        return None
    broken = [o["name"] for o in steady if o["probability"] < 1.0]
    text = f"{len(steady)} other rule(s) do not depend on the draws"
    if broken:
        return (
            text
            + f": {len(steady) - len(broken)} hold in every draw, broken in every draw: "
            + (", ".join(broken))
        )
    return text + ": they hold in every draw"

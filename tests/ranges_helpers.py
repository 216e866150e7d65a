"""The annual example with draws on its launches curve: a plan that has ranges, fast."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from optimizer.planner import plan as solve
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
ANNUAL = ROOT / "scenarios" / "annual_2026.yaml"


def annual_doc() -> dict[str, Any]:
    """The annual example as a dictionary (a fresh copy each time)."""
    return yaml.safe_load(ANNUAL.read_text(encoding="utf-8"))


def with_draws(
    doc: dict[str, Any],
    count: int = 200,
    spread: float = 0.25,
    seed: int = 16,
    gross_margin: float | None = 0.45,
    spend_max_cny: float | None = None,
) -> dict[str, Any]:
    """The document with lognormal draws (seeded) around the launches curve's max GMV and
    half saturation; with a gross margin (profit bands) and, given ``spend_max_cny``, a fit
    summary whose history saw at most that much a week (the plan then warns)."""
    rng = np.random.default_rng(seed)
    launches = next(c for c in doc["channels"] if c["id"] == "launches")
    response = launches["response"]
    draws = {
        name: [float(v) for v in response[name] * rng.lognormal(0.0, spread, count)]
        for name in ("max_gmv_cny", "half_saturation_cny")
    }
    launches["draws"] = {"response": draws}
    if spend_max_cny is not None:
        launches["fit"] = {
            "family": "hill",
            "weeks": 52,
            "spend_min_cny": 0.0,
            "spend_max_cny": spend_max_cny,
        }
    if gross_margin is not None:
        doc.setdefault("accounting", {})["gross_margin"] = gross_margin
    return doc


def ranged_scenario(**options: Any) -> Scenario:
    """The annual example with draws (``with_draws`` options), validated."""
    return Scenario.model_validate(with_draws(annual_doc(), **options))


@cache
def ranged_plan() -> Plan:
    """The annual example's best plan with 200 draws on launches, a margin and a warning
    (solved once per test process)."""
    return solve(ranged_scenario(spend_max_cny=2e6))


def write_yaml(doc: dict[str, Any], path: Path) -> Path:
    """The document as a YAML scenario file."""
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path

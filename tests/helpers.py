"""Small scenario factories for tests: dictionaries a person can read, validated once."""

from __future__ import annotations

from typing import Any

from optimizer.schema.scenario import Scenario

# search returns 6 per yuan up to 60, kol 4 per yuan up to 100: the optimum fills search first.
T1 = """\
version: "1"
name: two linear
periods: [Y]
budget: {total_cny: 100}
objective: {kind: max_gmv}
channels:
  - {id: search, kind: curve, response: {type: linear, roas: 6}, aov_cny: 100, max_spend_cny: 60}
  - {id: kol, kind: curve, response: {type: linear, roas: 4}, aov_cny: 100, max_spend_cny: 100}
"""


def curve(cid: str, response: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A curve channel with a given GMV response."""
    return {"id": cid, "kind": "curve", "response": response, "aov_cny": 100.0, **fields}


def linear(cid: str, roas: float, cap: float | None = None, **fields: Any) -> dict[str, Any]:
    """A channel returning ``roas`` yuan of GMV per yuan, up to ``cap`` spend in total."""
    extra = {"max_spend_cny": cap} if cap is not None else {}
    return curve(cid, {"type": "linear", "roas": roas}, **extra, **fields)


def exponential(cid: str, max_gmv: float, scale: float, **fields: Any) -> dict[str, Any]:
    """GMV = max_gmv * (1 - exp(-spend / scale)) per period."""
    response = {"type": "exponential", "max_gmv_cny": max_gmv, "scale_cny": scale}
    return curve(cid, response, **fields)


def kol(tiers: list[dict[str, Any]], cid: str = "kol") -> dict[str, Any]:
    """A KOL channel made of tiers."""
    return {"id": cid, "kind": "kol", "tiers": tiers}


def tier(tid: str, rate: float, fee_roas: float, cap: float | None = None) -> dict[str, Any]:
    """A linear KOL tier: ``fee_roas`` GMV per fee yuan, ``rate`` commission, ``cap`` fee room."""
    extra = {"capacity_fee_cny": cap} if cap is not None else {}
    return {
        "id": tid,
        "commission_rate": rate,
        "fee_roas": fee_roas,
        "aov_cny": 200,
        "saturation": {"type": "linear"},
        **extra,
    }


def scenario(
    channels: list[dict[str, Any]],
    budget: float,
    *,
    periods: list[str] | None = None,
    mode: str = "up_to",
    objective: str | dict[str, Any] = "max_gmv",
    rules: list[dict[str, Any]] | None = None,
    budget_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> Scenario:
    """A validated scenario around the given channels."""
    data: dict[str, Any] = {
        "version": "1",
        "name": "test",
        "periods": periods or ["Y"],
        "budget": {"total_cny": budget, "mode": mode, **(budget_fields or {})},
        "objective": {"kind": objective} if isinstance(objective, str) else objective,
        "channels": channels,
        "rules": rules or [],
        "settings": {"tolerance": 1e-6},
    }
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Scenario.model_validate(data)


def bisect(f: Any, lo: float, hi: float, iterations: int = 200) -> float:
    """Root of an increasing or decreasing f on [lo, hi] by plain bisection."""
    f_lo = f(lo)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if (f(mid) > 0) == (f_lo > 0):
            lo, f_lo = mid, f(mid)
        else:
            hi = mid
    return 0.5 * (lo + hi)

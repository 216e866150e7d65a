"""Weekly benchmark scenarios with the magnitudes of the example brand (135M CNY a year).

``weekly(channels, ...)`` builds a scenario of ``channels`` paid channels over 52 weeks:
families with the incremental ROI at today's spend the brand sees (self-live 3.0-5.5, KOL
1.8-3.5, private domain 6-12, search 4-8, short-video ads 2.2-4.0, brand display 0.8-2.0),
Hill saturation (slopes 0.55-0.95, or 1.2-2.5 when ``s_shaped``) with every third channel
logistic, a CPM index with a rising trend, a Spring Festival dip and 618 / 11.11 / 12.12
peaks, a demand index, and per-week bounds of 0.15-0.5x and 1.8-3.5x of today's weekly spend.
Seeded, so every run builds the same problem.
"""

from __future__ import annotations

import numpy as np

from optimizer.schema.scenario import Scenario

WEEKS = 52
BUDGET = 135e6
FAMILIES = [  # (name, incremental ROI at today's spend: low, high)
    ("self_live", 3.0, 5.5),
    ("kol", 1.8, 3.5),
    ("private_domain", 6.0, 12.0),
    ("search", 4.0, 8.0),
    ("short_video", 2.2, 4.0),
    ("brand_display", 0.8, 2.0),
]
CTR, CVR, CPM = 0.02, 0.04, 40.0


def _bump(weeks: np.ndarray, centre: float, width: float, height: float) -> np.ndarray:
    return height * np.exp(-0.5 * ((weeks - centre) / width) ** 2)


def cpm_index() -> np.ndarray:
    """CPM multiplier per week: +30% over the year, a Spring Festival dip, campaign peaks."""
    w = np.arange(WEEKS, dtype=float)
    index = 1.0 + 0.3 * w / (WEEKS - 1) - _bump(w, 6, 1.2, 0.25)
    index += _bump(w, 24, 1.0, 0.35) + _bump(w, 45, 1.0, 0.55) + _bump(w, 49.5, 0.7, 0.3)
    return index


def demand_index() -> np.ndarray:
    """Demand (seasonality) per week: a Spring Festival dip and 618 / 11.11 / 12.12 peaks."""
    w = np.arange(WEEKS, dtype=float)
    demand = 1.0 - _bump(w, 6, 1.5, 0.35)
    demand += _bump(w, 24, 1.2, 0.6) + _bump(w, 45, 1.2, 0.9) + _bump(w, 49.5, 0.8, 0.35)
    return demand


def _hill_slope(u: float, shape: float) -> float:
    return shape * u ** (shape - 1.0) / (1.0 + u**shape) ** 2


def _logistic_slope(x: float, scale: float) -> float:
    return 1.0 / np.cosh(x / (2.0 * scale)) ** 2


def weekly(
    channels: int,
    *,
    seed: int = 7,
    s_shaped: bool = False,
    bounds: bool = True,
    rules: list[dict] | None = None,
    carry: bool = False,
) -> Scenario:
    """A seeded weekly scenario of ``channels`` paid channels and the given rules; with
    ``carry``, every channel has geometric adstock (decay 0.2-0.6, 4-8 weeks, normalised)
    and four weeks of history at today's spend."""
    rng = np.random.default_rng(seed)
    demand, cpm = demand_index(), cpm_index()
    today = rng.uniform(0.5, 1.5, channels)
    today *= 0.9 * BUDGET / WEEKS / today.sum()  # today's weekly spend per channel
    rows = []
    for c in range(channels):
        family, low, high = FAMILIES[c % len(FAMILIES)]
        roi = rng.uniform(low, high)
        x0 = float(today[c])
        if c % 3 == 2 and not s_shaped:
            scale = x0 * rng.uniform(0.8, 2.5)
            saturation = {"type": "logistic", "scale_cny": scale}
            slope = _logistic_slope(x0, scale)
        else:
            shape = rng.uniform(1.2, 2.5) if s_shaped else rng.uniform(0.55, 0.95)
            half = x0 * rng.uniform(0.6, 2.0)
            saturation = {"type": "hill", "half_saturation_cny": half, "shape": shape}
            slope = _hill_slope(x0 / half, shape)
        aov = roi * CPM / (1000.0 * CTR * CVR * slope)  # ROI at today's spend in an average week
        weekly_today = x0 * demand / demand.mean()
        channel = {
            "id": f"{family}_{c:04d}",
            "kind": "paid",
            "cpm": {"base_cny": CPM, "trend": {"type": "index", "values": cpm.tolist()}},
            "ctr": CTR,
            "cvr": CVR,
            "aov_cny": round(aov, 6),
            "new_customer_share": round(rng.uniform(0.3, 0.8), 4),
            "saturation": saturation,
        }
        if bounds:
            lo_ratio, hi_ratio = rng.uniform(0.15, 0.5), rng.uniform(1.8, 3.5)
            channel["period_min_spend_cny"] = (lo_ratio * weekly_today).round(2).tolist()
            channel["period_max_spend_cny"] = (hi_ratio * weekly_today).round(2).tolist()
        if carry:
            channel["adstock"] = {
                "type": "geometric",
                "decay": round(float(rng.uniform(0.2, 0.6)), 4),
                "max_lag": int(rng.integers(4, 9)),
                "normalize": True,
            }
            channel["history_spend_cny"] = [round(x0, 2)] * 4
        rows.append(channel)
    return Scenario.model_validate(
        {
            "version": "1",
            "name": f"weekly {channels} x {WEEKS}"
            + (" S-shaped" if s_shaped else "")
            + (" with carry-over" if carry else ""),
            "periods": [f"W{w + 1:02d}" for w in range(WEEKS)],
            "seasonality": demand.round(6).tolist(),
            "budget": {"total_cny": BUDGET},
            "objective": {"kind": "max_gmv"},
            "channels": rows,
            "rules": rules or [],
            "settings": {"tolerance": 1e-6, "time_limit_s": 600},
        }
    )


def binding_rules(channels: int, seed: int = 7) -> list[dict]:
    """An overall ROAS floor 3% above, a CAC ceiling 3% below and a GMV share 2 points above
    what the budget-only optimum reaches: each rule binds, and the three can hold together."""
    from optimizer.planner import plan

    free = plan(weekly(channels, seed=seed), solver="dual")
    assert free.total is not None
    group = [c for c in free.channels if c.startswith("self_live")]
    share = sum(free.by_channel[c].gmv_cny for c in group) / free.total.gmv_cny
    return [
        {"id": "roas_floor", "kind": "roas_floor", "min_roas": round(free.total.roas * 1.03, 4)},
        {
            "id": "cac_ceiling",
            "kind": "cac_ceiling",
            "max_cac_cny": round(free.total.cac_cny * 0.97, 4),
        },
        {
            "id": "self_live_share",
            "kind": "gmv_share",
            "channels": group,
            "min_share": round(share + 0.02, 4),
        },
    ]

"""Plans side by side: totals, per-channel and per-period metrics, deltas against the first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.outputs.ranges import BAND_NAMES, band_values
from optimizer.results.plan import Metrics, Plan

COMPARED = ("spend_cny", "commission_cny", "gmv_cny", "new_customers", "roas", "cac_cny")
# with draws: the totals' bands, and GMV's P10 to P90 by channel and by period
SLICE_BANDS = ("gmv_p10_cny", "gmv_p50_cny", "gmv_p90_cny")


def side_by_side(plans: Sequence[Plan], labels: Sequence[str]) -> dict[str, Any]:
    """Compare plans: each metric per plan and its delta to the first plan (the baseline).

    Channels or periods missing from a plan count as no spend there (ratios are then None).
    When a plan has ranges (draws on its curves), the totals add their bands (gmv_p10_cny,
    ..., ``BAND_NAMES``) and channels and periods GMV's P10, P50 and P90, None for a plan
    without draws; each plan's summary says over how many draws (None: none).
    """
    if len(plans) != len(labels) or len(plans) < 2:
        raise ValueError("side_by_side needs two or more plans, one label each")
    channels = _union(list(p.by_channel) for p in plans)
    periods = _union(p.periods for p in plans)
    data = {
        "baseline": labels[0],
        "labels": list(labels),
        "plans": [_summary(plan, label) for plan, label in zip(plans, labels, strict=True)],
        "total": _block([p.total for p in plans]),
        "by_channel": {c: _block([p.by_channel.get(c) for p in plans]) for c in channels},
        "by_period": {t: _block([p.by_period.get(t) for p in plans]) for t in periods},
    }
    if any(p.ranges for p in plans):
        _add_bands(data, plans)
    return data


def _add_bands(data: dict[str, Any], plans: Sequence[Plan]) -> None:
    """Each plan's bands beside its metrics, as values with deltas to the baseline."""
    totals = [band_values(p.ranges["total"] if p.ranges else None) for p in plans]
    data["total"].update({name: _entry([t[name] for t in totals]) for name in BAND_NAMES})
    for field in ("by_channel", "by_period"):
        for key, block in data[field].items():
            bands = [band_values(p.ranges[field].get(key) if p.ranges else None) for p in plans]
            block.update({name: _entry([b[name] for b in bands]) for name in SLICE_BANDS})
    for summary, plan in zip(data["plans"], plans, strict=True):
        summary["draws"] = plan.ranges["draws"] if plan.ranges else None


RESERVED_LABELS = ("level", "key", "metric")  # the tidy comparison rows' own columns


def unique_labels(names: Sequence[str], reserved: Sequence[str] = RESERVED_LABELS) -> list[str]:
    """The names, each made unique with a number ("plan", "plan (2)"), also against the
    reserved column names and against a name that already carries that number."""
    taken = set(reserved)
    unique = []
    for text in names:
        candidate, n = text, 1
        while candidate in taken:
            n += 1
            candidate = f"{text} ({n})"
        taken.add(candidate)
        unique.append(candidate)
    return unique


def _union(keys: Any) -> list[str]:
    seen: dict[str, None] = {}
    for group in keys:
        seen.update(dict.fromkeys(group))
    return list(seen)


def _summary(plan: Plan, label: str) -> dict[str, Any]:
    return {
        "label": label,
        "scenario": plan.scenario,
        "status": plan.status,
        "feasible": plan.is_feasible,
        "objective_kind": plan.objective_kind,
        "objective_value": plan.objective_value,
    }


def _block(metrics: list[Metrics | None]) -> dict[str, dict[str, list[float | None]]]:
    """{metric: {"values": per plan, "delta": per plan minus the baseline}}."""
    return {name: _entry([_value(m, name) for m in metrics]) for name in COMPARED}


def _entry(values: list[float | None]) -> dict[str, list[float | None]]:
    """Values per plan and each one's difference to the first (None where either is None)."""
    base = values[0]
    delta = [None if v is None or base is None else v - base for v in values]
    return {"values": values, "delta": delta}


def _value(m: Metrics | None, name: str) -> float | None:
    if m is None:
        return 0.0 if name in ("spend_cny", "commission_cny", "gmv_cny", "new_customers") else None
    return getattr(m, name)

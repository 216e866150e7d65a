"""Plans side by side: totals, per-channel and per-period metrics, deltas against the first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.results.plan import Metrics, Plan

COMPARED = ("spend_cny", "commission_cny", "gmv_cny", "new_customers", "roas", "cac_cny")


def side_by_side(plans: Sequence[Plan], labels: Sequence[str]) -> dict[str, Any]:
    """Compare plans: each metric per plan and its delta to the first plan (the baseline).

    Channels or periods missing from a plan count as no spend there (ratios are then None).
    """
    if len(plans) != len(labels) or len(plans) < 2:
        raise ValueError("side_by_side needs two or more plans, one label each")
    channels = _union(list(p.by_channel) for p in plans)
    periods = _union(p.periods for p in plans)
    return {
        "baseline": labels[0],
        "labels": list(labels),
        "plans": [_summary(plan, label) for plan, label in zip(plans, labels, strict=True)],
        "total": _block([p.total for p in plans]),
        "by_channel": {c: _block([p.by_channel.get(c) for p in plans]) for c in channels},
        "by_period": {t: _block([p.by_period.get(t) for p in plans]) for t in periods},
    }


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
    out: dict[str, dict[str, list[float | None]]] = {}
    for name in COMPARED:
        values = [_value(m, name) for m in metrics]
        base = values[0]
        delta = [None if v is None or base is None else v - base for v in values]
        out[name] = {"values": values, "delta": delta}
    return out


def _value(m: Metrics | None, name: str) -> float | None:
    if m is None:
        return 0.0 if name in ("spend_cny", "commission_cny", "gmv_cny", "new_customers") else None
    return getattr(m, name)

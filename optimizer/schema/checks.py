"""Cross-field checks of the scenario's parts: what no single field's bounds can say.

Per-period values against the periods (one per period, in range), ids used once, a channel's
limits and every period's CPM, and rules that name known channels, groups and periods and give
sensible bounds. The ``Scenario`` model runs them after its fields validate; each yields every
problem it finds, so a file's mistakes are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from pydantic_core import InitErrorDetails

from optimizer.schema.channels import Channel, Cpm, IndexTrend
from optimizer.schema.draws import (
    ADSTOCK_BOUNDS,
    RESPONSE_BOUNDS,
    describe_bounds,
    in_bounds,
)
from optimizer.schema.fields import (
    MAX_CNY,
    MAX_MULTIPLIER,
    MIN_PRICE_CNY,
    TINY,
    Loc,
    error_at,
)
from optimizer.schema.rules import Rule


def repeats(
    ids: list[str], field: str, suffix: tuple[str, ...], prefix: Loc = ()
) -> Iterator[InitErrorDetails]:
    """One error at every repeat of an id, naming where it was first used."""
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in first:
            yield error_at(
                (*prefix, field, index, *suffix),
                f"duplicated id '{value}': already used by {field}[{first[value]}]; "
                "ids must be unique",
            )
        else:
            first[value] = index


def per_period_errors(
    value: Any,
    periods: list[str],
    loc: Loc,
    *,
    positive: bool = False,
    maximum: float = MAX_CNY,
    least: float | None = None,
    floor: float = TINY,
) -> Iterator[InitErrorDetails]:
    """Per-period values: one per period, >= 0 (> 0 if ``positive``, at least ``least`` CNY if
    given, at least ``floor`` if positive), at most ``maximum``."""
    if value is None:
        return
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(value) != len(periods):
        yield error_at(loc, _count_message(periods, len(value)))
        return
    for j, v in enumerate(values):
        where = (*loc, j) if isinstance(value, list) else loc
        if v < 0 or (positive and v == 0):
            yield error_at(
                where, f"expected a {'positive' if positive else 'non-negative'} number, got {v:g}"
            )
        elif least is not None and v < least:
            yield error_at(
                where,
                f"expected at least {least:g} CNY (one fen), got {v:g}: too small to compute with",
            )
        elif positive and v < floor:
            yield error_at(
                where, f"expected at least {floor:g}, got {v:g}: too small to compute with"
            )
        elif v > maximum:
            yield error_at(where, f"expected a number of at most {maximum:,g}, got {v:g}")


def _count_message(periods: list[str], got: int) -> str:
    """A list of the wrong length: how many values, the periods they are for, how many came."""
    names = ", ".join(periods) if len(periods) <= 12 else f"{periods[0]} ... {periods[-1]}"
    return f"expected {len(periods)} values, one per period ({names}), got {got}"


def channel_errors(c: Channel, periods: list[str], loc: Loc) -> Iterator[InitErrorDetails]:
    """A channel's per-period values, its spend limits, its CPM and its tiers' ids."""
    n = len(periods)
    yield from per_period_errors(c.period_min_spend_cny, periods, (*loc, "period_min_spend_cny"))
    yield from per_period_errors(c.period_max_spend_cny, periods, (*loc, "period_max_spend_cny"))
    yield from per_period_errors(
        c.seasonality, periods, (*loc, "seasonality"), positive=True, maximum=MAX_MULTIPLIER
    )
    if c.max_spend_cny is not None and c.min_spend_cny > c.max_spend_cny:
        yield error_at(
            (*loc, "min_spend_cny"),
            f"min_spend_cny {c.min_spend_cny:g} exceeds max_spend_cny {c.max_spend_cny:g}",
        )
    if c.kind == "paid" and isinstance(c.cpm.trend, IndexTrend) and len(c.cpm.trend.values) != n:
        yield error_at(
            (*loc, "cpm", "trend", "values"), _count_message(periods, len(c.cpm.trend.values))
        )
    elif c.kind == "paid":
        yield from _cpm_errors(c.cpm, periods, (*loc, "cpm"))
    if c.kind == "curve":
        yield from _curve_errors(c, periods, loc)
    yield from _carry_errors(c, periods, loc)
    if c.kind == "curve" and c.draws is not None:
        yield from _draw_errors(c, loc)
    if c.kind == "kol":
        yield from repeats([t.id for t in c.tiers], "tiers", ("id",), loc)
        for k, tier in enumerate(c.tiers):
            yield from per_period_errors(
                tier.capacity_fee_cny, periods, (*loc, "tiers", k, "capacity_fee_cny")
            )


def _carry_errors(c: Any, periods: list[str], loc: Loc) -> Iterator[InitErrorDetails]:
    """History needs adstock (per tier on a KOL channel); the weights carry something."""
    tiers = getattr(c, "tiers", [])
    with_history = [(*loc, "tiers", k) for k, t in enumerate(tiers) if t.history_spend_cny]
    if c.history_spend_cny:
        with_history.append(loc)
    if c.adstock is None:
        for where in with_history:
            yield error_at(
                (*where, "history_spend_cny"),
                "spend before the plan only matters with carry-over: give the channel an "
                "adstock, or drop the history",
            )
        return
    if c.kind == "kol" and c.history_spend_cny:
        yield error_at(
            (*loc, "history_spend_cny"),
            "a KOL channel's history is per tier: give tiers[k].history_spend_cny",
        )
    history = max([len(c.history_spend_cny)] + [len(t.history_spend_cny) for t in tiers])
    weights = c.adstock.weights(history + len(periods))
    if not np.all(np.isfinite(weights)) or not np.any(weights > 0):
        yield error_at(
            (*loc, "adstock"),
            "the adstock's weights are all 0 (or not finite): no spend would ever sell",
        )


def _draw_errors(c: Any, loc: Loc) -> Iterator[InitErrorDetails]:
    """A curve's draws name parameters it has, one value each per draw, within bounds."""
    where = (*loc, "draws")
    if not c.draws.response and not c.draws.adstock:
        yield error_at(where, "draws name no parameter: give response or adstock values")
    count = c.draws.count()
    adstock_type = getattr(c.adstock, "type", None)
    for part, drawn, known in (
        ("response", c.draws.response, _drawable_response(c.response)),
        ("adstock", c.draws.adstock, ADSTOCK_BOUNDS.get(adstock_type or "", {})),
    ):
        for name, values in drawn.items():
            at = (*where, part, name)
            if name not in known:
                owner = (
                    f"a {c.response.type} response"
                    if part == "response"
                    else (
                        f"a {adstock_type} adstock" if adstock_type else "a channel without adstock"
                    )
                )
                choices = ", ".join(known) or "none"
                yield error_at(at, f"{owner} has no parameter {name!r} to draw (it has: {choices})")
                continue
            base = getattr(c.response if part == "response" else c.adstock, name)
            if isinstance(base, list):
                yield error_at(
                    at, f"{name} is given per period; draws replace one value: give it as one"
                )
            if len(values) != count:
                yield error_at(
                    at,
                    f"expected {count} values, one per draw (as the other parameters), "
                    f"got {len(values)}",
                )
            bounds = known[name]
            for k, value in enumerate(values):
                if not in_bounds(value, bounds):
                    yield error_at((*at, k), f"expected {describe_bounds(bounds)}, got {value:g}")
                    break


def _drawable_response(response: Any) -> dict[str, tuple[float, bool, float, bool]]:
    """The parameters of a response that draws can give, with their bounds."""
    return {n: b for n, b in RESPONSE_BOUNDS.items() if n in type(response).model_fields}


def draw_count_errors(channels: list[Any]) -> Iterator[InitErrorDetails]:
    """Every channel with draws has as many as the first one: draw k is one joint draw."""
    first: tuple[int, str] | None = None
    for i, c in enumerate(channels):
        if getattr(c, "draws", None) is None:
            continue
        count = c.draws.count()
        if first is None:
            first = (count, c.id)
        elif count != first[0]:
            yield error_at(
                ("channels", i, "draws"),
                f"expected {first[0]} draws, as channel {first[1]!r} has (draw k of every "
                f"channel is one joint draw), got {count}",
            )


def _curve_errors(c: Any, periods: list[str], loc: Loc) -> Iterator[InitErrorDetails]:
    """A curve channel's CPM index and per-period response parameters: one per period."""
    index_loc = (*loc, "cpm_index")
    yield from per_period_errors(
        c.cpm_index, periods, index_loc, positive=True, maximum=MAX_MULTIPLIER
    )
    if c.cpm_index is not None and c.response.type == "piecewise":
        yield error_at(index_loc, "a piecewise response takes no cpm_index: give its points")
    for name in ("max_gmv_cny", "scale_cny", "half_saturation_cny"):
        value = getattr(c.response, name, None)
        where = (*loc, "response", name)
        if name == "max_gmv_cny":  # any positive amount; a subnormal one is caught as GMV per yuan
            yield from per_period_errors(value, periods, where, positive=True, floor=0.0)
        else:
            yield from per_period_errors(value, periods, where, positive=True, least=MIN_PRICE_CNY)


def _cpm_errors(cpm: Cpm, periods: list[str], loc: Loc) -> Iterator[InitErrorDetails]:
    """Every period's CPM (base and trend) between one fen and 1e12: a linear trend that falls
    below zero, or compound growth over many periods, is caught here, naming the period."""
    if cpm.trend is None:
        return
    with np.errstate(all="ignore"):
        values = cpm.by_period(len(periods))
    for t, value in enumerate(values):
        if np.isfinite(value) and MIN_PRICE_CNY <= value <= MAX_CNY:
            continue
        if isinstance(cpm.trend, IndexTrend):
            where: Loc = (*loc, "trend", "values", t)
        else:
            where = (*loc, "trend", "rate_per_period")
        yield error_at(
            where,
            f"gives a CPM of {value:,.6g} CNY in period {periods[t]} (base_cny "
            f"{cpm.base_cny:g} with its {cpm.trend.type} trend); every period's CPM must be "
            f"between {MIN_PRICE_CNY:g} and {MAX_CNY:g} CNY",
        )
        return  # the first period out of range says enough


def rule_errors(
    rules: list[Rule], channels: list[Channel], periods: list[str]
) -> Iterator[InitErrorDetails]:
    """Rules name known channels, groups and periods, and give bounds that make sense."""
    channel_ids = {c.id for c in channels}
    groups = {group for c in channels for group in c.groups}
    known_periods = ", ".join(periods) if len(periods) <= 12 else "see periods"
    kinds = {c.id: c.kind for c in channels}
    for i, rule in enumerate(rules):
        loc: Loc = ("rules", i)
        for j, cid in enumerate(rule.channels or []):
            if cid not in channel_ids:
                yield error_at(
                    (*loc, "channels", j),
                    f"unknown channel '{cid}'; known: {', '.join(sorted(channel_ids))}",
                )
        for j, group in enumerate(rule.groups):
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                yield error_at((*loc, "groups", j), f"unknown group '{group}'; known: {known}")
        for j, period in enumerate(rule.periods or []):
            if period not in periods:
                yield error_at(
                    (*loc, "periods", j), f"unknown period '{period}'; known: {known_periods}"
                )
        yield from _rule_value_errors(rule, loc, kinds)


def _rule_value_errors(rule: Rule, loc: Loc, kinds: dict[str, str]) -> Iterator[InitErrorDetails]:
    """A rule's bounds: one given at least, the low one not above the high one; its scope."""
    pairs = {
        "commission_cap": ("max_rate", "max_total_cny"),
        "gmv_share": ("min_share", "max_share"),
        "spend_limit": ("min_cny", "max_cny"),
    }
    if rule.kind in pairs:
        low_name, high_name = pairs[rule.kind]
        low, high = getattr(rule, low_name), getattr(rule, high_name)
        if low is None and high is None:
            yield error_at(loc, f"{rule.kind} needs {low_name} or {high_name}; got neither")
        if rule.kind != "commission_cap" and None not in (low, high) and low > high:
            yield error_at((*loc, low_name), f"{low_name} {low:g} is above {high_name} {high:g}")
    if rule.kind == "gmv_share" and rule.channels is None and not rule.groups:
        yield error_at(loc, "gmv_share needs channels or groups (the share of what?); got neither")
    if rule.kind == "commission_cap" and rule.channels is not None:
        kol_ids = ", ".join(c for c, k in kinds.items() if k == "kol") or "none in this scenario"
        for j, cid in enumerate(rule.channels):
            if cid in kinds and kinds[cid] != "kol":
                yield error_at(
                    (*loc, "channels", j),
                    f"commission_cap applies to KOL channels, got '{cid}', a {kinds[cid]} "
                    f"channel; KOL channels: {kol_ids}",
                )


def calendar_rule_errors(
    rules: list[Rule], channels: list[Channel], periods: list[str]
) -> Iterator[InitErrorDetails]:
    """Pacing and flighting rules: a limit given, one amount per burst, and dark periods that
    no minimum, lock or burst of the same channel contradicts."""
    dark: dict[tuple[str, str], int] = {}  # (channel, period) -> index of the dark rule
    for i, rule in enumerate(rules):
        if rule.kind == "ramp_limit" and rule.max_change is None and rule.max_change_cny is None:
            yield error_at(
                ("rules", i), "ramp_limit needs max_change or max_change_cny; got neither"
            )
        if rule.kind == "locked_burst" and (rule.per_period_cny is None) == (
            rule.total_cny is None
        ):
            yield error_at(
                ("rules", i), "locked_burst needs exactly one of per_period_cny and total_cny"
            )
        if rule.kind == "dark":
            for cid in _scope(rule, channels):
                for p in rule.periods:
                    dark.setdefault((cid, p), i)
    for k, c in enumerate(channels):
        yield from _dark_channel_errors(c, k, dark, periods)
    for i, rule in enumerate(rules):
        if rule.kind == "locked_burst":
            yield from _burst_errors(rule, i, channels, dark, periods)
    yield from _burst_clashes(rules, channels)


def _scope(rule: Rule, channels: list[Channel]) -> list[str]:
    """The channel ids a rule covers (its channels and groups; all when it names none)."""
    if rule.channels is None and not rule.groups:
        return [c.id for c in channels]
    return [
        c.id
        for c in channels
        if c.id in (rule.channels or []) or any(g in rule.groups for g in c.groups)
    ]


def _dark_channel_errors(
    c: Channel, k: int, dark: dict[tuple[str, str], int], periods: list[str]
) -> Iterator[InitErrorDetails]:
    """A channel's minimums against its dark periods."""
    minimum = c.period_min_spend_cny
    lows = minimum if isinstance(minimum, list) else [minimum] * len(periods)
    clashes: dict[int, list[str]] = {}  # dark rule -> periods where a minimum asks for spend
    for t, p in enumerate(periods):
        if (c.id, p) in dark and t < len(lows) and lows[t] > 0:
            clashes.setdefault(dark[(c.id, p)], []).append(p)
    for i, named in clashes.items():
        yield error_at(
            ("rules", i, "periods"),
            f"{c.id} is dark in {_listed(named)} but channels[{k}].period_min_spend_cny asks "
            f"for spend there (up to {max(lows[periods.index(p)] for p in named):,.0f} CNY); "
            "set that minimum to 0 in the "
            "dark periods (by window or period) or drop them",
        )
    if all((c.id, p) in dark for p in periods):
        for field in ("min_spend_cny", "locked_spend_cny"):
            value = getattr(c, field)
            if value:
                yield error_at(
                    ("channels", k, field),
                    f"{c.id} is dark in every period (rules[{dark[(c.id, periods[0])]}]) but "
                    f"{field} is {value:,.0f} CNY",
                )


def _burst_errors(
    rule: Rule,
    i: int,
    channels: list[Channel],
    dark: dict[tuple[str, str], int],
    periods: list[str],
) -> Iterator[InitErrorDetails]:
    """A burst on dark periods, or above what its channels may spend in a period."""
    scope = _scope(rule, channels)
    per_period = rule.per_period_cny is not None
    amount = rule.per_period_cny if per_period else rule.total_cny
    dark_in = [p for p in rule.periods if scope and all((c, p) in dark for c in scope)]
    if amount and (dark_in if per_period else dark_in == rule.periods):
        other = dark[(scope[0], dark_in[0])]
        yield error_at(
            ("rules", i, "periods"),
            f"locked_burst of {amount:,.0f} CNY {'per period ' if per_period else ''}falls on "
            f"{_listed(dark_in)}, where its channels are dark (rules[{other}]): both define "
            "the same weeks",
        )
        return
    if not per_period:
        return
    caps = [c.period_max_spend_cny for c in channels if c.id in scope]
    if any(cap is None for cap in caps):
        return
    for p in rule.periods:
        t = periods.index(p) if p in periods else None
        if t is None:
            continue
        room = sum(cap[t] if isinstance(cap, list) else cap for cap in caps)  # type: ignore[misc]
        if rule.per_period_cny > room:
            yield error_at(
                ("rules", i, "per_period_cny"),
                f"{rule.per_period_cny:,.0f} CNY in {p} is above what its channels may spend "
                f"there (period_max_spend_cny: {room:,.0f})",
            )
            return


def _burst_clashes(rules: list[Rule], channels: list[Channel]) -> Iterator[InitErrorDetails]:
    """Two bursts fixing the same scope in the same period at different amounts."""
    fixed: dict[tuple[tuple[str, ...], str], tuple[int, float]] = {}
    for i, rule in enumerate(rules):
        if rule.kind != "locked_burst" or rule.per_period_cny is None:
            continue
        scope = tuple(_scope(rule, channels))
        for p in rule.periods:
            j, amount = fixed.setdefault((scope, p), (i, rule.per_period_cny))
            if j != i and amount != rule.per_period_cny:
                yield error_at(
                    ("rules", i, "per_period_cny"),
                    f"{rule.per_period_cny:,.0f} CNY in {p}, where rules[{j}] locks the same "
                    f"channels at {amount:,.0f} CNY: overlapping bursts must agree",
                )
                break


def _listed(names: list[str]) -> str:
    """Period names in a message: all of a few, the first and last of many."""
    return ", ".join(names) if len(names) <= 6 else f"{names[0]} ... {names[-1]} ({len(names)})"

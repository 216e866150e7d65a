"""Numbers a solver can take: every number derived from a scenario is checked before a solve.

Each number the solver gets must be finite, at most ``SOLVER_LIMIT`` in size and, unless zero,
not so small that it lost its precision (subnormal). ``number_problems`` checks the numbers
derived from a scenario's fields (GMV per yuan and what rules multiply it by) without building
any rows, so a number out of range is a ScenarioError that names the field it came from, never
a NaN or an IndexError deep inside a solver; ``build_problem`` checks the built arrays again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from optimizer.core.curves import Curve, cpm_by_period, per_period
from optimizer.core.rows import rule_scope
from optimizer.core.units import Unit, build_units, unit_bounds
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.schema.channels import KolChannel, PaidChannel, PrivateDomainChannel
from optimizer.schema.curves import LinearResponse, PiecewiseResponse
from optimizer.schema.fields import MIN_PRICE_CNY
from optimizer.schema.messages import Loc, format_path
from optimizer.schema.rules import CacCeiling, RoasFloor
from optimizer.schema.scenario import Scenario

SOLVER_LIMIT = 1e15
"""Largest coefficient, bound or right-hand side the solvers take: HiGHS refuses a model with
matrix values of 1e15 or more (PuLP then fails on the missing solution)."""
SMALLEST_NORMAL = float(np.finfo(float).tiny)
"""2.2e-308: a nonzero number below this is subnormal, with too few digits left to compute."""


def number_problems(s: Scenario) -> list[tuple[Loc, str]]:
    """(field path, message) for every number derived from the scenario that no solver can take.

    GMV per yuan (seasonality x 1000 x CTR x CVR x AOV / CPM for paid traffic) times the
    steepest slope of the unit's curve, and times the largest factor a rule or the objective
    puts on GMV (a CAC ceiling times new customers per yuan of GMV, a ROAS floor), must stay at
    most SOLVER_LIMIT; a product of positive numbers must not underflow to zero. The field
    named is the factor furthest from 1, the likeliest typo. Cheap: no rows are built.
    """
    found: dict[Loc, str] = {}
    with np.errstate(all="ignore"):
        units = build_units(s)
        _, hi = unit_bounds(s, units)
        scopes = [rule_scope(s, rule.channels, rule.groups) for rule in s.rules]
        for i, info in enumerate(_unit_infos(s)):
            unit_hi = float(np.max(hi[i], initial=0.0))
            for loc, message in _unit_problems(s, units[i], info, scopes, unit_hi):
                found.setdefault(loc, message)
        for loc, message in _bound_problems(s, units, hi):
            found.setdefault(loc, message)
    return list(found.items())


def check_numbers(s: Scenario, source: str = "scenario") -> None:
    """Raise ScenarioError naming each field whose derived numbers no solver can take."""
    problems = [FieldProblem(format_path(loc), message) for loc, message in number_problems(s)]
    if problems:
        raise ScenarioError(source, problems)


@dataclass(frozen=True)
class _Factor:
    """One field's part in a product: its value and what it multiplies by, per period."""

    loc: Loc
    value: np.ndarray
    weight: np.ndarray  # the value, or 1 / value for a divisor
    listed: bool = False  # given as a list, one value per period
    label: str = ""  # what the value is, when not the field itself ("a slope of ")

    def where(self, t: int) -> Loc:
        """The field's path, down to period ``t``'s item when it is a list."""
        return (*self.loc, t) if self.listed else self.loc


def _factor(
    loc: Loc, value: float | list[float] | np.ndarray, n: int, *, divides: bool = False
) -> _Factor:
    values = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    return _Factor(loc, values, 1.0 / values if divides else values, isinstance(value, list))


@dataclass(frozen=True)
class _UnitInfo:
    """Where a unit's fields are: its own (AOV, new customers), its gain's and its curve's."""

    loc: Loc  # the channel, or the KOL tier
    factors: list[_Factor]
    formula: str
    curve_loc: Loc


_FORMULAS = {
    "paid": "seasonality x 1000 x ctr x cvr x aov_cny / CPM",
    "kol": "seasonality x fee_roas",
    "private_domain": "seasonality x repurchase_rate x orders_per_buyer x aov_cny / "
    "(periods x cost_per_reach_cny)",
    "linear": "seasonality x roas",
    "exponential": "seasonality x max_gmv_cny / scale_cny",
    "hill": "seasonality x max_gmv_cny / half_saturation_cny",
    "michaelis_menten": "seasonality x max_gmv_cny / half_saturation_cny",
    "tanh": "seasonality x max_gmv_cny / scale_cny",
    "logistic": "seasonality x max_gmv_cny / (2 x scale_cny)",
    "piecewise": "seasonality x the slope of the points",
}


def _unit_infos(s: Scenario) -> Iterator[_UnitInfo]:
    """Each unit's fields, in the order of build_units."""
    n = len(s.periods)
    for i, c in enumerate(s.channels):
        loc: Loc = ("channels", i)
        if c.seasonality is not None:
            season = _factor((*loc, "seasonality"), c.seasonality, n)
        else:
            season = _factor(("seasonality",), s.seasonality, n)
        if isinstance(c, PaidChannel):
            cpm = cpm_by_period(c.cpm.base_cny, c.cpm.trend, n)
            factors = [
                season,
                _factor((*loc, "ctr"), c.ctr, n),
                _factor((*loc, "cvr"), c.cvr, n),
                _factor((*loc, "aov_cny"), c.aov_cny, n),
                _factor((*loc, "cpm", "base_cny"), cpm, n, divides=True),
            ]
            yield _UnitInfo(loc, factors, _FORMULAS["paid"], (*loc, "saturation"))
        elif isinstance(c, KolChannel):
            for k, tier in enumerate(c.tiers):
                tier_loc = (*loc, "tiers", k)
                factors = [season, _factor((*tier_loc, "fee_roas"), tier.fee_roas, n)]
                curve_loc = (*tier_loc, "saturation")
                yield _UnitInfo(tier_loc, factors, _FORMULAS["kol"], curve_loc)
        elif isinstance(c, PrivateDomainChannel):
            factors = [
                season,
                _factor((*loc, "repurchase_rate"), c.repurchase_rate, n),
                _factor((*loc, "orders_per_buyer"), c.orders_per_buyer, n),
                _factor((*loc, "aov_cny"), c.aov_cny, n),
                _factor((*loc, "cost_per_reach_cny"), c.cost_per_reach_cny, n, divides=True),
            ]
            yield _UnitInfo(loc, factors, _FORMULAS["private_domain"], loc)
        else:
            factors, formula = _response_factors(c.response, (*loc, "response"), n)
            yield _UnitInfo(loc, [season, *factors], formula, (*loc, "response"))


def _response_factors(r: object, loc: Loc, n: int) -> tuple[list[_Factor], str]:
    if isinstance(r, LinearResponse):
        return [_factor((*loc, "roas"), r.roas, n)], _FORMULAS["linear"]
    if isinstance(r, PiecewiseResponse):
        return [], _FORMULAS["piecewise"]  # the GMV is in the points: their slope is the curve's
    width = "half_saturation_cny" if hasattr(r, "half_saturation_cny") else "scale_cny"
    factors = [
        _factor((*loc, "max_gmv_cny"), r.max_gmv_cny, n),  # type: ignore[attr-defined]
        _factor((*loc, width), getattr(r, width), n, divides=True),
    ]
    return factors, _FORMULAS[r.type]  # type: ignore[attr-defined]


def steepest_slope(curve: Curve, hi: float = 1.0) -> float:
    """The largest slope of a normalised curve the solver can see on spends [0, ``hi``].

    A Hill curve with shape below 1 is infinitely steep at zero; its breakpoints come no
    nearer to zero than 1e-9 x max(hi, 1) yuan (``pwl.refine`` merges closer ones), so that is
    where its steepest segment starts.
    """
    if curve.family == "piecewise":
        with np.errstate(all="ignore"):
            return float(np.max(np.diff(curve.ys) / np.diff(curve.xs)))
    if curve.family != "hill" or curve.shape == 1:
        return 1.0
    shape = curve.shape
    if shape > 1:  # the slope peaks where u^shape = (shape - 1) / (shape + 1)
        u = ((shape - 1) / (shape + 1)) ** (1 / shape)
    else:
        u = min(1e-9 * max(hi, 1.0) / float(np.min(curve.scale)), 1.0)
    return float(shape * u ** (shape - 1) / (1 + u**shape) ** 2)


def _multipliers(
    s: Scenario, unit: Unit, info: _UnitInfo, scopes: list[set[str]]
) -> list[tuple[str, list[_Factor]]]:
    """What rules and the objective multiply this unit's GMV by (name, factors): the highest
    ROAS floor, and the highest and the lowest CAC ceiling, over it."""
    n = len(s.periods)
    per_gmv = [
        _factor((*info.loc, "new_customer_share"), unit.new_customer_share, n),
        _factor((*info.loc, "aov_cny"), unit.aov_cny, n, divides=True),
    ]
    found: list[tuple[str, list[_Factor]]] = []
    if s.objective.kind == "max_new_customers":
        what = "new customers per yuan (new_customer_share / aov_cny x GMV per yuan)"
        found.append((what, per_gmv))
    floors = [(r.min_roas, i) for i, r in enumerate(s.rules) if isinstance(r, RoasFloor)]
    ceilings = [(r.max_cac_cny, i) for i, r in enumerate(s.rules) if isinstance(r, CacCeiling)]
    floors = [(v, i) for v, i in floors if unit.channel in scopes[i]]
    ceilings = [(v, i) for v, i in ceilings if unit.channel in scopes[i]]
    if floors:
        value, i = max(floors)
        floor = _factor(("rules", i, "min_roas"), 1.0 + value, n)
        found.append(("a ROAS floor coefficient ((1 + min_roas) x GMV per yuan)", [floor]))
    what = "a CAC ceiling coefficient (max_cac_cny x new_customer_share / aov_cny x GMV per yuan)"
    for value, i in sorted({max(ceilings), min(ceilings)} if ceilings else (), reverse=True):
        found.append((what, [_factor(("rules", i, "max_cac_cny"), value, n), *per_gmv]))
    return found


def _unit_problems(
    s: Scenario, unit: Unit, info: _UnitInfo, scopes: list[set[str]], hi: float
) -> Iterator[tuple[Loc, str]]:
    """The first number of a unit out of range: its gain (0 or subnormal when it should be
    positive, or times its curve's steepest slope beyond SOLVER_LIMIT), or that times what a
    rule or the objective multiplies it by (beyond SOLVER_LIMIT, or subnormal)."""
    name = unit.id if unit.id == unit.channel else f"{unit.channel} tier {unit.id}"
    slope = steepest_slope(unit.curve, hi)
    factors = list(info.factors)
    n = len(s.periods)
    if unit.curve.family == "piecewise":
        factors.append(replace(_factor((*info.curve_loc, "points"), slope, n), label="a slope of "))
    elif unit.curve.family == "hill" and slope > 1:  # shape below 1: steep near zero
        shape = _factor((*info.curve_loc, "shape"), slope, n)
        factors.append(replace(shape, label="a slope near zero spend of "))
    gain = np.asarray(unit.gain, dtype=float)
    # (what, values that must not be subnormal, or zero when positive, values at most the limit)
    steepest = " at the curve's steepest" if unit.curve.family == "hill" and slope > 1 else ""
    checks = [(f"a GMV per yuan ({info.formula}){steepest}", gain, True, gain * slope, [])]
    for what, extra in _multipliers(s, unit, info, scopes):
        product = gain * slope * np.prod([f.weight for f in extra], axis=0)
        checks.append((what, product, False, product, extra))
    for what, exact, positive, scaled, extra in checks:
        small = ~(np.abs(exact) >= SMALLEST_NORMAL) & ((exact != 0) | positive)
        big = ~(np.abs(scaled) <= SOLVER_LIMIT)  # NaN and infinity too
        for too_big, where in ((True, big), (False, small)):
            if not where.any():
                continue
            t = int(np.argmax(where))
            culprit = _extreme([*factors, *extra], t, smallest=not too_big)
            if too_big:
                size, verdict = scaled[t], f"more than a solver can take (at most {SOLVER_LIMIT:g})"
            else:
                size, verdict = exact[t], "too small to compute with"
            yield (
                culprit.where(t),
                (
                    f"gives {name} {what} of {size:.3g} in period {s.periods[t]}: {verdict}; got "
                    f"{culprit.label}{culprit.value[t]:g} here, expected a value "
                    + ("nearer to 1" if too_big else "further from 0")
                ),
            )
            return


def _extreme(factors: list[_Factor], t: int, *, smallest: bool) -> _Factor:
    """The factor that pulls the product furthest towards zero (or towards infinity)."""

    def size(factor: _Factor) -> float:
        weight = abs(float(factor.weight[t]))
        if weight == 0:
            return -np.inf
        return float(np.log10(weight)) if np.isfinite(weight) else np.inf

    return min(factors, key=size) if smallest else max(factors, key=size)


def _bound_problems(s: Scenario, units: list[Unit], hi: np.ndarray) -> Iterator[tuple[Loc, str]]:
    """Spend bounds (the media budget, tier capacities) above zero but below one fen."""
    n = len(s.periods)
    tiny = (hi > 0) & (hi < MIN_PRICE_CNY)
    for i, t in zip(*np.nonzero(tiny), strict=True):
        capacity = _capacity(s, units[i])
        if capacity is not None and hi[i, t] == per_period(capacity[1], n, 0.0)[t]:
            yield (
                _factor(capacity[0], capacity[1], n).where(int(t)),
                (
                    f"lets {units[i].id} spend at most {hi[i, t]:.3g} CNY in period "
                    f"{s.periods[t]}: expected 0 or at least {MIN_PRICE_CNY:g} CNY (one fen)"
                ),
            )
        else:
            yield (
                ("budget", "total_cny"),
                (
                    f"leaves {s.media_budget_cny():.3g} CNY for media (total_cny less fixed costs "
                    f"and the contingency): expected 0 or at least {MIN_PRICE_CNY:g} CNY (one fen)"
                ),
            )


def _capacity(s: Scenario, unit: Unit) -> tuple[Loc, float | list[float]] | None:
    """Where a KOL tier's capacity is given, and its value; None for other units."""
    c = s.channel_ids().index(unit.channel)
    channel = s.channels[c]
    if not isinstance(channel, KolChannel):
        return None
    k = next(k for k, tier in enumerate(channel.tiers) if f"{channel.id}.{tier.id}" == unit.id)
    value = channel.tiers[k].capacity_fee_cny
    return None if value is None else (("channels", c, "tiers", k, "capacity_fee_cny"), value)


def out_of_range(
    values: np.ndarray, *, positive: bool = False, subnormal: bool = False
) -> np.ndarray:
    """Elementwise: not finite, beyond SOLVER_LIMIT in size or, unless ``subnormal``, subnormal
    (or zero, if ``positive``)."""
    with np.errstate(all="ignore"):
        size = np.abs(np.asarray(values, dtype=float))
    bad = ~(size <= SOLVER_LIMIT)
    if not subnormal:
        bad |= (size < SMALLEST_NORMAL) & ((size > 0) | positive)
    return bad


def in_range(values: np.ndarray, *, positive: bool = False, subnormal: bool = False) -> bool:
    """Finite, at most SOLVER_LIMIT in size and, unless ``subnormal``, none subnormal (nor zero,
    if ``positive``)."""
    return not bool(np.any(out_of_range(values, positive=positive, subnormal=subnormal)))

"""What-if tools: sweeps over scenario fields, one-at-a-time tornados, budget frontiers.

The results are the data types of ``optimizer.results.whatif``; this module computes them.

Every point is a full scenario, validated and planned like any other: its figures are the plan's
own (recomputed on the true curves), so a sweep point and a separate ``budgetopt plan`` of the
same scenario agree exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from optimizer.analysis.pool import process_pool
from optimizer.errors import FieldProblem, OptimizerError, RequestError
from optimizer.outputs.ranges import BAND_NAMES, total_band_values
from optimizer.planner import SolveOptions, check_numbers, score
from optimizer.planner import plan as solve
from optimizer.results.plan import Plan
from optimizer.results.whatif import (
    Frontier,
    FrontierPoint,
    Point,
    Sweep,
    Tornado,
    TornadoBar,
    Vary,
)
from optimizer.schema.changes import (
    OPS,
    Change,
    check_change,
    signed,
    split_assignment,
    with_changes,
)
from optimizer.schema.paths import get_values, parse_values
from optimizer.schema.scenario import Scenario

MAX_POINTS = 10_000
POINT_METRICS = (
    "status",
    "feasible",
    "objective_value",
    "spend_cny",
    "commission_cny",
    "gmv_cny",
    "roas",
    "cac_cny",
    "new_customers",
    "gross_profit_cny",
)
# a tornado ranks by a headline figure, or by a band of it over the curves' draws (gmv_p10_cny)
RANKED_METRICS = tuple(m for m in POINT_METRICS if m not in ("status", "feasible")) + BAND_NAMES
PointProgress = Callable[[int, int], None]  # (points solved, points in all): for a progress bar


# --- building points ---------------------------------------------------------------------------


def parse_vary(text: str) -> Vary:
    """``path=a:b:n`` or ``path=v1,v2,...`` (absolute values), ``path*=...`` (factors),
    ``path+=...`` / ``path-=...`` (amounts added / taken off) -> Vary; ValueError saying what
    is wrong."""
    path, op, raw, sign = split_assignment(text)
    values = tuple(signed(v, op, sign) for v in parse_values(raw))
    return Vary(path, values, op)


def vary_problems(scenario: Scenario, varies: Sequence[Vary]) -> list[FieldProblem]:
    """Each path that selects no field of the scenario (or, for a scale or shift, a field
    that is not a number), each op unknown, each field given twice, as ``vary[i].path``."""
    found: list[FieldProblem] = []
    seen: set[str] = set()
    for i, vary in enumerate(varies):
        if vary.op not in OPS:
            message = f"unknown op '{vary.op}'; choose one of {', '.join(OPS)}"
            found.append(FieldProblem(f"vary[{i}].op", message))
            continue
        if vary.op != "set":
            for j, value in enumerate(vary.values):
                if not _is_number(value):
                    message = f"{vary.op} needs numbers, got {value!r}"
                    found.append(FieldProblem(f"vary[{i}].values[{j}]", message))
        try:
            check_change(scenario, Change(vary.path, vary.op, 1.0))
        except ValueError as exc:  # PathError, or a field a scale or shift cannot move
            found.append(FieldProblem(f"vary[{i}].path", str(exc)))
        if vary.label in seen:
            message = f"{vary.label} is given twice: list all its values once"
            found.append(FieldProblem(f"vary[{i}].path", message))
        seen.add(vary.label)
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def point_count(varies: Sequence[Vary], one_at_a_time: bool = False) -> int:
    """Points a sweep solves: every combination, or (a tornado) the base plus each value alone."""
    if one_at_a_time:
        return 1 + sum(len(v.values) for v in varies)
    return math.prod(len(v.values) for v in varies)


def check_request(scenario: Scenario, varies: Sequence[Vary], one_at_a_time: bool) -> None:
    """RequestError listing every bad path, or the point count when it is over MAX_POINTS."""
    found = vary_problems(scenario, varies)
    if found:
        raise RequestError(found)
    count = point_count(varies, one_at_a_time)
    if count > MAX_POINTS:
        message = f"{count:,} points: at most {MAX_POINTS:,} per run"
        raise RequestError([FieldProblem("vary", message)])


def grid(varies: Sequence[Vary]) -> list[dict[str, Any]]:
    """Every combination of the values (keyed by each vary's label), first field slowest."""
    combos = itertools.product(*(v.values for v in varies))
    return [dict(zip((v.label for v in varies), combo, strict=True)) for combo in combos]


def point_changes(values: dict[str, Any], varies: Sequence[Vary] = ()) -> list[Change]:
    """A point's values as changes: a vary's label gives its path and op, any other key is a
    path set to its value (a frontier's budget and objective)."""
    by_label = {v.label: v for v in varies}
    changes = []
    for key, value in values.items():
        vary = by_label.get(key)
        changes.append(Change(vary.path, vary.op, value) if vary else Change(key, "set", value))
    return changes


def scenarios_for(
    scenario: Scenario, points: Sequence[dict[str, Any]], varies: Sequence[Vary] = ()
) -> list[Scenario]:
    """The scenario at each point, all validated (derived numbers too) before anything is solved."""
    return [
        with_changes(scenario, point_changes(values, varies), check_numbers) for values in points
    ]


# --- solving -----------------------------------------------------------------------------------


def solve_point(scenario: Scenario, options: SolveOptions) -> Plan | str:
    """Plan one scenario; a solver failure comes back as its message so the run goes on."""
    try:
        return solve(
            scenario,
            solver=options.solver,
            tolerance=options.tolerance,
            time_limit_s=options.time_limit_s,
        )
    except OptimizerError as exc:
        return str(exc)


def solve_all(
    scenarios: Sequence[Scenario],
    options: SolveOptions,
    workers: int = 1,
    progress: PointProgress | None = None,
) -> list[Plan | str]:
    """Plans of every scenario in order; ``workers`` > 1 solves in that many processes."""
    results: list[Plan | str] = []
    total = len(scenarios)
    if workers <= 1 or total <= 1:
        for scenario in scenarios:
            results.append(solve_point(scenario, options))
            if progress is not None:
                progress(len(results), total)
        return results
    with process_pool(min(workers, total)) as pool:
        for result in pool.map(solve_point, scenarios, itertools.repeat(options)):
            results.append(result)
            if progress is not None:
                progress(len(results), total)
    return results


def to_point(values: dict[str, Any], result: Plan | str) -> Point:
    """Headline figures of a plan (or the error that stopped it) at the given values."""
    if isinstance(result, str):
        return Point(values, dict.fromkeys(POINT_METRICS) | {"status": "error"}, {}, result)
    total = result.total
    metrics = {
        "status": result.status,
        "feasible": result.is_feasible,
        "objective_value": result.objective_value,
        "spend_cny": total.spend_cny if total else None,
        "commission_cny": total.commission_cny if total else None,
        "gmv_cny": total.gmv_cny if total else None,
        "roas": total.roas if total else None,
        "cac_cny": total.cac_cny if total else None,
        "new_customers": total.new_customers if total else None,
        "gross_profit_cny": result.gross_profit_cny,
    }
    if result.ranges:  # draws on the curves: the bands of the totals too (gmv_p10_cny, ...)
        metrics.update(total_band_values(result.ranges))
    spend = {c: m.spend_cny for c, m in result.by_channel.items()}
    return Point(values, metrics, spend)


# --- the three tools -----------------------------------------------------------------------------


def sweep(
    scenario: Scenario,
    varies: Sequence[Vary],
    options: SolveOptions = SolveOptions(),
    workers: int = 1,
    progress: PointProgress | None = None,
) -> Sweep:
    """Plan every combination of the varied values."""
    check_request(scenario, varies, one_at_a_time=False)
    points = grid(varies)
    results = solve_all(scenarios_for(scenario, points, varies), options, workers, progress)
    solved = [to_point(v, r) for v, r in zip(points, results, strict=True)]
    return Sweep(scenario.name, list(varies), solved, scenario.channel_ids())


def tornado(
    scenario: Scenario,
    varies: Sequence[Vary],
    metric: str = "objective_value",
    options: SolveOptions = SolveOptions(),
    workers: int = 1,
    progress: PointProgress | None = None,
) -> Tornado:
    """Move each field alone through its values (the rest as given); widest swing first."""
    if metric not in RANKED_METRICS:
        choices = ", ".join(RANKED_METRICS)
        message = f"unknown metric '{metric}'; choose one of {choices}"
        raise RequestError([FieldProblem("metric", message)])
    if metric in BAND_NAMES and not any(getattr(c, "draws", None) for c in scenario.channels):
        message = f"'{metric}' is a band over the curves' draws, and no channel here has draws"
        raise RequestError([FieldProblem("metric", message)])
    check_request(scenario, varies, one_at_a_time=True)
    points: list[dict[str, Any]] = [{}]
    points += [{v.label: value} for v in varies for value in v.values]
    results = solve_all(scenarios_for(scenario, points, varies), options, workers, progress)
    solved = [to_point(v, r) for v, r in zip(points, results, strict=True)]
    base, rest = solved[0], iter(solved[1:])
    bars = []
    for vary in varies:
        mine = [next(rest) for _ in vary.values]
        found = [p.metrics[metric] for p in mine if p.metrics[metric] is not None]
        bars.append(
            TornadoBar(
                vary.label,
                base_value(scenario, vary),
                mine,
                min(found) if found else None,
                max(found) if found else None,
            )
        )
    bars.sort(key=lambda bar: -bar.swing)
    return Tornado(scenario.name, metric, base, bars, scenario.channel_ids())


def base_value(scenario: Scenario, vary: Vary) -> Any:
    """The value at which a tornado's field is as given: 1 for a factor, 0 for a shift, else
    the field's value (None when the path selects fields of different values)."""
    if vary.op != "set":
        return 1.0 if vary.op == "scale" else 0.0
    found = list(get_values(scenario, vary.path).values())
    return found[0] if all(v == found[0] for v in found) else None


def default_budgets(scenario: Scenario, points: int = 16) -> list[float]:
    """Budgets from half to twice the scenario's, never below fixed costs plus contingency."""
    total = scenario.budget.total_cny
    floor = total - scenario.media_budget_cny()
    start = max(0.5 * total, floor + 0.05 * total)
    return budget_range(start, 2.0 * total, points)


def frontier_budgets(
    scenario: Scenario, low: float | None, high: float | None, points: int
) -> list[float]:
    """``points`` budgets from ``low`` to ``high`` (each defaulting to ``default_budgets``'s
    end); RequestError naming from_cny, to_cny or points when they make no range."""
    defaults = default_budgets(scenario, points)
    start = low if low is not None else defaults[0]
    stop = high if high is not None else defaults[-1]
    if stop <= start:
        if high is None:
            message = (
                f"{start:,.0f} must be below the default to_cny {stop:,.0f} "
                "(twice the scenario's budget): give to_cny"
            )
            raise RequestError([FieldProblem("from_cny", message)])
        which = "from_cny" if low is not None else "the default from_cny"
        message = f"{stop:,.0f} must be above {which} {start:,.0f}"
        raise RequestError([FieldProblem("to_cny", message)])
    budgets = budget_range(start, stop, points)
    if len(set(budgets)) != len(budgets):
        message = f"{points} budgets from {start:g} to {stop:g} are not all different"
        raise RequestError([FieldProblem("points", message)])
    return budgets


def budget_range(start: float, stop: float, points: int) -> list[float]:
    """``points`` evenly spaced budgets from start to stop."""
    if points < 2:
        return [start]
    return [start + (stop - start) * k / (points - 1) for k in range(points)]


def frontier(
    scenario: Scenario,
    budgets: Sequence[float],
    objective: str = "max_gmv",
    options: SolveOptions = SolveOptions(),
    workers: int = 1,
    progress: PointProgress | None = None,
) -> Frontier:
    """The best plan at each total budget, with marginal ROAS between neighbouring budgets."""
    if objective == "min_spend":
        message = "min_spend has no frontier: choose max_gmv, max_profit or max_new_customers"
        raise RequestError([FieldProblem("objective", message)])
    if len(budgets) < 2 or sorted(set(budgets)) != list(budgets):
        message = "expected two or more budgets in increasing order"
        raise RequestError([FieldProblem("budgets", message)])
    points = [{"budget.total_cny": b, "objective.kind": objective} for b in budgets]
    scenarios = scenarios_for(scenario, points)
    results = solve_all(scenarios, options, workers, progress)
    notes = []
    if scenario.budget.mode == "up_to":
        results, reused = never_worse(scenarios, results)
        if reused:
            notes.append(_reused_note(budgets, reused))
    solved = frontier_points(budgets, results, scenario.accounting.spend_basis)
    floor = roas_floor(scenario)
    if objective != scenario.objective.kind:
        notes.append(f"solved as {objective} (the scenario itself is {scenario.objective.kind})")
    below_one, early_one = crossing(solved, 1.0)
    below_floor, early_floor = crossing(solved, floor) if floor is not None else (None, False)
    for name, early in (("1", early_one), (f"the ROAS floor {floor}", early_floor)):
        if early:
            notes.append(
                f"marginal ROAS is below {name} from the first budgets tried: lower the lowest "
                "budget (--from) to see where it falls below"
            )
    unspent = unspent_from(solved)
    if unspent is not None:
        notes.append(_unspent_note(unspent, budgets[0]))
    channels = scenario.channel_ids()
    return Frontier(
        scenario.name, objective, solved, floor, below_one, below_floor, channels, notes
    )


def never_worse(
    scenarios: Sequence[Scenario], results: Sequence[Plan | str]
) -> tuple[list[Plan | str], dict[int, float]]:
    """Each budget's plan, or the best plan kept at a smaller budget, re-scored at this budget
    when it does better, and where that happened: index -> objective gained over the solver's.

    When budget may be left unspent, a larger budget can always keep a smaller one's plan, so the
    best objective never falls as the budget grows; a solver stopping within its tolerance can
    still return a slightly worse plan. The best of all smaller budgets' plans (not only the
    one before, which may have failed) is re-checked against every rule at the new budget and
    replaces the solver's only if it keeps them all.
    """
    kept: list[Plan | str] = []
    reused: dict[int, float] = {}
    best: Plan | None = None  # the best plan kept so far
    for i, (scenario, result) in enumerate(zip(scenarios, results, strict=True)):
        chosen = result
        if best is not None and isinstance(result, Plan) and _beats(best, result):
            again = score(scenario, best.spend)
            if again.is_feasible and _beats(again, result):
                chosen = replace(again, status=result.status, message=result.message)
                reused[i] = (again.objective_value or 0.0) - (result.objective_value or 0.0)
        kept.append(chosen)
        if isinstance(chosen, Plan) and (best is None or _beats(chosen, best)):
            best = chosen
    return kept, reused


def _beats(plan: Plan, other: Plan) -> bool:
    """Whether a plan keeping every rule has a higher objective than another plan found."""
    mine, theirs = plan.objective_value, other.objective_value
    return plan.is_feasible and mine is not None and theirs is not None and mine > theirs


def _reused_note(budgets: Sequence[float], reused: dict[int, float]) -> str:
    at = ", ".join(f"{budgets[i]:,.0f}" for i in reused)
    return (
        f"at {len(reused)} budget(s) ({at} CNY) the plan of the budget before, re-checked "
        f"against every rule, beats the solver's (by up to {max(reused.values()):,.4g} in the "
        "objective) and is shown instead: budget may be left unspent, so the objective never "
        "falls as the budget grows"
    )


def _unspent_note(unspent: float, first: float) -> str:
    note = (
        f"from a total budget of {unspent:,.0f} CNY on, extra budget is left unspent (a rule "
        "or the curves stop the spending): marginal ROAS is not defined there"
    )
    if unspent == first:
        note += ": lower the lowest budget (--from) to see where returns fall off"
    return note


def unspent_from(points: Sequence[FrontierPoint]) -> float | None:
    """The budget from which every larger budget tried spends no more (None if the last
    interval still spends)."""
    start = None
    for previous, current in itertools.pairwise(points):
        if current.marginal_gmv_per_budget is not None and current.marginal_roas is None:
            start = previous.budget_total_cny if start is None else start
        else:
            start = None
    return start


def frontier_points(
    budgets: Sequence[float], results: Sequence[Plan | str], basis: str
) -> list[FrontierPoint]:
    """Each budget's plan as a point, with the return on the money added since the one before."""
    solved: list[FrontierPoint] = []
    previous: FrontierPoint | None = None
    for budget, result in zip(budgets, results, strict=True):
        point = to_point({"budget_total_cny": budget}, result)
        current = FrontierPoint(budget, point, _spend_basis(point, basis), None, None)
        if previous is not None:
            current = _with_marginal(previous, current)
        solved.append(current)
        previous = current
    return solved


def _spend_basis(point: Point, basis: str) -> float | None:
    spend = point.metrics["spend_cny"]
    if spend is None:
        return None
    return spend + (point.metrics["commission_cny"] if basis == "media_plus_commission" else 0.0)


def _with_marginal(previous: FrontierPoint, current: FrontierPoint) -> FrontierPoint:
    """Return on the money added between two budgets: GMV per extra yuan spent, and per budget."""
    gmv_now, gmv_before = current.point.metrics["gmv_cny"], previous.point.metrics["gmv_cny"]
    if gmv_now is None or gmv_before is None:
        return current
    gained = gmv_now - gmv_before
    per_budget = gained / (current.budget_total_cny - previous.budget_total_cny)
    spent = (current.spend_basis_cny or 0.0) - (previous.spend_basis_cny or 0.0)
    # below a thousandth of the budget step, the extra spend is solver noise, not a return
    moved = spent > 1e-3 * (current.budget_total_cny - previous.budget_total_cny)
    return FrontierPoint(
        current.budget_total_cny,
        current.point,
        current.spend_basis_cny,
        gained / spent if moved else None,
        per_budget,
    )


def roas_floor(scenario: Scenario) -> float | None:
    """The overall ROAS floor: the highest roas_floor rule covering every channel and period."""
    floors = [
        rule.min_roas
        for rule in scenario.rules
        if rule.kind == "roas_floor" and rule.channels is None and not rule.groups
        if rule.periods is None
    ]
    return max(floors) if floors else None


def crossing(points: Sequence[FrontierPoint], threshold: float) -> tuple[float | None, bool]:
    """Budget where marginal ROAS first falls below ``threshold``, interpolated, and whether
    it is already below in the first interval (then there is no budget to give: None, True).

    Each interval's return is placed at its midpoint budget. An interval whose extra budget was
    not spent at all has no marginal ROAS and is skipped (``unspent_from`` reports it): counting
    it as 0 would put a crossing between points that all show a return above the threshold.
    """
    before: tuple[float, float] | None = None
    for previous, current in itertools.pairwise(points):
        if current.marginal_roas is None:
            continue
        value = current.marginal_roas
        middle = 0.5 * (previous.budget_total_cny + current.budget_total_cny)
        if value < threshold:
            if before is None:
                return None, True
            (b0, v0) = before
            return b0 + (middle - b0) * (v0 - threshold) / (v0 - value), False
        before = (middle, value)
    return None, False

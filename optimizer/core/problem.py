"""Scenario -> solver-neutral problem: units and their bounds, the objective, the rule rows.

``build_problem`` is the one way in: it builds the units (``units``), the objective and the
rows (``rows``, over the forms of ``forms``) and, as the last line of defence, checks that
every array a solver will get is finite and in range (``numbers``), naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from optimizer.core.forms import CellForm, Form, LinearForm, Row, Switch, is_used
from optimizer.core.numbers import in_range, out_of_range, steepest_slope
from optimizer.core.rows import RowBuilder
from optimizer.core.units import Unit, build_units, per_unit, unit_bounds
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.schema.messages import Loc, format_path
from optimizer.schema.scenario import Scenario


@dataclass(frozen=True)
class Problem:
    """Everything a solver backend and the plan need, with no solver in sight."""

    scenario: Scenario
    periods: list[str]
    units: list[Unit]
    lo: np.ndarray
    hi: np.ndarray
    objective: LinearForm
    maximise: bool
    rows: list[Row]
    switches: tuple[Switch, ...] = ()

    def activation_cost(self, spend: np.ndarray) -> float:
        """Fixed costs of the channels the spend uses."""
        return sum(s.activation_cost_cny for s in self.switches if is_used(spend, s.mask))

    def broken_switches(self, spend: np.ndarray) -> list[str]:
        """Channels that spend something but less than their minimum if used."""
        return [
            f"{s.channel}.min_spend_if_used"
            for s in self.switches
            if is_used(spend, s.mask) and np.sum(spend[s.mask]) < s.min_if_used_cny * (1 - 1e-6)
        ]

    @property
    def gain(self) -> np.ndarray:
        """GMV per effective yuan, shape (units, periods)."""
        return np.stack([u.gain for u in self.units])

    @property
    def carried(self) -> bool:
        """Whether any unit carries spend over into later periods (adstock)."""
        return any(u.carry is not None for u in self.units)

    @property
    def counts_carry_out(self) -> bool:
        """Whether GMV after the plan's last period counts toward the objective."""
        return self.carried and self.scenario.objective.count_carry_out

    def gmv(self, spend: np.ndarray) -> np.ndarray:
        """True GMV of every unit and period at the given spend (carry-over included)."""
        return np.stack([u.gmv(s) for u, s in zip(self.units, spend, strict=True)])

    def gmv_after(self, spend: np.ndarray) -> np.ndarray:
        """GMV each unit's spend brings after the plan's last period (0 without adstock)."""
        return np.array(
            [
                0.0 if u.carry is None else u.carry.after(u.curve, s)
                for u, s in zip(self.units, spend, strict=True)
            ]
        )

    def gmv_gradient(
        self, spend: np.ndarray, per_gmv: np.ndarray, after: np.ndarray | None = None
    ) -> np.ndarray:
        """d/d spend of ``sum(per_gmv * gmv(spend)) + sum(after * gmv_after(spend))``, where
        ``per_gmv`` is (units, periods) and ``after`` one weight per unit."""
        out = np.empty_like(spend, dtype=float)
        for i, (u, s) in enumerate(zip(self.units, spend, strict=True)):
            if u.carry is None:
                out[i] = per_gmv[i] * u.gain * u.curve.slope(s)
            else:
                tail = 0.0 if after is None else float(after[i])
                out[i] = u.carry.gradient(u.curve, s, per_gmv[i], tail)
        return out

    def marginal_roas(self, spend: np.ndarray) -> np.ndarray:
        """d GMV / d spend of every unit and period: with carry-over, the GMV of every later
        period (and after the plan, when it counts) that a yuan more in this one brings."""
        if not self.carried:
            return np.stack(
                [u.gain * u.curve.slope(s) for u, s in zip(self.units, spend, strict=True)]
            )
        after = np.ones(len(self.units)) if self.counts_carry_out else None
        return self.gmv_gradient(spend, np.ones_like(spend, dtype=float), after)

    def objective_value(self, spend: np.ndarray) -> float:
        """True objective at the spend: with carry-out counted, GMV after the plan too."""
        value = self.objective.evaluate(spend, self.gmv(spend))
        if self.counts_carry_out:
            value += float(self.after_weights() @ self.gmv_after(spend))
        return value

    def after_weights(self) -> np.ndarray:
        """What the objective counts per unit of GMV after the plan: as in the last period."""
        return self.objective.gmv_coef[:, -1].astype(float)

    def unit_constant(self, attribute: str) -> np.ndarray:
        """A per-unit constant broadcast to (units, periods)."""
        return per_unit(self.units, attribute, len(self.periods))


def build_problem(s: Scenario) -> Problem:
    """Turn a validated scenario into a solver-neutral problem.

    Raises ScenarioError, naming the field, when a number of the problem is one no solver can
    take (validation refuses such scenarios first; this guards scenarios built without it).
    """
    with np.errstate(all="ignore"):  # an overflow becomes inf, reported by the checks below
        units = build_units(s)
        lo, hi = unit_bounds(s, units)
        builder = RowBuilder(s, units)
        objective, maximise = builder.objective()
        rows = builder.rows()
    problem = Problem(
        s, list(s.periods), units, lo, hi, objective, maximise, rows, builder.switches
    )
    problems = [
        FieldProblem(format_path(loc), message) for loc, message in _array_problems(problem)
    ]
    if problems:
        raise ScenarioError("scenario", problems)
    return problem


OUT_OF_RANGE = "numbers out of the range a solver can take"


def _array_problems(problem: Problem) -> Iterator[tuple[Loc, str]]:
    """Every array of a built problem finite and within SOLVER_LIMIT: the last line of defence."""
    s = problem.scenario
    ids = s.channel_ids()
    slope = np.array(
        [
            steepest_slope(u.curve, float(np.max(h, initial=0.0)))
            for u, h in zip(problem.units, problem.hi, strict=True)
        ]
    )[:, None]
    position = {c: i for i, c in enumerate(ids)}
    for i, unit in enumerate(problem.units):
        loc: Loc = ("channels", position[unit.channel])
        if not in_range(unit.gain, positive=True) or not in_range(unit.gain * slope[i]):
            yield loc, f"GMV per yuan of {unit.id} is out of the range a solver can take"
        if not (in_range(problem.lo[i]) and in_range(problem.hi[i])):
            yield loc, f"the spend bounds of {unit.id} are out of the range a solver can take"
    gain = (problem.gain * slope if problem.units else np.zeros(problem.lo.shape)).ravel()
    if not _form_in_range(problem.objective, 0.0, gain):
        yield ("objective", "kind"), f"the objective has {OUT_OF_RANGE}"
    cells = [row for row in problem.rows if isinstance(row.num, CellForm)]
    if cells:  # a channel's per-period limits: one vectorised check for all of them
        coef = np.array([row.num.coef for row in cells])  # type: ignore[union-attr]
        limit = np.array([row.limit for row in cells])
        bad = out_of_range(coef) | out_of_range(limit, subnormal=True)  # as _form_in_range
        for k in np.flatnonzero(bad):
            row = cells[int(k)]
            yield (
                _row_loc(s, row),
                f"rule row {row.name} has numbers out of the range a solver can take",
            )
    for row in problem.rows:
        if not isinstance(row.num, CellForm) and not _form_in_range(*row.linear(), gain):
            yield (
                _row_loc(s, row),
                f"rule row {row.name} has numbers out of the range a solver can take",
            )


def _form_in_range(form: Form, rhs: float, gain: np.ndarray) -> bool:
    """A form's coefficients, constants and right-hand side within what a solver takes."""
    amounts = np.array([a for _, a in form.if_used] + [form.constant, rhs], dtype=float)
    cells, spend_coef, gmv_coef = form.entries()
    return (
        in_range(spend_coef)
        and in_range(gmv_coef)
        and in_range(gmv_coef * gain[cells], subnormal=True)  # a solver takes tiny as 0
        and in_range(amounts, subnormal=True)
    )


def _row_loc(s: Scenario, row: Row) -> Loc:
    """The field a row comes from: the budget, the GMV target, a channel's limit or a rule."""
    if row.kind == "budget":
        return ("budget", "total_cny")
    if row.kind == "gmv_target":
        return ("objective", "gmv_target_cny")
    for i, c in enumerate(s.channels):
        if row.key.startswith(f"{c.id}.") and row.kind.startswith("channel"):
            suffix = row.key.removeprefix(f"{c.id}.")
            field = {"min_spend": "min_spend_cny", "max_spend": "max_spend_cny"}.get(suffix)
            return ("channels", i, field or ("locked_spend_cny" if suffix == "locked" else suffix))
    for i, rule in enumerate(s.rules):
        name = rule.id or f"{rule.kind}[{i}]"
        if row.key == name or row.key.startswith(f"{name}."):
            return ("rules", i)
    return ("rules",)

"""Problem + breakpoints -> LinearProgram, built from numpy arrays in bulk.

Each unit-period's spend is ``lo + sum(delta_k)`` over segments between its breakpoints, and its
GMV is ``gain * (f(lo) + sum(slope_k * delta_k))``. Two approximations share the builder:

- ``chord``: the segments join f at the breakpoints. For a concave f this lies below f, so the
  plan it returns is feasible for rules that want more GMV, and its true objective is a bound.
- ``tangent``: the segments follow the tangents at the breakpoints, which lie above a concave
  f. Relaxing ``gmv = f(spend)`` to ``gmv <= tangents`` gives a bound on the true optimum.

Where the chord segments would fill out of order (an S-shaped curve, or a rule that prefers
less GMV), binaries force segment k to be full before k + 1 starts: an exact MILP form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from optimizer.core.curves import initial_breakpoints, tangent_envelope
from optimizer.core.effects import Effects, effect_curve, effective_inputs, effects
from optimizer.core.problem import Problem
from optimizer.core.solvers.base import LinearProgram

Approximation = Literal["chord", "tangent"]
INITIAL_POINTS = 12
FILL_TOLERANCE = 1e-7
SNAP = 1e-6  # scaled units (1e-9 of the largest spend bound): HiGHS's MIP feasibility tolerance


@dataclass(frozen=True)
class Segments:
    """Flat arrays, one entry per segment column, grouped by (unit, period) in order."""

    unit: np.ndarray
    period: np.ndarray
    length: np.ndarray
    slope: np.ndarray
    base_value: np.ndarray

    @property
    def count(self) -> int:
        """Number of segment columns."""
        return len(self.length)


@dataclass(frozen=True)
class PwlProgram:
    """A LinearProgram plus what is needed to map its columns back to spend.

    Columns and rows are in units of ``scale`` yuan (the largest spend bound / 1000) so the
    solver's absolute tolerances stay meaningful when budgets run to 1e8 CNY.
    """

    lp: LinearProgram
    segments: Segments
    lo: np.ndarray
    scale: float
    ordering: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    switch_cells: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    spend_columns: int = 0  # with carry-over: spend columns after the segments
    spend_cells: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    width: int = 0  # effect cells of the widest unit (0: one per period)

    def objective(self, value: float) -> float:
        """A solver's objective value in CNY (or customers)."""
        return value * self.scale


def mask_width(problem: Problem) -> int:
    """Columns of a (unit, effect cell) mask: the periods, or the widest carry-over."""
    return effects(problem).width if problem.carried else len(problem.periods)


def initial_grid(problem: Problem) -> list[list[np.ndarray]]:
    """Breakpoints per unit and effect cell (its period, without carry-over) on its domain."""
    if problem.carried:
        eff = effects(problem)
        return [
            [
                initial_breakpoints(
                    effect_curve(problem, eff, i, k),
                    eff.lo[eff.offset[i] + k],
                    eff.hi[eff.offset[i] + k],
                    INITIAL_POINTS,
                )
                for k in range(eff.offset[i + 1] - eff.offset[i])
            ]
            for i in range(len(problem.units))
        ]
    return [
        [
            initial_breakpoints(u.curve.at(t), problem.lo[i, t], problem.hi[i, t], INITIAL_POINTS)
            for t in range(len(problem.periods))
        ]
        for i, u in enumerate(problem.units)
    ]


def refine(grid: list[list[np.ndarray]], problem: Problem, *points: np.ndarray) -> None:
    """Add breakpoints at the given spends (their effective inputs, with carry-over) and
    halve the segments next to them."""
    inputs = [effective_inputs(problem, spend) for spend in points]
    for i, unit in enumerate(problem.units):
        if unit.curve.is_exact_piecewise():
            continue
        for t in range(len(grid[i])):
            old = grid[i][t]
            extra = []
            for spend in inputs:
                x = float(np.clip(spend[i][t], old[0], old[-1]))
                k = int(np.clip(np.searchsorted(old, x), 1, len(old) - 1))
                extra += [x, 0.5 * (old[k - 1] + x), 0.5 * (x + old[k])]
                if k + 1 < len(old):
                    extra.append(0.5 * (old[k] + old[k + 1]))
            merged = np.unique(np.concatenate((old, extra)))
            span = max(old[-1] - old[0], 1.0)
            keep = np.concatenate(([True], np.diff(merged) > 1e-9 * span))
            keep[-1] = True
            grid[i][t] = merged[keep]


def segments(problem: Problem, grid: list[list[np.ndarray]], mode: Approximation) -> Segments:
    """Segment columns of every effect cell (unit-period without carry-over) under the
    chosen approximation; ``period`` holds the effect cell's index within its unit."""
    eff = effects(problem) if problem.carried else None
    units, periods, lengths, slopes, bases = [], [], [], [], []
    for i, unit in enumerate(problem.units):
        for t in range(len(grid[i])):
            points = grid[i][t]
            curve = unit.curve.at(t) if eff is None else effect_curve(problem, eff, i, t)
            values = curve.value(points)
            if mode == "tangent" and curve.is_concave() and not curve.is_exact_piecewise():
                points, values = tangent_envelope(curve, points)
            length = np.diff(points)
            keep = length > 0
            rise = np.diff(values)[keep]
            length = length[keep]
            units.append(np.full(len(length), i))
            periods.append(np.full(len(length), t))
            lengths.append(length)
            slopes.append(rise / length)
            bases.append(np.full(len(length), values[0]))
    return Segments(
        *(np.concatenate(a) if a else np.zeros(0) for a in (units, periods, lengths, slopes, bases))
    )


def build_program(problem: Problem, seg: Segments, ordered: np.ndarray | None = None) -> PwlProgram:
    """Assemble the LinearProgram; ``ordered`` marks unit-periods (effect cells, with
    carry-over) that need ordering binaries."""
    if problem.carried:
        return _build_carried(problem, seg, ordered)
    cu, ct = seg.unit.astype(int), seg.period.astype(int)
    gain = problem.gain
    gmv_slope = gain[cu, ct] * seg.slope
    base_gmv = np.zeros(problem.lo.shape)
    first = np.unique(cu * len(problem.periods) + ct, return_index=True)[1]
    base_gmv[cu[first], ct[first]] = gain[cu[first], ct[first]] * seg.base_value[first]

    obj = problem.objective
    c = obj.spend_coef[cu, ct] + obj.gmv_coef[cu, ct] * gmv_slope
    c0 = obj.evaluate(problem.lo, base_gmv)

    forms = [row.linear() for row in problem.rows]
    a = _row_matrix(forms, cu * len(problem.periods) + ct, gmv_slope, gain.size)
    constants = np.array([f.evaluate(problem.lo, base_gmv) for f, _ in forms])
    rhs = np.array([r for _, r in forms]) - constants
    row_lo, row_hi = _row_bounds(rhs, [row.sense for row in problem.rows])

    scale = max(float(np.max(problem.hi, initial=0.0)), 1.0) / 1000.0
    row_lo, row_hi, c0 = row_lo / scale, row_hi / scale, c0 / scale
    col_lo, col_hi = np.zeros(seg.count), seg.length / scale
    integer = np.zeros(seg.count, dtype=bool)
    ordering = np.zeros(0, dtype=int)
    if ordered is not None and ordered.any():
        ordering = _ordering_segments(seg, ordered)
        a, row_lo, row_hi, col_lo, col_hi, integer, c = _add_ordering(
            ordering, seg.count, a, row_lo, row_hi, col_lo, col_hi, integer, c
        )
    lp = LinearProgram(c, problem.maximise, a.tocsr(), row_lo, row_hi, col_lo, col_hi, integer, c0)
    cell = cu * len(problem.periods) + ct
    switch_cells = np.array([s.mask.ravel()[cell] for s in problem.switches], dtype=bool)
    if problem.switches:
        lp = _add_switches(problem, seg, lp, [f for f, _ in forms], scale)
    return PwlProgram(lp, seg, problem.lo, scale, ordering, switch_cells.reshape(-1, seg.count))


def _build_carried(
    problem: Problem, seg: Segments, ordered: np.ndarray | None = None
) -> PwlProgram:
    """The program with carry-over: segment columns over every effect cell's effective input,
    spend columns of their own for units with adstock, and one row per effect cell tying
    its input to their spend (``e = A x + c``); rules see GMV through ``Effects.to_gmv``."""
    eff = effects(problem)
    n_periods = len(problem.periods)
    cu, ck = seg.unit.astype(int), seg.period.astype(int)
    effect = eff.offset[cu] + ck  # flat effect cell of each segment column
    gmv_slope = eff.gain[effect] * seg.slope
    base = eff.gain * _effect_values(problem, eff, eff.lo)  # GMV of each effect cell at its lo
    first = np.unique(effect, return_index=True)[1]
    base[effect[first]] = eff.gain[effect[first]] * seg.base_value[first]
    carried_cells = np.repeat(eff.carried, n_periods)  # (cells,) spend has a column of its own
    spend_cell = np.flatnonzero(carried_cells)
    count, extra = seg.count, len(spend_cell)
    cells = problem.lo.size
    # cell -> column incidences: spend of an uncarried cell is the sum of its segments
    seg_cell = np.where(eff.carried[cu], -1, cu * n_periods + ck)
    own = seg_cell >= 0
    spend_map = sp.csr_matrix(
        (
            np.ones(int(own.sum()) + extra),
            (
                np.concatenate((seg_cell[own], spend_cell)),
                np.concatenate((np.flatnonzero(own), count + np.arange(extra))),
            ),
        ),
        shape=(cells, count + extra),
    )
    effect_map = sp.csr_matrix(
        (gmv_slope, (effect, np.arange(count))), shape=(eff.count, count + extra)
    )
    lo_free = np.where(carried_cells, 0.0, problem.lo.ravel())  # spend columns are absolute
    gmv_lo = eff.to_gmv @ base + eff.history  # GMV of every cell with effects at their lo
    after = problem.after_weights() if problem.counts_carry_out else None

    obj = problem.objective
    per_effect = eff.per_effect(obj.gmv_coef, after)
    c = spend_map.T @ obj.spend_coef.ravel() + effect_map.T @ per_effect
    c0 = obj.constant + float(obj.spend_coef.ravel() @ lo_free + obj.gmv_coef.ravel() @ gmv_lo)
    if after is not None:
        c0 += float(after @ _per_unit(eff, eff.tail * base) - after @ eff.tail_base)
    forms = [row.linear() for row in problem.rows]
    spend_rows, gmv_rows = _form_matrices([f for f, _ in forms], cells)
    a_rules = (spend_rows @ spend_map + gmv_rows @ eff.to_gmv @ effect_map).tocsr()
    constants = np.array([f.constant for f, _ in forms]) + spend_rows @ lo_free + gmv_rows @ gmv_lo
    rhs = np.array([r for _, r in forms]) - constants
    row_lo, row_hi = _row_bounds(rhs, [row.sense for row in problem.rows])
    # effect rows: sum of its segments - A x = c - e_lo = -(A lo) over carried units' cells
    links, link_rhs = [], []
    for i, unit in enumerate(problem.units):
        if unit.carry is None:
            continue
        rows_here = np.arange(eff.offset[i], eff.offset[i + 1])
        column = count + np.searchsorted(spend_cell, i * n_periods + np.arange(n_periods))
        a_unit = unit.carry.a.tocoo()
        links.append(
            sp.csr_matrix(
                (-a_unit.data, (a_unit.row, column[a_unit.col])),
                shape=(len(rows_here), count + extra),
            )
        )
        link_rhs.append(-(unit.carry.a @ problem.lo[i]))
    segment_sum = sp.csr_matrix(
        (np.ones(count), (effect, np.arange(count))), shape=(eff.count, count + extra)
    )
    carried_effects = np.concatenate(
        [np.arange(eff.offset[i], eff.offset[i + 1]) for i in np.flatnonzero(eff.carried)]
    )
    link = segment_sum[carried_effects] + sp.vstack(links)
    scale = max(float(np.max(problem.hi, initial=0.0)), 1.0) / 1000.0
    link_b = np.concatenate(link_rhs) / scale
    a = sp.vstack([a_rules, link]).tocsr()
    row_lo = np.concatenate((row_lo / scale, link_b))
    row_hi = np.concatenate((row_hi / scale, link_b))
    c = np.asarray(c).ravel()
    c0 = c0 / scale
    col_lo = np.concatenate((np.zeros(count), problem.lo.ravel()[spend_cell] / scale))
    col_hi = np.concatenate((seg.length / scale, problem.hi.ravel()[spend_cell] / scale))
    integer = np.zeros(count + extra, dtype=bool)
    ordering = np.zeros(0, dtype=int)
    if ordered is not None and ordered.any():
        ordering = _ordering_segments(seg, ordered)
        a, row_lo, row_hi, col_lo, col_hi, integer, c = _add_ordering(
            ordering, count + extra, a, row_lo, row_hi, col_lo, col_hi, integer, c
        )
    lp = LinearProgram(c, problem.maximise, a.tocsr(), row_lo, row_hi, col_lo, col_hi, integer, c0)
    column_cell = np.concatenate((seg_cell, spend_cell))
    switch_cells = np.array(
        [
            np.where(column_cell >= 0, s.mask.ravel()[np.maximum(column_cell, 0)], False)
            for s in problem.switches
        ],
        dtype=bool,
    ).reshape(-1, count + extra)
    if problem.switches:
        lp = _add_switches(problem, seg, lp, [f for f, _ in forms], scale, switch_cells)
    return PwlProgram(
        lp, seg, problem.lo, scale, ordering, switch_cells, extra, spend_cell, eff.width
    )


def _row_bounds(rhs: np.ndarray, senses: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper row bounds from right-hand sides and senses."""
    row_lo = np.array(
        [r if s in (">=", "==") else -np.inf for r, s in zip(rhs, senses, strict=True)]
    )
    row_hi = np.array(
        [r if s in ("<=", "==") else np.inf for r, s in zip(rhs, senses, strict=True)]
    )
    return row_lo, row_hi


def _effect_values(problem: Problem, eff: Effects, e: np.ndarray) -> np.ndarray:
    """Each effect cell's curve at its input (its unit's curve, its period's scale)."""
    out = np.empty(eff.count)
    for i, unit in enumerate(problem.units):
        here = slice(eff.offset[i], eff.offset[i + 1])
        for t in np.unique(eff.period[here]):
            at = np.flatnonzero(eff.period[here] == t) + eff.offset[i]
            out[at] = unit.curve.at(int(t)).value(e[at])
    return out


def _per_unit(eff: Effects, values: np.ndarray) -> np.ndarray:
    """Sum of effect-cell values per unit."""
    return np.add.reduceat(values, eff.offset[:-1]) if eff.count else np.zeros(0)


def _add_switches(
    problem: Problem,
    seg: Segments,
    lp: LinearProgram,
    forms: list,
    scale: float,
    columns: np.ndarray | None = None,
) -> LinearProgram:
    """One binary per channel switch: spend <= M u, spend >= min u, and its fixed costs on u.

    Rule rows and the objective pay ``amount`` for a used channel, so their coefficient on the
    binary is ``amount / scale`` like every other quantity in the scaled program.
    """
    n, m, rows = lp.a.shape[1], len(problem.switches), lp.a.shape[0]
    cell = seg.unit.astype(int) * len(problem.periods) + seg.period.astype(int)
    on = np.zeros((rows, m))
    for r, form in enumerate(forms):
        for k, amount in form.if_used:
            on[r, k] += amount / scale
    objective = np.zeros(m)
    for k, amount in problem.objective.if_used:
        objective[k] += amount / scale
    link_rows, link_lo, link_hi = [], [], []
    for k, switch in enumerate(problem.switches):
        in_switch = np.zeros(n)  # segment (and spend) columns first, then ordering binaries
        if columns is None:
            in_switch[: seg.count] = switch.mask.ravel()[cell]
        else:  # with carry-over: the columns that hold the switch's spend
            in_switch[: columns.shape[1]] = columns[k]
        room = float(np.sum(problem.hi[switch.mask])) / scale
        link_rows.append(np.concatenate((in_switch, -room * np.eye(m)[k])))
        link_lo.append(-np.inf)
        link_hi.append(0.0)
        if switch.min_if_used_cny > 0:
            minimum = switch.min_if_used_cny / scale
            link_rows.append(np.concatenate((in_switch, -minimum * np.eye(m)[k])))
            link_lo.append(0.0)
            link_hi.append(np.inf)
    a = sp.vstack([sp.hstack([lp.a, sp.csr_matrix(on)]), sp.csr_matrix(np.array(link_rows))])
    return LinearProgram(
        np.concatenate((lp.c, objective)),
        lp.maximise,
        a.tocsr(),
        np.concatenate((lp.row_lo, link_lo)),
        np.concatenate((lp.row_hi, link_hi)),
        np.concatenate((lp.col_lo, np.zeros(m))),
        np.concatenate((lp.col_hi, np.ones(m))),
        np.concatenate((lp.integer, np.ones(m, dtype=bool))),
        lp.c0,
    )


def elastic(program: PwlProgram, rows: int) -> PwlProgram:
    """The same program with every rule row elastic: minimise the total violation.

    Each of the first ``rows`` rows gets violation columns (one that loosens a ``<=`` side, one
    that loosens a ``>=`` side). Every rule row is in CNY (spend, GMV, commission, or the
    CNY gap of a ratio such as ``gmv - 4.5 * spend``), so unit weights minimise the CNY of
    violation, and the spend objective is dropped.
    """
    lp = program.lp
    n = lp.a.shape[1]
    index = np.arange(rows)
    loosen = sp.csr_matrix(
        (
            np.concatenate((-np.ones(rows), np.ones(rows))),
            (np.concatenate((index, index)), n + np.arange(2 * rows)),
        ),
        shape=(lp.a.shape[0], n + 2 * rows),
    )
    a = sp.hstack([lp.a, sp.csr_matrix((lp.a.shape[0], 2 * rows))]).tocsr() + loosen
    c = np.concatenate((np.zeros(n), np.ones(2 * rows)))
    stretched = LinearProgram(
        c,
        False,
        a.tocsr(),
        lp.row_lo,
        lp.row_hi,
        np.concatenate((lp.col_lo, np.zeros(2 * rows))),
        np.concatenate((lp.col_hi, np.full(2 * rows, np.inf))),
        np.concatenate((lp.integer, np.zeros(2 * rows, dtype=bool))),
        0.0,
    )
    return replace(program, lp=stretched)


def _form_matrices(forms: list, cells: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Rows x cells: every form's spend coefficients, and its GMV coefficients (sparse)."""
    size = (len(forms), cells)
    if not forms:
        return sp.csr_matrix(size), sp.csr_matrix(size)
    terms = [f.entries() for f in forms]
    row_of = np.concatenate([np.full(len(t[0]), r) for r, t in enumerate(terms)])
    cell_of = np.concatenate([t[0] for t in terms])
    spend = sp.csr_matrix((np.concatenate([t[1] for t in terms]), (row_of, cell_of)), shape=size)
    gmv = sp.csr_matrix((np.concatenate([t[2] for t in terms]), (row_of, cell_of)), shape=size)
    return spend, gmv


def _row_matrix(
    forms: list, column_cell: np.ndarray, gmv_slope: np.ndarray, cells: int
) -> sp.csr_matrix:
    """Rows x columns: each row's spend and GMV coefficients of a column's (unit, period) cell.

    Rows are sparse in cells (a channel's period limit touches one cell), so the product goes
    through a sparse cell -> column incidence instead of a dense rows x columns array.
    """
    n = len(column_cell)
    if not forms:
        return sp.csr_matrix((0, n))
    spend, gmv = _form_matrices([f for f, _ in forms], cells)
    spend.eliminate_zeros()
    gmv.eliminate_zeros()
    incidence = sp.csr_matrix((np.ones(n), (column_cell, np.arange(n))), shape=(cells, n))
    return (spend @ incidence + gmv @ incidence @ sp.diags(gmv_slope)).tocsr()


def _ordering_segments(seg: Segments, ordered: np.ndarray) -> np.ndarray:
    """Segment k of every ordering binary z_k (k and k + 1 belong to one marked unit-period)."""
    same_pair = (seg.unit[1:] == seg.unit[:-1]) & (seg.period[1:] == seg.period[:-1])
    chosen = same_pair & ordered[seg.unit[:-1].astype(int), seg.period[:-1].astype(int)]
    return np.flatnonzero(chosen)


def _add_ordering(
    k: np.ndarray,
    n: int,
    a: sp.csr_matrix,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    col_lo: np.ndarray,
    col_hi: np.ndarray,
    integer: np.ndarray,
    c: np.ndarray,
) -> tuple:
    """Incremental MILP form: z_k = 1 iff segment k is full; segment k+1 used only if z_k."""
    m = len(k)
    z = n + np.arange(m)
    rows_a = np.arange(m)  # delta_k - L_k z_k >= 0
    rows_b = m + np.arange(m)  # delta_{k+1} - L_{k+1} z_k <= 0
    r = np.concatenate((rows_a, rows_a, rows_b, rows_b))
    cols = np.concatenate((k, z, k + 1, z))
    vals = np.concatenate((np.ones(m), -col_hi[k], np.ones(m), -col_hi[k + 1]))
    extra = sp.csr_matrix((vals, (r, cols)), shape=(2 * m, n + m))
    a = sp.vstack([sp.hstack([a, sp.csr_matrix((a.shape[0], m))]), extra]).tocsr()
    return (
        a,
        np.concatenate((row_lo, np.zeros(m), np.full(m, -np.inf))),
        np.concatenate((row_hi, np.full(m, np.inf), np.zeros(m))),
        np.concatenate((col_lo, np.zeros(m))),
        np.concatenate((col_hi, np.ones(m))),
        np.concatenate((integer, np.ones(m, dtype=bool))),
        np.concatenate((c, np.zeros(m))),
    )


def clean(program: PwlProgram, x: np.ndarray) -> np.ndarray:
    """The solution as the checks judge it, with the solver's tolerated crumbs removed.

    A MIP solver may leave up to its feasibility tolerance (1e-6 scaled) where the model says
    0: spend on a channel whose on/off binary is 0, a segment after an unfilled one. Read
    literally, such a crumb is a broken "0 or at least X" rule. So binaries are rounded and
    their consequences applied exactly, and a column within SNAP of a bound sits on it.
    """
    lp = program.lp
    x = np.clip(np.asarray(x, dtype=float), lp.col_lo, lp.col_hi)
    x = np.where(x - lp.col_lo <= SNAP, lp.col_lo, x)
    x = np.where((lp.col_hi - x <= SNAP) & (x > lp.col_lo), lp.col_hi, x)
    x[lp.integer] = np.round(x[lp.integer])
    count, k = program.segments.count + program.spend_columns, program.ordering
    full = x[count : count + len(k)]
    x[k[full == 1]] = lp.col_hi[k[full == 1]]
    x[k[full == 0] + 1] = 0.0
    # The switch binaries follow the ordering binaries (an elastic copy appends more columns).
    first = count + len(k)
    switches = x[first : first + len(program.switch_cells)]
    for on, cells in zip(switches, program.switch_cells, strict=True):
        if on == 0:  # last, so that a switched-off channel spends exactly 0 whatever else
            x[:count][cells] = 0.0
    return x


def spend_from(program: PwlProgram, x: np.ndarray) -> np.ndarray:
    """Spend per unit and period from the segment columns of a solution."""
    seg = program.segments
    spend = program.lo.copy()
    if program.spend_columns:  # carry-over: spend columns where a unit has them, else segments
        flat = spend.ravel()
        flat[program.spend_cells] = x[seg.count : seg.count + program.spend_columns] * program.scale
        own = np.isin(
            seg.unit.astype(int) * spend.shape[1] + seg.period.astype(int),
            program.spend_cells,
            invert=True,
        )
        carried = np.zeros(spend.shape[0], dtype=bool)
        carried[np.unique(program.spend_cells // spend.shape[1])] = True
        own &= ~carried[seg.unit.astype(int)]
        np.add.at(
            spend,
            (seg.unit[own].astype(int), seg.period[own].astype(int)),
            x[: seg.count][own] * program.scale,
        )
        return spend
    np.add.at(spend, (seg.unit.astype(int), seg.period.astype(int)), x[: seg.count] * program.scale)
    return spend


def out_of_order(program: PwlProgram, x: np.ndarray) -> np.ndarray:
    """(unit, period) mask where a later segment is used before an earlier one is full."""
    seg = program.segments
    fill = x[: seg.count] * program.scale / seg.length
    same_pair = (seg.unit[1:] == seg.unit[:-1]) & (seg.period[1:] == seg.period[:-1])
    bad = same_pair & (fill[1:] > FILL_TOLERANCE) & (fill[:-1] < 1 - FILL_TOLERANCE)
    mask = np.zeros((program.lo.shape[0], program.width or program.lo.shape[1]), dtype=bool)
    mask[seg.unit[:-1][bad].astype(int), seg.period[:-1][bad].astype(int)] = True
    return mask

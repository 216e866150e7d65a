"""Fitting every channel of a history: CPM index, candidate models, cross-validation, the
chosen model on all weeks, and the joint bootstrap draws.

A channel whose data cannot identify a curve is refused, not guessed: fewer than
MIN_SPEND_LEVELS distinct weekly spends, a spend range narrower than MIN_SPEND_RATIO, no spend
or no GMV at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.history.bootstrap import block_indices, relative_residuals
from optimizer.inputs.history.cpm import CpmFit, fit_cpm
from optimizer.inputs.history.crossval import (
    DEFAULT_FOLDS,
    Scored,
    choose,
    cross_validate,
    expanding_folds,
)
from optimizer.inputs.history.families import DEFAULT_MAX_LAG, FAMILIES, Model, lagged_input
from optimizer.inputs.history.fitting import Data, Fit, bounds, fit, refit_many
from optimizer.inputs.history.read import ChannelHistory, History

MIN_WEEKS = 16
MIN_SPEND_LEVELS = 4
MIN_SPEND_RATIO = 1.5
DEFAULT_DRAWS = 200
WINDOW_GAP = 0.1  # a window's GMV 10% off the curve is worth a warning
LINEAR_ELASTICITY = 0.8  # marginal ROAS at the top spend still 80% of the average: no bend seen


@dataclass(frozen=True)
class FitOptions:
    """How to fit: which families, adstock (None: with and without, cross-validation picks),
    its last lag, the number of bootstrap draws and their seed, the folds, and the channels
    the file must hold (empty: any)."""

    families: tuple[str, ...] = tuple(FAMILIES)
    adstock: bool | None = None
    max_lag: int = DEFAULT_MAX_LAG
    draws: int = DEFAULT_DRAWS
    seed: int = 0
    folds: int = DEFAULT_FOLDS
    channels: tuple[str, ...] = ()


@dataclass
class ChannelFit:
    """One channel's fit: its data, CPM model, candidates' held-out errors, the chosen model
    refitted on every week, and its bootstrap draws of theta (draws, parameters)."""

    channel: ChannelHistory
    cpm: CpmFit | None
    index: np.ndarray  # CPM index of each history week (1.0 without impressions)
    data: Data
    scored: list[Scored]
    chosen: Fit
    burn: int  # first weeks only feeding the adstock, not fitted
    r2: float | None
    holdout_mape: float | None
    draws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    warnings: list[str] = field(default_factory=list)

    @property
    def model(self) -> Model:
        """The chosen model."""
        return self.chosen.model

    def predict(self, theta: np.ndarray | None = None) -> np.ndarray:
        """GMV of every history week by the chosen model (the point fit, or ``theta``)."""
        return self.model.predict(self.chosen.theta if theta is None else theta, self.data.lagged)

    def parameters(self) -> dict[str, float]:
        """The chosen model's parameters in the scenario's units."""
        return self.model.natural(self.chosen.theta)


@dataclass
class HistoryFit:
    """Every channel's fit of one history."""

    history: History
    options: FitOptions
    channels: list[ChannelFit]


def fit_history(history: History, options: FitOptions | None = None) -> HistoryFit:
    """Fit every channel, then draw the joint bootstrap; ScenarioError for a history that
    cannot identify a curve (naming the channel, column and line)."""
    options = options or FitOptions()
    _check_identifiable(history, options)
    channels = [fit_channel(c, len(history.weeks), options) for c in history.channels]
    _warn_in_step(channels)
    if options.draws:
        draw_jointly(channels, options)
    return HistoryFit(history, options, channels)


def _check_identifiable(history: History, options: FitOptions) -> None:
    n = len(history.weeks)
    problems = []
    if n < MIN_WEEKS:
        message = f"expected at least {MIN_WEEKS} weeks of history to fit and test a curve, "
        message += f"got {n} ({history.week_names()[0]} to {history.week_names()[-1]})"
        problems.append(FieldProblem("week", message))
    elif options.adstock and n < options.max_lag + MIN_WEEKS:
        message = f"an adstock of max_lag {options.max_lag} needs at least "
        message += f"{options.max_lag + MIN_WEEKS} weeks (its first {options.max_lag} only feed "
        message += f"the carry-over), got {n}: lower --max-lag or allow models without adstock"
        problems.append(FieldProblem("week", message))
    for c in history.channels:
        line = int(c.lines[0])
        spent = c.spend_cny[c.spend_cny > 0]
        levels = len(np.unique(np.round(spent)))
        if not len(spent):
            message = f"channel {c.name!r} has no spend in any week: no curve can be fitted"
            problems.append(FieldProblem("spend_cny", message, line))
        elif levels < MIN_SPEND_LEVELS or spent.max() < MIN_SPEND_RATIO * spent.min():
            message = (
                f"channel {c.name!r} has too little variation in spend to identify a curve: "
                f"{levels} distinct weekly amount(s) from {spent.min():,.0f} to {spent.max():,.0f} "
                f"CNY (expected at least {MIN_SPEND_LEVELS} levels and the largest at least "
                f"{MIN_SPEND_RATIO:g}x the smallest); no curve is made up for it: vary its "
                "spend, or leave it out of the file"
            )
            problems.append(FieldProblem("spend_cny", message, line))
        elif not np.any(c.gmv_cny > 0):
            message = f"channel {c.name!r} has GMV 0 in every week: nothing to fit"
            problems.append(FieldProblem("gmv_cny", message, line))
    if problems:
        raise ScenarioError(history.source, problems, subject="history file")


def candidates(options: FitOptions, weeks: int) -> list[Model]:
    """The models to compare: each family without and/or with adstock."""
    lags = {None: (0, options.max_lag), False: (0,), True: (options.max_lag,)}[options.adstock]
    if weeks < options.max_lag + MIN_WEEKS and options.adstock is None:
        lags = (0,)  # too short to spare the adstock's first weeks
    return [Model(FAMILIES[f], lag) for f in options.families for lag in lags]


def fit_channel(channel: ChannelHistory, weeks: int, options: FitOptions) -> ChannelFit:
    """CPM index, every candidate cross-validated, the best refitted on all its weeks."""
    cpm = None
    if channel.impressions is not None:
        cpm = fit_cpm(channel.spend_cny, channel.impressions, channel.windows)
    index = np.ones(weeks)
    if cpm is not None:
        index = cpm.index(np.arange(weeks) - (weeks - 1), list(channel.windows))
    data = Data(lagged_input(channel.spend_cny / index, options.max_lag), channel.gmv_cny)
    models = candidates(options, weeks)
    longest = max(m.max_lag for m in models)
    folds = expanding_folds(weeks, longest, options.folds)
    scored = [cross_validate(m, data, folds, m.max_lag) for m in models]
    best = choose(scored)
    burn = best.model.max_lag
    rows = np.arange(burn, weeks)
    chosen = fit(best.model, data, rows)
    result = ChannelFit(channel, cpm, index, data, scored, chosen, burn, None, best.holdout_mape)
    result.r2 = _r2(data.gmv[rows], result.predict()[rows])
    result.warnings = _warnings(result)
    return result


def _r2(actual: np.ndarray, fitted: np.ndarray) -> float | None:
    total = float(np.sum((actual - actual.mean()) ** 2))
    return 1.0 - float(np.sum((actual - fitted) ** 2)) / total if total > 0 else None


def _warnings(f: ChannelFit) -> list[str]:
    """What a planner should know about this fit."""
    out = []
    _, high = bounds(f.model, f.data)
    theta = f.chosen.theta
    width = f.model.family.width
    elasticity = top_elasticity(f)
    if elasticity > LINEAR_ELASTICITY:
        out.append(
            f"little saturation within the spend seen: at the largest week the marginal ROAS is "
            f"{elasticity:.0%} of the average ROAS, so the curve beyond it is extrapolated; keep "
            "the plan's spend near the range seen"
        )
    elif theta[1] >= high[1] - 1e-6:
        out.append(f"{width} reached its bound (100x the largest weekly spend)")
    if theta[0] >= high[0] - 1e-6:
        out.append("max_gmv_cny reached its bound (1000x the largest week): no saturation seen")
    if f.model.max_lag and theta[-1] >= high[-1] - 1e-6:
        out.append(f"adstock decay reached its bound {high[-1]:g}: carry-over may last longer")
    if f.r2 is not None and f.r2 < 0.5:
        out.append(f"R² {f.r2:.2f}: spend explains little of this channel's GMV")
    if f.holdout_mape is not None and f.holdout_mape > 0.3:
        out.append(f"held-out MAPE {f.holdout_mape:.0%}: weekly predictions are rough")
    for window, ratio in window_gmv_ratios(f).items():
        if abs(ratio - 1.0) > WINDOW_GAP:
            out.append(
                f"GMV in window {window} ran {ratio:.2f}x the curve's prediction: demand "
                "seasonality is not fitted; consider the scenario's seasonality for those weeks"
            )
    return out


def top_elasticity(f: ChannelFit) -> float:
    """Marginal over average GMV per yuan at the largest input fitted: 1 for a straight line,
    0.5 for Michaelis-Menten at its half-saturation, near 0 when the curve has flattened."""
    top, width, shape, decay = f.model.parts(f.chosen.theta)
    x = float(np.max(f.model.carried(f.data.lagged, decay)[f.burn :]))
    if x <= 0:
        return 0.0
    value = f.model.family.value
    here, below = value(np.array([x, 0.99 * x]), top, width, shape)
    return float((here - below) / (0.01 * x) / (here / x)) if here > 0 else 0.0


def window_gmv_ratios(f: ChannelFit) -> dict[str, float]:
    """Actual over predicted GMV summed over each promotion window's fitted weeks: how far the
    window's demand ran above (or below) the curve, which the fit does not model."""
    predicted = f.predict()
    ratios = {}
    for window in sorted({w for w in f.channel.windows[f.burn :] if w}):
        weeks = [t for t in range(f.burn, len(predicted)) if f.channel.windows[t] == window]
        expected = float(np.sum(predicted[weeks]))
        if expected > 0:
            ratios[window] = float(np.sum(f.data.gmv[weeks])) / expected
    return ratios


def _warn_in_step(channels: list[ChannelFit], limit: float = 0.9) -> None:
    """Warn about channels whose weekly spend moved in step (correlation above ``limit``):
    whatever else moved with them is credited to both, and their curves are less certain."""
    spend = np.array([c.channel.spend_cny for c in channels])
    if len(channels) < 2 or np.any(np.std(spend, axis=1) == 0):
        return
    corr = np.corrcoef(spend)
    for i, c in enumerate(channels):
        for j, other in enumerate(channels):
            if i != j and corr[i, j] > limit:
                c.warnings.append(
                    f"weekly spend moved in step with {other.channel.id} (correlation "
                    f"{corr[i, j]:.2f}): what else moved with both is credited to each"
                )


def draw_jointly(channels: list[ChannelFit], options: FitOptions) -> None:
    """Bootstrap draws of every channel from the same resampled week blocks (see bootstrap)."""
    weeks = len(channels[0].data.gmv)
    pool = np.arange(max(c.burn for c in channels), weeks)
    picks = block_indices(weeks, pool, options.draws, options.seed)
    for c in channels:
        fitted = c.predict()
        residual = relative_residuals(c.data.gmv, fitted)
        targets = fitted[None, :] * (1.0 + residual[picks])
        rows = np.arange(c.burn, weeks)
        c.draws = refit_many(c.model, c.data, targets, rows, c.chosen.theta)

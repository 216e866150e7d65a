"""Time-series cross-validation: expanding training windows, each tested on the weeks after it.

Fold k trains on weeks [0, start_k) and tests on [start_k, start_k + h): folds in time order,
never shuffled, so no fold uses a later week to predict an earlier one. The test weeks of all
folds together are the last ``folds x h`` weeks (about a third of the history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.inputs.history.families import Model
from optimizer.inputs.history.fitting import Data, Fit, fit

DEFAULT_FOLDS = 5
MIN_TRAIN_WEEKS = 10


@dataclass(frozen=True)
class Fold:
    """Indices of the weeks a fold trains on and the weeks it predicts."""

    train: np.ndarray
    test: np.ndarray


def expanding_folds(weeks: int, burn: int, folds: int = DEFAULT_FOLDS) -> list[Fold]:
    """The folds of a history of ``weeks`` weeks; the first ``burn`` weeks may only feed an
    adstock, so the first fold trains on at least MIN_TRAIN_WEEKS weeks after them."""
    h = max(1, weeks // (3 * folds))
    first = max(burn + MIN_TRAIN_WEEKS, weeks - folds * h)
    out = []
    for start in range(first, weeks, h):
        out.append(Fold(np.arange(0, start), np.arange(start, min(start + h, weeks))))
    return out


@dataclass(frozen=True)
class Scored:
    """A model's held-out errors: mean squared error (CNY^2) and MAPE over every test week."""

    model: Model
    holdout_mse: float
    holdout_mape: float | None
    holdout_se: float = 0.0  # standard error of holdout_mse (the spread of the weeks' errors)


def cross_validate(model: Model, data: Data, folds: list[Fold], burn: int = 0) -> Scored:
    """Fit on each fold's training weeks (from week ``burn``: before it the adstock lacks the
    spend of the weeks before the data), predict its test weeks; pool the errors."""
    errors, actual = [], []
    start = None
    for fold in folds:
        found: Fit = fit(model, data, fold.train[fold.train >= burn], start)
        start = found.theta  # the next fold has a few more weeks: start where this one ended
        predicted = model.predict(found.theta, data.lagged)[fold.test]
        errors.append(predicted - data.gmv[fold.test])
        actual.append(data.gmv[fold.test])
    e, y = np.concatenate(errors), np.concatenate(actual)
    se = float(np.std(e**2, ddof=1) / np.sqrt(len(e))) if len(e) > 1 else 0.0
    return Scored(model, float(np.mean(e**2)), mape(e, y), se)


def mape(errors: np.ndarray, actual: np.ndarray) -> float | None:
    """Mean of |error| / actual over the weeks with GMV above 0 (None when there are none)."""
    positive = actual > 0
    if not np.any(positive):
        return None
    return float(np.mean(np.abs(errors[positive]) / actual[positive]))


def choose(scored: list[Scored]) -> Scored:
    """The one-standard-error rule: the simplest model (fewest parameters) whose held-out
    error is within one standard error of the least, the least error among those; the data
    cannot tell such models apart (Hill of shape 1 is Michaelis-Menten, an adstock of decay 0
    is none), and the simpler one extrapolates more soberly."""
    best = min(scored, key=lambda s: s.holdout_mse)
    close = [s for s in scored if s.holdout_mse <= best.holdout_mse + best.holdout_se]
    return min(close, key=lambda s: (s.model.size, s.holdout_mse))

"""Weekly histories generated from known curves, for the fit tests: what the truth is, the
noise added (lognormal, seeded) and the spend the weeks saw."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from optimizer.inputs.history.families import FAMILIES, Model, lagged_input
from optimizer.inputs.history.read import ChannelHistory, History, week_name

FIRST = date(2024, 1, 1)
MAX_LAG = 8


@dataclass(frozen=True)
class Truth:
    """A channel's true curve: family, max GMV, width, shape, adstock decay (0: none)."""

    family: str
    max_gmv_cny: float
    width_cny: float
    shape: float = 1.0
    decay: float = 0.0

    def theta(self) -> np.ndarray:
        extra = [self.shape] if FAMILIES[self.family].has_shape else []
        extra += [self.decay] if self.decay else []
        return np.array([np.log(self.max_gmv_cny), np.log(self.width_cny), *extra])

    def model(self) -> Model:
        return Model(FAMILIES[self.family], MAX_LAG if self.decay else 0)

    def gmv(self, spend: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
        units = spend if index is None else spend / index
        return self.model().predict(self.theta(), lagged_input(units, MAX_LAG))


def weeks(n: int) -> tuple[date, ...]:
    return tuple(FIRST + timedelta(weeks=k) for k in range(n))


def channel(
    ident: str,
    truth: Truth,
    n: int = 104,
    noise: float = 0.03,
    seed: int = 1,
    spend_range: tuple[float, float] = (0.5e6, 6e6),
) -> ChannelHistory:
    """A channel with uniform random weekly spend and lognormal(0, noise) GMV noise."""
    rng = np.random.default_rng(seed)
    spend = rng.uniform(*spend_range, n)
    gmv = truth.gmv(spend) * np.exp(rng.normal(0.0, noise, n))
    return ChannelHistory(ident, ident, spend, gmv, None, None, ("",) * n, np.arange(n) + 2)


def history(*channels: ChannelHistory) -> History:
    return History("synthetic.csv", weeks(len(channels[0].spend_cny)), tuple(channels))


def write_csv(path: Path, h: History) -> Path:
    """The history as a CSV file `budgetopt fit` reads."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["week", "channel", "spend_cny", "impressions", "gmv_cny", "window"])
        for k, monday in enumerate(h.weeks):
            for c in h.channels:
                shown = "" if c.impressions is None else f"{c.impressions[k]:.0f}"
                row = [week_name(monday), c.id, f"{c.spend_cny[k]:.2f}", shown]
                out.writerow([*row, f"{c.gmv_cny[k]:.2f}", c.windows[k]])
    return path

"""The picture of ``budgetopt fit --plot``: per channel, its weekly data and the fitted curve.

Each panel shows the fitted curve as the GMV a weekly spend brings when sustained week after
week at the reference CPM (the trend's level in the history's last week; with adstock the curve
at spend x the sum of the adstock's weights), the P10-P90 band of that curve over the bootstrap
draws, and each history week as a point (equivalent spend, attributed GMV). A week's equivalent
spend is the sustained weekly spend at the reference CPM that carries the same input into that
week as its own spend and the weeks before it did: so the points scatter around the curve only
by the fit's error, and a week bought at a cheaper CPM sits to the right of its raw spend.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from optimizer.inputs.history import HistoryFit
from optimizer.inputs.history.fit import ChannelFit
from optimizer.outputs.charts import MILLION, _save, labels_for, styled


def fit_png(fit: HistoryFit, path: Path) -> Path:
    """Write the fit chart (PNG)."""
    return _save(fit_figure(fit), path)


def sustained(c: ChannelFit, spend: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """GMV (thetas x spends) of each weekly spend sustained, at the reference CPM."""
    lagged = np.repeat(spend[:, None], c.model.max_lag + 1, axis=1)
    return c.model.predict_many(thetas, lagged)


def equivalent_spend(c: ChannelFit) -> np.ndarray:
    """Each week's carried input as the weekly spend that, sustained, carries the same."""
    decay = c.model.parts(c.chosen.theta)[3]
    carried = c.model.carried(c.data.lagged, decay)
    return carried / float(np.sum(np.power(decay, np.arange(c.model.max_lag + 1))))


@styled
def fit_figure(fit: HistoryFit) -> Figure:
    """The fit chart as a figure (``fit_png`` writes it)."""
    channels = fit.channels
    names = labels_for([c.channel.name for c in channels], [c.channel.id for c in channels])
    columns = min(2, len(channels))
    rows = -(-len(channels) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(5.2 * columns, 3.8 * rows), dpi=100, squeeze=False
    )
    for c, name, ax in zip(channels, names, axes.flat, strict=False):
        spend, gmv = equivalent_spend(c), c.channel.gmv_cny
        xs = np.linspace(0.0, 1.15 * float(spend[c.burn :].max()), 120)
        ax.scatter(spend[c.burn :] / 1e6, gmv[c.burn :] / 1e6, s=9, alpha=0.7, label="weeks")
        if len(c.draws):
            band = sustained(c, xs, c.draws)
            p10, p90 = np.percentile(band, [10, 90], axis=0)
            ax.fill_between(xs / 1e6, p10 / 1e6, p90 / 1e6, color="C1", alpha=0.25, label="P10-P90")
        curve = sustained(c, xs, c.chosen.theta[None, :])[0]
        ax.plot(xs / 1e6, curve / 1e6, color="C1", linewidth=1.6, label=c.model.label)
        r2 = "n/a" if c.r2 is None else f"{c.r2:.2f}"
        mape = "n/a" if c.holdout_mape is None else f"{c.holdout_mape:.1%}"
        ax.set_title(f"{name}: {c.model.label}\nR² {r2}, held-out MAPE {mape}", fontsize=9)
        at = " at the last week's CPM" if c.cpm is not None else ""
        ax.set_xlabel(f"weekly spend, sustained{at} ({MILLION})", fontsize=8)
        ax.set_ylabel(f"attributed GMV per week ({MILLION})", fontsize=8)
        ax.set_xlim(left=0.0)
        ax.set_ylim(bottom=0.0)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes.flat[len(channels) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Fitted response curves: GMV of a weekly spend sustained; points: each week at its "
        "equivalent sustained spend",
        fontsize=10,
    )
    return fig

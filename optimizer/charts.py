"""Pictures of a plan (matplotlib, PNG): spend by channel and period."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt

from optimizer.plan import Plan


def allocation_png(plan: Plan, path: Path) -> Path:
    """Stacked bars: spend (million CNY) of each channel in each period; GMV in the title."""
    periods = plan.periods
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(periods) + 3), 4.0), dpi=100)
    bottom = [0.0] * len(periods)
    for unit, by_period in plan.spend.items():
        values = [by_period[p] / 1e6 for p in periods]
        ax.bar(periods, values, bottom=bottom, label=unit)  # ids: no CJK font is assumed
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    gmv = plan.total.gmv_cny / 1e6 if plan.total else None
    title = "Spend by channel and period" + (f" (GMV {gmv:,.1f}M CNY)" if gmv else "")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("spend, million CNY")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path

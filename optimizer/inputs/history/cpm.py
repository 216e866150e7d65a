"""CPM trend and promotion windows from impressions: log CPM_t = a + b t + sum_w gamma_w [t in w].

CPM_t = 1000 spend_t / impressions_t over the weeks with spend; fitted by least squares
(numpy lstsq). The index of a week is its CPM relative to the trend's level in the history's
last week outside any window: exp(b (t - last) + gamma_w). A curve fitted on spend / index is
in CNY at that reference CPM, which is what the engine's ``cpm_index`` divides by.

Plan weeks: the trend goes on from the history's last week; a plan week is in window w when
the same ISO week number was in w in the history (the latest year that had that week).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

MIN_CPM_WEEKS = 8


@dataclass(frozen=True)
class CpmFit:
    """The fitted CPM model of one channel."""

    log_cpm_intercept: float  # a: log CPM at week 0 outside windows
    trend_per_week: float  # b: d log CPM / d week
    window_effects: dict[str, float] = field(default_factory=dict)  # gamma_w: log multipliers
    weeks: int = 0
    r2: float | None = None

    def reference_cpm_cny(self, last: int) -> float:
        """CPM the fitted curve is priced at: the trend's level in week ``last``."""
        return float(np.exp(self.log_cpm_intercept + self.trend_per_week * last))

    def index(self, offsets: np.ndarray, windows: list[str]) -> np.ndarray:
        """CPM index of weeks ``offsets`` weeks after the reference week, in these windows."""
        effect = np.array([self.window_effects.get(w, 0.0) for w in windows])
        return np.exp(self.trend_per_week * np.asarray(offsets, dtype=float) + effect)


def fit_cpm(spend: np.ndarray, impressions: np.ndarray, windows: tuple[str, ...]) -> CpmFit | None:
    """The trend and window effects of log CPM; None with fewer than MIN_CPM_WEEKS weeks."""
    used = np.flatnonzero((spend > 0) & (impressions > 0))
    if len(used) < MIN_CPM_WEEKS:
        return None
    log_cpm = np.log(1000.0 * spend[used] / impressions[used])
    named = [windows[t] for t in used]
    outside = sum(1 for w in named if not w)
    names = sorted({w for w in named if w}) if outside >= 2 else []
    columns = [np.ones(len(used)), used.astype(float)]
    columns += [np.array([1.0 if w == name else 0.0 for w in named]) for name in names]
    design = np.column_stack(columns)
    coef, *_ = np.linalg.lstsq(design, log_cpm, rcond=None)
    fitted = design @ coef
    total = float(np.sum((log_cpm - log_cpm.mean()) ** 2))
    r2 = 1.0 - float(np.sum((log_cpm - fitted) ** 2)) / total if total > 0 else None
    effects = {name: float(g) for name, g in zip(names, coef[2:], strict=True)}
    return CpmFit(float(coef[0]), float(coef[1]), effects, len(used), r2)


def plan_windows(
    history_weeks: tuple[date, ...], windows: tuple[str, ...], plan: list[date]
) -> list[str]:
    """The window of each plan week: that of the latest history week with its ISO week number."""
    by_number: dict[int, str] = {}
    for week, window in zip(history_weeks, windows, strict=True):
        by_number[week.isocalendar()[1]] = window
    return [by_number.get(w.isocalendar()[1], "") for w in plan]

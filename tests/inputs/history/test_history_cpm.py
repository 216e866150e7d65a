"""The CPM trend and promotion windows fitted from impressions, carried into the plan's weeks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from history_data import weeks

from optimizer.inputs.history.cpm import fit_cpm, plan_windows


def test_cpm_growing_1_percent_a_week_with_618_at_plus_30_percent_is_recovered():
    n = 104
    monday = weeks(n)
    windows = tuple("618" if 21 <= w.isocalendar()[1] <= 25 else "" for w in monday)
    rng = np.random.default_rng(3)
    spend = rng.uniform(0.5e6, 2e6, n)
    lift = np.where(np.array(windows) == "618", 1.3, 1.0)
    cpm = 30.0 * 1.01 ** np.arange(n) * lift * np.exp(rng.normal(0.0, 0.02, n))
    fit = fit_cpm(spend, 1000.0 * spend / cpm, windows)
    assert fit is not None
    # 2% noise on log CPM over 104 weeks: the slope's standard error is 0.02 / sqrt(sum (t -
    # mean)^2) = 6.5e-5 and the window's about 0.007; the bounds are four of those
    assert fit.trend_per_week == pytest.approx(np.log(1.01), abs=3e-4)
    assert fit.window_effects["618"] == pytest.approx(np.log(1.3), abs=0.03)
    assert fit.log_cpm_intercept == pytest.approx(np.log(30.0), abs=0.02)
    # plan weeks: the trend goes on from the last history week; 618 where the ISO week was in it
    plan = [date(2026, 1, 5), date(2026, 6, 1)]  # 2026-W02, 2026-W23
    assert plan_windows(monday, windows, plan) == ["", "618"]
    index = fit.index(np.array([2, 23]), ["", "618"])
    assert index[0] == pytest.approx(1.01**2, rel=0.002)
    assert index[1] == pytest.approx(1.01**23 * 1.3, rel=0.04)


def test_too_few_weeks_with_impressions_give_no_cpm_model():
    spend = np.full(5, 1e5)
    assert fit_cpm(spend, spend * 30, ("",) * 5) is None

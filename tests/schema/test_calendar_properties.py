"""Window coverage by dates, checked against a day-by-day count for any dates and threshold."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.schema.calendar import iso_week_names, week_monday, weeks_overlapping

PERIODS = iso_week_names("2025-W50", "2027-W03")  # across two year boundaries and a 53rd week
days = st.dates(dt.date(2025, 11, 1), dt.date(2027, 2, 28))


@settings(max_examples=200, deadline=None)
@given(first=days, length=st.integers(0, 60), threshold=st.integers(1, 7))
def test_a_week_is_in_a_window_when_enough_of_its_days_are(
    first: dt.date, length: int, threshold: int
) -> None:
    last = first + dt.timedelta(days=length)
    chosen = set(weeks_overlapping(PERIODS, first, last, threshold))
    for name in PERIODS:
        monday = week_monday(name)
        inside = sum(first <= monday + dt.timedelta(days=k) <= last for k in range(7))
        assert (name in chosen) == (inside >= threshold), (name, first, last, threshold)


@settings(max_examples=200, deadline=None)
@given(first=days, length=st.integers(0, 400))
def test_week_names_are_consecutive_and_dated(first: dt.date, length: int) -> None:
    names = iso_week_names(first.isoformat(), (first + dt.timedelta(days=length)).isoformat())
    mondays = [week_monday(n) for n in names]
    assert mondays[0] <= first < mondays[0] + dt.timedelta(days=7)
    assert all(b - a == dt.timedelta(days=7) for a, b in itertools.pairwise(mondays))
    assert [m.isocalendar().week for m in mondays] == [int(n[-2:]) for n in names]

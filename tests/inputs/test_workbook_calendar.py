"""Calendar windows in the Excel workbook: a Windows sheet, date cells welcome."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from helpers import linear, scenario

from optimizer.errors import ScenarioError
from optimizer.inputs.workbook import load_workbook_scenario, write_template
from optimizer.schema.scenario import Scenario

WINDOWS = [
    {"id": "618", "name": "618大促", "from": "2026-05-25", "to": "2026-06-20"},
    {"id": "peak", "periods": ["2026-W24"]},
]


def weekly() -> Scenario:
    """Six ISO weeks, 618 by dates, a window by periods, a rule by window."""
    return scenario(
        [linear("live", 3, cap=100)],
        budget=100,
        periods={"iso_weeks": {"from": "2026-W21", "to": "2026-W26"}},
        calendar={"windows": WINDOWS, "week_overlap_days": 2},
        seasonality={"default": 1.0, "windows": {"618": 1.8}},
        rules=[{"kind": "dark", "channels": ["live"], "periods": ["2026-W21"]}],
    )


def written(tmp_path: Path, s: Scenario) -> Path:
    path = tmp_path / "weekly.xlsx"
    path.write_bytes(write_template(s))
    return path


def test_a_calendar_round_trips_through_a_windows_sheet(tmp_path: Path) -> None:
    s = weekly()
    path = written(tmp_path, s)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-1] == "Windows"
    rows = list(book["Windows"].iter_rows(values_only=True))
    assert rows[0] == ("id", "name", "from", "to", "periods")
    assert rows[1] == ("618", "618大促", "2026-05-25", "2026-06-20", None)
    assert rows[2] == ("peak", None, None, None, "2026-W24")
    assert load_workbook_scenario(path).model_dump() == s.model_dump()


def test_window_dates_may_be_date_cells(tmp_path: Path) -> None:
    path = written(tmp_path, weekly())
    book = openpyxl.load_workbook(path)
    book["Windows"]["C2"] = dt.datetime(2026, 5, 25)
    book["Windows"]["D2"] = dt.date(2026, 6, 20)
    book.save(path)
    assert load_workbook_scenario(path).calendar == weekly().calendar


def test_a_window_mistake_names_the_cell(tmp_path: Path) -> None:
    path = written(tmp_path, weekly())
    book = openpyxl.load_workbook(path)
    book["Windows"]["C2"] = dt.datetime(2026, 5, 25, 9, 30)
    book.save(path)
    with pytest.raises(ScenarioError) as info:
        load_workbook_scenario(path)
    found = {p.path: p.message for p in info.value.problems}
    assert "a day has no time of day" in found["Windows!C2 (calendar.windows[0].from)"], found
    book["Windows"]["C2"] = "2026-05-25"
    book["Windows"]["D2"] = "2026-02-30"
    book.save(path)
    with pytest.raises(ScenarioError) as info:
        load_workbook_scenario(path)
    found = {p.path: p.message for p in info.value.problems}
    message = "'2026-02-30' is not a date: day is out of range for month"
    assert found == {"Windows!D2 (calendar.windows[0].to)": message}

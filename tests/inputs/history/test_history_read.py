"""A history that cannot be fitted is refused with the file, the column and the line, and no
curve is made up: bad numbers, duplicates, gaps, blanks, too few weeks, too little variation."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.errors import ScenarioError
from optimizer.inputs.history import fit_file, read_history

HEADER = "week,channel,spend_cny,gmv_cny\n"


def good_rows(weeks: int = 20) -> list[str]:
    """Two channels with varied spend: line 2 is 2024-W01 search, line 3 2024-W01 kol, ..."""
    rows = []
    for k in range(weeks):
        week = f"2024-W{k + 1:02d}"
        rows.append(f"{week},search,{100_000 + 37_000 * (k % 7)},{500_000 + 90_000 * (k % 7)}\n")
        rows.append(f"{week},kol,{50_000 + 21_000 * (k % 5)},{120_000 + 40_000 * (k % 5)}\n")
    return rows


def write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        fit_file(path)
    assert caught.value.source == str(path)
    return [str(p) for p in caught.value.problems]


def replace_line(rows: list[str], line: int, text: str) -> list[str]:
    """Rows with file line ``line`` (header = 1) replaced."""
    return [text if k + 2 == line else row for k, row in enumerate(rows)]


BAD = {
    "negative spend": (
        lambda r: replace_line(r, 3, "2024-W01,kol,-5,120000\n"),
        "spend_cny (line 3): expected a number >= 0, got '-5'",
    ),
    "text in gmv": (
        lambda r: replace_line(r, 4, "2024-W02,search,137000,abc\n"),
        "gmv_cny (line 4): expected a number, got 'abc'",
    ),
    "duplicate week and channel": (
        lambda r: replace_line(r, 5, "2024-W02,search,137000,590000\n"),
        "week (line 5): a second row for channel 'search' in week 2024-W02 (the first is line 4)",
    ),
    "missing weeks": (
        lambda r: [row for row in r if not row.startswith(("2024-W05,kol", "2024-W06,kol"))],
        "channel 'kol' has no row for week(s) 2024-W05, 2024-W06",
    ),
    "blank channel": (
        lambda r: replace_line(r, 6, "2024-W03, ,150000,600000\n"),
        "channel (line 6): expected a channel name, got a blank",
    ),
    "bad week": (
        lambda r: replace_line(r, 2, "2024-W60,search,100000,500000\n"),
        "week (line 2): expected an ISO week (2025-W07) or a date (2025-02-10), got '2024-W60'",
    ),
    "too few weeks": (lambda r: r[:20], "week: expected at least 16 weeks"),
    "flat spend": (
        lambda r: [row.replace(row.split(",")[2], "80000") if ",kol," in row else row for row in r],
        "spend_cny (line 3): channel 'kol' has too little variation in spend",
    ),
    "no spend": (
        lambda r: [row.replace(row.split(",")[2], "0") if ",kol," in row else row for row in r],
        "spend_cny (line 3): channel 'kol' has no spend in any week",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_history_names_the_column_and_line(tmp_path, case):
    change, expected = BAD[case]
    found = problems(write(tmp_path, change(good_rows())))
    assert any(expected in p for p in found), found


def test_the_header_must_have_the_required_columns(tmp_path):
    path = write(tmp_path, ["2024-W01,search,1,2\n"], header="week,channel,spend_cny,sales\n")
    (found,) = problems(path)
    assert found.startswith("header (line 1): expected columns week, channel, spend_cny, gmv_cny")
    assert "missing gmv_cny" in found


def test_several_problems_are_reported_together(tmp_path):
    rows = replace_line(
        replace_line(good_rows(), 3, "2024-W01,kol,x,1\n"), 7, "2024-W04,kol,1,-2\n"
    )
    found = problems(write(tmp_path, rows))
    assert found == [
        "spend_cny (line 3): expected a number, got 'x'",
        "gmv_cny (line 7): expected a number >= 0, got '-2'",
    ]


def test_dates_bom_aliases_and_excel_are_read_alike(tmp_path):
    rows = [r.replace("2024-W01,", "2024-01-03,") for r in good_rows()]  # a Wednesday of W01
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffWeek,Channel,Spend,GMV\n" + "".join(rows), encoding="utf-8")
    plain = read_history(write(tmp_path, good_rows()))
    read = read_history(path)
    assert read.week_names() == plain.week_names() == [f"2024-W{k:02d}" for k in range(1, 21)]
    assert [c.id for c in read.channels] == ["search", "kol"]
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["week", "channel", "spend_cny", "gmv_cny"])
    for row in good_rows():
        week, name, spend, gmv = row.strip().split(",")
        sheet.append([week, name, float(spend), float(gmv)])
    book.save(tmp_path / "h.xlsx")
    excel = read_history(tmp_path / "h.xlsx")
    assert excel.channels[1].spend_cny.tolist() == plain.channels[1].spend_cny.tolist()


def test_channels_named_up_front_refuse_any_other_once_and_need_rows(tmp_path):
    from optimizer.inputs.history import FitOptions

    path = write(tmp_path, good_rows())
    with pytest.raises(ScenarioError) as caught:
        fit_file(path, FitOptions(channels=("search",)))
    assert [str(p) for p in caught.value.problems] == [
        "channel (line 3): unknown channel 'kol': expected one of search"
    ]
    with pytest.raises(ScenarioError) as caught:
        fit_file(path, FitOptions(channels=("search", "kol", "tv")))
    assert [str(p) for p in caught.value.problems] == [
        "channel: expected rows of channel 'tv', got none"
    ]

"""The calendar: ISO weeks with dates, windows named once, values by window, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from helpers import linear, scenario
from pydantic import ValidationError

from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario
from optimizer.results.fingerprint import fingerprint
from optimizer.schema.calendar import iso_week_names, week_monday, weeks_in_year
from optimizer.schema.changes import Change, apply_changes
from optimizer.schema.paths import PathError, get_values
from optimizer.schema.scenario import Scenario

WEEKS_2026 = {"iso_weeks": {"from": "2026-W01", "to": "2026-W53"}}
WINDOWS = [
    {"id": "spring_festival", "from": "2026-02-10", "to": "2026-02-24"},
    {"id": "618", "name": "618大促", "from": "2026-05-25", "to": "2026-06-20"},
    {"id": "double11", "from": "2026-10-20", "to": "2026-11-11"},
    {"id": "double12", "from": "2026-12-08", "to": "2026-12-12"},
]

YEAR = """\
version: "1"
name: weekly 2026
periods: {iso_weeks: {from: 2026-W01, to: 2026-W53}}
calendar:
  windows:
    - {id: spring_festival, from: 2026-02-10, to: 2026-02-24}
    - {id: "618", from: 2026-05-25, to: 2026-06-20}
    - {id: double11, from: 2026-10-20, to: 2026-11-11}
seasonality: {default: 1.0, windows: {"618": 1.8, double11: 2.4}}
budget: {total_cny: 1000000}
objective: {kind: max_gmv}
channels:
  - id: live
    kind: curve
    aov_cny: 200
    response: {type: exponential, max_gmv_cny: 90000, scale_cny: 20000}
    cpm_index: {default: 1.0, windows: {spring_festival: 0.8, double11: 1.4}}
rules:
  - {kind: dark, channels: [live], periods: [spring_festival]}
"""


def weekly(**fields: object) -> Scenario:
    """A one-channel scenario over ISO weeks 2026 with the usual windows."""
    base: dict[str, object] = {"periods": WEEKS_2026, "calendar": {"windows": WINDOWS}}
    return scenario([linear("live", 3)], budget=1000, **{**base, **fields})


def problems(tmp_path: Path, text: str) -> dict[str, str]:
    """The scenario file's problems, field path -> message."""
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return {p.path: p.message for p in info.value.problems}


def test_iso_weeks_are_named_and_dated() -> None:
    s = weekly()
    assert len(s.periods) == 53  # 2026 starts on a Thursday: 53 ISO weeks
    assert s.periods[0] == "2026-W01" and s.periods[-1] == "2026-W53"
    assert week_monday("2026-W23") == dt.date(2026, 6, 1)  # W23 is June 1 to 7
    assert week_monday("2026-W01") == dt.date(2025, 12, 29)  # the year of its Thursday


def test_iso_week_edge_cases() -> None:
    assert [weeks_in_year(y) for y in (2020, 2021, 2025, 2026, 2027)] == [53, 52, 52, 53, 52]
    assert iso_week_names("2026-W52", "2027-W02") == [
        "2026-W52",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]
    # a date means the week it falls in: 2027-01-01 is a Friday of 2026-W53
    assert iso_week_names("2026-12-30", "2027-01-01") == ["2026-W53"]
    assert iso_week_names("2025-W52", "2026-W01") == ["2025-W52", "2026-W01"]  # 2025: 52 weeks


def test_windows_cover_the_weeks_they_overlap() -> None:
    s = weekly(
        seasonality={"default": 1.0, "windows": {"618": 1.8, "spring_festival": 0.7}},
        rules=[{"kind": "dark", "channels": ["live"], "periods": ["double12"]}],
    )
    by_week = dict(zip(s.periods, s.seasonality, strict=True))
    # 618 from Monday May 25 (W22) to Saturday June 20 (W25); W23 = June 1..7 is inside
    assert [w for w, v in by_week.items() if v == 1.8] == [f"2026-W{k}" for k in (22, 23, 24, 25)]
    # Spring Festival Feb 10 (Tue, W07) to Feb 24 (Tue, W09)
    assert [w for w, v in by_week.items() if v == 0.7] == ["2026-W07", "2026-W08", "2026-W09"]
    assert s.rules[0].periods == ["2026-W50"]  # 12.12: Dec 8..12 is all in W50


def test_week_overlap_days_leaves_out_weeks_barely_touched() -> None:
    calendar = {"windows": WINDOWS, "week_overlap_days": 4}
    s = weekly(calendar=calendar, seasonality={"default": 1.0, "windows": {"spring_festival": 2}})
    # Feb 10..24: W07 has 5 days (Tue..Sun), W08 all 7, W09 only Monday and Tuesday
    assert [w for w, v in zip(s.periods, s.seasonality, strict=True) if v == 2] == [
        "2026-W07",
        "2026-W08",
    ]


def test_a_window_by_periods_and_single_periods_override_windows() -> None:
    s = scenario(
        [linear("live", 3, period_max_spend_cny={"default": 100, "windows": {"peak": 300}})],
        budget=1000,
        periods=["Jan", "Feb", "Mar", "Apr"],
        calendar={"windows": [{"id": "peak", "periods": ["Feb", "Mar"]}]},
        seasonality={"default": 1, "windows": {"peak": 2}, "periods": {"Mar": 2.5}},
    )
    assert s.seasonality == [1, 2, 2.5, 1]
    assert s.channels[0].period_max_spend_cny == [100, 300, 300, 100]


def test_a_file_with_windows_expands_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "year.yaml"
    path.write_text(YEAR, encoding="utf-8")
    s = load_scenario(path)
    index = dict(zip(s.periods, s.channels[0].cpm_index, strict=True))  # type: ignore[union-attr]
    assert index["2026-W07"] == 0.8 and index["2026-W45"] == 1.4 and index["2026-W30"] == 1.0
    assert s.rules[0].periods == ["2026-W07", "2026-W08", "2026-W09"]
    # the dump is plain lists and re-validates to the same scenario
    again = Scenario.model_validate(s.model_dump(mode="json"))
    assert again == s and fingerprint(again) == fingerprint(s)


def test_cpm_index_trend_values_by_window() -> None:
    channel = {
        "id": "search",
        "kind": "paid",
        "cpm": {
            "base_cny": 30,
            "trend": {"type": "index", "values": {"default": 1, "windows": {"618": 1.3}}},
        },
        "ctr": 0.02,
        "cvr": 0.03,
        "aov_cny": 200,
        "saturation": {"type": "linear"},
    }
    s = scenario([channel], budget=1000, periods=WEEKS_2026, calendar={"windows": WINDOWS})
    values = s.channels[0].cpm.trend.values  # type: ignore[union-attr]
    assert values[21:25] == [1.3] * 4 and values[20] == 1 and len(values) == 53


def test_a_scenario_without_a_calendar_dumps_as_before() -> None:
    s = scenario([linear("live", 3)], budget=100, rules=[{"kind": "ramp_limit", "max_change": 0.3}])
    dumped = s.model_dump(mode="json")
    assert "calendar" not in dumped
    assert set(dumped["rules"][0]) == {
        "id",
        "channels",
        "groups",
        "periods",
        "kind",
        "max_change",
        "allowance_cny",
    }


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [
        pytest.param(
            '{"618": 1.8, double11: 2.4}',
            '{"619": 1.8, double11: 2.4}',
            "seasonality.windows.619",
            "unknown window '619'; known: spring_festival, 618, double11",
            id="unknown window",
        ),
        pytest.param(
            "double11, from: 2026-10-20, to: 2026-11-11",
            "double11, from: 2027-10-20, to: 2027-11-11",
            "calendar.windows[2]",
            "window double11 (2027-10-20 to 2027-11-11) is outside the periods "
            "(2026-W01 to 2026-W53)",
            id="window outside the periods",
        ),
        pytest.param(
            "from: 2026-02-10",
            "from: 2026-02-30",
            "calendar.windows[0].from",
            "'2026-02-30' is not a date",
            id="bad date",
        ),
        pytest.param(
            "to: 2026-W53}}",
            "to: 2026-W54}}",
            "periods.iso_weeks.to",
            "'2026-W54': ISO year 2026 has weeks 1 to 53",
            id="bad week",
        ),
        pytest.param(
            "from: 2026-02-10, to: 2026-02-24}",
            "from: 2026-02-24, to: 2026-02-10}",
            "calendar.windows[0].to",
            "2026-02-10 is before from 2026-02-24",
            id="window ends before it starts",
        ),
        pytest.param(
            "{id: spring_festival, from: 2026-02-10, to: 2026-02-24}",
            "{id: spring_festival, from: 2026-02-10, to: 2026-02-24, periods: [2026-W07]}",
            "calendar.windows[0]",
            "give from and to (dates or ISO weeks), or periods; not both",
            id="a window by dates and periods",
        ),
        pytest.param(
            '{id: "618", from',
            "{id: spring_festival, from",
            "calendar.windows[1].id",
            "duplicated id 'spring_festival'",
            id="a window named twice",
        ),
        pytest.param(
            "periods: [spring_festival]",
            "periods: [national_day]",
            "rules[0].periods[0]",
            "unknown period 'national_day'",
            id="a rule names an unknown window",
        ),
        pytest.param(
            "    cpm_index: {default: 1.0,",
            "    period_min_spend_cny: 100\n    cpm_index: {default: 1.0,",
            "rules[0].periods",
            "live is dark in 2026-W07, 2026-W08, 2026-W09 but channels[0].period_min_spend_cny "
            "asks for spend there",
            id="a dark week conflicts with a minimum",
        ),
        pytest.param(
            "seasonality: {default: 1.0, windows",
            "seasonality: {windows",
            "seasonality.default",
            "",
            id="a value by window needs its default",
        ),
    ],
)
def test_calendar_mistakes_name_the_field(
    tmp_path: Path, old: str, new: str, path: str, fragment: str
) -> None:
    assert YEAR.count(old) == 1, old
    found = problems(tmp_path, YEAR.replace(old, new))
    assert path in found, found
    assert fragment in found[path], found[path]


def test_two_windows_of_one_value_may_not_share_a_week(tmp_path: Path) -> None:
    late = "    - {id: late, from: 2026-10-26, to: 2026-11-30}\n"
    text = YEAR.replace("    - {id: double11,", late + "    - {id: double11,")
    text = text.replace('{"618": 1.8, double11: 2.4}', '{"618": 1.8, late: 3, double11: 2.4}')
    found = problems(tmp_path, text)
    message = found["seasonality.windows.double11"]
    assert message.startswith("windows late and double11 both cover 2026-W44: give 2026-W44")


def test_windows_by_date_need_iso_week_periods(tmp_path: Path) -> None:
    text = YEAR.replace("periods: {iso_weeks: {from: 2026-W01, to: 2026-W53}}", "periods: [Q1, Q2]")
    found = problems(tmp_path, text)
    assert "needs ISO-week periods (2026-W01 ...), got 'Q1'" in found["calendar.windows[0].from"]


def test_flighting_rule_mistakes(tmp_path: Path) -> None:
    data = yaml.safe_load(YEAR)
    data["rules"] = [
        {"kind": "locked_burst", "channels": ["live"], "periods": ["618"]},
        {"kind": "ramp_limit"},
        {
            "kind": "locked_burst",
            "channels": ["live"],
            "periods": ["spring_festival"],
            "total_cny": 5,
        },
        {"kind": "dark", "channels": ["live"], "periods": ["spring_festival"]},
    ]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = {p.path: p.message for p in info.value.problems}
    assert found["rules[0]"] == "locked_burst needs exactly one of per_period_cny and total_cny"
    assert found["rules[1]"] == "ramp_limit needs max_change or max_change_cny; got neither"
    assert found["rules[2].periods"] == (
        "locked_burst of 5 CNY falls on 2026-W07, 2026-W08, 2026-W09, where its channels are "
        "dark (rules[3]): both define the same weeks"
    )


def test_bursts_may_not_contradict_dark_weeks_or_each_other() -> None:
    rules = [
        {"kind": "dark", "channels": ["live"], "periods": ["2026-W10"]},
        {
            "kind": "locked_burst",
            "channels": ["live"],
            "periods": ["2026-W09", "2026-W10"],
            "per_period_cny": 5,
        },
        {"kind": "locked_burst", "channels": ["live"], "periods": ["618"], "per_period_cny": 7},
        {
            "kind": "locked_burst",
            "channels": ["live"],
            "periods": ["2026-W23"],
            "per_period_cny": 8,
        },
        {
            "kind": "locked_burst",
            "channels": ["live"],
            "periods": ["2026-W24"],
            "per_period_cny": 7,
        },
    ]
    found = errors_of(rules=rules)
    assert found == {
        ("rules", 1, "periods"): "locked_burst of 5 CNY per period falls on 2026-W10, where its "
        "channels are dark (rules[0]): both define the same weeks",
        ("rules", 3, "per_period_cny"): "8 CNY in 2026-W23, where rules[2] locks the same "
        "channels at 7 CNY: overlapping bursts must agree",
    }


def errors_of(**fields: object) -> dict[tuple[object, ...], str]:
    """The validation errors of ``weekly(**fields)``, location -> message."""
    with pytest.raises(ValidationError) as info:
        weekly(**fields)
    return {tuple(e["loc"]): e["msg"] for e in info.value.errors()}


def test_week_ranges_out_of_reach_are_named() -> None:
    found = errors_of(periods={"iso_weeks": {"from": "0001-W01", "to": "9999-W52"}})
    assert found == {
        ("periods", "iso_weeks"): "more than 366 weeks from 0001-W01 to the week of 9999-W52; "
        "at most 366"
    }
    found = errors_of(periods={"iso_weeks": {"from": "0000-W01", "to": "0001-W02"}})
    assert found == {("periods", "iso_weeks", "from"): "'0000-W01': years run from 1 to 9999"}
    end = errors_of(periods={"iso_weeks": {"from": "9999-W50", "to": "9999-W52"}})
    assert ("periods",) not in end  # the last weeks the calendar knows still work


def test_a_wrong_window_is_named_once_not_again_where_it_is_used() -> None:
    windows = [{"id": "618", "from": "2026-06-01"}]
    found = errors_of(
        calendar={"windows": windows}, seasonality={"default": 1.0, "windows": {"618": 2}}
    )
    assert found == {("calendar", "windows", 0, "to"): "window 618 by dates needs both from and to"}


def test_a_window_by_iso_weeks_runs_monday_to_sunday() -> None:
    calendar = {"windows": [{"id": "618", "from": "2026-W22", "to": "2026-W25"}]}
    s = weekly(
        calendar={**calendar, "week_overlap_days": 7},
        seasonality={"default": 1.0, "windows": {"618": 2}},
    )
    assert [w for w, v in zip(s.periods, s.seasonality, strict=True) if v == 2] == [
        "2026-W22",
        "2026-W23",
        "2026-W24",
        "2026-W25",
    ]


def test_what_if_paths_pick_a_window_s_weeks() -> None:
    s = weekly(seasonality={"default": 1.0, "windows": {"618": 1.8}})
    assert get_values(s, "seasonality[618]") == {
        f"seasonality[2026-W{k}]": 1.8 for k in (22, 23, 24, 25)
    }
    changed = apply_changes(s, [Change("seasonality[618]", "scale", 1.5)])
    assert changed.seasonality[20:26] == pytest.approx([1, 2.7, 2.7, 2.7, 2.7, 1])
    with pytest.raises(PathError, match=r"no period '619' in seasonality; known: .*; windows: "):
        get_values(s, "seasonality[619]")


def test_a_bad_value_by_window_is_named_where_it_was_written(tmp_path: Path) -> None:
    text = YEAR.replace('{"618": 1.8, double11: 2.4}', '{"618": -1.8, double11: 2.4}')
    text = text.replace("{default: 1.0, windows: {spring", "{default: 0, windows: {spring")
    found = problems(tmp_path, text)
    assert found == {
        "seasonality.windows.618": "expected a positive number, got -1.8",
        "channels[0].cpm_index.default": "expected a positive number, got 0",
    }


def test_scenario_bodies_document_the_calendar_forms() -> None:
    schema = Scenario.model_json_schema()
    assert {"$ref": "#/$defs/IsoWeeks"} in schema["properties"]["periods"]["anyOf"]
    assert {"$ref": "#/$defs/ByWindow"} in schema["properties"]["seasonality"]["anyOf"]
    trend = schema["$defs"]["IndexTrend"]["properties"]["values"]
    assert {"$ref": "#/$defs/ByWindow"} in trend["anyOf"]
    week_range = schema["$defs"]["IsoWeekRange"]
    assert set(week_range["properties"]) == {"from", "to"}

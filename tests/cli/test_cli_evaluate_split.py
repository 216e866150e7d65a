"""budgetopt evaluate --split: a per-channel split, its verdict in the table and the JSON,
exit codes 0 (keeps every rule), 1 (breaks one) and 2 (bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from optimizer.cli.common import EXIT_BAD_INPUT, EXIT_NO_PLAN, EXIT_OK
from optimizer.cli.main import app
from tests.helpers import T1  # search 6 per CNY up to 60, kol 4 per CNY; budget 100

EVEN = "Your split makes 20 CNY (3.8%) less GMV than the best plan and keeps every rule."


def run(tmp_path: Path, *args: str | Path) -> Result:
    """evaluate on T1 in process; no exception but the exit escapes."""
    scenario = tmp_path / "t1.yaml"
    scenario.write_text(T1, encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(scenario), *map(str, args)])
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_table_ends_with_the_verdict(tmp_path: Path) -> None:
    result = run(tmp_path, "--split", "search=50,kol=50")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.rstrip().splitlines()[-1] == f"Verdict: {EVEN}"


def test_json_is_parseable_and_carries_the_verdict_and_split(tmp_path: Path) -> None:
    result = run(tmp_path, "--split", "search=50, kol=5e1", "--spread", "even", "-f", "json")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == EVEN
    assert data["split"] == {
        "by_channel_cny": {"kol": 50.0, "search": 50.0},
        "spread": "even",
        "spread_evenly": [],
    }
    assert data["total"]["gmv_cny"] == pytest.approx(500)


def test_csv_keeps_stdout_data_and_says_the_verdict_on_stderr(tmp_path: Path) -> None:
    result = run(tmp_path, "--split", "search=50,kol=50", "-f", "csv")
    assert result.exit_code == EXIT_OK
    assert "Verdict" not in result.stdout and EVEN in result.stderr


def test_a_split_that_breaks_a_rule_exits_1_naming_it(tmp_path: Path) -> None:
    result = run(tmp_path, "--split", "search=60,kol=60", "-f", "json")
    assert result.exit_code == EXIT_NO_PLAN
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict.endswith("breaks rule budget (spend 120 > 100 CNY).")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("split.csv", "channel,spend_cny\nsearch,50\nkol,50\n"),
        ("split.yaml", "search: 50\nkol: 50\n"),
    ],
)
def test_split_file_csv_or_yaml(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run(tmp_path, "--split-file", path, "-f", "json")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout)["verdict"] == EVEN


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "exactly one of --allocation, --split, --split-file; got none"),
        (("--split", "search=1", "--allocation", "a.csv"), "got --allocation and --split"),
        (("--allocation", "a.csv", "--spread", "even"), "--spread applies to --split"),
        (("--split", "tv=5"), "tv: unknown channel; known: search, kol"),
        (("--split", "search=-1"), "search: expected a number >= 0 (CNY), got '-1'"),
        (("--split", "search=inf"), "search: expected a number >= 0 (CNY), got 'inf'"),
        (("--split", "search"), "search: expected channel=CNY"),
        (("--split", "search=1,search=2"), "search: given twice"),
    ],
)
def test_bad_split_options_exit_2(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    result = run(tmp_path, *args)
    assert result.exit_code == EXIT_BAD_INPUT
    assert fragment in result.stderr, result.stderr
    assert result.stdout == ""

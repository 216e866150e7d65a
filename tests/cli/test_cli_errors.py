"""Broken files, huge inputs, bad allocation CSVs and bad options: exit 2, a clear message.

Run in process with CliRunner, and a few through the installed ``budgetopt`` script to prove the
exit code and that no traceback reaches the terminal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from optimizer.cli.main import app
from tests.helpers import T1

# Chinese display names and ids; a KOL channel whose spend is given per tier (kol.head).
SHOP = """\
version: "1"
name: 小店双十一
periods: [H1, H2]
budget: {total_cny: 1000}
objective: {kind: max_gmv}
channels:
  - id: search
    name: 搜索广告
    kind: curve
    response: {type: linear, roas: 3}
    aov_cny: 100
    max_spend_cny: 500
  - id: 直播
    name: 店铺自播
    kind: curve
    response: {type: exponential, max_gmv_cny: 800, scale_cny: 100}
    aov_cny: 100
  - id: kol
    name: 抖音达人
    kind: kol
    tiers:
      - id: head
        name: 头部达人
        commission_rate: 0.2
        fee_roas: 4
        aov_cny: 100
        capacity_fee_cny: 200
        saturation: {type: linear}
"""

runner = CliRunner()


def run(*args: str | Path) -> Result:
    """Invoke the CLI in process; a user's mistake must never raise out of it."""
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def assert_bad(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"


# --- broken files ----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert_bad(run("validate", path), f"{path}: ", "  - file: no such file")
    assert_bad(run("plan", path), "no such file")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert_bad(run("plan", tmp_path), "  - file: expected a file, got a directory")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('version: "1"\nname: x\nperiods: [H1\nbudget: {total_cny: 1}\n', 4, "expected ','"),
        ('version: "1"\nname: x\n  bad: indent\n', 3, "mapping values are not allowed"),
        ('version: "1"\n\tname: x\n', 2, "cannot start any token"),
        ('version: "1"\nname: !!python/object:os.system x\n', 2, "could not determine"),
        ('version: "1"\nbudget: {total_cny: ' + "9" * 5000 + "}\n", 2, "number too long"),
    ],
    ids=["unclosed list", "bad indent", "tab", "python tag", "5000-digit number"],
)
def test_invalid_yaml_names_the_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, "broken.yaml", text)
    assert_bad(run("validate", path), f"  - file (line {line}): invalid YAML: ", fragment)


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- a\n- b\n", "got a list of 2"),
        ("", "got an empty document"),
        ("# only a comment\n", "got an empty document"),
        ("just words\n", "got 'just words'"),
    ],
    ids=["list", "empty", "comment only", "scalar"],
)
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = write(tmp_path, "s.yaml", text)
    assert_bad(run("validate", path), "  - file: expected a mapping of fields", got)


def test_not_utf8(tmp_path: Path) -> None:
    raw = T1.encode() + b"description: \xff\xfe\n"
    assert_bad(
        run("validate", write(tmp_path, "s.yaml", raw)),
        "  - file (line 9): expected UTF-8 text, got byte 0xff",
        "save the file as UTF-8",
    )


def test_gbk_file_is_recognised(tmp_path: Path) -> None:
    raw = T1.replace("two linear", "年度预算计划").encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert_bad(run("validate", write(tmp_path, "s.yaml", raw)), "(line 2)", "GBK", "UTF-8")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    result = run("validate", write(tmp_path, "s.yaml", "\ufeff" + T1))
    assert result.exit_code == 0, result.output


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "s.json", '{\n  "version": "1",\n  "name": "x",\n}\n')
    assert_bad(run("validate", path), "  - file (line 4): invalid JSON: ")


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", T1 + "#" * (5 * 1024 * 1024))
    assert_bad(run("plan", path), "  - file: too large: expected at most 5,242,880 bytes (5 MiB)")


@pytest.mark.parametrize("name", ["deep.yaml", "deep.json"])
def test_nesting_thousands_deep(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "[" * 50_000 + "]" * 50_000)
    assert_bad(run("validate", path), "  - file: nested too deeply")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("block.yaml", "".join("  " * i + f"k{i}:\n" for i in range(150)) + "  " * 150 + "x\n"),
        ("flow.yaml", "a: " + "[" * 1500 + "]" * 1500 + "\n"),  # libyaml's own cap is 1,000
        ("shallow.json", "[" * 150 + "]" * 150),  # json.loads takes it; the YAML pass does not
    ],
    ids=["block YAML 150 deep", "flow YAML 1500 deep", "JSON 150 deep"],
)
def test_nesting_over_the_limit_is_one_clear_error(tmp_path: Path, name: str, text: str) -> None:
    result = run("validate", write(tmp_path, name, text))
    assert_bad(result, "  - file: nested too deeply")
    assert "invalid YAML" not in result.stderr
    assert result.stderr.count("\n  - ") == 1, result.stderr


def test_yaml_alias_bomb(tmp_path: Path) -> None:
    """Nine lines that expand to 400 million values are refused before anything is built."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(8):
        prev, this = chr(97 + i), chr(98 + i)
        lines.append(f"{this}: &{this} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert_bad(run("validate", path), "  - file: too large: expected at most 3,000,000 values")


def test_alias_that_contains_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", 'version: "1"\nname: &n [*n]\n')
    assert_bad(run("validate", path), "  - name[0] (line 2): an alias (*name) refers to itself")


# --- huge scenarios ----------------------------------------------------------------------------


def scenario_text(channels: int = 1, periods: int = 1, rules: int = 0) -> str:
    names = ", ".join(f"P{i}" for i in range(periods))
    text = (
        f'version: "1"\nname: huge\nperiods: [{names}]\nbudget: {{total_cny: 100}}\n'
        "objective: {kind: max_gmv}\nchannels:\n"
    )
    text += "".join(
        f"  - {{id: c{i}, kind: curve, response: {{type: linear, roas: 2}}, aov_cny: 100}}\n"
        for i in range(channels)
    )
    if rules:
        text += "rules:\n" + "  - {kind: spend_limit, max_cny: 5}\n" * rules
    return text


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"channels": 2001}, "  - channels (line 6): expected at most 2000 item(s), got 2001"),
        ({"periods": 400}, "  - periods (line 3): expected at most 366 item(s), got 400"),
        ({"rules": 1001}, "  - rules (line 8): expected at most 1000 item(s), got 1001"),
    ],
    ids=["501 channels", "400 periods", "1001 rules"],
)
def test_huge_scenario_exceeds_limits(tmp_path: Path, sizes: dict[str, int], message: str) -> None:
    assert_bad(run("plan", write(tmp_path, "huge.yaml", scenario_text(**sizes))), message)


def test_largest_allowed_scenario_validates(tmp_path: Path) -> None:
    result = run("validate", write(tmp_path, "big.yaml", scenario_text(500, 366, 1000)))
    assert result.exit_code == 0, result.output


# --- Chinese names -----------------------------------------------------------------------------


def test_chinese_names_and_ids_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.yaml", SHOP)
    result = run("validate", path)
    assert result.exit_code == 0, result.output
    table = run("plan", path)
    assert table.exit_code == 0, table.output
    assert "小店双十一" in table.stdout
    assert "直播" in table.stdout
    plan = json.loads(run("plan", path, "--format", "json").stdout)
    assert "直播" in json.dumps(plan, ensure_ascii=False)


def test_chinese_channel_names_appear_in_the_table(tmp_path: Path) -> None:
    table = run("plan", write(tmp_path, "shop.yaml", SHOP))
    assert table.exit_code == 0
    assert "搜索广告" in table.stdout
    assert "抖音达人" in table.stdout


# --- evaluate: broken allocation CSVs ----------------------------------------------------------


def evaluate(tmp_path: Path, csv_text: str) -> Result:
    scenario = write(tmp_path, "shop.yaml", SHOP)
    allocation = write(tmp_path, "split.csv", csv_text)
    return run("evaluate", scenario, "--allocation", allocation)


def test_evaluate_accepts_a_good_split(tmp_path: Path) -> None:
    result = evaluate(tmp_path, "unit,period,spend_cny\nsearch,H1,100\nkol.head,H2,100\n")
    assert result.exit_code in (0, 1), result.output
    assert "Gap to the optimum" in result.stdout


def test_evaluate_accepts_a_plans_own_csv(tmp_path: Path) -> None:
    scenario = write(tmp_path, "shop.yaml", SHOP)
    out = tmp_path / "plan.csv"
    assert run("plan", scenario, "--format", "csv", "--out", out).exit_code == 0
    result = run("evaluate", scenario, "--allocation", out)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("csv_text", "fragments"),
    [
        (
            "channel,period\nsearch,H1\n",
            ["  - header (line 1): missing column(s) spend_cny", "got channel, period"],
        ),
        ("", ["  - header (line 1): missing column(s)", "got none"]),
        ("unit;period;spend_cny\nsearch;H1;5\n", ["(separate columns with commas)"]),
        (
            "unit,period,spend_cny\nsearch,H1,100\nsearch,H2,lots\n",
            ["  - search/H2.spend_cny (line 3): expected a number, got 'lots'"],
        ),
        (
            'unit,period,spend_cny\nsearch,H1,"1,000"\n',
            ["  - search/H1.spend_cny (line 2): expected a number", "thousands separators"],
        ),
        (
            "unit,period,spend_cny\nsearch,H1,-100\n",
            ["  - search/H1.spend_cny (line 2): expected a finite number >= 0, got '-100'"],
        ),
        (
            "unit,period,spend_cny\nsearch,H1,nan\n",
            ["  - search/H1.spend_cny (line 2): expected a finite number >= 0, got 'nan'"],
        ),
        (
            "unit,period,spend_cny\nsearch,H1\n",
            ["  - spend_cny (line 2): missing value: expected 3 cells like the header, got 2"],
        ),
        (
            "unit,period,spend_cny\nsearch,H1,1,2\n",
            ["  - row (line 2): expected 3 cells like the header, got 4"],
        ),
        (
            "unit,period,spend_cny\n,H1,5\n",
            ["  - unit (line 2): expected a value, got an empty cell"],
        ),
        (
            "unit,period,spend_cny\nsearch,H1,5\nsearch,H1,6\n",
            ["  - search/H1 (line 3): given twice (first on line 2)"],
        ),
        ("unit,period,spend_cny\n", ["expected at least one allocation row, got none"]),
        (
            "unit,period,spend_cny\nsearch,H1,100\ntv,H2,5\n",
            ["tv", "unknown channel", "known: search, 直播, kol.head"],
        ),
        ("unit,period,spend_cny\nsearch,H9,5\n", ["search/H9", "unknown period"]),
        (
            "unit,period,spend_cny\nkol,H1,100\n",
            ["kol", "channel 'kol' has tiers: give spend per tier, e.g. kol.head"],
        ),
    ],
    ids=[
        "missing column",
        "empty file",
        "semicolons",
        "non-numeric spend",
        "thousands separator",
        "negative spend",
        "nan spend",
        "short row",
        "long row",
        "empty unit",
        "given twice",
        "no rows",
        "unknown channel",
        "unknown period",
        "KOL channel instead of tiers",
    ],
)
def test_evaluate_bad_allocation(tmp_path: Path, csv_text: str, fragments: list[str]) -> None:
    result = evaluate(tmp_path, csv_text)
    assert_bad(result, "split.csv", *fragments)


def test_evaluate_missing_allocation_file(tmp_path: Path) -> None:
    scenario = write(tmp_path, "shop.yaml", SHOP)
    result = run("evaluate", scenario, "--allocation", tmp_path / "none.csv")
    assert_bad(result, "none.csv", "no such file")


# --- bad options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--solver", "gurobi"], "'gurobi' is not one of"),
        (["--format", "xml"], "'xml' is not one of"),
        (["--tolerance", "5"], "--tolerance"),
        (["--time-limit", "-1"], "--time-limit"),
    ],
    ids=["solver", "format", "tolerance", "time limit"],
)
def test_bad_option_values(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run("plan", write(tmp_path, "t1.yaml", T1), *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = write(tmp_path, "file.txt", "x")
    result = run("plan", write(tmp_path, "t1.yaml", T1), "--out", blocker / "plan.csv")
    assert_bad(result, "error: cannot write")


# --- the installed script: exit codes and no traceback -----------------------------------------


def budgetopt() -> str:
    sibling = Path(sys.executable).with_name("budgetopt")
    found = str(sibling) if sibling.exists() else shutil.which("budgetopt")
    if found is None:
        pytest.skip("the budgetopt script is not installed")
    return found


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        (T1.replace("total_cny: 100", "total_cny: -100"), [], "budget.total_cny (line 4)"),
        (None, [], "no such file"),
        ("[" * 50_000, [], "nested too deeply"),
        (T1, ["--format", "xml"], "'xml' is not one of"),
    ],
    ids=["negative budget", "missing file", "deep nesting", "bad format"],
)
def test_script_exits_2_without_traceback(
    tmp_path: Path, content: str | None, args: list[str], fragment: str
) -> None:
    path = tmp_path / "s.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    proc = subprocess.run(
        [budgetopt(), "plan", str(path), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert fragment in proc.stderr
    assert proc.stdout == ""


def test_evaluate_names_the_csv_line_of_unknown_channels_and_periods(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optimizer.cli.common as cli

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("a broken split must be rejected before any solve")

    monkeypatch.setattr(cli, "make_plan", no_solve)
    result = evaluate(tmp_path, "unit,period,spend_cny\nsearch,H1,1\ntv,H1,5\nsearch,H9,1\n")
    assert result.exit_code == 2
    assert "invalid allocation" in result.output
    assert "tv (line 3): unknown channel" in result.output
    assert "search/H9 (line 4): unknown period; known: H1, H2" in result.output

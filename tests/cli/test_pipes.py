"""Standard output is for data: every command's output, piped from a real process, parses.

HiGHS (1.16) prints its banner with C stdio on descriptor 1, where Python's ``sys.stdout``
cannot catch it, so these tests run the ``budgetopt`` console script in subprocesses and parse
what reaches the pipe. The matrix covers every command with each of its formats and with each
solver (the available backends, and nlp) at least once; half the runs are --verbose, whose
solver logs must reach stderr and nothing else. Runs go two at a time (a start costs ~1.5 s).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from helpers import T1

from optimizer.core.solvers import available_solvers
from optimizer.inputs.files import load_scenario
from optimizer.planner import plan
from optimizer.results.serialise import to_json

BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))
SOLVERS = [*available_solvers(), "nlp"]
HIGHS = ("highs", "highs-direct")
BANNER = "Running HiGHS"
SOLVER_LOG = "Model status"  # a line of HiGHS's log, which --verbose shows on stderr

FORMATS = {
    "plan": ("json", "csv", "table"),
    "evaluate": ("json", "csv"),
    "compare": ("json", "csv"),
    "sweep": ("json", "csv"),
    "frontier": ("json", "csv"),
}
ARGS = {
    "plan": ["plan", "{t1}"],
    "evaluate": ["evaluate", "{t1}", "--allocation", "{split}"],
    "compare": ["compare", "{plan}", "{t1}", "--split", "{split}"],
    "sweep": ["sweep", "{t1}", "--vary", "budget.total_cny=100,150"],
    "frontier": ["frontier", "{t1}", "--from", "100", "--to", "150", "--points", "2"],
}


def matrix() -> list[tuple[str, str, str, bool]]:
    """(command, format, solver, verbose): each command with each format and each solver;
    --verbose on every other run, shifted by one from command to command."""
    cases = []
    for i, (command, formats) in enumerate(FORMATS.items()):
        for k in range(max(len(formats), len(SOLVERS))):
            fmt, solver = formats[k % len(formats)], SOLVERS[k % len(SOLVERS)]
            cases.append((command, fmt, solver, (i + k) % 2 == 0))
    return cases


CASES = matrix()


def case_id(case: tuple[str, str, str, bool]) -> str:
    command, fmt, solver, verbose = case
    return f"{command}-{fmt}-{solver}{'-verbose' if verbose else ''}"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BUDGETOPT, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """T1 (search ROAS 6 up to 60, kol ROAS 4), its optimum as plan JSON, an even split."""
    folder = tmp_path_factory.mktemp("pipes")
    t1 = folder / "t1.yaml"
    t1.write_text(T1 + "settings: {tolerance: 1.0e-6}\n", encoding="utf-8")
    optimum = folder / "optimum.json"
    optimum.write_text(to_json(plan(load_scenario(t1))), encoding="utf-8")
    split = folder / "even.csv"
    split.write_text("unit,period,spend_cny\nsearch,Y,50\nkol,Y,50\n", encoding="utf-8")
    return {"t1": t1, "plan": optimum, "split": split, "folder": folder}


@pytest.fixture(scope="module")
def runs(files: dict[str, Path]) -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    """Every case of the matrix, started two at a time; each test waits for its own."""
    names = {k: str(v) for k, v in files.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for case in CASES:
            command, fmt, solver, verbose = case
            args = [a.format(**names) for a in ARGS[command]]
            options = ["-f", fmt, "--solver", solver]
            futures[case_id(case)] = pool.submit(
                run, *(["--verbose"] if verbose else []), *args, *options
            )
        yield futures


def parse_csv(text: str) -> list[dict[str, str]]:
    """Rows of a CSV output (UTF-8 with BOM); every row as wide as the header."""
    assert text.startswith("\ufeff"), text[:80]
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows, text
    for row in rows:
        assert None not in row and None not in row.values(), row  # no ragged lines
    return rows


def parse_table(text: str) -> str:
    assert "two linear" in text and "fingerprint" in text, text
    return text


PARSERS: dict[str, Callable[[str], Any]] = {"json": json.loads, "csv": parse_csv}


def gmv_of(command: str, fmt: str, data: Any) -> list[float]:
    """The GMV figures that came through the pipe, in the order of EXPECTED."""
    if fmt == "json":
        return {
            "plan": lambda: [data["total"]["gmv_cny"]],
            "evaluate": lambda: [data["total"]["gmv_cny"], data["comparison"]["optimum_objective"]],
            "compare": lambda: data["total"]["gmv_cny"]["values"],
            "sweep": lambda: [p["metrics"]["gmv_cny"] for p in data["points"]],
            "frontier": lambda: [p["point"]["metrics"]["gmv_cny"] for p in data["points"]],
        }[command]()
    if command == "compare":
        row = next(r for r in data if r["level"] == "total" and r["metric"] == "gmv_cny")
        return [float(row[label]) for label in ("optimum", "t1", "even")]
    if command in ("plan", "evaluate"):
        return [float(r["gmv_cny"]) for r in data if r["level"] == "total"]
    return [float(r["gmv_cny"]) for r in data]


# T1 at a budget of 100: search 60 x 6 + kol 40 x 4 = 520; the even split 50/50 makes 500;
# at 150 kol takes 90: 720.
EXPECTED = {
    ("plan", "json"): [520],
    ("plan", "csv"): [520],
    ("evaluate", "json"): [500, 520],
    ("evaluate", "csv"): [500],
    ("compare", "json"): [520, 520, 500],
    ("compare", "csv"): [520, 520, 500],
    ("sweep", "json"): [520, 720],
    ("sweep", "csv"): [520, 720],
    ("frontier", "json"): [520, 720],
    ("frontier", "csv"): [520, 720],
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_format_of_each_command_pipes_clean_data(case, runs):
    command, fmt, solver, verbose = case
    done = runs[case_id(case)].result()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "HiGHS" not in done.stdout
    if fmt == "table":
        parse_table(done.stdout)
    else:
        gmv = gmv_of(command, fmt, PARSERS[fmt](done.stdout))
        assert gmv == pytest.approx(EXPECTED[command, fmt], rel=1e-5)
    if solver in HIGHS:
        # --verbose: HiGHS's log reaches stderr; without it, the log is discarded
        assert (SOLVER_LOG in done.stderr) is verbose, done.stderr[:500]
        assert BANNER not in done.stdout + done.stderr


def test_the_matrix_covers_every_command_format_and_solver():
    for command, formats in FORMATS.items():
        seen = {(fmt, solver) for c, fmt, solver, _ in CASES if c == command}
        assert {fmt for fmt, _ in seen} == set(formats)
        assert {solver for _, solver in seen} == set(SOLVERS)
    for solver in SOLVERS:
        assert {verbose for *_, s, verbose in CASES if s == solver} == {True, False}


def test_batch_writes_nothing_to_stdout_and_its_files_parse(files, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "t1.yaml").write_text(files["t1"].read_text(encoding="utf-8"), encoding="utf-8")
    half = files["t1"].read_text(encoding="utf-8").replace("total_cny: 100", "total_cny: 50")
    (folder / "half.yaml").write_text(half.replace("two linear", "half"), encoding="utf-8")
    solver = SOLVERS[0]
    done = run("--verbose", "batch", str(folder), "--out", str(out), "--workers", "1",
               "--no-charts", "--solver", solver)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # documented: the reports are the output, stderr the progress
    assert "2 files: 2 planned" in done.stderr
    if solver in HIGHS:
        assert SOLVER_LOG in done.stderr  # --verbose reaches the worker processes
    with (out / "summary.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["name"]: r for r in csv.DictReader(handle)}
    assert float(rows["two linear"]["gmv_cny"]) == pytest.approx(520, rel=1e-5)
    assert float(rows["half"]["gmv_cny"]) == pytest.approx(300, rel=1e-5)
    for row in rows.values():
        stored = json.loads((out / row["result"]).read_text(encoding="utf-8"))
        assert stored["total"]["gmv_cny"] == pytest.approx(float(row["gmv_cny"]))


def test_text_commands_write_only_their_output_to_stdout(files):
    schema = run("schema")
    assert schema.returncode == 0 and json.loads(schema.stdout)["title"] == "Scenario"
    valid = run("validate", str(files["t1"]))
    assert valid.returncode == 0 and valid.stdout.endswith(
        "valid (2 channels, 1 periods, 0 rules)\n"
    )
    helped = run("plan", "--help")
    assert helped.returncode == 0 and "Usage: budgetopt plan" in helped.stdout
    assert helped.stderr == ""


def test_version_lists_budgetopt_and_the_solver_libraries():
    from importlib import metadata

    done = run("--version")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"budgetopt {metadata.version('budgetopt')}"
    names = [line.split()[0] for line in lines]
    assert names == ["budgetopt", "highspy", "PuLP", "CBC", "scipy"]
    assert f"highspy {metadata.version('highspy')} (HiGHS " in lines[1]
    assert lines[2].startswith(f"PuLP {metadata.version('pulp')}")
    assert lines[4] == f"scipy {metadata.version('scipy')} (method nlp)"
    for solver in available_solvers():
        assert solver in done.stdout
    assert BANNER not in done.stdout + done.stderr


# The solver-level fix (optimizer.core.solvers.output) undone, and a library that prints: the
# command line's own guard must still keep stdout for the plan.
NOISY = """
import contextlib, os, sys
import optimizer.cli.common
import optimizer.core.solvers.highs_direct, optimizer.core.solvers.pulp_highs
for module in (optimizer.core.solvers.highs_direct, optimizer.core.solvers.pulp_highs):
    module.quiet_construction = contextlib.nullcontext
solve = optimizer.cli.common.make_plan
def noisy(*args, **kwargs):
    print("a library's print")
    os.write(1, b"a C library's write\\n")
    return solve(*args, **kwargs)
optimizer.cli.common.make_plan = noisy
from api.cli import main
sys.argv = ["budgetopt", *sys.argv[1:]]
main()
"""


@pytest.mark.skipif(not set(HIGHS) & set(SOLVERS), reason="needs highspy")
def test_the_command_line_guard_keeps_stray_output_off_stdout(files):
    solver = next(s for s in SOLVERS if s in HIGHS)
    done = subprocess.run(
        [sys.executable, "-c", NOISY, "plan", str(files["t1"]), "-f", "json", "--solver", solver],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"]["gmv_cny"] == pytest.approx(520, rel=1e-5)
    assert "a library's print" in done.stderr and "a C library's write" in done.stderr
    assert BANNER in done.stderr  # printed at descriptor 1 with the solver-level fix undone

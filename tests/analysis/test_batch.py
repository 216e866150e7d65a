"""Batch runs: isolation of bad files, resumption after a kill, determinism, Dask = local."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from optimizer.analysis.batch import BatchOptions, discover, run_file

BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))


def variant(i: int) -> dict:
    """Linear ROAS 4 up to 300k, then ROAS 2: GMV = 4 x 300k + 2 x (budget - 300k) by hand."""
    return {
        "version": "1",
        "name": f"variant {i}",
        "periods": ["Y"],
        "budget": {"total_cny": 1_000_000 + 1_000 * i, "mode": "up_to"},
        "objective": {"kind": "max_gmv"},
        "channels": [
            {
                "id": "live",
                "kind": "curve",
                "response": {"type": "linear", "roas": 4.0},
                "aov_cny": 100,
                "max_spend_cny": 300_000,
            },
            {
                "id": "search",
                "kind": "curve",
                "response": {"type": "linear", "roas": 2.0},
                "aov_cny": 100,
            },
        ],
        "settings": {"tolerance": 1e-6},
    }


def expected_gmv(i: int) -> float:
    return 4 * 300_000 + 2 * (1_000_000 + 1_000 * i - 300_000)


def make_folder(folder: Path, count: int, broken: set[int]) -> None:
    folder.mkdir()
    for i in range(count):
        path = folder / f"s{i:04d}.json"
        if i in broken:
            path.write_text('{"version": "1", "name": "broken", "periods": [' if i % 2 else "{}")
        else:
            path.write_text(json.dumps(variant(i)))


def summary(out: Path) -> list[dict]:
    with (out / "summary.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def batch(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([BUDGETOPT, "batch", *args], capture_output=True, text=True, **kw)


def test_thousand_files_with_broken_ones_stop_and_resume(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    broken = set(range(7, 1000, 50))  # 20 broken files
    make_folder(folder, 1000, broken)
    command = [BUDGETOPT, "batch", str(folder), "--out", str(out), "--workers", "2", "--no-charts"]
    first = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    plans = out / "plans"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(plans.glob("*.json"))) < 150:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the whole job: parent and its worker processes
    first.wait(10)
    time.sleep(0.5)  # let the killed workers' exits settle before taking stock
    done_before = {p: p.stat().st_mtime_ns for p in plans.glob("*.json")}
    assert 150 <= len(done_before) < 980, "the kill must land part-way"
    assert not (out / "summary.csv").exists()

    rerun = batch(str(folder), "--out", str(out), "--workers", "2", "--no-charts")
    assert rerun.returncode == 1, rerun.stderr  # some files are broken
    assert f"({len(done_before)} reused from an earlier run)" in rerun.stderr
    # Nothing done before the kill was solved again.
    assert all(p.stat().st_mtime_ns == t for p, t in done_before.items())
    rows = summary(out)
    assert len(rows) == 1000
    errors = [r for r in rows if r["status"] == "error"]
    assert sorted(int(Path(r["file"]).stem[1:]) for r in errors) == sorted(broken)
    assert all(r["error"] for r in errors)
    assert "20 failed" in rerun.stderr
    for r in rows:
        if r["status"] != "error":
            i = int(Path(r["file"]).stem[1:])
            assert float(r["gmv_cny"]) == pytest.approx(expected_gmv(i), rel=1e-6)
    book = openpyxl.load_workbook(out / "summary.xlsx", read_only=True)
    assert len(book.sheetnames) == 1 + 980


def test_reports_are_deterministic_and_charts_embedded(tmp_path):
    folder = tmp_path / "in"
    make_folder(folder, 4, {2})
    outputs = []
    for name, workers in (("a", "1"), ("b", "2")):
        out = tmp_path / name
        done = batch(str(folder), "--out", str(out), "--workers", workers)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        outputs.append(out)
    a, b = outputs
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()
    for plan in (a / "plans").glob("*.json"):
        assert plan.read_bytes() == (b / "plans" / plan.name).read_bytes()
    assert len(list((a / "charts").glob("*-allocation.png"))) == 3
    assert len(list((a / "charts").glob("*-response.png"))) == 3
    book = openpyxl.load_workbook(a / "summary.xlsx")
    sheet = book[book.sheetnames[1]]
    assert len(sheet._images) == 2  # allocation and response curves
    assert sheet["A2"].value == "live" and sheet["C2"].value == pytest.approx(300_000, rel=1e-6)


def test_dask_local_cluster_gives_the_local_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "in"
    make_folder(folder, 6, {1})
    local = tmp_path / "local"
    assert batch(str(folder), "--out", str(local), "--workers", "2", "--no-charts").returncode == 1
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = tmp_path / "dask"
        done = batch(
            str(folder),
            "--out",
            str(remote),
            "--scheduler",
            cluster.scheduler_address,
            "--no-charts",
        )
    assert done.returncode == 1, done.stderr
    assert (local / "summary.csv").read_bytes() == (remote / "summary.csv").read_bytes()


def test_bad_arguments(tmp_path):
    missing = batch(str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = batch(str(empty), "--out", str(tmp_path / "o"))
    assert none.returncode == 2 and "no scenario files" in none.stderr
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "s.json").write_text(json.dumps(variant(0)))
    (tmp_path / "file").write_text("x")
    clash = batch(str(tmp_path / "in"), "--out", str(tmp_path / "file"))
    assert clash.returncode == 2 and "is a file" in clash.stderr
    # Dask retries a refused connection for its connect timeout (30 s by default): 3 s says the
    # same about a scheduler nobody listens to.
    unreachable = batch(
        str(tmp_path / "in"),
        "--out",
        str(tmp_path / "o"),
        "--scheduler",
        "tcp://127.0.0.1:1",
        env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"},
    )
    assert unreachable.returncode == 2 and "Dask scheduler" in unreachable.stderr
    assert "Traceback" not in missing.stderr + none.stderr + clash.stderr + unreachable.stderr


def test_run_file_reuses_a_stored_plan_and_discover_skips_the_output(tmp_path):
    source = tmp_path / "s.json"
    source.write_text(json.dumps(variant(3)))
    out = tmp_path / "out"
    first = run_file(str(source), str(out), BatchOptions())
    assert first["reused"] is False and first["gmv_cny"] == pytest.approx(expected_gmv(3), rel=1e-6)
    second = run_file(str(source), str(out), BatchOptions())
    assert second["reused"] is True and second["gmv_cny"] == first["gmv_cny"]
    (out / "note.json").write_text("{}")
    assert discover([tmp_path], exclude=out) == [source]


def test_excel_templates_are_planned_and_lock_files_skipped(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    template = Path(__file__).resolve().parents[2] / "scenarios" / "template.xlsx"
    (folder / "finance.xlsx").write_bytes(template.read_bytes())
    (folder / "~$finance.xlsx").write_bytes(b"Excel's lock file")
    (folder / "broken.xlsx").write_bytes(b"not a zip")
    assert [p.name for p in discover([folder])] == ["broken.xlsx", "finance.xlsx"]
    done = batch(str(folder), "--out", str(out), "--no-charts")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    rows = {Path(r["file"]).name: r for r in summary(out)}
    # the template is the annual example: the same plan as scenarios/annual_2026.yaml
    assert float(rows["finance.xlsx"]["gmv_cny"]) == pytest.approx(581_227_282, rel=1e-4)
    assert rows["broken.xlsx"]["status"] == "error" and "xlsx" in rows["broken.xlsx"]["error"]


def test_json_schemas_are_skipped_not_reported_as_bad_files(tmp_path):
    root = Path(__file__).resolve().parents[2]
    assert not any(p.name.endswith(".schema.json") for p in discover([root / "scenarios"]))
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    scenario = folder / "s.json"
    scenario.write_text(json.dumps(variant(0)))
    schema = folder / "scenario.schema.json"
    schema.write_bytes((root / "scenarios" / "scenario.schema.json").read_bytes())
    other = folder / "rules.json"  # any JSON Schema, whatever its name
    other.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema"}))
    skipped = []
    found = discover([folder], on_skip=lambda path, reason: skipped.append((path, reason)))
    assert found == [scenario]
    assert sorted(skipped) == [(p, "a JSON Schema, not a scenario") for p in (other, schema)]
    # a scenario with an editor's "$schema" hint stays a scenario: its error row says why
    hinted = tmp_path / "hinted.json"
    hinted.write_text(json.dumps({"$schema": "./scenario.schema.json", **variant(1)}))
    assert discover([hinted]) == [hinted]
    assert discover([schema]) == []

    done = batch(str(folder), "--out", str(out), "--workers", "1", "--no-charts")
    assert done.returncode == 0, done.stderr
    assert f"skipped {schema}: a JSON Schema, not a scenario" in done.stderr
    assert f"skipped {other}: a JSON Schema" in done.stderr
    assert "1 files: 1 planned" in done.stderr and "0 failed" in done.stderr
    assert [Path(r["file"]) for r in summary(out)] == [scenario]
    only = batch(str(schema), "--out", str(out))
    assert only.returncode == 2 and "no scenario files" in only.stderr

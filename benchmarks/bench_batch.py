"""Batch throughput: scenarios per second with 1 and 2 local worker processes.

    .venv/bin/python benchmarks/bench_batch.py --files 400 --runs 3

Writes generated scenario files to a temporary folder, runs ``budgetopt batch`` on them with
each worker count (fresh output folder each run, charts off), and prints the median scenarios
per second and the ratio to the first worker count. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))


def scenario(i: int) -> dict:
    """A quarterly two-channel plan; budgets differ so every file has its own fingerprint."""
    return {
        "version": "1",
        "name": f"variant {i}",
        "periods": ["Q1", "Q2", "Q3", "Q4"],
        "budget": {"total_cny": 1_000_000 + 1_000 * i, "mode": "up_to"},
        "objective": {"kind": "max_gmv"},
        "channels": [
            {
                "id": "live",
                "kind": "curve",
                "response": {"type": "exponential", "max_gmv_cny": 3e6, "scale_cny": 4e5},
                "aov_cny": 100,
            },
            {
                "id": "search",
                "kind": "curve",
                "response": {"type": "linear", "roas": 2.5},
                "aov_cny": 100,
            },
        ],
    }


def main() -> None:
    """Time the batch with each worker count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i in range(args.files):
            (folder / f"s{i:05d}.json").write_text(json.dumps(scenario(i)))
        rates: dict[int, list[float]] = {w: [] for w in counts}
        for run in range(args.runs):
            for workers in counts:
                out = Path(tmp) / f"out-{workers}-{run}"
                command = [BUDGETOPT, "batch", str(folder), "--out", str(out)]
                command += ["--workers", str(workers), "--no-charts"]
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                rates[workers].append(args.files / (time.perf_counter() - started))
    base = statistics.median(rates[counts[0]])
    print(f"{args.files} files, {args.runs} runs each (whole command: start-up and reports)")
    print(f"{'workers':>7} {'median scenarios/s':>19} {'min':>7} {'max':>7} {'ratio':>6}")
    for workers in counts:
        values = rates[workers]
        median = statistics.median(values)
        print(
            f"{workers:7d} {median:19.1f} {min(values):7.1f} {max(values):7.1f} "
            f"{median / base:6.2f}"
        )


if __name__ == "__main__":
    main()

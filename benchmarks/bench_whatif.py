"""What-if throughput: sweep and frontier points per second with 1 and 2 worker processes.

    .venv/bin/python benchmarks/bench_whatif.py --runs 3

Solves the example annual plan (7 channels, 4 quarters, 6 rules) at every point of a budget
frontier and of a two-field sweep, in this process (1 worker) and in 2 spawned processes, and
prints the median wall time, points per second and the ratio to 1 worker. Also times one
separate ``plan`` of the same scenario, the baseline a point costs. Not part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from optimizer.analysis.whatif import budget_range, frontier, parse_vary, sweep
from optimizer.inputs.files import load_scenario
from optimizer.planner import plan

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "annual_2026.yaml"


def median_seconds(run: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--points", type=int, default=24, help="Frontier budgets (the sweep has about as many)."
    )
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    budgets = budget_range(70e6, 270e6, args.points)
    varies = [
        parse_vary(f"budget.total_cny=100e6:160e6:{max(args.points // 4, 2)}"),
        parse_vary("channels[live_traffic].cpm.base_cny=25,30,35,40"),
    ]
    single = median_seconds(lambda: plan(scenario), args.runs)
    print(f"one plan of {scenario.name}: median {single * 1000:.0f} ms over {args.runs} runs")
    print(f"{'tool':<10}{'points':>8}{'workers':>9}{'median s':>10}{'points/s':>10}{'ratio':>7}")
    jobs = {
        "frontier": (len(budgets), lambda w: frontier(scenario, budgets, workers=w)),
        "sweep": (4 * max(args.points // 4, 2), lambda w: sweep(scenario, varies, workers=w)),
    }
    for name, (count, job) in jobs.items():
        base = None
        for workers in (1, 2):
            seconds = median_seconds(lambda w=workers, j=job: j(w), args.runs)
            rate = count / seconds
            base = base or rate
            print(
                f"{name:<10}{count:>8}{workers:>9}{seconds:>10.2f}{rate:>10.1f}{rate / base:>7.2f}"
            )


if __name__ == "__main__":
    main()

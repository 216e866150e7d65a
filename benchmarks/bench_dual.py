"""The dual method against the LP route on the weekly benchmark problems of issue 13.

Run: .venv/bin/python benchmarks/bench_dual.py [--runs 5] [--lp-runs 1] [--lp-limit 120]
     [--sizes 8,50,1000,8s] [--lp-large]

Problems (``problems.weekly``, seeded): 8 x 52 with budget and per-week bounds; 50 x 52 adding
an overall ROAS floor, a CAC ceiling and a GMV share that all bind; 1,000 x 52 with budget,
bounds and a binding ROAS floor; 8 x 52 with S-shaped Hill curves. Each problem is built once;
the table gives the median of ``--runs`` in-process solves by ``auto`` (the dual method where it
applies) and by the LP route (``highs-direct``, the fastest backend, tolerance 1e-6) on the same
problem in the same run: seconds, objective, the proven gap, and the ratio of the LP's time to
auto's. The LP route is skipped on 1,000 x 52 unless ``--lp-large``: its 104,000 rows and 52,000
curves take it past any useful limit. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from problems import binding_rules, weekly

from optimizer.core.problem import build_problem
from optimizer.planner import solve_problem


def cases(sizes: list[str]) -> list[tuple[str, object]]:
    """The named scenarios to time."""
    found = []
    for size in sizes:
        if size == "8":
            found.append(("8 x 52, budget + bounds", weekly(8)))
        elif size == "50":
            found.append(("50 x 52, + ROAS, CAC, share", weekly(50, rules=binding_rules(50))))
        elif size == "1000":
            free_roas = binding_rules(1000)[0]
            found.append(("1000 x 52, + ROAS floor", weekly(1000, rules=[free_roas])))
        elif size == "8s":
            found.append(("8 x 52 S-shaped, budget + bounds", weekly(8, s_shaped=True)))
    return found


def timed(problem: object, method: str, runs: int, limit: float) -> tuple[float, object]:
    """Median seconds of ``runs`` solves, and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = solve_problem(problem, method, 1e-6, limit)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lp-runs", type=int, default=1)
    parser.add_argument("--lp-limit", type=float, default=120.0)
    parser.add_argument("--sizes", default="8,50,1000,8s")
    parser.add_argument("--lp-large", action="store_true")
    args = parser.parse_args()
    header = (
        f"{'problem':<34}{'route':<22}{'median s':>10}{'objective':>18}{'gap':>10}{'LP/auto':>9}"
    )
    print(header)
    for name, scenario in cases(args.sizes.split(",")):
        start = time.perf_counter()
        problem = build_problem(scenario)  # type: ignore[arg-type]
        built = time.perf_counter() - start
        seconds, auto = timed(problem, "auto", args.runs, args.lp_limit)
        print(_line(name, auto.solver, seconds, auto, None))
        if name.startswith("1000") and not args.lp_large:
            print(f"{'':<34}{'highs-direct':<22}{'not run (--lp-large)':>20}")
        else:
            lp_seconds, lp = timed(problem, "highs-direct", args.lp_runs, args.lp_limit)
            print(_line("", lp.solver, lp_seconds, lp, lp_seconds / seconds))
        print(f"{'':<34}(problem built in {built:.3f} s, not counted above)")


def _line(name: str, route: str, seconds: float, result: object, ratio: float | None) -> str:
    objective = getattr(result, "objective", None)
    gap = getattr(result, "gap", None)
    shown = f"{objective:,.0f}" if objective is not None else getattr(result, "status", "")
    gap_text = f"{gap:.1e}" if gap is not None else "-"
    ratio_text = f"{ratio:.0f}x" if ratio is not None else ""
    route = route.replace("auto: ", "auto→")[:21]
    return f"{name:<34}{route:<22}{seconds:>10.4f}{shown:>18}{gap_text:>10}{ratio_text:>9}"


if __name__ == "__main__":
    main()

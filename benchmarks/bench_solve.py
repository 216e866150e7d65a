"""Build and solve time, objective and gap for plans of growing size.

Run: .venv/bin/python benchmarks/bench_solve.py [--runs N] [--solvers highs,highs-direct,cbc]
     [--sizes 4x4,20x52,50x52]
Prints medians over N runs and each solver's solve time relative to the first (the baseline).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from optimizer.core.engine import optimise
from optimizer.core.problem import build_problem
from optimizer.core.pwl import build_program, initial_grid, segments
from optimizer.core.solvers import get_solver
from optimizer.schema.scenario import Scenario


def synthetic(channels: int, periods: int, seed: int = 7) -> Scenario:
    """A brand-like scenario: paid, KOL, private-domain and curve channels with rules."""
    rng = np.random.default_rng(seed)
    labels = [f"P{t + 1:02d}" for t in range(periods)]
    season = (
        1
        + 0.5 * np.exp(-((np.arange(periods) - 0.45 * periods) ** 2) / 8)
        + 0.8 * np.exp(-((np.arange(periods) - 0.85 * periods) ** 2) / 8)
    )
    budget = 120e6
    per_period = budget / periods / channels
    items = []
    for c in range(channels):
        kind = ("paid", "kol", "private_domain", "curve")[c % 4]
        scale = float(per_period * rng.uniform(0.8, 2.5))
        base = {"id": f"{kind}_{c}", "groups": ["self_live"] if c % 3 == 0 else []}
        if kind == "paid":
            items.append(
                {
                    **base,
                    "kind": "paid",
                    "ctr": 0.02,
                    "cvr": float(rng.uniform(0.02, 0.05)),
                    "aov_cny": 180,
                    "new_customer_share": 0.5,
                    "cpm": {
                        "base_cny": float(rng.uniform(25, 45)),
                        "trend": {
                            "type": "compound",
                            "rate_per_period": 0.42 ** (1 / periods) - 1 + 0.0,
                        },
                    },
                    "saturation": {"type": "exponential", "scale_cny": scale},
                }
            )
        elif kind == "kol":
            items.append(
                {
                    **base,
                    "kind": "kol",
                    "tiers": [
                        {
                            "id": "head",
                            "commission_rate": 0.32,
                            "fee_roas": float(rng.uniform(6, 9)),
                            "aov_cny": 220,
                            "saturation": {"type": "exponential", "scale_cny": scale},
                        },
                        {
                            "id": "mid",
                            "commission_rate": 0.2,
                            "fee_roas": float(rng.uniform(5, 7)),
                            "aov_cny": 200,
                            "saturation": {"type": "exponential", "scale_cny": scale},
                        },
                    ],
                }
            )
        elif kind == "private_domain":
            items.append(
                {
                    **base,
                    "kind": "private_domain",
                    "members": 467_000,
                    "cost_per_reach_cny": float(rng.uniform(0.5, 2.0)) * 52 / periods,
                    "repurchase_rate": 0.446,
                    "orders_per_buyer": 4,
                    "aov_cny": 187,
                }
            )
        else:
            items.append(
                {
                    **base,
                    "kind": "curve",
                    "aov_cny": 200,
                    "response": {
                        "type": "hill",
                        "max_gmv_cny": float(scale * rng.uniform(5, 9)),
                        "half_saturation_cny": scale,
                        "shape": 1.0,
                    },
                }
            )
    return Scenario.model_validate(
        {
            "version": "1",
            "name": f"synthetic {channels}x{periods}",
            "periods": labels,
            "seasonality": [float(v) for v in season],
            "budget": {"total_cny": budget},
            "objective": {"kind": "max_gmv"},
            "channels": items,
            "rules": [
                {"kind": "roas_floor", "min_roas": 4.5},
                {"kind": "commission_cap", "max_rate": 0.25},
                {"kind": "gmv_share", "groups": ["self_live"], "min_share": 0.2},
            ],
            "settings": {"time_limit_s": 600},
        }
    )


def measure(channels: int, periods: int, solver: str, runs: int) -> dict[str, float]:
    """Median build and solve seconds over ``runs``, with the last objective and gap."""
    scenario = synthetic(channels, periods)
    builds, solves = [], []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        problem = build_problem(scenario)
        grid = initial_grid(problem)
        build_program(problem, segments(problem, grid, "chord"))
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = optimise(problem, get_solver(solver), tolerance=1e-4, time_limit_s=600)
        solves.append(time.perf_counter() - started)
    assert result is not None
    return {
        "build_s": statistics.median(builds),
        "solve_s": statistics.median(solves),
        "objective": result.objective or float("nan"),
        "gap": result.gap or 0.0,
        "rounds": result.rounds,
        "status": result.status,
    }


def main() -> None:
    """Print one row per size and solver, with solve-time ratios to the first solver."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--solvers",
        default="highs,highs-direct",
        help="comma-separated; the first is the baseline for the ratio column",
    )
    parser.add_argument("--sizes", default="4x4,20x52,50x52")
    args = parser.parse_args()
    solvers = args.solvers.split(",")
    print(f"median of {args.runs} runs, tolerance 1e-4; ratio = solve time / {solvers[0]}'s")
    print(
        f"{'size':>8} {'solver':>13} {'build s':>9} {'solve s':>9} {'ratio':>6} {'rounds':>6} "
        f"{'status':>9} {'objective (GMV)':>18} {'gap':>9}"
    )
    for size in args.sizes.split(","):
        c, p = (int(v) for v in size.split("x"))
        baseline = None
        for solver in solvers:
            row = measure(c, p, solver, args.runs)
            baseline = baseline or row["solve_s"]
            print(
                f"{size:>8} {solver:>13} {row['build_s']:9.3f} {row['solve_s']:9.2f} "
                f"{row['solve_s'] / baseline:6.2f} {row['rounds']:6d} {row['status']:>9} "
                f"{row['objective']:18,.0f} {row['gap']:9.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()

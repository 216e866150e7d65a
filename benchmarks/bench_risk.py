"""Risk-aware plans over curves with draws: how long the mean and the CVaR take as draws grow.

Run: .venv/bin/python benchmarks/bench_risk.py [--runs 3] [--channels 50] [--weeks 52]
     [--draws 50,200,500] [--adstock]

Problem: ``--channels`` curve channels (exponential and concave Hill responses, seasonality
through the weeks) over ``--weeks`` weeks, a budget to spend and a ROAS floor set 3% above the
budget-only optimum so that it binds; every channel's max GMV and half-saturation drawn
(lognormal, seeded, joint across channels through a common factor). For each draw count the
table gives the median seconds of ``--runs`` whole ``plan()`` calls (problem, solve, the
re-check of every rule, the ranges over every draw) with the point curves (ranges only), the
mean over draws and the CVaR of the worst 10%, with the proven gap and the cutting planes the
CVaR took. ``--adstock`` gives every channel a geometric adstock of 4 lags whose decay is
drawn too (the risk-aware method's chain route). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from optimizer.planner import plan
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario


def problem(
    channels: int,
    weeks: int,
    draws: int,
    risk: dict | None,
    floor: float | None,
    adstock: bool = False,
) -> Scenario:
    """The benchmark scenario (seeded: the same numbers every run); with ``adstock``, every
    channel carries over (geometric, 4 lags, 4 weeks of history) with its decay drawn."""
    rng = np.random.default_rng(2026)
    season = (1.0 + 0.3 * np.sin(np.arange(weeks) * 2 * np.pi / 52)).round(4).tolist()
    common = rng.normal(0.0, 0.15, draws)
    out = []
    for i in range(channels):
        max_gmv = float(rng.uniform(2e6, 8e6))
        width = float(rng.uniform(2e5, 1e6))
        kind = "exponential" if i % 2 else "hill"
        response = {"type": kind, "max_gmv_cny": round(max_gmv)}
        response |= (
            {"scale_cny": round(width)}
            if kind == "exponential"
            else {
                "half_saturation_cny": round(width),
                "shape": 1.0,
            }
        )
        own = rng.normal(0.0, 0.25, draws)
        name = "scale_cny" if kind == "exponential" else "half_saturation_cny"
        channel = {
            "id": f"c{i:02d}",
            "kind": "curve",
            "response": response,
            "aov_cny": 200,
            "draws": {
                "response": {
                    "max_gmv_cny": (max_gmv * np.exp(common + own - 0.5 * 0.29**2)).tolist(),
                    name: (width * rng.lognormal(0.0, 0.2, draws)).tolist(),
                }
            },
        }
        if adstock:
            decay = float(rng.uniform(0.2, 0.6))
            channel["adstock"] = {"type": "geometric", "decay": round(decay, 3), "max_lag": 4}
            channel["history_spend_cny"] = [round(width)] * 4
            spread = np.clip(decay + rng.normal(0.0, 0.08, draws), 0.0, 0.9)
            channel["draws"]["adstock"] = {"decay": spread.tolist()}
        out.append(channel)
    objective: dict = {"kind": "max_gmv"} | ({"risk": risk} if risk else {})
    rules = [{"id": "roas_floor", "kind": "roas_floor", "min_roas": floor}] if floor else []
    return Scenario.model_validate(
        {
            "version": "1",
            "name": f"risk {channels}x{weeks}x{draws}",
            "periods": [f"W{t + 1:02d}" for t in range(weeks)],
            "seasonality": season,
            "budget": {"total_cny": 2.5e5 * channels * weeks},
            "objective": objective,
            "channels": out,
            "rules": rules,
            "settings": {"time_limit_s": 600, "tolerance": 1e-6},
        }
    )


def timed(scenario: Scenario, runs: int) -> tuple[float, Plan]:
    """Median seconds of ``runs`` plans, and the last one."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = plan(scenario)
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--draws", default="50,200,500")
    parser.add_argument("--adstock", action="store_true", help="every channel carries over")
    args = parser.parse_args()
    print("| draws | objective | seconds | x point | objective value | gap | rounds |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for count in (int(d) for d in args.draws.split(",")):
        free = plan(problem(args.channels, args.weeks, count, None, None, args.adstock))
        assert free.total is not None and free.total.roas
        floor = round(free.total.roas * 1.03, 4)
        base = None
        for label, risk in (
            ("point curves", None),
            ("mean", {"measure": "mean"}),
            ("CVaR 10%", {"measure": "cvar", "level": 0.1}),
        ):
            seconds, result = timed(
                problem(args.channels, args.weeks, count, risk, floor, args.adstock), args.runs
            )
            base = base or seconds
            gap = result.solver.gap if result.solver and result.solver.gap is not None else None
            rounds = result.solver.rounds if result.solver else 0
            value = f"{result.objective_value:,.0f}" if result.objective_value else result.message
            print(
                f"| {count} | {label} | {seconds:.2f} | {seconds / base:.1f} | {value} | "
                f"{'' if gap is None else f'{gap:.1e}'} | {rounds} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

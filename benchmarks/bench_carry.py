"""Weekly plans with carry-over (adstock): the dual (chain) method against the LP and NLP routes.

Run: .venv/bin/python benchmarks/bench_carry.py [--runs 5] [--lp-runs 1] [--lp-limit 120]

Problems: ``scenarios/weekly_2026.yaml`` (52 weeks; live, KOL and search with adstock and
history; the annual plan's ROAS, CAC, share and commission rules); ``problems.weekly(50,
carry=True)`` (50 paid channels x 52 weeks, each with geometric adstock of 4-8 weeks and four
weeks of history, budget and per-week bounds); the same with a ROAS floor, a CAC ceiling and a
GMV share set 3% / 3% / 2 points beyond its budget-only optimum so that they bind. The table
gives the median seconds of ``--runs`` whole ``plan()`` calls (building the problem, solving,
re-checking every rule and the report) by the dual method, and of ``--lp-runs`` by the LP route
(``highs-direct``, tolerance 1e-6) and by SLSQP (``nlp``, where it takes the size), with the
objective, the proven gap and each route's time over the dual's. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from problems import weekly

from optimizer.inputs.files import load_scenario
from optimizer.planner import plan
from optimizer.results.plan import Plan

WEEKLY = Path(__file__).resolve().parents[1] / "scenarios" / "weekly_2026.yaml"


def bound_rules(scenario: object) -> list[dict]:
    """ROAS 3% above, CAC 3% below and the self-live share 2 points above the free optimum."""
    free = plan(scenario, solver="dual")  # type: ignore[arg-type]
    assert free.total is not None and free.total.roas and free.total.cac_cny
    group = [c for c in free.channels if c.startswith("self_live")]
    share = sum(free.by_channel[c].gmv_cny for c in group) / free.total.gmv_cny
    return [
        {"id": "roas_floor", "kind": "roas_floor", "min_roas": round(free.total.roas * 1.03, 4)},
        {"id": "cac", "kind": "cac_ceiling", "max_cac_cny": round(free.total.cac_cny * 0.97, 4)},
        {
            "id": "live_share",
            "kind": "gmv_share",
            "channels": group,
            "min_share": round(share + 0.02, 4),
        },
    ]


def timed(scenario: object, method: str, runs: int, limit: float) -> tuple[float, Plan]:
    """Median seconds of ``runs`` plans, and the last one."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = plan(scenario, solver=method, time_limit_s=limit)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lp-runs", type=int, default=1)
    parser.add_argument("--lp-limit", type=float, default=120.0)
    args = parser.parse_args()
    free = weekly(50, carry=True)
    cases = [
        ("weekly_2026.yaml (6 units x 52)", load_scenario(WEEKLY)),
        ("50 x 52 carry, budget + bounds", free),
        ("50 x 52 carry, + ROAS, CAC, share", weekly(50, carry=True, rules=bound_rules(free))),
    ]
    print(f"{'problem':<36}{'route':<14}{'median s':>10}{'objective':>18}{'gap':>22}{'/ dual':>8}")
    for name, scenario in cases:
        base, dual = timed(scenario, "dual", args.runs, args.lp_limit)
        print(_line(name, "dual", base, dual, None))
        for method in ("highs-direct", "nlp"):
            seconds, other = timed(scenario, method, args.lp_runs, args.lp_limit)
            print(_line("", method, seconds, other, base))


def _line(name: str, route: str, seconds: float, result: Plan, base: float | None) -> str:
    """One row of the table: a route that refuses the problem says so."""
    if result.status == "error":
        why = "refused: " + result.message.split(":")[0][:60]
        return f"{name:<36}{route:<14}{why}"
    gap = result.solver.gap if result.solver else None
    value = f"{result.objective_value:,.0f}" if result.objective_value is not None else "no plan"
    gap_text = f"{gap:.1e}" if gap is not None else "-"
    if result.status != "optimal":
        gap_text += f" ({result.status})"
    ratio = f"{seconds / base:.0f}x" if base else ""
    return f"{name:<36}{route:<14}{seconds:>10.3f}{value:>18}{gap_text:>22}{ratio:>8}"


if __name__ == "__main__":
    main()

"""API latency per operation on SQLite and PostgreSQL (in-process client, no network).

    .venv/bin/python benchmarks/bench_api.py --runs 20
    .venv/bin/python benchmarks/bench_api.py --postgres postgresql://postgres@127.0.0.1:5432/test

Prints the median and p90 milliseconds of each operation per backend and the ratio of each
backend's median to the first one's. Not part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import yaml
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.main import create_app
from api.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent


def measure(fn: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - started))
    return times


def bench(url: str, runs: int) -> dict[str, list[float]]:
    """Time each operation against one database."""
    annual = yaml.safe_load((ROOT / "scenarios/annual_2026.yaml").read_text(encoding="utf-8"))
    settings = ServiceSettings(database_url=url, dev_mode=True, workers=0)
    results: dict[str, list[float]] = {}
    with TestClient(create_app(settings)) as client:

        def create() -> str:
            response = client.post("/v1/scenarios", json={"scenario": annual})
            assert response.status_code == 201, response.text
            return response.json()["id"]

        sid = create()
        plan = client.post(f"/v1/scenarios/{sid}/plans", json={}).json()
        results["POST /v1/scenarios"] = measure(create, runs)
        results["GET /v1/scenarios (page)"] = measure(lambda: client.get("/v1/scenarios"), runs)
        results["GET /v1/plans/{id}"] = measure(lambda: client.get(f"/v1/plans/{plan['id']}"), runs)
        results["export xlsx"] = measure(
            lambda: client.get(f"/v1/plans/{plan['id']}/export?format=xlsx"), runs
        )
        results["POST plans (annual, solve)"] = measure(
            lambda: client.post(f"/v1/scenarios/{sid}/plans", json={}), max(3, runs // 4)
        )
        results["POST plans?async (queue)"] = measure(
            lambda: client.post(f"/v1/scenarios/{sid}/plans?async=true", json={}), runs
        )
    return results


def main() -> None:
    """Run every backend and print medians, p90 and ratios to the first backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    backends: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        backends["sqlite"] = bench(f"sqlite:///{folder}/bench.db", args.runs)
    try:
        admin = psycopg.connect(args.postgres, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"postgresql skipped: {exc}")
    else:
        schema = f"bo_bench_{uuid.uuid4().hex[:8]}"
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            url = f"{args.postgres}?options=-csearch_path%3D{schema}"
            backends["postgresql"] = bench(url, args.runs)
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    first = next(iter(backends.values()))
    print(f"{'operation':30} {'backend':11} {'median ms':>10} {'p90 ms':>8} {'ratio':>6}")
    for operation in first:
        base = statistics.median(first[operation])
        for name, results in backends.items():
            times = sorted(results[operation])
            median = statistics.median(times)
            p90 = times[int(0.9 * (len(times) - 1))]
            print(f"{operation:30} {name:11} {median:10.1f} {p90:8.1f} {median / base:6.2f}")


if __name__ == "__main__":
    main()

"""Small plans per second through the HTTP API, and their latency, on this machine.

    .venv/bin/python benchmarks/bench_api_load.py [--seconds 20] [--concurrency 8]
        [--processes 1,2] [--runs 3] [--database sqlite|URL]

Starts ``budgetopt serve --dev`` on a free loopback port with a fresh SQLite file (or the given
database URL) for each process count, and drives it from this process with ``--concurrency``
keep-alive HTTP/1.1 connections (asyncio streams: a few tens of microseconds of client CPU per
request, so the server gets the cores), each sending ``POST /v1/plans`` with a small inline
scenario (3 channels x 4 quarters, a budget and a ROAS floor: the dual method) as fast as the
answers come. Every answer must be a 201 with a plan; its GMV is checked against the first one.

For each process count it prints the median over ``--runs`` runs of: plans per second,
p50 / p99 latency in milliseconds, the ratio of throughput to the first count, and the server's
CPU time per plan (all its processes, from /proc; "n/a" elsewhere), the figure that does not
depend on how busy the machine's other tenants are. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = {
    "version": "1",
    "name": "small plan",
    "periods": ["Q1", "Q2", "Q3", "Q4"],
    "seasonality": [0.9, 1.0, 0.95, 1.3],
    "budget": {"total_cny": 12_000_000},
    "objective": {"kind": "max_gmv"},
    "channels": [
        {
            "id": "live",
            "kind": "curve",
            "aov_cny": 180,
            "response": {"type": "exponential", "max_gmv_cny": 30e6, "scale_cny": 2.5e6},
        },
        {
            "id": "kol",
            "kind": "curve",
            "aov_cny": 220,
            "response": {"type": "hill", "max_gmv_cny": 18e6, "half_saturation_cny": 1.2e6},
        },
        {
            "id": "search",
            "kind": "curve",
            "aov_cny": 150,
            "response": {"type": "logistic", "max_gmv_cny": 9e6, "scale_cny": 0.6e6},
        },
    ],
    "rules": [{"id": "roas", "kind": "roas_floor", "min_roas": 3.0}],
}


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_cpu_seconds(root: int) -> float | None:
    """User + system CPU seconds of ``root`` and its descendants so far (Linux /proc), else None."""
    proc = Path("/proc")
    if not (proc / str(root) / "stat").exists():
        return None
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(times.get(pid, 0.0) for pid in family)


def start_server(port: int, processes: int, database: str) -> subprocess.Popen[bytes]:
    """``budgetopt serve --dev`` on the port, once it answers /healthz."""
    command = [
        str(ROOT / ".venv/bin/budgetopt"),
        "serve",
        "--dev",
        "--port",
        str(port),
        "--processes",
        str(processes),
        "--database-url",
        database,
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length")
    )
    return status, await reader.readexactly(length)


async def _connection(port: int, request: bytes, until: float, out: list[float], gmv: set) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(request)
        status, body = await _read_response(reader)
        out.append(time.perf_counter() - started)
        if status != 201:
            raise SystemExit(f"HTTP {status}: {body[:300]!r}")
        gmv.add(round(json.loads(body)["result"]["total"]["gmv_cny"], 6))
    writer.close()


def drive(port: int, seconds: float, concurrency: int) -> tuple[float, float, float, int]:
    """Plans per second, p50 and p99 milliseconds and the plan count over ``seconds`` of load."""
    body = json.dumps({"scenario": SCENARIO}).encode()
    request = (
        f"POST /v1/plans HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    gmv: set[float] = set()

    async def run() -> float:
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(_connection(port, request, until, latencies, gmv) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    if len(gmv) != 1:
        raise SystemExit(f"the same scenario gave different GMV: {sorted(gmv)}")
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return len(latencies) / elapsed, 1000 * p50, 1000 * p99, len(latencies)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.concurrency} connections; {args.seconds:g} s per run")
    print(
        f"{'processes':>9}{'plans/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}"
        f"{'server CPU ms/plan':>20}"
    )
    first = None
    for processes in [int(p) for p in args.processes.split(",")]:
        rows = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                database = args.database
                if database == "sqlite":
                    database = f"sqlite:///{folder}/bench.db"
                port = free_port()
                server = start_server(port, processes, database)
                try:
                    drive(port, 2.0, args.concurrency)  # warm-up: imports, first plans
                    cpu_before = server_cpu_seconds(server.pid)
                    rate, p50, p99, count = drive(port, args.seconds, args.concurrency)
                    cpu_after = server_cpu_seconds(server.pid)
                    cpu = None
                    if cpu_before is not None and cpu_after is not None:
                        cpu = 1000 * (cpu_after - cpu_before) / count
                    rows.append((rate, p50, p99, cpu))
                finally:
                    server.terminate()
                    server.wait(timeout=30)
        rate = statistics.median(r[0] for r in rows)
        p50 = statistics.median(r[1] for r in rows)
        p99 = statistics.median(r[2] for r in rows)
        cpus = [r[3] for r in rows if r[3] is not None]
        cpu_text = f"{statistics.median(cpus):.2f}" if cpus else "n/a"
        first = first or rate
        print(
            f"{processes:>9}{rate:>10.1f}{p50:>9.1f}{p99:>9.1f}{rate / first:>7.2f}x{cpu_text:>20}"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()

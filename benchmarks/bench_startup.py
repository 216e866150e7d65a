"""The fixed cost a user pays around a solve: wall time of whole commands, in fresh processes.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]

Times (median of ``--runs`` fresh processes each): ``budgetopt plan`` on the annual example
with JSON output (imports, reading the file, the solve by ``auto`` and the report), ``budgetopt
--help``, importing the command's module alone, and the floor no change here can go below:
importing the libraries every plan needs (numpy, scipy.optimize for the dual method's L-BFGS-B,
pydantic for the scenario). The last column is each figure over that floor. It also prints
which heavy libraries a plain ``plan`` imported (none of PuLP, highspy, openpyxl, matplotlib,
pandas, SQLAlchemy, Dask should be). Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")
BUDGETOPT = str(ROOT / ".venv/bin/budgetopt")
HEAVY = ("pulp", "highspy", "openpyxl", "matplotlib", "pandas", "sqlalchemy", "dask", "fastapi")


def wall(command: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median seconds of ``runs`` fresh runs of the command (output discarded)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def imported_heavy() -> list[str]:
    """The heavy top-level packages a ``plan`` run imports."""
    done = subprocess.run(
        [BUDGETOPT, "plan", "scenarios/annual_2026.yaml", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return sorted(name for name in names if name in HEAVY)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    floor = wall([PYTHON, "-c", "import numpy, scipy.optimize, pydantic"], args.runs)
    rows = [
        ("budgetopt plan annual_2026.yaml -f json", [BUDGETOPT, "plan"]),
        ("budgetopt --help", [BUDGETOPT, "--help"]),
        ("import api.cli (the command's module)", [PYTHON, "-c", "import api.cli"]),
    ]
    print(f"{'what':<42}{'median s':>10}{'/ floor':>9}")
    for name, command in rows:
        if command[-1] == "plan":
            command = [*command, "scenarios/annual_2026.yaml", "-f", "json"]
        seconds = wall(command, args.runs)
        print(f"{name:<42}{seconds:>10.3f}{seconds / floor:>8.2f}x")
    print(f"{'floor: import numpy, scipy.optimize, pydantic':<42}{floor:>10.3f}{1.0:>8.2f}x")
    heavy = imported_heavy()
    print(f"heavy libraries a plan imported: {', '.join(heavy) or 'none'}", file=sys.stdout)


if __name__ == "__main__":
    main()

"""``budgetopt compare`` with a scenario with draws, from the command line: each plan's bands,
the same as the planner's ranges of that scenario."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ranges_helpers import annual_doc, ranged_plan, with_draws, write_yaml

from optimizer.outputs.text import money

BUDGETOPT = str(Path(sys.executable).with_name("budgetopt"))


def run(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([BUDGETOPT, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def test_compare_prints_each_plans_bands(tmp_path):
    ranged = write_yaml(with_draws(annual_doc(), spend_max_cny=2e6), tmp_path / "ranged.yaml")
    text = run("compare", "scenarios/annual_2026.yaml", str(ranged)).stdout
    gmv = ranged_plan().ranges["total"]["gmv_cny"]  # the same scenario, planned here
    assert "ranged: " in text and "ranges over 200 draws" in text
    p10 = next(line for line in text.splitlines() if "│ gmv_p10_cny " in line)
    assert money(gmv["p10"]) in p10 and p10.split("│")[3].strip() == "-"  # the example: none

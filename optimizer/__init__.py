"""budgetopt's engine. The data flow, one package a step:

schema (scenario model) -> core (problem, solvers, refinement, checks) -> results (verified plan,
its one serialiser) -> outputs (table, CSV, XLSX, charts); inputs reads files into the schema,
analysis runs many plans (what-ifs, comparisons, batches), cli is the command line.

The documented Python entry points are importable from here::

    from optimizer import load_scenario, plan, to_json
    print(to_json(plan(load_scenario("scenarios/annual_2026.yaml"))))
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Scenario": "optimizer.schema.scenario",
    "load_scenario": "optimizer.inputs.files",
    "load_allocation": "optimizer.inputs.allocation",
    "plan": "optimizer.planner",
    "evaluate": "optimizer.planner",
    "evaluate_split": "optimizer.planner",
    "load_split": "optimizer.inputs.split",
    "Plan": "optimizer.results.plan",
    "to_json": "optimizer.results.serialise",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name on first use, so ``import optimizer.schema`` stays light."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)

"""The one serialiser of a plan (the CLI, batch files, Excel and the API all give these bytes),
and its inverse for plans read back from those files."""

from __future__ import annotations

import json
from typing import Any

from optimizer.core.diagnosis import Relaxation
from optimizer.results.plan import Plan


def to_json(plan: Plan) -> str:
    """The whole plan as indented UTF-8 JSON, keys sorted, ending in a newline."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def stored_plan(data: dict[str, Any]) -> Plan:
    """A plan from its stored JSON (plan --format json, a batch's plans/*.json): the plan that
    was written, its diagnosis included, but for the wall-clock time the JSON leaves out."""
    if data.get("solver"):
        data = {**data, "solver": {"seconds": 0.0, **data["solver"]}}
    if data.get("diagnosis"):
        data = {**data, "diagnosis": [_relaxation(item) for item in data["diagnosis"]]}
    return Plan.from_dict(data)


def _relaxation(item: Any) -> Any:
    """An infeasible plan's suggestion, stored as a dictionary, as the Relaxation it was."""
    return Relaxation(**item) if isinstance(item, dict) else item

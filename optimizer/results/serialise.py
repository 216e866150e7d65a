"""The one serialiser of a plan: the CLI, batch files, Excel and the API all give these bytes."""

from __future__ import annotations

import json

from optimizer.results.plan import Plan


def to_json(plan: Plan) -> str:
    """The whole plan as indented UTF-8 JSON, keys sorted, ending in a newline."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

"""What-if changes of a request (``body.changes``) applied to a copy of its scenario.

The stored scenario version is never modified: the plan or job keeps the changed copy (and the
changes themselves), so its fingerprint is the changed scenario's and it can be reproduced.
"""

from __future__ import annotations

from typing import Any

from api.problems import invalid_input
from api.schemas import ChangeSpec
from optimizer.errors import RequestError, ScenarioError
from optimizer.planner import check_numbers
from optimizer.schema.changes import Change, apply_changes
from optimizer.schema.scenario import Scenario


def changed_scenario(scenario: Scenario, specs: list[ChangeSpec]) -> Scenario:
    """The scenario with the request's changes applied, validated once, numbers checked;
    422 naming ``body.changes[i].path`` / ``.value`` (or ``body.changes``) when refused."""
    try:
        return apply_changes(scenario, to_changes(specs), check_numbers)
    except RequestError as exc:
        raise invalid_input(ScenarioError("request", exc.problems, "request"), "body") from None


def to_changes(specs: list[ChangeSpec]) -> list[Change]:
    """The engine's changes, in order."""
    return [Change(s.path.strip(), s.op, s.value) for s in specs]


def recorded(specs: list[ChangeSpec]) -> list[dict[str, Any]] | None:
    """What a plan or job records of the changes: ``{path, op, value}`` each, or None."""
    return [c.to_dict() for c in to_changes(specs)] or None

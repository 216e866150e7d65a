"""Comparisons: stored plans side by side, named by id or by scenario version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db.models import PlanRecord
from api.problems import HttpProblem, limit_exceeded
from api.services.plans import get_plan, version_number
from api.services.scenarios import get_scenario, get_version
from optimizer.analysis.compare import side_by_side, unique_labels
from optimizer.results.plan import Plan

MAX_COMPARED = 10


def compare(
    session: Session,
    who: Principal,
    plan_ids: list[str],
    refs: list[tuple[str, int | None]],
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """Side by side: the named plans, then each scenario version's newest plan, each labelled
    with ``labels`` or its scenario's name and version (made unique with a number) and
    carrying its plan id."""
    plans: list[Plan] = []
    names: list[str] = []
    ids: list[str] = []
    for plan_id in plan_ids:
        record = get_plan(session, who, plan_id)
        plans.append(Plan.from_dict(record.result))
        number = version_number(session, record)
        names.append(record.scenario_name + (f" v{number}" if number is not None else ""))
        ids.append(record.id)
    for i, (scenario_id, number) in enumerate(refs):
        version = get_version(session, get_scenario(session, who, scenario_id), number)
        record = session.scalar(
            select(PlanRecord)
            .where(PlanRecord.version_id == version.id, PlanRecord.kind == "plan")
            .where(PlanRecord.changes.is_(None))  # a what-if of the version is not its plan
            .order_by(PlanRecord.created_at.desc())
            .limit(1)
        )
        if record is None:
            raise HttpProblem(
                409,
                "no-plan",
                f"scenario {scenario_id!r} version {version.version} has no plan yet: "
                f"POST /v1/scenarios/{scenario_id}/plans first",
                errors=[{"path": f"body.scenarios[{i}]", "message": "no stored plan"}],
            )
        plans.append(Plan.from_dict(record.result))
        names.append(f"{record.scenario_name} v{version.version}")
        ids.append(record.id)
    if len(plans) < 2:
        raise HttpProblem(
            422,
            "validation-error",
            "compare needs at least two plans or scenarios",
            errors=[{"path": "body", "message": f"got {len(plans)}, need 2 to {MAX_COMPARED}"}],
        )
    if len(plans) > MAX_COMPARED:
        raise limit_exceeded(422, "max_compared", len(plans), MAX_COMPARED, "body")
    if labels is not None:
        if len(labels) != len(plans):
            message = f"expected one label per plan ({len(plans)}), got {len(labels)}"
            raise HttpProblem(
                422,
                "validation-error",
                message,
                errors=[{"path": "body.labels", "message": message}],
            )
        names = labels
    data = side_by_side(plans, unique_labels(names))
    for entry, plan_id in zip(data["plans"], ids, strict=True):
        entry["plan_id"] = plan_id
    return data

"""Comparisons: stored plans side by side (``POST /v1/compare``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Shared, Viewer
from api.schemas import CompareRequest
from api.services import comparisons

router = APIRouter()


@router.post("/v1/compare", tags=["plans"])
def compare(body: CompareRequest, who: Viewer, shared: Shared) -> dict[str, Any]:
    """Plans side by side: per-channel, per-period and total metrics with deltas."""
    refs = [(r.scenario_id, r.version) for r in body.scenarios]
    with shared.factory() as session:
        return comparisons.compare(session, who, body.plan_ids, refs)

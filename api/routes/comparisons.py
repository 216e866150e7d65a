"""Comparisons: stored plans side by side (``POST /v1/compare``), as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Shared, TableFormat, Viewer
from api.routes.bodies import XLSX, table_download
from api.schemas import CompareRequest
from api.services import comparisons
from optimizer.outputs.comparison import comparison_rows

router = APIRouter()


@router.post(
    "/v1/compare",
    tags=["plans"],
    responses={
        200: {"content": {"text/csv": {}, XLSX: {}}},
        404: {"description": "A plan or scenario of the body is not in this workspace."},
        409: {"description": "A scenario version of the body has no plan yet."},
    },
)
def compare(
    body: CompareRequest,
    who: Viewer,
    shared: Shared,
    format: TableFormat = "json",
) -> Any:
    """Plans side by side: per-channel, per-period and total metrics with deltas, labelled by
    scenario name and version; as JSON, a tidy CSV or a workbook (compare and plans sheets)."""
    refs = [(r.scenario_id, r.version) for r in body.scenarios]
    with shared.factory() as session:
        data = comparisons.compare(session, who, body.plan_ids, refs, body.labels)
    if format == "json":
        return data
    return table_download(
        {"compare": comparison_rows(data), "plans": data["plans"]}, format, "comparison"
    )

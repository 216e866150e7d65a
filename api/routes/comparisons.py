"""Comparisons: stored plans side by side (``POST /v1/compare``), as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import Shared, Viewer
from api.routes.bodies import XLSX, attachment
from api.schemas import CompareRequest
from api.services import comparisons
from optimizer.outputs.comparison import comparison_rows
from optimizer.outputs.excel import tables_xlsx
from optimizer.outputs.whatif_rows import to_csv_text

router = APIRouter()


@router.post(
    "/v1/compare",
    tags=["plans"],
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def compare(
    body: CompareRequest,
    who: Viewer,
    shared: Shared,
    format: Annotated[
        Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")
    ] = "json",
) -> Any:
    """Plans side by side: per-channel, per-period and total metrics with deltas, labelled by
    scenario name and version; as JSON, a tidy CSV or a workbook (compare and plans sheets)."""
    refs = [(r.scenario_id, r.version) for r in body.scenarios]
    with shared.factory() as session:
        data = comparisons.compare(session, who, body.plan_ids, refs)
    if format == "json":
        return data
    rows = comparison_rows(data)
    if format == "csv":
        headers = attachment("comparison.csv")  # UTF-8 with a BOM: Excel reads Chinese names
        return Response(to_csv_text(rows), media_type="text/csv; charset=utf-8", headers=headers)
    content = tables_xlsx({"compare": rows, "plans": data["plans"]})
    return Response(content, media_type=XLSX, headers=attachment("comparison.xlsx"))

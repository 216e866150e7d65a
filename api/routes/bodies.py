"""Response bodies made from database rows, with the links a client follows next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Response

from api.db.models import ApiKey, Base, Job, PlanRecord, ScenarioRecord, ScenarioVersion
from api.schemas import JobOut, KeyOut, PlanOut, ScenarioOut, VersionOut
from api.services.work import WHATIF_KINDS
from optimizer.outputs.excel import tables_xlsx
from optimizer.outputs.whatif_rows import to_csv_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def columns(row: Base) -> dict[str, Any]:
    """A row's column values by name (response models pick the fields they declare)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def scenario_out(record: ScenarioRecord, latest: ScenarioVersion | None = None) -> ScenarioOut:
    """Response body of a scenario."""
    return ScenarioOut(
        id=record.id,
        name=record.name,
        tags=[t.tag for t in record.tags],
        archived=record.archived,
        latest_version=record.latest_version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        latest=None if latest is None else version_out(latest, with_body=True),
    )


def version_out(version: ScenarioVersion, *, with_body: bool) -> VersionOut:
    """Response body of a version (the document itself on single reads)."""
    return VersionOut(
        id=version.id,
        version=version.version,
        fingerprint=version.fingerprint,
        created_at=version.created_at,
        scenario=version.body if with_body else None,
    )


def plan_out(record: PlanRecord, version: int | None, *, with_result: bool) -> PlanOut:
    """Response body of a plan, with links to itself and its exports."""
    base = f"/v1/plans/{record.id}"
    links = {"self": base, "csv": f"{base}/export?format=csv", "xlsx": f"{base}/export?format=xlsx"}
    if record.scenario_id:
        links["scenario"] = f"/v1/scenarios/{record.scenario_id}"
    return PlanOut(
        id=record.id,
        kind=record.kind,  # type: ignore[arg-type]
        scenario_id=record.scenario_id,
        scenario_version=version,
        scenario_name=record.scenario_name,
        status=record.status,
        feasible=record.feasible,
        objective_value=record.objective_value,
        created_at=record.created_at,
        links=links,
        changes=record.changes or [],
        verdict=(record.result or {}).get("verdict"),
        result=record.result if with_result else None,
    )


def job_out(job: Job) -> JobOut:
    """Response body of a job, with the plan (or what-if result) link once it succeeded."""
    links = {"self": f"/v1/jobs/{job.id}", "cancel": f"/v1/jobs/{job.id}/cancel"}
    if job.plan_id:
        links["plan"] = f"/v1/plans/{job.plan_id}"
    if job.kind in WHATIF_KINDS and job.status == "succeeded":
        links["result"] = f"/v1/jobs/{job.id}/result"
    shown = {c.key: getattr(job, c.key) for c in Job.__table__.columns if c.key != "result"}
    return JobOut.model_validate({**shown, "links": links})


def key_out(row: ApiKey, key: str | None = None) -> KeyOut:
    """Response body of a key (the secret only at creation; the hash never)."""
    return KeyOut.model_validate({**columns(row), "key": key})


def attachment(filename: str) -> dict[str, str]:
    """The header that makes a download of ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def table_download(
    sheets: dict[str, Sequence[dict[str, Any]]], format: str, filename: str
) -> Response:
    """Tables as a workbook (a sheet each) or, for csv, the first table as CSV (UTF-8 with
    a BOM, so Excel reads Chinese names), downloaded as ``filename``.``format``."""
    disposition = attachment(f"{filename}.{format}")
    if format == "xlsx":
        return Response(tables_xlsx(sheets), media_type=XLSX, headers=disposition)
    rows = next(iter(sheets.values()))
    return Response(to_csv_text(rows), media_type="text/csv; charset=utf-8", headers=disposition)

"""Scenarios: stored documents with immutable versions (``/v1/scenarios``)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.db.engine import transaction
from api.deps import PageNo, PerPage, Planner, Shared, Viewer
from api.problems import HttpProblem, invalid_input
from api.routes.bodies import scenario_out, version_out
from api.schemas import MAX_VERSION, Page, ScenarioCreate, ScenarioOut, VersionCreate, VersionOut
from api.services import scenarios
from api.services.checks import check_scenario
from optimizer.errors import ScenarioError
from optimizer.inputs.files import load_scenario
from optimizer.schema.scenario import Scenario

router = APIRouter()


@router.post("/v1/scenarios", status_code=201, tags=["scenarios"])
def create_scenario(
    body: ScenarioCreate, who: Planner, shared: Shared, response: Response
) -> ScenarioOut:
    """Store a scenario (validated like a scenario file) as version 1."""
    check_scenario(body.scenario, None, shared.settings)
    with transaction(shared.factory) as session:
        record = scenarios.create_scenario(session, who, body.scenario, body.tags)
        version = scenarios.get_version(session, record, 1)
        out = scenario_out(record, version)
    response.headers["Location"] = f"/v1/scenarios/{record.id}"
    return out


IMPORTABLE = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")


@router.post("/v1/scenarios/import", status_code=201, tags=["scenarios"])
async def import_scenario(
    file: Annotated[
        UploadFile,
        File(description="A scenario file: YAML, JSON or an Excel workbook (budgetopt template)."),
    ],
    who: Planner,
    shared: Shared,
    response: Response,
) -> ScenarioOut:
    """Store a scenario file (as `budgetopt plan` reads it) as version 1 of a new scenario;
    a problem in the file is a 422 naming the field and its line or cell."""
    name = file.filename or "upload"
    raw = await file.read()
    scenario = await run_in_threadpool(read_upload, name, raw)
    return create_scenario(ScenarioCreate(scenario=scenario), who, shared, response)


def read_upload(name: str, raw: bytes) -> Scenario:
    """The uploaded file's scenario, read as a file of that name; 422 naming field and line."""
    suffix = FilePath(name).suffix.lower()
    if suffix not in IMPORTABLE:
        message = f"expected a {', '.join(IMPORTABLE)} file, got '{name}'"
        raise HttpProblem(
            422, "validation-error", message, errors=[{"path": "file", "message": message}]
        )
    safe = re.sub(r"[^\w.\-]+", "_", FilePath(name).name)[-100:] or f"upload{suffix}"
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / safe
        path.write_bytes(raw)
        try:
            return load_scenario(path)
        except ScenarioError as exc:  # the line goes into the message: JSON paths have none
            shown = [
                replace(p, message=f"{p.message} (line {p.line})") if p.line else p
                for p in exc.problems
            ]
            problem = invalid_input(ScenarioError(name, shown), "file")
            problem.detail = f"{name}: {problem.detail}"
            raise problem from None


@router.get("/v1/scenarios", tags=["scenarios"])
def list_scenarios(
    who: Viewer,
    shared: Shared,
    name: Annotated[str | None, Query(max_length=200, description="Name contains.")] = None,
    tag: Annotated[str | None, Query(max_length=50, description="Has this tag.")] = None,
    archived: Annotated[bool, Query(description="List archived ones instead.")] = False,
    page: PageNo = 1,
    per_page: PerPage = 20,
) -> Page[ScenarioOut]:
    """The workspace's scenarios, newest first, filtered by name and tag."""
    with shared.factory() as session:
        rows, total = scenarios.list_scenarios(
            session, who, name=name, tag=tag, archived=archived, page=page, per_page=per_page
        )
        items = [scenario_out(r) for r in rows]
    return Page[ScenarioOut](items=items, page=page, per_page=per_page, total=total)


@router.get("/v1/scenarios/{scenario_id}", tags=["scenarios"])
def get_scenario(scenario_id: str, who: Viewer, shared: Shared) -> ScenarioOut:
    """A scenario with its latest version's document."""
    with shared.factory() as session:
        record = scenarios.get_scenario(session, who, scenario_id)
        return scenario_out(record, scenarios.get_version(session, record, None))


@router.get("/v1/scenarios/{scenario_id}/versions", tags=["scenarios"])
def list_versions(scenario_id: str, who: Viewer, shared: Shared) -> list[VersionOut]:
    """Every version of a scenario, oldest first (documents omitted)."""
    with shared.factory() as session:
        record = scenarios.get_scenario(session, who, scenario_id)
        return [version_out(v, with_body=False) for v in scenarios.list_versions(session, record)]


@router.get("/v1/scenarios/{scenario_id}/versions/{version}", tags=["scenarios"])
def get_version(
    scenario_id: str,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    who: Viewer,
    shared: Shared,
) -> VersionOut:
    """One version with its document."""
    with shared.factory() as session:
        record = scenarios.get_scenario(session, who, scenario_id)
        return version_out(scenarios.get_version(session, record, version), with_body=True)


@router.post(
    "/v1/scenarios/{scenario_id}/versions",
    status_code=201,
    tags=["scenarios"],
    responses={409: {"description": "The scenario is archived: it takes no versions."}},
)
def add_version(scenario_id: str, body: VersionCreate, who: Planner, shared: Shared) -> ScenarioOut:
    """A new immutable version; plans of earlier versions keep pointing at theirs."""
    check_scenario(body.scenario, None, shared.settings)
    with transaction(shared.factory) as session:
        record = scenarios.add_version(session, who, scenario_id, body.scenario, body.tags)
        session.flush()
        return scenario_out(record, scenarios.get_version(session, record, None))


@router.post("/v1/scenarios/{scenario_id}/archive", tags=["scenarios"])
def archive(scenario_id: str, who: Planner, shared: Shared) -> ScenarioOut:
    """Archive: hidden from default lists, no new versions; its plans stay readable."""
    with transaction(shared.factory) as session:
        return scenario_out(scenarios.archive_scenario(session, who, scenario_id))

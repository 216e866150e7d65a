"""Scenarios from media-mix models: ``POST /v1/scenarios/import-model`` (multipart)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import Planner, Shared
from api.problems import invalid_input
from api.routes.scenarios import create_scenario
from api.schemas import ScenarioCreate, ScenarioOut
from optimizer.errors import ScenarioError
from optimizer.inputs.mmm import (
    DEFAULT_AOV_CNY,
    DEFAULT_DRAWS,
    DEFAULT_WEEKS,
    ImportOptions,
    import_model,
)
from optimizer.schema.draws import MAX_DRAWS
from optimizer.schema.scenario import MAX_PERIODS, Scenario

router = APIRouter()

SourceName = Literal["robyn", "pymc-marketing", "meridian", "params"]
ObjectiveName = Literal["max_gmv", "max_profit", "max_new_customers", "min_spend"]


@router.post("/v1/scenarios/import-model", status_code=201, tags=["scenarios"])
async def import_model_file(
    source: Annotated[
        SourceName,
        Form(
            description="robyn (robyn_write() JSON), pymc-marketing (MMM.save() file), "
            "meridian (NetCDF export) or params (CSV / YAML of curve parameters)."
        ),
    ],
    file: Annotated[UploadFile, File(description="The model file.")],
    who: Planner,
    shared: Shared,
    response: Response,
    weeks: Annotated[int, Form(ge=1, le=MAX_PERIODS, description="Weeks of the plan.")] = (
        DEFAULT_WEEKS
    ),
    budget_cny: Annotated[
        float | None,
        Form(
            gt=0,
            le=1e12,
            description="Total budget, CNY (default: the model's mean weekly "
            "spend times the weeks).",
        ),
    ] = None,
    aov_cny: Annotated[
        float,
        Form(ge=0.01, le=1e7, description="Average order value, CNY: only orders and CAC use it."),
    ] = DEFAULT_AOV_CNY,
    objective: Annotated[ObjectiveName, Form(description="What the plan optimises.")] = "max_gmv",
    gmv_target_cny: Annotated[float | None, Form(gt=0, le=1e12)] = None,
    gross_margin: Annotated[float | None, Form(gt=0, lt=1)] = None,
    draws: Annotated[
        int,
        Form(
            ge=0,
            le=MAX_DRAWS,
            description="Posterior samples each curve carries as draws, for plan ranges "
            "(pymc-marketing, meridian: spread evenly over chains and draws; params: of the "
            "YAML's draws); 0 for none. Robyn has no posterior: ignored.",
        ),
    ] = DEFAULT_DRAWS,
) -> ScenarioOut:
    """Store the curves of a media-mix model file as version 1 of a new scenario (as `budgetopt
    import` writes it); a problem in the file is a 422 naming where in the file."""
    options = ImportOptions(
        weeks=weeks,
        budget_total_cny=budget_cny,
        aov_cny=aov_cny,
        objective=objective,
        gmv_target_cny=gmv_target_cny,
        gross_margin=gross_margin,
    )
    name = file.filename or "model"
    raw = await file.read()
    scenario = await run_in_threadpool(read_model_upload, source, name, raw, options, draws)
    return create_scenario(ScenarioCreate(scenario=scenario), who, shared, response)


def read_model_upload(
    source: str, name: str, raw: bytes, options: ImportOptions, draws: int = DEFAULT_DRAWS
) -> Scenario:
    """The imported scenario of an uploaded model file, its curves with up to ``draws``
    posterior samples; 422 naming the field in the file."""
    safe = re.sub(r"[^\w.\-]+", "_", FilePath(name).name)[-100:] or "model"
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / safe
        path.write_bytes(raw)
        try:
            return Scenario.model_validate(import_model(source, path, options, draws=draws))
        except ScenarioError as exc:
            problem = invalid_input(exc, "file")
            problem.detail = f"{name}: {problem.detail}"
            raise problem from None

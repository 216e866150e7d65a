"""Response curves fitted from a weekly history: ``POST /v1/curves/fit`` (multipart)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Planner, Shared
from api.problems import HttpProblem, invalid_input
from api.routes.scenarios import create_scenario
from api.schemas import ScenarioCreate, ScenarioOut
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.inputs.history import (
    DEFAULT_DRAWS,
    DEFAULT_MAX_LAG,
    FAMILIES,
    FitOptions,
    FittedHistory,
    ImportOptions,
    fit_file,
)
from optimizer.inputs.mmm import DEFAULT_AOV_CNY, DEFAULT_WEEKS
from optimizer.schema.draws import MAX_DRAWS
from optimizer.schema.scenario import MAX_PERIODS, Scenario

router = APIRouter()

ObjectiveName = Literal["max_gmv", "max_profit", "max_new_customers", "min_spend"]


class CurveFitOut(BaseModel):
    """The fitted scenario (as `budgetopt fit` writes it), the fit report, and the stored
    scenario when ``store`` was asked."""

    scenario: dict[str, Any] = Field(description="The scenario document with the fitted curves.")
    report: dict[str, Any] = Field(
        description="Per channel: every candidate's held-out error, the chosen model, its "
        "parameters, R², held-out MAPE, spend range, CPM model, draws' P10/P50/P90, warnings."
    )
    stored: ScenarioOut | None = None


@router.post("/v1/curves/fit", tags=["scenarios"])
async def fit_curves(
    file: Annotated[
        UploadFile,
        File(description="Weekly history: CSV (UTF-8) or XLSX, columns as `budgetopt fit`."),
    ],
    who: Planner,
    shared: Shared,
    response: Response,
    weeks: Annotated[int, Form(ge=1, le=MAX_PERIODS, description="Weeks of the plan.")] = (
        DEFAULT_WEEKS
    ),
    periods: Annotated[
        str | None,
        Form(max_length=20_000, description="Period names instead of weeks, comma-separated."),
    ] = None,
    budget_cny: Annotated[
        float | None,
        Form(gt=0, le=1e12, description="Total budget, CNY (default: mean weekly spend x weeks)."),
    ] = None,
    aov_cny: Annotated[
        float,
        Form(ge=0.01, le=1e7, description="Average order value, CNY: only orders and CAC use it."),
    ] = DEFAULT_AOV_CNY,
    objective: Annotated[ObjectiveName, Form(description="What the plan optimises.")] = "max_gmv",
    gmv_target_cny: Annotated[float | None, Form(gt=0, le=1e12)] = None,
    gross_margin: Annotated[float | None, Form(gt=0, lt=1)] = None,
    channels: Annotated[
        str | None,
        Form(max_length=5_000, description="The channels the file must hold, comma-separated."),
    ] = None,
    families: Annotated[
        str, Form(max_length=200, description="Curve families to compare, comma-separated.")
    ] = ",".join(FAMILIES),
    adstock: Annotated[
        bool | None,
        Form(description="true: only with geometric adstock; false: only without; omitted: both."),
    ] = None,
    max_lag: Annotated[int, Form(ge=1, le=52)] = DEFAULT_MAX_LAG,
    draws: Annotated[int, Form(ge=0, le=MAX_DRAWS)] = DEFAULT_DRAWS,
    seed: Annotated[int, Form(ge=0, le=2**63 - 1)] = 0,
    store: Annotated[bool, Form(description="Also store it as a new scenario (201).")] = False,
) -> CurveFitOut:
    """Fit each channel's response curve to an uploaded weekly history (as `budgetopt fit`);
    a problem in the file is a 422 naming the column and line, and nothing is stored."""
    chosen = tuple(f.strip() for f in families.split(",") if f.strip())
    if not chosen or any(f not in FAMILIES for f in chosen):
        message = f"expected some of {', '.join(FAMILIES)}, got {families!r}"
        error = {"path": "body.families", "message": message}
        raise HttpProblem(422, "validation-error", f"body.families: {message}", errors=[error])
    options = ImportOptions.with_periods(
        periods,
        weeks,
        budget_total_cny=budget_cny,
        aov_cny=aov_cny,
        objective=objective,
        gmv_target_cny=gmv_target_cny,
        gross_margin=gross_margin,
    )
    only = tuple(c.strip() for c in channels.split(",") if c.strip()) if channels else ()
    fit_options = FitOptions(chosen, adstock, max_lag, draws, seed, channels=only)
    name = file.filename or "history.csv"
    raw = await file.read()
    fitted = await run_in_threadpool(fit_upload, name, raw, options, fit_options)
    out = CurveFitOut(scenario=fitted.document, report=fitted.report)
    if store:
        scenario = Scenario.model_validate(fitted.document)
        out.stored = create_scenario(ScenarioCreate(scenario=scenario), who, shared, response)
        response.status_code = 201
    return out


def fit_upload(
    name: str, raw: bytes, options: ImportOptions, fit_options: FitOptions
) -> FittedHistory:
    """The fit of an uploaded history; 422 naming the column and line in the file."""
    safe = re.sub(r"[^\w.\-]+", "_", FilePath(name).name)[-100:] or "history.csv"
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / safe
        path.write_bytes(raw)
        try:
            return fit_file(path, fit_options, options, source=FilePath(name).name)
        except ScenarioError as exc:
            lined = [FieldProblem(p.path, _at_line(p)) for p in exc.problems]
            problem = invalid_input(ScenarioError(exc.source, lined), "file")
            problem.detail = f"{name}: {problem.detail}"
            raise problem from None


def _at_line(problem: FieldProblem) -> str:
    """The message with its line in the file (a 422 error has a path and a message only)."""
    return f"line {problem.line}: {problem.message}" if problem.line else problem.message

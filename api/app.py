"""The FastAPI application: routes under /v1, health checks, auth, limits and logging."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import service, whatif
from api.auth import Principal, authenticate, create_key
from api.db.engine import make_engine, session_factory, transaction
from api.db.migrate import migrate, schema_is_current
from api.db.models import ApiKey, Base, Job, PlanRecord, ScenarioRecord, ScenarioVersion, utcnow
from api.jobs import Worker
from api.logs import request_id
from api.problems import STATE_REQUEST_ID, Problem, install, limit_exceeded, problem_response
from api.schemas import (
    MAX_VERSION,
    AdHocPlanRequest,
    CompareRequest,
    EvaluationRequest,
    FrontierRequest,
    JobKind,
    JobOut,
    KeyCreate,
    KeyOut,
    Page,
    PlanOut,
    PlanRequest,
    ScenarioCreate,
    ScenarioOut,
    SweepRequest,
    VersionCreate,
    VersionOut,
)
from api.settings import Settings
from optimizer.outputs.excel import tables_xlsx, to_xlsx
from optimizer.outputs.text import to_csv
from optimizer.outputs.whatif_rows import to_csv_text
from optimizer.results.plan import Plan, package_version
from optimizer.schema.scenario import Scenario

log = logging.getLogger("budgetopt.api")
REQUEST_ID = re.compile(r"^[\w.-]{1,64}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Services:
    """What the routes share: settings, database and the job worker."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    worker: Worker


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the database is migrated and workers started when it starts up."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        factory = session_factory(engine)
        worker = Worker(factory, settings)
        worker.start()
        app.state.services = Services(settings, engine, factory, worker)
        if settings.dev_mode:
            log.warning(
                "DEV MODE: requests without an API key act as admin of workspace "
                f"{settings.dev_workspace!r}; never expose this server"
            )
        yield
        worker.stop()
        engine.dispose()

    app = FastAPI(
        title="budgetopt",
        version=package_version(),
        summary="Marketing budget optimisation: plans, evaluations and comparisons over HTTP.",
        description=(
            "Authenticate with `Authorization: Bearer <key>` (create the first key with "
            "`budgetopt keys create --workspace W --role admin`). Errors are RFC 9457 "
            "problem+json documents with the field path of each problem."
        ),
        lifespan=lifespan,
    )
    install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)  # added last: the outermost, around every other layer
    _routes(app)
    return app


# --- middleware ----------------------------------------------------------------------------


class RequestContext:
    """Outermost middleware: the request id, the request's log line, and the last-resort 500.

    The id (taken from X-Request-ID when sane) is set for everything the request runs, sent
    back as X-Request-ID and logged with one JSON line per request. An exception that no
    handler turned into a response becomes a problem+json 500 carrying that id, answered like
    any other response: the exception does not reach the server, which would otherwise close
    (reset) a keep-alive connection that is still perfectly usable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the request id set; answer 500 if it raises before responding."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})[STATE_REQUEST_ID] = rid
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                responded = True
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid, "path": scope["path"]})
            if responded:
                raise  # part of the response is out: only closing the connection can end it
            response = problem_response(
                Request(scope),
                500,
                "internal-error",
                "unexpected server error; quote the request_id",
            )
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(1000 * (time.perf_counter() - started), 1),
                },
            )
            request_id.reset(token)


class BodyLimit:
    """413 for a body over the limit, by Content-Length or by counting a streamed body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body up to the limit, then replay it to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send, size)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        problem = limit_exceeded(413, "max_body_bytes", size, self.max_bytes, "body")
        response = problem_response(
            Request(scope, receive), 413, problem.slug, problem.detail, **problem.extra
        )
        await response(scope, receive, send)


# --- dependencies --------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer bo_...`")


def services(request: Request) -> Services:
    """The app's shared services."""
    return request.app.state.services


def principal(
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller from their API key; in dev mode, no key means admin of the dev workspace."""
    if credentials is None:
        if svc.settings.dev_mode:
            return Principal(svc.settings.dev_workspace, "admin", "dev")
        raise Problem(401, "unauthorized", "an API key is required: Authorization: Bearer <key>")
    with svc.factory() as session:
        who = authenticate(session, credentials.credentials)
    if who is None:
        raise Problem(401, "unauthorized", "unknown or revoked API key")
    return who


def role(needed: str) -> Callable[..., Principal]:
    """Dependency: the caller, who must hold at least ``needed``."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.can(needed):
            raise Problem(403, "forbidden", f"this needs the {needed} role; your key is {who.role}")
        return who

    return check


Viewer = Annotated[Principal, Depends(role("viewer"))]
Planner = Annotated[Principal, Depends(role("planner"))]
Admin = Annotated[Principal, Depends(role("admin"))]
Svc = Annotated[Services, Depends(services)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPage = Annotated[int, Query(ge=1, le=100, description="Items per page (at most 100).")]
Async = Annotated[
    bool,
    Query(alias="async", description="Always answer 202 with a job, whatever the size."),
]


# --- conversions ---------------------------------------------------------------------------


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
        result=record.result if with_result else None,
    )


def job_out(job: Job) -> JobOut:
    """Response body of a job, with the plan (or what-if result) link once it succeeded."""
    links = {"self": f"/v1/jobs/{job.id}", "cancel": f"/v1/jobs/{job.id}/cancel"}
    if job.plan_id:
        links["plan"] = f"/v1/plans/{job.plan_id}"
    if job.kind in service.WHATIF_KINDS and job.status == "succeeded":
        links["result"] = f"/v1/jobs/{job.id}/result"
    shown = {c.key: getattr(job, c.key) for c in Job.__table__.columns if c.key != "result"}
    return JobOut.model_validate({**shown, "links": links})


def key_out(row: ApiKey, key: str | None = None) -> KeyOut:
    """Response body of a key (the secret only at creation; the hash never)."""
    return KeyOut.model_validate({**columns(row), "key": key})


def _run(svc: Services, work: service.Work, queue: bool, response: Response) -> Any:
    """Solve now (201 with the plan) or queue (202 with the job and its Location)."""
    if queue:
        return _queued(svc, work)
    record = service.execute(svc.factory, work)
    with svc.factory() as session:
        number = service.version_number(session, record)
    response.status_code = 201
    response.headers["Location"] = f"/v1/plans/{record.id}"
    return plan_out(record, number, with_result=True)


def _queued(svc: Services, work: service.Work) -> JSONResponse:
    """Queue a what-if job: 202 with the job and its Location."""
    with transaction(svc.factory) as session:
        job = service.enqueue(session, work, svc.settings)
    body = job_out(job)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": body.links["self"]}
    )


def _large(svc: Services, scenario: Scenario) -> bool:
    """Too many unit-periods to solve inside a request."""
    return service.cells(scenario) > svc.settings.sync_max_cells


# --- routes --------------------------------------------------------------------------------

ACCEPTED = {202: {"model": JobOut, "description": "Queued: poll the job (Location header)."}}
WHATIF_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The key's role is below planner."},
    404: {"description": "No such scenario or version in this workspace."},
    422: {
        "description": "Invalid request, checked before queueing: `errors` name the body field "
        "(`body.vary[1].path`, `body.vary[0].values[2]`, `body.to_cny`) and what is wrong."
    },
}
RESULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The result: JSON (`to_json_data` of the sweep, tornado or frontier), "
        "or its rows as CSV (UTF-8 with BOM) or an XLSX workbook.",
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
    },
    404: {"description": "No such job in this workspace."},
    409: {
        "description": "The job has no result yet (queued, running), never will (failed, "
        "cancelled), or is a plan or evaluation job (its result is the plan: `links.plan`)."
    },
}


def _routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "Not ready"}})
    def readyz(request: Request, svc: Svc) -> Any:
        """Readiness: the database answers, its schema is current and the workers run."""
        checks: dict[str, str] = {}
        try:
            checks["database"] = "ok" if schema_is_current(svc.engine) else "schema not current"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["workers"] = "ok" if svc.worker.alive else "stopped"
        if all(v == "ok" for v in checks.values()):
            return {"status": "ready", "checks": checks}
        return problem_response(request, 503, "not-ready", "service not ready", checks=checks)

    # scenarios ------------------------------------------------------------------------------

    @app.post("/v1/scenarios", status_code=201, tags=["scenarios"])
    def create_scenario(
        body: ScenarioCreate, who: Planner, svc: Svc, response: Response
    ) -> ScenarioOut:
        """Store a scenario (validated like a scenario file) as version 1."""
        service.check_limits(body.scenario, None, svc.settings)
        with transaction(svc.factory) as session:
            record = service.create_scenario(session, who, body.scenario, body.tags)
            version = service.get_version(session, record, 1)
            out = scenario_out(record, version)
        response.headers["Location"] = f"/v1/scenarios/{record.id}"
        return out

    @app.get("/v1/scenarios", tags=["scenarios"])
    def list_scenarios(
        who: Viewer,
        svc: Svc,
        name: Annotated[str | None, Query(max_length=200, description="Name contains.")] = None,
        tag: Annotated[str | None, Query(max_length=50, description="Has this tag.")] = None,
        archived: Annotated[bool, Query(description="List archived ones instead.")] = False,
        page: PageNo = 1,
        per_page: PerPage = 20,
    ) -> Page[ScenarioOut]:
        """The workspace's scenarios, newest first, filtered by name and tag."""
        with svc.factory() as session:
            rows, total = service.list_scenarios(
                session, who, name=name, tag=tag, archived=archived, page=page, per_page=per_page
            )
            items = [scenario_out(r) for r in rows]
        return Page[ScenarioOut](items=items, page=page, per_page=per_page, total=total)

    @app.get("/v1/scenarios/{scenario_id}", tags=["scenarios"])
    def get_scenario(scenario_id: str, who: Viewer, svc: Svc) -> ScenarioOut:
        """A scenario with its latest version's document."""
        with svc.factory() as session:
            record = service.get_scenario(session, who, scenario_id)
            return scenario_out(record, service.get_version(session, record, None))

    @app.get("/v1/scenarios/{scenario_id}/versions", tags=["scenarios"])
    def list_versions(scenario_id: str, who: Viewer, svc: Svc) -> list[VersionOut]:
        """Every version of a scenario, oldest first (documents omitted)."""
        with svc.factory() as session:
            record = service.get_scenario(session, who, scenario_id)
            return [version_out(v, with_body=False) for v in service.list_versions(session, record)]

    @app.get("/v1/scenarios/{scenario_id}/versions/{version}", tags=["scenarios"])
    def get_version(
        scenario_id: str,
        version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
        who: Viewer,
        svc: Svc,
    ) -> VersionOut:
        """One version with its document."""
        with svc.factory() as session:
            record = service.get_scenario(session, who, scenario_id)
            return version_out(service.get_version(session, record, version), with_body=True)

    @app.post("/v1/scenarios/{scenario_id}/versions", status_code=201, tags=["scenarios"])
    def add_version(scenario_id: str, body: VersionCreate, who: Planner, svc: Svc) -> ScenarioOut:
        """A new immutable version; plans of earlier versions keep pointing at theirs."""
        service.check_limits(body.scenario, None, svc.settings)
        with transaction(svc.factory) as session:
            record = service.add_version(session, who, scenario_id, body.scenario, body.tags)
            session.flush()
            return scenario_out(record, service.get_version(session, record, None))

    @app.post("/v1/scenarios/{scenario_id}/archive", tags=["scenarios"])
    def archive(scenario_id: str, who: Planner, svc: Svc) -> ScenarioOut:
        """Archive: hidden from default lists, no new versions; its plans stay readable."""
        with transaction(svc.factory) as session:
            return scenario_out(service.archive_scenario(session, who, scenario_id))

    # plans ----------------------------------------------------------------------------------

    @app.post(
        "/v1/scenarios/{scenario_id}/plans", status_code=201, tags=["plans"], responses=ACCEPTED
    )
    def plan_scenario(
        scenario_id: str,
        body: PlanRequest,
        who: Planner,
        svc: Svc,
        response: Response,
        run_async: Async = False,
    ) -> PlanOut:
        """Solve a stored scenario version and store the plan (202 with a job when large)."""
        version, scenario = service.load_version(svc.factory, who, scenario_id, body.version)
        work = service.prepare("plan", who, scenario, body, svc.settings, version)
        return _run(svc, work, run_async or _large(svc, scenario), response)

    @app.post("/v1/plans", status_code=201, tags=["plans"], responses=ACCEPTED)
    def plan_inline(
        body: AdHocPlanRequest, who: Planner, svc: Svc, response: Response, run_async: Async = False
    ) -> PlanOut:
        """Solve an inline scenario; the plan keeps a copy of it for audit."""
        work = service.prepare("plan", who, body.scenario, body, svc.settings)
        return _run(svc, work, run_async or _large(svc, body.scenario), response)

    @app.get("/v1/plans", tags=["plans"])
    def list_plans(
        who: Viewer,
        svc: Svc,
        scenario_id: Annotated[str | None, Query(max_length=40)] = None,
        page: PageNo = 1,
        per_page: PerPage = 20,
    ) -> Page[PlanOut]:
        """The workspace's plans and evaluations, newest first (results omitted)."""
        with svc.factory() as session:
            rows, total = service.list_plans(
                session, who, scenario_id=scenario_id, page=page, per_page=per_page
            )
            items = [
                plan_out(r, service.version_number(session, r), with_result=False) for r in rows
            ]
        return Page[PlanOut](items=items, page=page, per_page=per_page, total=total)

    @app.get("/v1/plans/{plan_id}", tags=["plans"])
    def get_plan(plan_id: str, who: Viewer, svc: Svc) -> PlanOut:
        """A plan with its full result: allocation, metrics, rules and solver report."""
        with svc.factory() as session:
            record = service.get_plan(session, who, plan_id)
            return plan_out(record, service.version_number(session, record), with_result=True)

    @app.get(
        "/v1/plans/{plan_id}/export",
        tags=["plans"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
    )
    def export_plan(
        plan_id: str,
        who: Viewer,
        svc: Svc,
        format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
    ) -> Response:
        """The plan as a tidy CSV (UTF-8 with BOM) or an XLSX workbook."""
        with svc.factory() as session:
            record = service.get_plan(session, who, plan_id)
        plan = Plan.from_dict(record.result)
        filename = f"{record.id}.{format}"
        disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if format == "xlsx":
            return Response(to_xlsx(plan), media_type=XLSX, headers=disposition)
        return Response(to_csv(plan), media_type="text/csv; charset=utf-8", headers=disposition)

    @app.post(
        "/v1/scenarios/{scenario_id}/evaluations",
        status_code=201,
        tags=["plans"],
        responses=ACCEPTED,
    )
    def evaluate(
        scenario_id: str,
        body: EvaluationRequest,
        who: Planner,
        svc: Svc,
        response: Response,
        run_async: Async = False,
    ) -> PlanOut:
        """Score a hand-made split with a plan's metrics and rules, and its gap to the optimum."""
        version, scenario = service.load_version(svc.factory, who, scenario_id, body.version)
        if body.optimum_plan_id is not None:
            with svc.factory() as session:
                service.get_plan(session, who, body.optimum_plan_id)
        work = service.prepare(
            "evaluation",
            who,
            scenario,
            body,
            svc.settings,
            version,
            allocation=body.allocation,
            optimum_plan_id=body.optimum_plan_id,
            compare_to_optimum=body.compare_to_optimum,
        )
        solves = body.optimum_plan_id is None and body.compare_to_optimum
        # Scoring alone is quick: only a solve for the optimum goes to a job.
        return _run(svc, work, solves and (run_async or _large(svc, scenario)), response)

    @app.post("/v1/compare", tags=["plans"])
    def compare(body: CompareRequest, who: Viewer, svc: Svc) -> dict[str, Any]:
        """Plans side by side: per-channel, per-period and total metrics with deltas."""
        refs = [(r.scenario_id, r.version) for r in body.scenarios]
        with svc.factory() as session:
            return service.compare(session, who, body.plan_ids, refs)

    # what-if ---------------------------------------------------------------------------------

    @app.post(
        "/v1/scenarios/{scenario_id}/sweeps",
        status_code=202,
        tags=["what-if"],
        summary="Sweep or tornado over scenario fields (a job)",
        response_model=JobOut,
        responses=WHATIF_RESPONSES,
    )
    def sweep(scenario_id: str, body: SweepRequest, who: Planner, svc: Svc) -> JSONResponse:
        """Plan a stored scenario version at every combination of field values (`mode: grid`,
        first field varying slowest) or moving one field at a time around the version as
        stored (`mode: tornado`, fields ranked by the swing they cause in `metric`).

        Each `vary` item is a field `path` (`budget.total_cny`, `channels[live].cpm.base_cny`,
        `seasonality[Q4]`, `rules[roas_floor].min_roas`) with `values` or an evenly spaced
        `range: {start, stop, count}`. Every point is a full plan, as
        `POST /v1/scenarios/{id}/plans` would make of that scenario. Paths, values and the
        number of points are checked now (422); the points are solved by a job (202): poll
        `Location`, then read `links.result`.
        """
        version, scenario = service.load_version(svc.factory, who, scenario_id, body.version)
        return _queued(svc, whatif.prepare_sweep(who, scenario, body, svc.settings, version))

    @app.post(
        "/v1/scenarios/{scenario_id}/frontiers",
        status_code=202,
        tags=["what-if"],
        summary="Budget frontier: the best plan at each total budget (a job)",
        response_model=JobOut,
        responses=WHATIF_RESPONSES,
    )
    def frontier(scenario_id: str, body: FrontierRequest, who: Planner, svc: Svc) -> JSONResponse:
        """GMV, profit and ROAS of the best plan (for `objective`) at `points` total budgets
        from `from_cny` (default: half the scenario's budget, never below its fixed costs and
        contingency plus 5% of the budget) to `to_cny` (default: twice the scenario's budget),
        with the marginal ROAS (GMV per extra yuan spent) between neighbouring
        budgets and the budgets where it falls below 1 and below the scenario's ROAS floor
        (`summary`). Checked now (422), solved by a job (202).
        """
        version, scenario = service.load_version(svc.factory, who, scenario_id, body.version)
        return _queued(svc, whatif.prepare_frontier(who, scenario, body, svc.settings, version))

    # jobs -----------------------------------------------------------------------------------

    @app.get("/v1/jobs", tags=["jobs"], summary="List jobs")
    def list_jobs(
        who: Viewer,
        svc: Svc,
        status: Annotated[
            Literal["queued", "running", "succeeded", "failed", "cancelled"] | None, Query()
        ] = None,
        kind: Annotated[JobKind | None, Query(description="Only jobs of this kind.")] = None,
        page: PageNo = 1,
        per_page: PerPage = 20,
    ) -> Page[JobOut]:
        """The workspace's jobs, newest first, filtered by status and kind."""
        with svc.factory() as session:
            rows, total = service.list_jobs(
                session, who, status=status, kind=kind, page=page, per_page=per_page
            )
            items = [job_out(j) for j in rows]
        return Page[JobOut](items=items, page=page, per_page=per_page, total=total)

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], summary="A job's status")
    def get_job(job_id: str, who: Viewer, svc: Svc) -> JobOut:
        """Kind, status, progress (0 to 1; points done / total for a what-if job), message
        and, once succeeded, `links.plan` (plan, evaluation) or `links.result` (sweep,
        tornado, frontier)."""
        with svc.factory() as session:
            return job_out(service.get_job(session, who, job_id))

    @app.get(
        "/v1/jobs/{job_id}/result",
        tags=["jobs", "what-if"],
        summary="A sweep, tornado or frontier job's result",
        response_class=Response,
        responses=RESULT_RESPONSES,
    )
    def job_result(
        job_id: str,
        who: Viewer,
        svc: Svc,
        format: Annotated[
            Literal["json", "csv", "xlsx"], Query(description="json (default), csv or xlsx")
        ] = "json",
    ) -> Response:
        """The points of a succeeded what-if job: JSON with every point's values, headline
        figures and spend by channel (a tornado adds each field's swing, a frontier the
        marginal ROAS and a `summary`); or the same rows as `budgetopt sweep` / `frontier`
        write, as CSV (UTF-8 with BOM) or XLSX (a frontier adds a summary sheet)."""
        with svc.factory() as session:
            job = service.get_job(session, who, job_id)
            data = job.result  # deferred: read while the session is open
        if job.kind not in service.WHATIF_KINDS:
            where = f"/v1/plans/{job.plan_id}" if job.plan_id else None
            detail = f"job {job_id!r} is a {job.kind} job: its result is a stored plan, "
            if where:
                detail += f"at {where} (the job's links.plan)"
            else:
                detail += f"linked as links.plan when the job succeeds (it is {job.status})"
            links = {"plan": where} if where else {}
            raise Problem(409, "not-a-whatif-job", detail, links=links, job_status=job.status)
        if job.status != "succeeded" or data is None:
            why = f": {job.error}" if job.error else ""
            raise Problem(
                409,
                "job-not-finished" if job.status in ("queued", "running") else "job-has-no-result",
                f"job {job_id!r} is {job.status}{why}; only a succeeded job has a result",
                job_status=job.status,
            )
        if format == "json":
            return JSONResponse(data)
        sheets = whatif.sheets(job.kind, data)
        filename = f"{job.id}-{job.kind}.{format}"
        disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if format == "xlsx":
            return Response(tables_xlsx(sheets), media_type=XLSX, headers=disposition)
        rows = next(iter(sheets.values()))
        return Response(
            to_csv_text(rows), media_type="text/csv; charset=utf-8", headers=disposition
        )

    @app.post("/v1/jobs/{job_id}/cancel", tags=["jobs"], summary="Cancel a job")
    def cancel_job(job_id: str, who: Planner, svc: Svc) -> JobOut:
        """Cancel a queued job, or stop a running one after its current solver round (a
        sweep, tornado or frontier: after its current point)."""
        with transaction(svc.factory) as session:
            return job_out(service.cancel_job(session, who, job_id))

    # keys -----------------------------------------------------------------------------------

    @app.post("/v1/keys", status_code=201, tags=["keys"])
    def create_api_key(body: KeyCreate, who: Admin, svc: Svc) -> KeyOut:
        """A new key in your workspace; the key is in this response only."""
        with transaction(svc.factory) as session:
            row, key = create_key(session, who.workspace, body.role, body.name)
            return key_out(row, key)

    @app.get("/v1/keys", tags=["keys"])
    def list_keys(who: Admin, svc: Svc) -> list[KeyOut]:
        """Your workspace's keys (prefixes only)."""
        with svc.factory() as session:
            rows = session.scalars(
                select(ApiKey).where(ApiKey.workspace == who.workspace).order_by(ApiKey.created_at)
            )
            return [key_out(r) for r in rows]

    @app.post("/v1/keys/{key_id}/revoke", tags=["keys"])
    def revoke_key(key_id: str, who: Admin, svc: Svc) -> KeyOut:
        """Revoke a key at once; requests with it get 401."""
        with transaction(svc.factory) as session:
            row = session.scalar(
                select(ApiKey).where(ApiKey.id == key_id, ApiKey.workspace == who.workspace)
            )
            if row is None:
                raise Problem(404, "not-found", f"no key with id {key_id!r} in this workspace")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return key_out(row)

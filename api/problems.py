"""Errors as RFC 9457 problem details (``application/problem+json``), field paths included."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import request_id
from optimizer.errors import FieldProblem, ScenarioError
from optimizer.schema.messages import format_path, problems_from_errors

PROBLEM_JSON = "application/problem+json"
STATE_REQUEST_ID = "request_id"  # key of the request id in the ASGI scope's state
TYPE_BASE = "https://budgetopt.dev/problems/"
log = logging.getLogger("budgetopt.api")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class HttpProblem(Exception):
    """An HTTP error answered as problem+json: status, a short slug for ``type``, a detail and
    extra members. Raised anywhere a request runs (routes, services, dependencies)."""

    def __init__(self, status: int, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.extra = extra


def not_found(what: str, ident: str) -> HttpProblem:
    """404 for a missing object or one in another workspace (same answer, nothing leaks)."""
    return HttpProblem(404, "not-found", f"no {what} with id {ident!r} in this workspace")


def limit_exceeded(
    status: int, limit: str, value: float, maximum: float, where: str
) -> HttpProblem:
    """413/422 naming the limit, its value and where the request broke it."""
    return HttpProblem(
        status,
        "limit-exceeded",
        f"{where}: {value:g} exceeds the limit {limit} = {maximum:g}",
        limit=limit,
        maximum=maximum,
        errors=[{"path": where, "message": f"at most {maximum:g} allowed, got {value:g}"}],
    )


def invalid_input(exc: ScenarioError, prefix: str) -> HttpProblem:
    """422 listing each field problem with its path inside the request body."""
    errors = [field_error(p, prefix) for p in exc.problems]
    return HttpProblem(422, "validation-error", _summary(errors), errors=errors)


def field_error(problem: FieldProblem, prefix: str) -> dict[str, Any]:
    """{path, message} with the path rooted at ``prefix`` (e.g. ``body.scenario``)."""
    path = prefix if problem.path in ("file", "", "(top level)") else f"{prefix}.{problem.path}"
    return {"path": path, "message": problem.message}


def _summary(errors: list[dict[str, Any]]) -> str:
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:3])
    return detail + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")


def problem_response(
    request: Request, status: int, slug: str, detail: str, **extra: Any
) -> JSONResponse:
    """The problem+json response, with the request id to quote to support."""
    body = {
        "type": TYPE_BASE + slug,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": current_request_id(request),
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def current_request_id(request: Request) -> str | None:
    """The request's id: set by the request middleware for everything the request runs."""
    rid = request_id.get()
    if rid is None:  # outside the middleware's context (a handler of the outermost layer)
        rid = request.scope.get("state", {}).get(STATE_REQUEST_ID)
    return rid


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(HttpProblem)
    async def _problem(request: Request, exc: HttpProblem) -> JSONResponse:
        return problem_response(request, exc.status, exc.slug, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = request_errors(list(exc.errors()), exc.body)
        return problem_response(request, 422, "validation-error", _summary(errors), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = "not-found" if exc.status_code == 404 else "http-error"
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return problem_response(request, exc.status_code, slug, detail)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # The request middleware answers unexpected errors itself (with the request id, and
        # without the server closing the connection); this handler is the last resort for an
        # error in that middleware.
        log.exception(
            "unhandled error",
            extra={"path": request.url.path, "request_id": current_request_id(request)},
        )
        return problem_response(
            request, 500, "internal-error", "unexpected server error; quote the request_id"
        )


def request_errors(errors: list[Any], body: Any) -> list[dict[str, Any]]:
    """Errors inside an embedded scenario get the file loader's messages; others plain ones."""
    inside = [
        e
        for e in errors
        if len(e.get("loc", ())) > 2 and tuple(e["loc"])[:2] == ("body", "scenario")
    ]
    outside = [_request_error(e) for e in errors if e not in inside]
    scenario = body.get("scenario") if isinstance(body, dict) else None
    stripped = [{**e, "loc": tuple(e["loc"])[2:]} for e in inside]
    problems = problems_from_errors(stripped, {}, scenario)
    return outside + [field_error(p, "body.scenario") for p in problems]


def _request_error(err: dict[str, Any]) -> dict[str, Any]:
    """A FastAPI/pydantic error as {path, message}: ``body.scenario.channels[0].kind``."""
    loc = tuple(p for p in err.get("loc", ()) if not _is_union_tag(p))
    message = err.get("msg", "invalid value")
    if err.get("type") == "missing":
        message = "required field is missing"
    elif err.get("type") == "extra_forbidden":
        message = "unknown field"
    elif err.get("type") == "json_invalid":
        message = f"body is not valid JSON: {err.get('ctx', {}).get('error', message)}"
    return {"path": format_path(loc) or "body", "message": message}


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part in ("float", "int", "str", "bool") or part.startswith(("list[", "tuple[", "function-"))
    )

"""The OpenAPI document says what errors really look like: every operation's 4xx and 5xx
answers are ``application/problem+json`` documents of one ``Problem`` schema (the body
``api.problems.problem_response`` sends), instead of FastAPI's ``HTTPValidationError``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.problems import PROBLEM_JSON, TITLES, TYPE_BASE
from optimizer.schema.calendar import add_calendar_forms

REF = "#/components/schemas/Problem"
FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")  # replaced by Problem
DESCRIPTIONS = {
    401: "No API key, or an unknown or revoked one.",
    403: "The key's role is below the one this operation needs.",
    404: "No such object in this workspace.",
    413: "The body is larger than the server's max_body_bytes.",
    422: "Invalid request: `errors` name each field (`body.split.tv`) and what is wrong.",
    500: "Unexpected server error (or a failed solver): quote the `request_id`.",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem detail; more members may follow the ones listed.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri", "examples": [TYPE_BASE + "not-found"]},
        "title": {"type": "string", "examples": ["Not found"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, with the field path."},
        "instance": {"type": "string", "description": "The request's path."},
        "request_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field (422, 413).",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {
                    "path": {"type": "string", "examples": ["body.split.tv"]},
                    "message": {"type": "string"},
                },
            },
        },
        "limit": {"type": "string", "description": "The server limit broken (limit-exceeded)."},
        "maximum": {"type": "number", "description": "That limit's value."},
    },
    "additionalProperties": True,
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) declare errors as problem+json."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_calendar_forms(declare_problems(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """The document with each operation's error answers as problem+json ``Problem``s."""
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            for status in error_statuses(path, operation):
                _declare(operation["responses"], status)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in FASTAPI_ERRORS:
        components.pop(name, None)
    return schema


def with_calendar_forms(schema: dict[str, Any]) -> dict[str, Any]:
    """Scenario bodies take what scenario files take: ISO-week periods and values by window,
    which the scenario expands before its fields validate (so FastAPI cannot see them)."""
    components = schema.get("components", {}).get("schemas", {})
    if "Scenario" in components:
        add_calendar_forms(components["Scenario"], components, "#/components/schemas/")
    return schema


def error_statuses(path: str, operation: dict[str, Any]) -> set[int]:
    """The errors an operation can answer: those it declares, 401 and 403 when it needs a
    key, 404 when its path names an object, 413 and 422 for a body, 422 for parameters,
    and 500 for every operation."""
    declared = {int(code) for code in operation.get("responses", {}) if int(code) >= 400}
    statuses = declared | {500}
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if operation.get("requestBody"):
        statuses |= {413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    return statuses


def _declare(responses: dict[str, Any], status: int) -> None:
    """One error answer as a Problem, keeping a description the route gave."""
    response = responses.setdefault(str(status), {})
    if response.get("description") in (None, "", "Validation Error"):
        response["description"] = DESCRIPTIONS.get(status, TITLES.get(status, "Error"))
    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": REF}}}

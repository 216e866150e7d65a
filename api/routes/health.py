"""Liveness and readiness, for load balancers and orchestrators (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.db.migrate import schema_is_current
from api.deps import Shared
from api.problems import problem_response

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], responses={503: {"description": "Not ready"}})
def readyz(request: Request, shared: Shared) -> Any:
    """Readiness: the database answers, its schema is current and the workers run."""
    checks: dict[str, str] = {}
    try:
        checks["database"] = "ok" if schema_is_current(shared.engine) else "schema not current"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    checks["workers"] = "ok" if shared.worker.alive else "stopped"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    return problem_response(request, 503, "not-ready", "service not ready", checks=checks)

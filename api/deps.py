"""FastAPI dependencies: what the routes share, the caller from their API key, the role a
route needs, and the paging and ``async`` query parameters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal, Role, authenticate
from api.problems import HttpProblem
from api.settings import ServiceSettings
from api.worker import Worker


@dataclass
class Resources:
    """What the routes share, made when the app starts: settings, database and job worker."""

    settings: ServiceSettings
    engine: Engine
    factory: sessionmaker[Session]
    worker: Worker


async def resources(request: Request) -> Resources:
    """The app's shared resources.

    This and the other dependencies are ``async``: FastAPI runs a plain ``def`` dependency in
    a worker thread, and three such hops per request cost a small plan more than its solve.
    They do no more than look at the request, and read one key row by its indexed hash.
    """
    return request.app.state.resources


bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer bo_...`")


async def principal(
    shared: Annotated[Resources, Depends(resources)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller from their API key; in dev mode, no key means admin of the dev workspace."""
    if credentials is None:
        if shared.settings.dev_mode:
            return Principal(shared.settings.dev_workspace, "admin", "dev")
        raise HttpProblem(
            401, "unauthorized", "an API key is required: Authorization: Bearer <key>"
        )
    with shared.factory() as session:
        who = authenticate(session, credentials.credentials)
    if who is None:
        raise HttpProblem(401, "unauthorized", "unknown or revoked API key")
    return who


def role(needed: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, who must hold at least ``needed``."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.can(needed):
            raise HttpProblem(
                403, "forbidden", f"this needs the {needed} role; your key is {who.role}"
            )
        return who

    return check


Viewer = Annotated[Principal, Depends(role("viewer"))]
Planner = Annotated[Principal, Depends(role("planner"))]
Admin = Annotated[Principal, Depends(role("admin"))]
Shared = Annotated[Resources, Depends(resources)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPage = Annotated[int, Query(ge=1, le=100, description="Items per page (at most 100).")]
TableFormat = Annotated[
    Literal["json", "csv", "xlsx"],
    Query(description="json (default), csv (UTF-8 with BOM) or xlsx"),
]
Async = Annotated[
    bool,
    Query(alias="async", description="Always answer 202 with a job, whatever the size."),
]

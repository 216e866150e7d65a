"""The FastAPI application: routes under /v1 and health checks, wrapped in the request
middleware, with errors as problem+json. ``create_app`` is what ``budgetopt serve`` runs."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.db.engine import make_engine, session_factory
from api.db.migrate import migrate
from api.deps import Resources
from api.middleware import BodyLimit, RequestContext
from api.openapi import install_openapi
from api.problems import install
from api.routes import ROUTERS
from api.settings import ServiceSettings
from api.web import assets, pages
from api.worker import Worker
from optimizer.results.fingerprint import package_version

log = logging.getLogger("budgetopt.api")


def served_app() -> FastAPI:
    """The app of one of ``serve --processes N``'s processes: its settings come from the
    environment the parent set, and its logs are JSON lines like the parent's."""
    from api import logs

    logs.configure()
    return create_app()


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """Build the app; the database is migrated and workers started when it starts up."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        factory = session_factory(engine)
        worker = Worker(factory, settings)
        worker.start()
        app.state.resources = Resources(settings, engine, factory, worker)
        # what start-up made (modules, the app, its schemas) lives as long as the process:
        # out of the collector's way, a full collection walks only what requests make, and a
        # request no longer now and then waits a few hundred ms for one
        gc.collect()
        gc.freeze()
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
        docs_url=None,  # /docs and /redoc: api.routes.docs, from this server's own files
        redoc_url=None,
    )
    install(app)
    install_openapi(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)  # added last: the outermost, around every other layer
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages.router)
    assets.mount(app)
    return app

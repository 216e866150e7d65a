"""The HTTP routes, one thin router per resource: each reads the request, calls a service and
shapes the response. ``ROUTERS`` is in the order the OpenAPI document lists them."""

from __future__ import annotations

from api.routes import (
    comparisons,
    curve_fits,
    docs,
    evaluations,
    health,
    jobs,
    keys,
    model_imports,
    plans,
    scenarios,
    whatif,
)

ROUTERS = (
    health.router,
    scenarios.router,
    model_imports.router,
    curve_fits.router,
    plans.router,
    evaluations.router,
    comparisons.router,
    whatif.router,
    jobs.router,
    keys.router,
    docs.router,
)

"""The planner's page at ``/``: one HTML document whose script talks to the JSON API.

The page holds no data of its own and no second API: every figure it shows comes from the
same ``/v1`` endpoints a program calls, with the same access rules (dev mode without a key;
otherwise the API key the planner pastes, sent as ``Authorization: Bearer``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.web.assets import HERE

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


@router.get("/", response_class=HTMLResponse)
def planner_page(request: Request) -> HTMLResponse:
    """The planner's page (its data comes from the API once it loads)."""
    settings = request.app.state.resources.settings
    return templates.TemplateResponse(
        request,
        "index.html",
        {"dev_mode": settings.dev_mode, "version": request.app.version},
        headers={"Cache-Control": "no-store"},
    )

"""Front-end files the service serves itself, so every page works with no internet access.

The packages are pinned in ``api/web/package-lock.json`` and installed by ``make`` with
``npm ci`` into ``api/web/node_modules`` (or wherever ``BUDGETOPT_ASSETS_DIR`` names, as the
Docker image does); only the folders named in ``VENDOR`` are served, under
``/static/vendor/<name>/``. The page's own scripts and styles are under ``/static/app/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
MODULES = Path(os.environ.get("BUDGETOPT_ASSETS_DIR") or HERE / "node_modules")
OWN = HERE / "static"
# URL name -> folder inside node_modules: only what a page loads, never the whole tree
VENDOR = {
    "echarts": "echarts/dist",
    "swagger-ui": "swagger-ui-dist",
    "redoc": "redoc/bundles",
    "noto-sans-sc": "@fontsource/noto-sans-sc",
}


class AssetsMissing(RuntimeError):
    """The npm packages are not installed: the message says which and how to install them."""


def missing() -> list[str]:
    """The VENDOR folders that are not installed (empty when ``npm ci`` has run)."""
    return [folder for folder in VENDOR.values() if not (MODULES / folder).is_dir()]


def mount(app: FastAPI) -> None:
    """Serve the vendored packages and the page's own files; AssetsMissing if not installed."""
    absent = missing()
    if absent:
        raise AssetsMissing(
            f"the page's front-end files are not installed ({', '.join(absent)} missing under "
            f"{MODULES}): run `make run` or `npm ci --prefix {HERE}`"
        )
    for name, folder in VENDOR.items():
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=MODULES / folder), name=name)
    app.mount("/static/app", StaticFiles(directory=OWN), name="app-static")

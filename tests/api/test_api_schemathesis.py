"""Property-based run of every operation in the OpenAPI schema: no input gives a 5xx."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.main import create_app
from api.services.examples import load_examples
from api.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
FOLDER = Path(tempfile.mkdtemp(prefix="budgetopt-schemathesis-"))
APP = create_app(
    ServiceSettings(
        database_url=f"sqlite:///{FOLDER / 'api.db'}",
        dev_mode=True,
        workers=0,
        max_solve_seconds=5,
        sync_max_cells=50,
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def started():
    """Run the app's startup (database, migrations) and load the example scenarios."""
    with TestClient(APP):
        load_examples(APP.state.resources.factory, "default", ROOT / "scenarios")
        yield
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])

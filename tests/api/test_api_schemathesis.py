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
from schemathesis.python import asgi

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


@pytest.fixture(scope="module")
def client(started):
    """One in-process client for every call, as schemathesis would make afresh for each: the
    coverage phase sends thousands of bodies per scenario operation. No proxies or netrc to
    read from the environment for an app in this process."""
    with asgi.get_client(APP) as session:
        session.trust_env = False
        yield session


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, client):
    case.call_and_validate(session=client, checks=[not_a_server_error])

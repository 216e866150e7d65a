"""Test support for the HTTP API: databases (SQLite file, PostgreSQL schema) and clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.db.engine import transaction
from api.main import create_app
from api.services.keys import create_key
from api.settings import ServiceSettings

POSTGRES = os.environ.get("BUDGETOPT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROLES = ("viewer", "planner", "admin")


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL: a SQLite file, or a new schema in the PostgreSQL test database."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/api.db"
        return
    try:
        admin = psycopg.connect(POSTGRES, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL pass skipped: no server answers at {POSTGRES} ({exc})")
    schema = f"bo_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@dataclass
class Api:
    """A running app (in-process), its shared resources and a key per workspace and role."""

    client: TestClient
    settings: ServiceSettings
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def resources(self) -> Any:
        """The app's database and worker."""
        return self.client.app.state.resources  # type: ignore[attr-defined]

    def headers(self, role: str = "planner", workspace: str = "acme") -> dict[str, str]:
        """Authorization header of the key for that role in that workspace."""
        return {"Authorization": f"Bearer {self.keys[(workspace, role)]}"}

    def call(
        self, method: str, path: str, role: str = "planner", workspace: str = "acme", **kw: Any
    ) -> Any:
        """One request as that role."""
        return self.client.request(method, path, headers=self.headers(role, workspace), **kw)


@contextmanager
def running_api(database_url: str, **overrides: Any) -> Iterator[Api]:
    """The app on the database, with keys for every role in workspaces acme and rival."""
    settings = ServiceSettings(database_url=database_url, **{"job_poll_seconds": 0.05, **overrides})
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        with transaction(api.resources.factory) as session:
            for workspace in ("acme", "rival"):
                for role in ROLES:
                    _, key = create_key(session, workspace, role, f"{role} of {workspace}")
                    api.keys[(workspace, role)] = key
        yield api


def small_scenario(budget: float | dict[str, Any] = 1_000_000.0, **fields: Any) -> dict[str, Any]:
    """Two linear channels, one year: ROAS 5 up to 400k, ROAS 3 unlimited.

    Best GMV by hand: 5 x 400,000 + 3 x 600,000 = 3,800,000 on a 1,000,000 budget.
    """
    return {
        "version": "1",
        "name": fields.pop("name", "two channels"),
        "periods": ["Y"],
        "budget": budget if isinstance(budget, dict) else {"total_cny": budget, "mode": "up_to"},
        "objective": {"kind": "max_gmv"},
        "channels": [
            {
                "id": "live",
                "kind": "curve",
                "response": {"type": "linear", "roas": 5.0},
                "aov_cny": 100.0,
                "max_spend_cny": 400_000.0,
            },
            {
                "id": "search",
                "kind": "curve",
                "response": {"type": "linear", "roas": 3.0},
                "aov_cny": 100.0,
            },
        ],
        "settings": {"tolerance": 1e-6},
        **fields,
    }

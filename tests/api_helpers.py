"""Test support for the HTTP API: databases (SQLite file, PostgreSQL schema), clients, and
what the what-if tests share (stored scenarios, queued jobs run on a worker, results)."""

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
from api.db.models import Job
from api.main import create_app
from api.services.keys import create_key
from api.settings import ServiceSettings
from api.worker import Worker, claim

POSTGRES = os.environ.get("BUDGETOPT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROLES = ("viewer", "planner", "admin")
PROBLEM = "application/problem+json"
GMV = 5 * 400_000 + 3 * 600_000  # small_scenario's optimum on its 1,000,000 budget


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


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The body of a problem+json answer with this status and type, after checking its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://budgetopt.dev/problems/{slug}"
    assert body["title"] and body["detail"] and body["request_id"]
    return body


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


# --- what-if jobs ------------------------------------------------------------------------------


def stored_scenario(api: Api, doc: dict[str, Any] | None = None) -> str:
    """The id of a new stored scenario (small_scenario unless ``doc`` is given)."""
    response = api.call("POST", "/v1/scenarios", json={"scenario": doc or small_scenario()})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def post(api: Api, sid: str, what: str, body: Any, role: str = "planner") -> Any:
    """POST a what-if request (``sweeps`` or ``frontiers``) for a stored scenario."""
    return api.call("POST", f"/v1/scenarios/{sid}/{what}", role=role, json=body)


def queued(api: Api, sid: str, what: str, body: Any) -> dict[str, Any]:
    """The queued job of a what-if request (202 with its Location)."""
    response = post(api, sid, what, body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["progress"] == 0
    return job


def run(api: Api, job_id: str, worker: Worker | None = None) -> dict[str, Any]:
    """Run the job on a worker in this thread, as a worker thread would."""
    claimed = claim(api.resources.factory, "test-worker")
    assert claimed is not None and claimed.id == job_id
    (worker or Worker(api.resources.factory, api.settings)).run(claimed)
    return api.call("GET", f"/v1/jobs/{job_id}", role="viewer").json()


def result(api: Api, job: dict[str, Any], **params: Any) -> Any:
    """The response with a succeeded what-if job's result."""
    response = api.call("GET", job["links"]["result"], role="viewer", params=params)
    assert response.status_code == 200, response.text
    return response


def plan_of(api: Api, doc: dict[str, Any]) -> tuple[float, float, dict[str, float]]:
    """Objective, GMV and spend by channel of the plan POST /v1/plans makes of ``doc``."""
    response = api.call("POST", "/v1/plans", json={"scenario": doc})
    assert response.status_code == 201, response.text
    plan = response.json()
    spend = {c: sum(p.values()) for c, p in plan["result"]["spend"].items()}
    return plan["objective_value"], plan["result"]["total"]["gmv_cny"], spend


def errors(response: Any, status: int = 422) -> dict[str, str]:
    """The problem+json errors of a refused request, message by body field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["path"]: e["message"] for e in response.json()["errors"]}


class Recording(Worker):
    """A worker that notes each point's progress as stored in the database."""

    seen: list[tuple[float, str]]

    def _point_progress(self, job_id: str, done: int, total: int) -> bool:
        cancel = super()._point_progress(job_id, done, total)
        with self.factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            self.seen.append((job.progress, job.message))
        return cancel


def recording(api: Api) -> Recording:
    """A recording worker on the app's database."""
    worker = Recording(api.resources.factory, api.settings)
    worker.seen = []
    return worker

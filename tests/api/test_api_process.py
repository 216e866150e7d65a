"""The real thing: ``budgetopt serve`` under uvicorn on loopback, killed and started again."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import small_scenario
from served import BUDGETOPT, ROOT, Server


def key_for(database: str, workspace: str, role: str) -> str:
    done = subprocess.run(
        [BUDGETOPT, "keys", "create", "--workspace", workspace, "--role", role],
        env={**os.environ, "DATABASE_URL": database},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout.strip()


def test_end_to_end_over_loopback(tmp_path):
    database = f"sqlite:///{tmp_path}/e2e.db"
    key = key_for(database, "acme", "planner")
    server = Server(tmp_path, "--database-url", database, "--examples", "scenarios")
    try:
        auth = {"Authorization": f"Bearer {key}", "X-Request-ID": "e2e-1"}
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            docs = client.get("/docs")
            assert docs.status_code == 200 and "swagger" in docs.text.lower()
            created = client.post("/v1/scenarios", json={"scenario": small_scenario()})
            assert created.status_code == 201
            plan = client.post(f"/v1/scenarios/{created.json()['id']}/plans", json={}).json()
            assert plan["objective_value"] == pytest.approx(3_800_000, rel=1e-6)
            csv = client.get(plan["links"]["csv"])
            assert csv.status_code == 200 and "unit_period" in csv.text
            # The examples went to the dev workspace 'default', not to acme.
            assert client.get("/v1/scenarios").json()["total"] == 1
            assert (
                client.get("/v1/scenarios", headers={"Authorization": "Bearer x"}).status_code
                == 401
            )
    finally:
        server.stop()
    assert "loaded example" in server.out.read_text()
    lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    requests = [e for e in lines if e["message"] == "request" and e.get("request_id") == "e2e-1"]
    assert {e["path"] for e in requests} >= {"/healthz", "/v1/scenarios"}
    assert all({"method", "status", "duration_ms"} <= set(e) for e in requests)


def test_queued_job_completes_after_the_server_is_killed_and_restarted(tmp_path):
    database = f"sqlite:///{tmp_path}/restart.db"
    key = key_for(database, "acme", "planner")
    auth = {"Authorization": f"Bearer {key}"}
    # First life: no worker threads, so the job stays queued; then a crash (SIGKILL).
    first = Server(tmp_path, "--database-url", database, "--workers", "0")
    try:
        queued = httpx.post(
            f"{first.url}/v1/plans?async=true",
            json={"scenario": small_scenario()},
            headers=auth,
            timeout=30,
        )
        assert queued.status_code == 202
        job_id = queued.json()["id"]
    finally:
        first.kill()
    # Second life: a worker picks the job up from the database.
    second = Server(tmp_path, "--database-url", database, "--workers", "1")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = httpx.get(f"{second.url}/v1/jobs/{job_id}", headers=auth, timeout=10).json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert job["status"] == "succeeded", job
        plan = httpx.get(f"{second.url}{job['links']['plan']}", headers=auth, timeout=10).json()
        assert plan["objective_value"] == pytest.approx(3_800_000, rel=1e-6)
    finally:
        second.stop()


def test_running_job_of_a_killed_server_is_retried(tmp_path):
    database = f"sqlite:///{tmp_path}/crash.db"
    key = key_for(database, "acme", "planner")
    auth = {"Authorization": f"Bearer {key}"}
    fast = {"BUDGETOPT_JOB_STALE_SECONDS": "1"}
    first = Server(tmp_path, "--database-url", database, "--workers", "0", env=fast)
    try:
        job_id = httpx.post(
            f"{first.url}/v1/plans?async=true",
            json={"scenario": small_scenario()},
            headers=auth,
            timeout=30,
        ).json()["id"]
    finally:
        first.kill()
    # Pretend the crash happened mid-solve: the job is 'running' with an old heartbeat.
    import sqlite3

    with sqlite3.connect(tmp_path / "crash.db") as db:
        db.execute(
            "UPDATE jobs SET status='running', attempts=1, worker='gone:1', "
            "heartbeat_at='2020-01-01 00:00:00' WHERE id=?",
            (job_id,),
        )
    second = Server(tmp_path, "--database-url", database, "--workers", "1", env=fast)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = httpx.get(f"{second.url}/v1/jobs/{job_id}", headers=auth, timeout=10).json()
            if job["status"] == "succeeded":
                break
            time.sleep(0.1)
        assert job["status"] == "succeeded" and job["attempts"] == 2, job
    finally:
        second.stop()


def test_dev_mode_refuses_a_public_address(tmp_path):
    done = subprocess.run(
        [BUDGETOPT, "serve", "--dev", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "loopback" in done.stderr


def test_bad_database_url_is_a_clear_error(tmp_path):
    done = subprocess.run(
        [BUDGETOPT, "keys", "create", "--workspace", "acme", "--database-url", "nonsense"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "not a database URL" in done.stderr
    bad_role = subprocess.run(
        [BUDGETOPT, "keys", "create", "--workspace", "acme", "--role", "boss"],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/k.db"},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad_role.returncode == 2 and "role must be one of" in bad_role.stderr
    assert "Traceback" not in done.stderr + bad_role.stderr


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_several_processes_serve_one_port_and_log_json(tmp_path):
    database = f"sqlite:///{tmp_path}/multi.db"
    server = Server(tmp_path, "--dev", "--processes", "2", "--database-url", database)
    try:
        assert len(_children(server.process.pid)) >= 2  # uvicorn's two worker processes
        body = {"scenario": small_scenario()}
        with httpx.Client(base_url=server.url, timeout=60) as client:
            plans = [client.post("/v1/plans", json=body) for _ in range(6)]
        assert {p.status_code for p in plans} == {201}
        values = {p.json()["objective_value"] for p in plans}
        assert len(values) == 1 and values.pop() == pytest.approx(3_800_000, rel=1e-6)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get("/v1/plans").json()["total"] == 6  # one database for both
    finally:
        server.stop()
    lines = [json.loads(x) for x in server.log.read_text().splitlines() if x.startswith("{")]
    assert sum(1 for e in lines if e["message"] == "request" and e["path"] == "/v1/plans") >= 6


def test_new_connections_spread_over_the_processes(tmp_path):
    # each process listens on its own socket (SO_REUSEPORT): the kernel spreads connections
    database = f"sqlite:///{tmp_path}/spread.db"
    server = Server(tmp_path, "--dev", "--processes", "2", "--database-url", database)
    try:
        deadline = time.monotonic() + 60  # until both processes listen (readyz needs one)
        answered: set[int] = set()
        while len(answered) < 2 and time.monotonic() < deadline:
            for _ in range(16):  # a new connection each
                with httpx.Client(base_url=server.url, timeout=30) as client:
                    client.get("/healthz")
            lines = server.log.read_text().splitlines()
            answered = {
                json.loads(x)["pid"]
                for x in lines
                if x.startswith("{") and json.loads(x).get("path") == "/healthz"
            }
        assert len(answered) == 2, answered
    finally:
        server.stop()
    assert server.process.returncode == 0


def test_server_processes_stop_when_their_parent_is_killed(tmp_path):
    database = f"sqlite:///{tmp_path}/orphans.db"
    server = Server(tmp_path, "--dev", "--processes", "2", "--database-url", database)
    server.kill()  # SIGKILL: the parent cannot stop them; they notice within a second or two
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{server.url}/healthz", timeout=1)
        except httpx.TransportError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the server processes still answer after their parent died")


def test_several_processes_on_a_taken_port_is_a_clear_error(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [BUDGETOPT, "serve", "--dev", "--processes", "2", "--port", port],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/taken.db"},
            timeout=120,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr

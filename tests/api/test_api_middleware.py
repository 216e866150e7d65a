"""The request middleware: an unexpected error is a problem+json 500 carrying the request
id, answered like any response, and the keep-alive connection stays usable."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import uvicorn
from api_helpers import PROBLEM, assert_problem, small_scenario

from api.main import create_app
from api.services import plans as service_module
from api.settings import ServiceSettings


def crash(*args, **kwargs):
    raise RuntimeError("a bug, not the caller's mistake")


def test_unexpected_error_is_a_problem_carrying_the_request_id(api, monkeypatch):
    monkeypatch.setattr(service_module, "execute", crash)
    body = {"scenario": small_scenario()}
    response = api.call("POST", "/v1/plans", json=body)
    problem = assert_problem(response, 500, "internal-error")
    assert problem["request_id"] is not None
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert "quote the request_id" in problem["detail"]
    assert "a bug" not in response.text  # the exception stays in the log
    headers = {**api.headers(), "X-Request-ID": "support-42"}
    given = api.client.post("/v1/plans", json=body, headers=headers)
    assert assert_problem(given, 500, "internal-error")["request_id"] == "support-42"
    assert given.headers["X-Request-ID"] == "support-42"
    # The same client goes on: the next request is answered normally.
    listed = api.call("GET", "/v1/plans")
    assert listed.status_code == 200 and listed.json()["total"] == 0


def test_unexpected_error_keeps_the_keep_alive_connection(tmp_path, monkeypatch):
    """Over a real server: the 500 is a complete answer and the connection stays open."""
    monkeypatch.setattr(service_module, "execute", crash)
    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path}/api.db", dev_mode=True, workers=0
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        payload = json.dumps({"scenario": small_scenario()})
        headers = {"Content-Type": "application/json", "X-Request-ID": "crash-1"}
        connection.request("POST", "/v1/plans", body=payload, headers=headers)
        first = connection.getresponse()
        problem = json.loads(first.read())
        assert first.status == 500
        assert first.getheader("Content-Type") == PROBLEM
        assert first.getheader("X-Request-ID") == "crash-1" == problem["request_id"]
        assert (first.getheader("Connection") or "").lower() != "close"
        sock = connection.sock
        assert sock is not None
        connection.request("GET", "/healthz")  # on the same connection: no reset, no reopen
        second = connection.getresponse()
        assert second.status == 200 and json.loads(second.read()) == {"status": "ok"}
        assert connection.sock is sock
        connection.close()
    finally:
        server.should_exit = True
        thread.join(30)

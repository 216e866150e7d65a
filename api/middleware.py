"""ASGI middleware around every request: its id and log line (and the last-resort 500), and
the body size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id
from api.problems import STATE_REQUEST_ID, limit_exceeded, problem_response

log = logging.getLogger("budgetopt.api")
REQUEST_ID = re.compile(r"^[\w.-]{1,64}$")


# The pages load only this server's files: a browser refuses anything else before it leaves
# the machine (ReDoc's footer logo, Swagger's online validator). Inline styles: ECharts, Swagger
# UI and ReDoc set them. Inline script: only the docs pages' start-up; the planner's page has
# none, so on it an injected handler such as onerror= never runs.
_POLICY = (
    "default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
PAGE_POLICY = _POLICY.format(script="'self'")
DOCS_POLICY = _POLICY.format(script="'self' 'unsafe-inline'")
DOCS_PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")


class RequestContext:
    """Outermost middleware: the request id, the request's log line, and the last-resort 500.

    The id (taken from X-Request-ID when sane) is set for everything the request runs, sent
    back as X-Request-ID and logged with one JSON line per request. An exception that no
    handler turned into a response becomes a problem+json 500 carrying that id, answered like
    any other response: the exception does not reach the server, which would otherwise close
    (reset) a keep-alive connection that is still perfectly usable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the request id set; answer 500 if it raises before responding."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})[STATE_REQUEST_ID] = rid
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                responded = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                if headers.get("content-type", "").startswith("text/html"):
                    docs = scope["path"] in DOCS_PAGES
                    headers["Content-Security-Policy"] = DOCS_POLICY if docs else PAGE_POLICY
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid, "path": scope["path"]})
            if responded:
                raise  # part of the response is out: only closing the connection can end it
            response = problem_response(
                Request(scope),
                500,
                "internal-error",
                "unexpected server error; quote the request_id",
            )
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(1000 * (time.perf_counter() - started), 1),
                },
            )
            request_id.reset(token)


class BodyLimit:
    """413 for a body over the limit, by Content-Length or by counting a streamed body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body up to the limit, then replay it to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send, size)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        problem = limit_exceeded(413, "max_body_bytes", size, self.max_bytes, "body")
        response = problem_response(
            Request(scope, receive), 413, problem.slug, problem.detail, **problem.extra
        )
        await response(scope, receive, send)

"""Structured JSON logs, one object per line, each carrying the request id.

Logging is configured here and nowhere else: ``configure`` runs once, when ``budgetopt serve``
starts (uvicorn gets ``log_config=None`` so it does not configure its own). Modules only name
their logger (``budgetopt.api``, ``budgetopt.jobs``); tests and embedders leave it as it is.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which of ``serve --processes N`` wrote it
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Send budgetopt's and uvicorn's logs to stderr as JSON lines (twice is harmless)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("budgetopt", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request
    # `budgetopt --verbose serve` gave the solver log a plain stderr handler before this ran:
    # its lines now reach the JSON handler above instead, once each.
    logging.getLogger("budgetopt.solver").handlers.clear()

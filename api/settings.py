"""Service settings, read once from the environment (``BUDGETOPT_*`` and ``DATABASE_URL``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///budgetopt.db"


@dataclass(frozen=True)
class Settings:
    """Where data lives, the request and solve limits, and how the job worker behaves."""

    database_url: str = DEFAULT_DATABASE_URL
    dev_mode: bool = False  # single-user: requests without a key act as admin of dev_workspace
    dev_workspace: str = "default"
    max_body_bytes: int = 1_048_576
    max_channels: int = 200
    max_periods: int = 366
    max_solve_seconds: float = 120.0
    sync_max_cells: int = 400  # unit-periods solved inside the request; more go to a job
    page_size_max: int = 100
    workers: int = 1  # job worker threads in this process (0: only enqueue)
    job_poll_seconds: float = 0.5
    job_stale_seconds: float = 30.0  # a running job without a heartbeat this long was interrupted
    job_max_attempts: int = 2

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then ``DATABASE_URL`` / ``BUDGETOPT_<FIELD>`` variables, then overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = "DATABASE_URL" if f.name == "database_url" else f"BUDGETOPT_{f.name.upper()}"
            raw = os.environ.get(env)
            if raw is not None:
                values[f.name] = _parse(env, raw, type(getattr(cls, f.name)))
        return replace(cls(**values), **overrides)


def _parse(env: str, raw: str, kind: type) -> Any:
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{env}: expected true or false, got {raw!r}")
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{env}: expected {kind.__name__}, got {raw!r}") from None

"""Service settings: the defaults, then the environment (``BUDGETOPT_*`` and ``DATABASE_URL``),
then the keyword arguments given when they are made (the command line's options)."""

from __future__ import annotations

import os
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///budgetopt.db"


class ServiceSettings(BaseSettings):
    """Where data lives, the request and solve limits, and how the job worker behaves."""

    model_config = SettingsConfigDict(frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    dev_mode: bool = False  # single-user: requests without a key act as admin of dev_workspace
    dev_workspace: str = "default"
    max_body_bytes: int = 1_048_576
    max_channels: int = 200
    max_periods: int = 366
    max_solve_seconds: float = 120.0
    sync_max_cells: int = 400  # unit-periods solved inside the request; more go to a job
    quick_max_cells: int = 200  # unit-periods tried on the event loop by the dual method alone
    page_size_max: int = 100
    workers: int = 1  # job worker threads in this process (0: only enqueue)
    job_poll_seconds: float = 0.5
    job_stale_seconds: float = 30.0  # a running job without a heartbeat this long was interrupted
    job_max_attempts: int = 2

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments over the service's variables; no .env or secrets files."""
        return init_settings, Environment(settings_cls)


def variable(field_name: str) -> str:
    """The environment variable of a setting: ``DATABASE_URL`` or ``BUDGETOPT_<FIELD>``."""
    return "DATABASE_URL" if field_name == "database_url" else f"BUDGETOPT_{field_name.upper()}"


class Environment(PydanticBaseSettingsSource):
    """Exactly the service's variables (case matters), each read as its field's type.

    pydantic-settings' own environment source would also read lowercase names and take
    ``t``/``y`` for true and refuse an empty value, and its error would name the field and not
    the variable; this source keeps the service's rules: true is ``1 true yes on``, false is
    ``0 false no off`` or empty, and a bad value is a ValueError naming the variable
    (``BUDGETOPT_MAX_PERIODS: expected int, got 'many'``) before any model validation.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The variable's value read as the field's type (None when unset), and its name."""
        name = variable(field_name)
        raw = os.environ.get(name)
        return (None if raw is None else _parse(name, raw, field.annotation)), name, False

    def __call__(self) -> dict[str, Any]:
        """The settings whose variables are set."""
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, field_name)
            if value is not None:
                values[field_name] = value
        return values


def _parse(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name}: expected true or false, got {raw!r}")
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}: expected {kind.__name__}, got {raw!r}") from None

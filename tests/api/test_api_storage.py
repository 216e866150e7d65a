"""Storage: migrations build exactly the ORM's schema on both backends; layering holds."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from api.db.engine import make_engine, normalise_url
from api.db.migrate import migrate, schema_is_current
from api.db.models import Base
from api.settings import ServiceSettings

API = Path(__file__).resolve().parents[2] / "api"


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    try:
        assert not schema_is_current(engine)
        migrate(engine)
        migrate(engine)  # idempotent: a second start changes nothing
        assert schema_is_current(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert {"api_keys", "scenarios", "scenario_versions", "plans", "jobs"} <= tables
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_plain_postgres_urls_use_psycopg_3():
    assert normalise_url("postgresql://u@h:5432/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///env.db")
    monkeypatch.setenv("BUDGETOPT_MAX_CHANNELS", "7")
    monkeypatch.setenv("BUDGETOPT_DEV_MODE", "yes")
    settings = ServiceSettings(workers=3)
    assert (settings.database_url, settings.max_channels, settings.dev_mode) == (
        "sqlite:///env.db",
        7,
        True,
    )
    assert settings.workers == 3
    monkeypatch.setenv("BUDGETOPT_MAX_PERIODS", "many")
    try:
        ServiceSettings()
    except ValueError as exc:
        assert "BUDGETOPT_MAX_PERIODS: expected int, got 'many'" in str(exc)
    else:
        raise AssertionError("a bad setting must be refused")


def test_the_api_never_imports_a_solver_library():
    for path in API.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                assert root not in ("pulp", "scipy", "highspy"), f"{path} imports {name}"

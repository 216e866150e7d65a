"""Storage: migrations build exactly the ORM's schema on both backends; SQLite in WAL mode."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from api.db.engine import make_engine, normalise_url
from api.db.migrate import migrate, schema_is_current
from api.db.models import Base


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

"""Alembic environment: runs on the connection the service passes in, or on DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from api.db.engine import make_engine
from api.db.models import Base
from api.settings import DEFAULT_DATABASE_URL

target_metadata = Base.metadata


def run() -> None:
    """Migrate online, on a shared connection when one is given."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run()

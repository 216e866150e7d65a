"""what-if jobs: a stored result, and kind defaults to plan

Sweeps, tornados and frontiers run as jobs whose result (the points solved) is kept on the job
row rather than in the plans table. ``jobs.kind`` already exists (plan | evaluation) and every
existing row has one; the server default ``'plan'`` covers rows written without a kind.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""

    # batch mode: SQLite cannot ALTER a column's default, so it rebuilds the table there
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch.alter_column(
            "kind",
            existing_type=sa.String(length=16),
            existing_nullable=False,
            server_default="plan",
        )


def downgrade() -> None:
    """Revert."""

    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "kind",
            existing_type=sa.String(length=16),
            existing_nullable=False,
            server_default=None,
        )
        batch.drop_column("result")

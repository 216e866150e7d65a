"""plans record the what-if changes they were made with

A plan of a stored scenario version may be made with changes (every CPM x 1.42, the budget
-10%); the plan keeps the changed scenario in ``scenario_body`` and the changes themselves in
``changes`` (NULL for a plan of the version as stored), so it can be audited and reproduced.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""

    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("changes", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    """Revert."""

    with op.batch_alter_table("plans") as batch:
        batch.drop_column("changes")

"""Catalog deletes: when a service, staff member or session was deleted (NULL while it exists).

Revision ID: 0006_catalog_deletes
Revises: 0005_waiting_lists
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_catalog_deletes"
down_revision = "0005_waiting_lists"
branch_labels = None
depends_on = None

_TABLES = ("services", "staff_members", "sessions")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("deleted_date", sa.DateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("deleted_date")

"""Outbox dead letters: when the worker gave an item up after its last allowed attempt.

NULL while the item is delivered or still retried; `bookings outbox retry` clears it.

Revision ID: 0007_outbox_dead_letters
Revises: 0006_catalog_deletes
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_outbox_dead_letters"
down_revision = "0006_catalog_deletes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("dead_at")

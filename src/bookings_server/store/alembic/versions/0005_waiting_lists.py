"""Waiting lists: a booking's place in line and its running offer; a service's reservation time.

Revision ID: 0005_waiting_lists
Revises: 0004_holds
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_waiting_lists"
down_revision = "0004_holds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_position", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("offer_expires", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_bookings_offer_expires"), ["offer_expires"], unique=False
        )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "waiting_list_reservation_seconds",
                sa.Integer(),
                nullable=False,
                server_default="1800",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("waiting_list_reservation_seconds")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_offer_expires"))
        batch_op.drop_column("offer_expires")
        batch_op.drop_column("line_position")

"""Event retention: the per-site purge horizon and an index on booking_events.occurred_at.

`IF NOT EXISTS`: on a large PostgreSQL events table an operator may build the index first
with `CREATE INDEX CONCURRENTLY ix_booking_events_occurred_at ON booking_events
(occurred_at)`, so that this migration does not block event writes while it builds.

Revision ID: 0003_event_retention
Revises: 0002_bookings
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_event_retention"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_event_horizons",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_booking_event_horizons")),
    )
    op.create_index(
        op.f("ix_booking_events_occurred_at"),
        "booking_events",
        ["occurred_at"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_booking_events_occurred_at"), table_name="booking_events")
    op.drop_table("booking_event_horizons")

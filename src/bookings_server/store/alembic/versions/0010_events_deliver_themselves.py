"""Events that deliver themselves: a booking event row doubles as its outbox item.

When the transaction that writes an event enqueues nothing else for its booking, the event
row is the delivery item and no outbox row is written (store/outbox_repository.py). The row
gets the outbox's delivery columns (`sent_at`, `attempts`, `next_attempt_at`, `claim_token`,
`claimed_until`, `last_error`, `dead_at`) and `delivers_itself`; existing events already have
their outbox items, so they are not their own (false). Partial indexes hold the unsent events
that deliver themselves, for the claim, and the sent ones by `sent_at`, for the outbox purge
(which forgets their delivery state; the event retention deletes the events).

Per booking, deliveries are made in order (due time, then enqueue order) across both tables,
so `position` of both tables now comes from one counter: on PostgreSQL one sequence
(`delivery_positions`, started above both tables' highest position) is the default of both
columns; SQLite has no sequences, and its INSERTs compute 1 + the larger of both tables'
highest position themselves (its writers are serialized).

Revision ID: 0010_events_deliver_themselves
Revises: 0009_event_commit_order
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_events_deliver_themselves"
down_revision = "0009_event_commit_order"
branch_labels = None
depends_on = None

_DUE_INDEX = "ix_booking_events_next_attempt_at"
_SENT_INDEX = "ix_booking_events_sent_at"
_TABLES = ("outbox", "booking_events")


def upgrade() -> None:
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivers_itself", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        _DUE_INDEX,
        "booking_events",
        ["next_attempt_at"],
        postgresql_where=sa.text("delivers_itself AND sent_at IS NULL"),
        sqlite_where=sa.text("delivers_itself = 1 AND sent_at IS NULL"),
    )
    op.create_index(
        _SENT_INDEX,
        "booking_events",
        ["sent_at"],
        postgresql_where=sa.text("delivers_itself AND sent_at IS NOT NULL"),
        sqlite_where=sa.text("delivers_itself = 1 AND sent_at IS NOT NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE delivery_positions")
        op.execute(
            "SELECT setval('delivery_positions', greatest("
            " (SELECT coalesce(max(position), 0) FROM outbox),"
            " (SELECT coalesce(max(position), 0) FROM booking_events), 0) + 1, false)"
        )
        for table in _TABLES:
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN position"
                " SET DEFAULT nextval('delivery_positions')"
            )


def downgrade() -> None:
    # Nothing runs during a migration. An unsent event that delivers itself would lose its
    # delivery with the columns: downgrading is for development databases only.
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'position'),"
                f" (SELECT coalesce(max(position), 0) FROM {table}) + 1, false)"
            )
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN position"
                f" SET DEFAULT nextval(pg_get_serial_sequence('{table}', 'position'))"
            )
        op.execute("DROP SEQUENCE delivery_positions")
    op.drop_index(_SENT_INDEX, "booking_events")
    op.drop_index(_DUE_INDEX, "booking_events")
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        for column in (
            "dead_at",
            "last_error",
            "sent_at",
            "claimed_until",
            "claim_token",
            "next_attempt_at",
            "attempts",
            "delivers_itself",
        ):
            batch_op.drop_column(column)

"""Event commit order: events numbered after commit; the per-site counter row is gone.

The counter's row lock serialized every event-writing transaction of a site until its
commit. Now an event row is keyed by `position` (the order events were written in), and its
`sequence` (the cursor) may be NULL: on PostgreSQL events are inserted unnumbered and numbered
after commit under the site's advisory lock; on SQLite the INSERT numbers the event under the
database's write lock (store/event_numbering.py). The next number is one above the site's
highest kept event or its purge horizon, so the counter table is no longer needed.
A partial index holds the events still to be numbered.

Existing events keep their sequences, so every cursor handed out before stays valid.

Revision ID: 0009_event_commit_order
Revises: 0008_availability_versions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_event_commit_order"
down_revision = "0008_availability_versions"
branch_labels = None
depends_on = None

_UNNUMBERED = sa.text("sequence IS NULL")
_UNNUMBERED_INDEX = "ix_booking_events_site_id_position"
_UNIQUE_SEQUENCE = "uq_booking_events_site_id_sequence"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_booking_events", "booking_events", type_="primary")
        op.execute("ALTER TABLE booking_events ADD COLUMN position BIGSERIAL")
        op.create_primary_key("pk_booking_events", "booking_events", ["position"])
        op.alter_column("booking_events", "sequence", existing_type=sa.BigInteger(), nullable=True)
        op.create_unique_constraint(_UNIQUE_SEQUENCE, "booking_events", ["site_id", "sequence"])
    else:
        with op.batch_alter_table("booking_events", recreate="always") as batch_op:
            batch_op.drop_constraint("pk_booking_events", type_="primary")
            batch_op.add_column(
                sa.Column("position", sa.Integer(), primary_key=True, autoincrement=True),
                insert_before="site_id",
            )
            batch_op.alter_column("sequence", existing_type=sa.BigInteger(), nullable=True)
            batch_op.create_unique_constraint(_UNIQUE_SEQUENCE, ["site_id", "sequence"])
    op.create_index(
        _UNNUMBERED_INDEX,
        "booking_events",
        ["site_id", "position"],
        postgresql_where=_UNNUMBERED,
        sqlite_where=_UNNUMBERED,
    )
    op.drop_table("booking_event_counters")


def downgrade() -> None:
    op.create_table(
        "booking_event_counters",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name="pk_booking_event_counters"),
    )
    # Nothing runs during a migration: number what is left unnumbered, in written order.
    op.execute(
        "UPDATE booking_events SET sequence = ("
        " SELECT coalesce(max(n.sequence), 0) FROM booking_events n"
        " WHERE n.site_id = booking_events.site_id) + ("
        " SELECT count(*) FROM booking_events p WHERE p.site_id = booking_events.site_id"
        " AND p.sequence IS NULL AND p.position <= booking_events.position)"
        " WHERE sequence IS NULL"
    )
    op.execute(
        "INSERT INTO booking_event_counters (site_id, last_sequence)"
        " SELECT site_id, max(sequence) FROM booking_events GROUP BY site_id"
    )
    op.execute(
        "INSERT INTO booking_event_counters (site_id, last_sequence)"
        " SELECT site_id, purged_through FROM booking_event_horizons h WHERE NOT EXISTS"
        " (SELECT 1 FROM booking_event_counters c WHERE c.site_id = h.site_id)"
    )
    op.drop_index(_UNNUMBERED_INDEX, "booking_events")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_UNIQUE_SEQUENCE, "booking_events", type_="unique")
        op.drop_constraint("pk_booking_events", "booking_events", type_="primary")
        op.drop_column("booking_events", "position")
        op.alter_column("booking_events", "sequence", existing_type=sa.BigInteger(), nullable=False)
        op.create_primary_key("pk_booking_events", "booking_events", ["site_id", "sequence"])
    else:
        with op.batch_alter_table("booking_events", recreate="always") as batch_op:
            batch_op.drop_constraint(_UNIQUE_SEQUENCE, type_="unique")
            batch_op.drop_column("position")
            batch_op.alter_column("sequence", existing_type=sa.BigInteger(), nullable=False)
            batch_op.create_primary_key("pk_booking_events", ["site_id", "sequence"])

"""Bookings, booking events with a per-site sequence counter, and the outbox.

Revision ID: 0002_bookings
Revises: 0001_catalog
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_bookings"
down_revision = "0001_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_event_counters",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_booking_event_counters")),
    )
    op.create_table(
        "booking_events",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("booking_id", sa.String(), nullable=False),
        sa.Column("booking", sa.JSON(), nullable=False),
        sa.Column("actor_type", sa.String(), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "sequence", name=op.f("pk_booking_events")),
        sa.UniqueConstraint("id", name=op.f("uq_booking_events_id")),
    )
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_events_site_id_booking_id"),
            ["site_id", "booking_id"],
            unique=False,
        )

    op.create_table(
        "bookings",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("service_id", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=True),
        sa.Column("schedule_id", sa.String(), nullable=True),
        sa.Column("staff_member_id", sa.String(), nullable=True),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("payment_status", sa.String(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("double_booked", sa.Boolean(), nullable=False),
        sa.Column("skip_availability_validation", sa.Boolean(), nullable=False),
        sa.Column("skip_business_confirmation", sa.Boolean(), nullable=False),
        sa.Column("skip_selected_payment_option_validation", sa.Boolean(), nullable=False),
        sa.Column("ignore_booking_policy", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(), nullable=True),
        sa.Column("request_hash", sa.String(), nullable=True),
        sa.Column("contact_email", sa.String(), nullable=False),
        sa.Column("created_by_type", sa.String(), nullable=False),
        sa.Column("created_by_id", sa.String(), nullable=False),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("site_id", "request_id", name=op.f("uq_bookings_site_id_request_id")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_contact_email"),
            ["site_id", "contact_email"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_created_date_id"),
            ["site_id", "created_date", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_schedule_id"), ["site_id", "schedule_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_session_id"), ["site_id", "session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_staff_member_id_start_date"),
            ["site_id", "staff_member_id", "start_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_start_date_id"),
            ["site_id", "start_date", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_site_id_status_start_date"),
            ["site_id", "status", "start_date"],
            unique=False,
        )

    op.create_table(
        "outbox",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("booking_id", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_sent_at_next_attempt_at"),
            ["sent_at", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_site_id_booking_id_sent_at"),
            ["site_id", "booking_id", "sent_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_site_id_booking_id_sent_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_sent_at_next_attempt_at"))

    op.drop_table("outbox")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_status_start_date"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_start_date_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_staff_member_id_start_date"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_session_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_schedule_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_created_date_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id_contact_email"))

    op.drop_table("bookings")
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_events_site_id_booking_id"))

    op.drop_table("booking_events")
    op.drop_table("booking_event_counters")

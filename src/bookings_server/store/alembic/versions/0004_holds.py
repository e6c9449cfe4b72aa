"""Holds: spots reserved for a short checkout (SPEC section 11).

Revision ID: 0004_holds
Revises: 0003_event_retention
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_holds"
down_revision = "0003_event_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holds",
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
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("expires_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("booking_id", sa.String(), nullable=True),
        sa.Column("request_id", sa.String(), nullable=True),
        sa.Column("request_hash", sa.String(), nullable=True),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "id", name=op.f("pk_holds")),
        sa.UniqueConstraint("site_id", "request_id", name=op.f("uq_holds_site_id_request_id")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_holds_site_id_schedule_id_expires_date"),
            ["site_id", "schedule_id", "expires_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_holds_site_id_session_id_expires_date"),
            ["site_id", "session_id", "expires_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_holds_site_id_staff_member_id_start_date"),
            ["site_id", "staff_member_id", "start_date"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("holds")

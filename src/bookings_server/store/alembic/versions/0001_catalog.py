"""Catalog tables (services, staff members, sessions) and capacity locks.

Revision ID: 0001_catalog
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capacity_locks",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("unit_key", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "unit_key", name=op.f("pk_capacity_locks")),
    )
    op.create_table(
        "services",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("import_key", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("schedule_id", sa.String(), nullable=False),
        sa.Column("default_capacity", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("buffer_after_seconds", sa.Integer(), nullable=False),
        sa.Column("online_booking_enabled", sa.Boolean(), nullable=False),
        sa.Column("require_manual_approval", sa.Boolean(), nullable=False),
        sa.Column("payment_options", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("min_notice_seconds", sa.Integer(), nullable=False),
        sa.Column("max_advance_seconds", sa.Integer(), nullable=True),
        sa.Column("max_participants_per_booking", sa.Integer(), nullable=False),
        sa.Column("cancellation_window_seconds", sa.Integer(), nullable=False),
        sa.Column("waiting_list_enabled", sa.Boolean(), nullable=False),
        sa.Column("waiting_list_capacity", sa.Integer(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_date", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "id", name=op.f("pk_services")),
        sa.UniqueConstraint("site_id", "import_key", name=op.f("uq_services_site_id_import_key")),
        sa.UniqueConstraint("site_id", "schedule_id", name=op.f("uq_services_site_id_schedule_id")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_services_site_id_name_id"), ["site_id", "name", "id"], unique=False
        )

    op.create_table(
        "staff_members",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("import_key", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("schedule_id", sa.String(), nullable=False),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_date", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint(
            "site_id", "import_key", name=op.f("uq_staff_members_site_id_import_key")
        ),
        sa.UniqueConstraint(
            "site_id", "schedule_id", name=op.f("uq_staff_members_site_id_schedule_id")
        ),
    )
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_members_site_id_name_id"), ["site_id", "name", "id"], unique=False
        )

    op.create_table(
        "service_staff_members",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("service_id", sa.String(), nullable=False),
        sa.Column("staff_member_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "service_id"],
            ["services.site_id", "services.id"],
            name=op.f("fk_service_staff_members_site_id_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            name=op.f("fk_service_staff_members_site_id_staff_member_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "service_id", "staff_member_id", name=op.f("pk_service_staff_members")
        ),
    )
    with op.batch_alter_table("service_staff_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_staff_members_site_id_staff_member_id"),
            ["site_id", "staff_member_id"],
            unique=False,
        )

    op.create_table(
        "sessions",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("import_key", sa.String(), nullable=True),
        sa.Column("service_id", sa.String(), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("staff_member_id", sa.String(), nullable=True),
        sa.Column("location", sa.JSON(), nullable=True),
        sa.Column("recurrence_id", sa.String(), nullable=False),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_date", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "service_id"],
            ["services.site_id", "services.id"],
            name=op.f("fk_sessions_site_id_service_id_services"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            name=op.f("fk_sessions_site_id_staff_member_id_staff_members"),
        ),
        sa.PrimaryKeyConstraint("site_id", "id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("site_id", "import_key", name=op.f("uq_sessions_site_id_import_key")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_site_id_service_id_start_date"),
            ["site_id", "service_id", "start_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sessions_site_id_start_date_id"),
            ["site_id", "start_date", "id"],
            unique=False,
        )

    op.create_table(
        "staff_blocked_times",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("staff_member_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            name=op.f("fk_staff_blocked_times_site_id_staff_member_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "staff_member_id", "position", name=op.f("pk_staff_blocked_times")
        ),
    )
    op.create_table(
        "staff_working_hours",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("staff_member_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            name=op.f("fk_staff_working_hours_site_id_staff_member_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "staff_member_id", "position", name=op.f("pk_staff_working_hours")
        ),
    )


def downgrade() -> None:
    op.drop_table("staff_working_hours")
    op.drop_table("staff_blocked_times")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_site_id_start_date_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_site_id_service_id_start_date"))

    op.drop_table("sessions")
    with op.batch_alter_table("service_staff_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_staff_members_site_id_staff_member_id"))

    op.drop_table("service_staff_members")
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_members_site_id_name_id"))

    op.drop_table("staff_members")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_site_id_name_id"))

    op.drop_table("services")
    op.drop_table("capacity_locks")

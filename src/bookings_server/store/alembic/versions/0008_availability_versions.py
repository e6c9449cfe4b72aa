"""Availability versions: a counter per thing availability is computed from.

Triggers bump them in the transaction of every write that can change availability, whatever
code path writes (use cases, imports, the worker, the retention purge): a booking or hold of
a staff member bumps `staff/<id>/<UTC date of its start>`, one of a session `session/<id>`,
one of a course `schedule/<id>`; any catalog row of a site bumps its `catalog`. A booking
inserted as CREATED takes no capacity and bumps nothing. QueryAvailability reads them in one
statement and reuses what it computed while they are unchanged (app/availability_cache.py).

Revision ID: 0008_availability_versions
Revises: 0007_outbox_dead_letters
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_availability_versions"
down_revision = "0007_outbox_dead_letters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability_versions",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "key"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgres_statements() if postgres else _sqlite_statements():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*_CATALOG_TABLES, "bookings", "holds"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_availability ON {table}")
        for function in (
            "availability_touch_catalog",
            "availability_touch_unit",
            "availability_bump",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for table in (*_CATALOG_TABLES, "bookings", "holds"):
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_availability_{operation}")
    op.drop_table("availability_versions")


_CATALOG_TABLES = (
    "services",
    "service_staff_members",
    "staff_members",
    "staff_working_hours",
    "staff_blocked_times",
    "sessions",
)
_UPSERT = (
    "INSERT INTO availability_versions (site_id, key, version) SELECT {site}, {key}, 1 "
    "WHERE {key} IS NOT NULL "
    "ON CONFLICT (site_id, key) DO UPDATE SET version = availability_versions.version + 1"
)


def _sqlite_keys(row: str) -> tuple[str, str]:
    """The staff day and the session or course schedule of a booking or hold row."""
    staff = (
        f"CASE WHEN {row}.session_id IS NULL AND {row}.staff_member_id IS NOT NULL "
        f"THEN 'staff/' || {row}.staff_member_id || '/' || substr({row}.start_date, 1, 10) END"
    )
    unit = (
        f"CASE WHEN {row}.session_id IS NOT NULL THEN 'session/' || {row}.session_id "
        f"WHEN {row}.entity = 'SCHEDULE' THEN 'schedule/' || {row}.schedule_id END"
    )
    return staff, unit


def _sqlite_bumps(row: str) -> str:
    return "".join(
        _UPSERT.format(site=f"{row}.site_id", key=key) + "; " for key in _sqlite_keys(row)
    )


def _sqlite_statements() -> list[str]:
    statements = []
    for table in ("bookings", "holds"):
        created = " WHEN NEW.status <> 'CREATED'" if table == "bookings" else ""
        statements += [
            f"CREATE TRIGGER {table}_availability_insert AFTER INSERT ON {table}{created} "
            f"BEGIN {_sqlite_bumps('NEW')}END",
            f"CREATE TRIGGER {table}_availability_update AFTER UPDATE ON {table} "
            f"BEGIN {_sqlite_bumps('OLD')}{_sqlite_bumps('NEW')}END",
            f"CREATE TRIGGER {table}_availability_delete AFTER DELETE ON {table} "
            f"BEGIN {_sqlite_bumps('OLD')}END",
        ]
    for table in _CATALOG_TABLES:
        for operation, row in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
            bump = _UPSERT.format(site=f"{row}.site_id", key="'catalog'")
            statements.append(
                f"CREATE TRIGGER {table}_availability_{operation} AFTER {operation.upper()} "
                f"ON {table} BEGIN {bump}; END"
            )
    return statements


def _postgres_statements() -> list[str]:
    bump = """
    CREATE FUNCTION availability_bump(p_site text, p_key text) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO availability_versions (site_id, key, version) VALUES (p_site, p_key, 1)
        ON CONFLICT (site_id, key) DO UPDATE SET version = availability_versions.version + 1
    $$
    """
    touch_unit = """
    CREATE FUNCTION availability_touch_unit() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        rows jsonb[] := ARRAY[]::jsonb[];
        r jsonb;
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            rows := rows || to_jsonb(OLD);
        END IF;
        IF TG_OP = 'UPDATE' OR (TG_OP = 'INSERT' AND
                (TG_TABLE_NAME <> 'bookings' OR to_jsonb(NEW)->>'status' <> 'CREATED')) THEN
            rows := rows || to_jsonb(NEW);
        END IF;
        FOREACH r IN ARRAY rows LOOP
            IF r->>'session_id' IS NOT NULL THEN
                PERFORM availability_bump(r->>'site_id', 'session/' || (r->>'session_id'));
            ELSE
                IF r->>'staff_member_id' IS NOT NULL THEN
                    PERFORM availability_bump(
                        r->>'site_id',
                        'staff/' || (r->>'staff_member_id') || '/' ||
                        to_char(((r->>'start_date')::timestamptz) AT TIME ZONE 'UTC',
                                'YYYY-MM-DD'));
                END IF;
                IF r->>'entity' = 'SCHEDULE' THEN
                    PERFORM availability_bump(r->>'site_id', 'schedule/' || (r->>'schedule_id'));
                END IF;
            END IF;
        END LOOP;
        RETURN NULL;
    END $$
    """
    touch_catalog = """
    CREATE FUNCTION availability_touch_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM availability_bump(OLD.site_id, 'catalog');
        ELSE
            PERFORM availability_bump(NEW.site_id, 'catalog');
        END IF;
        RETURN NULL;
    END $$
    """
    statements = [bump, touch_unit, touch_catalog]
    for table in ("bookings", "holds"):
        statements.append(
            f"CREATE TRIGGER {table}_availability AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION availability_touch_unit()"
        )
    for table in _CATALOG_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_availability AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION availability_touch_catalog()"
        )
    return statements

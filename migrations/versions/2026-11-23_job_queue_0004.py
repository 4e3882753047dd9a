"""The job queue: procrastinate's tables and functions, as procrastinate 3.10.0 defines them.

The SQL is a frozen copy of the schema that version ships, kept beside the migrations, so this
revision builds the same queue whatever procrastinate is installed. A new procrastinate version
brings its schema changes in a migration of their own (a test compares the copy with the
installed library's schema).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from pathlib import Path

from alembic import op
from sqlalchemy.util import await_only

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate_3.10.0.sql"


def upgrade() -> None:
    # Many statements in one script: sent through the driver's simple-query protocol.
    driver = op.get_bind().connection.driver_connection
    await_only(driver.execute(SCHEMA.read_text(encoding="utf-8")))


def downgrade() -> None:
    op.execute("""
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
                EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%' LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate%'
                          AND t.typtype IN ('e', 'c') LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
            END LOOP;
        END $$
    """)

"""Foundation: users, merchants and their members, KOLs, the event outbox, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE users (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
            role text NOT NULL CHECK (role IN ('merchant', 'kol', 'operator')),
            password_hash text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            disabled_at timestamptz
        )
    """)
    op.execute("CREATE UNIQUE INDEX users_email_key ON users (email)")
    op.execute("""
        CREATE TABLE merchants (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TABLE merchant_members (
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
            role text NOT NULL CHECK (role IN ('owner', 'member')),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (merchant_id, user_id)
        )
    """)
    op.execute("""
        CREATE TABLE kols (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid UNIQUE REFERENCES users (id) ON DELETE CASCADE,
            display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
            bio text NOT NULL DEFAULT '' CHECK (length(bio) <= 2000),
            region text,
            languages text[] NOT NULL DEFAULT '{}',
            categories text[] NOT NULL DEFAULT '{}',
            contact_preferences jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TABLE events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            type text NOT NULL,
            aggregate_type text NOT NULL,
            aggregate_id uuid NOT NULL,
            merchant_id uuid,
            kol_id uuid,
            payload jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX events_aggregate_idx ON events (aggregate_id, id)")
    op.execute("CREATE INDEX events_merchant_idx ON events (merchant_id, id)")
    op.execute("""
        CREATE TABLE idempotency_keys (
            scope text NOT NULL,
            key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            request_hash bytea NOT NULL,
            status_code int NOT NULL,
            response jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, key)
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE events")
    op.execute("DROP TABLE kols")
    op.execute("DROP TABLE merchant_members")
    op.execute("DROP TABLE merchants")
    op.execute("DROP TABLE users")

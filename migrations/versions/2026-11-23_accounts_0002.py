"""Accounts: refresh tokens, member invitations, partner API keys, audit log, rate limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE refresh_tokens (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            family_id uuid NOT NULL,
            token_hash bytea NOT NULL UNIQUE,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)")
    op.execute("""
        CREATE TABLE member_invitations (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            email text NOT NULL,
            role text NOT NULL CHECK (role IN ('owner', 'member')),
            token_hash bytea NOT NULL UNIQUE,
            invited_by uuid NOT NULL REFERENCES users (id),
            expires_at timestamptz NOT NULL,
            accepted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TABLE api_keys (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            merchant_id uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            prefix text NOT NULL UNIQUE,
            secret_hash bytea NOT NULL,
            scopes text[] NOT NULL,
            created_by uuid NOT NULL REFERENCES users (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            revoked_at timestamptz
        )
    """)
    op.execute("CREATE INDEX api_keys_merchant_idx ON api_keys (merchant_id, created_at)")
    op.execute("""
        CREATE TABLE audit_log (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            action text NOT NULL,
            user_id uuid,
            merchant_id uuid,
            subject text,
            ip text,
            detail jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX audit_log_merchant_idx ON audit_log (merchant_id, id)")
    op.execute("CREATE INDEX audit_log_user_idx ON audit_log (user_id, id)")
    op.execute("""
        CREATE TABLE rate_limits (
            key text NOT NULL,
            window_start timestamptz NOT NULL,
            hits int NOT NULL,
            PRIMARY KEY (key, window_start)
        )
    """)


def downgrade() -> None:
    for table in ("rate_limits", "audit_log", "api_keys", "member_invitations", "refresh_tokens"):
        op.execute(f"DROP TABLE {table}")

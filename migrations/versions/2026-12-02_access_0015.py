"""Access that follows the truth at once.

- Merchants can be disabled (`merchants.disabled_at`), as users already could.
- A change of a user's standing (disabled, role), a membership (joined, role, removed) or a
  merchant (disabled) tells every API process at commit (`NOTIFY kolmarket_standing`), so
  their per-process caches of callers' standing forget it before the next request.
- API keys may expire (`expires_at`); a key whose creator left the merchant works again only
  once an owner confirms it (`confirmed_by`, `confirmed_at`).
- A refresh token carries the time its login's password was checked (`authenticated_at`),
  so refreshed access tokens keep the original `auth_time` for step-up checks.
- Login limits: the addresses an account has logged in from (`login_addresses`, as keyed
  hashes) and the account-wide slow-down of logins from other addresses (`login_throttles`).
- The audit log keeps a keyed hash of the client address instead of the address: existing
  raw addresses are dropped, as are the rate-limit counters keyed by raw addresses.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

NOTIFY_STANDING = """
    CREATE FUNCTION notify_standing() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    BEGIN
        PERFORM pg_notify('kolmarket_standing', TG_ARGV[0] || ':' || (changed ->> TG_ARGV[1]));
        RETURN NULL;
    END
    $$
"""
TRIGGERS = {
    "users_standing": "AFTER UPDATE OR DELETE ON users FOR EACH ROW "
    "EXECUTE FUNCTION notify_standing('user', 'id')",
    "merchant_members_standing": "AFTER INSERT OR UPDATE OR DELETE ON merchant_members "
    "FOR EACH ROW EXECUTE FUNCTION notify_standing('user', 'user_id')",
    "merchants_standing": "AFTER UPDATE OR DELETE ON merchants FOR EACH ROW "
    "EXECUTE FUNCTION notify_standing('merchant', 'id')",
}


def upgrade() -> None:
    op.execute("ALTER TABLE merchants ADD COLUMN disabled_at timestamptz")
    op.execute(NOTIFY_STANDING)
    for name, definition in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")
    _api_keys()
    _sessions()
    _login_limits()
    _audit_log()


def _api_keys() -> None:
    op.execute("ALTER TABLE api_keys ADD COLUMN expires_at timestamptz")
    op.execute("ALTER TABLE api_keys ADD COLUMN confirmed_by uuid REFERENCES users (id)")
    op.execute("ALTER TABLE api_keys ADD COLUMN confirmed_at timestamptz")
    op.execute(
        "ALTER TABLE api_keys ADD CONSTRAINT api_keys_expiry_check "
        "CHECK (expires_at IS NULL OR expires_at > created_at)"
    )


def _sessions() -> None:
    op.execute("ALTER TABLE refresh_tokens ADD COLUMN authenticated_at timestamptz")
    # A family starts at a login: its first token's creation is when the password was checked.
    op.execute("""
        UPDATE refresh_tokens r SET authenticated_at = f.first_created
        FROM (SELECT family_id, min(created_at) AS first_created
              FROM refresh_tokens GROUP BY family_id) f
        WHERE f.family_id = r.family_id
    """)
    op.execute("ALTER TABLE refresh_tokens ALTER COLUMN authenticated_at SET NOT NULL")
    op.execute(
        "CREATE INDEX refresh_tokens_live_user_idx ON refresh_tokens (user_id) "
        "WHERE revoked_at IS NULL"
    )


def _login_limits() -> None:
    op.execute("""
        CREATE TABLE login_addresses (
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            address_hash text NOT NULL CHECK (length(address_hash) <= 64),
            last_login_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, address_hash)
        )
    """)
    op.execute("CREATE INDEX login_addresses_age_idx ON login_addresses (last_login_at)")
    op.execute("""
        CREATE TABLE login_throttles (
            account text PRIMARY KEY CHECK (length(account) <= 254),
            failures int NOT NULL CHECK (failures >= 0),
            last_failure_at timestamptz NOT NULL,
            last_turn_at timestamptz NOT NULL
        )
    """)


def _audit_log() -> None:
    """Raw addresses are dropped, in the audit log and in the counters keyed by them."""
    op.execute("ALTER TABLE audit_log DROP COLUMN ip")
    op.execute(
        "ALTER TABLE audit_log ADD COLUMN address_hash text CHECK (length(address_hash) <= 64)"
    )
    op.execute("CREATE INDEX audit_log_created_idx ON audit_log (created_at)")
    op.execute("DELETE FROM rate_limits WHERE key LIKE '%:ip:%' OR key LIKE 'login:failed:%'")


def downgrade() -> None:
    op.execute("DROP INDEX audit_log_created_idx")
    op.execute("ALTER TABLE audit_log DROP COLUMN address_hash")
    op.execute("ALTER TABLE audit_log ADD COLUMN ip text")
    op.execute("DROP TABLE login_throttles")
    op.execute("DROP TABLE login_addresses")
    op.execute("DROP INDEX refresh_tokens_live_user_idx")
    op.execute("ALTER TABLE refresh_tokens DROP COLUMN authenticated_at")
    op.execute("ALTER TABLE api_keys DROP CONSTRAINT api_keys_expiry_check")
    for column in ("confirmed_at", "confirmed_by", "expires_at"):
        op.execute(f"ALTER TABLE api_keys DROP COLUMN {column}")
    for name, definition in TRIGGERS.items():
        table = definition.split(" ON ")[1].split()[0]
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION notify_standing()")
    op.execute("ALTER TABLE merchants DROP COLUMN disabled_at")

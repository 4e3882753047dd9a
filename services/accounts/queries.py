"""SQL of accounts and access."""

import asyncpg

from services.accounts import credentials

INSERT_USER = """
    INSERT INTO users (email, role, password_hash) VALUES ($1, $2, $3)
    ON CONFLICT (email) DO NOTHING
    RETURNING id
"""
UPSERT_OPERATOR = """
    INSERT INTO users (email, role, password_hash) VALUES ($1, 'operator', $2)
    ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash
    WHERE users.role = 'operator'
    RETURNING id
"""
INSERT_MERCHANT = "INSERT INTO merchants (name) VALUES ($1) RETURNING id"
INSERT_MEMBER = "INSERT INTO merchant_members (merchant_id, user_id, role) VALUES ($1, $2, $3)"

FIND_LOGIN = """
    SELECT u.id, u.email, u.role, u.password_hash, u.disabled_at,
           m.merchant_id, m.role AS member_role, k.id AS kol_id
    FROM users u
    LEFT JOIN merchant_members m ON m.user_id = u.id
    LEFT JOIN kols k ON k.user_id = u.id
    WHERE u.email = $1
"""
FIND_USER = """
    SELECT u.id, u.email, u.role, u.disabled_at,
           m.merchant_id, m.role AS member_role, k.id AS kol_id, mc.name AS merchant_name
    FROM users u
    LEFT JOIN merchant_members m ON m.user_id = u.id
    LEFT JOIN merchants mc ON mc.id = m.merchant_id
    LEFT JOIN kols k ON k.user_id = u.id
    WHERE u.id = $1
"""

INSERT_REFRESH = """
    INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
    VALUES ($1, $2, $3, now() + make_interval(secs => $4))
"""
# Rotation: a refresh token is good once. Presenting one that was already used revokes its
# whole family, since only a thief or a replay would do that.
CLAIM_REFRESH = """
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
    RETURNING user_id, family_id
"""
FIND_REFRESH_FAMILY = "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1"
REVOKE_FAMILY = """
    UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL
"""

INSERT_INVITATION = """
    INSERT INTO member_invitations (merchant_id, email, role, token_hash, invited_by, expires_at)
    VALUES ($1, $2, $3, $4, $5, now() + interval '7 days')
    RETURNING id, email, role, expires_at
"""
CLAIM_INVITATION = """
    UPDATE member_invitations SET accepted_at = now()
    WHERE token_hash = $1 AND email = $2 AND accepted_at IS NULL AND expires_at > now()
    RETURNING merchant_id, role
"""
LIST_MEMBERS = """
    SELECT m.user_id, u.email, m.role, m.created_at
    FROM merchant_members m JOIN users u ON u.id = m.user_id
    WHERE m.merchant_id = $1 ORDER BY m.created_at, m.user_id
"""
UPDATE_MEMBER_ROLE = """
    UPDATE merchant_members SET role = $3
    WHERE merchant_id = $1 AND user_id = $2
    RETURNING user_id, role, (SELECT email FROM users WHERE id = $2) AS email, created_at
"""
COUNT_OWNERS = "SELECT count(*) FROM merchant_members WHERE merchant_id = $1 AND role = 'owner'"

INSERT_API_KEY = """
    INSERT INTO api_keys (merchant_id, name, prefix, secret_hash, scopes, created_by)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id, name, prefix, scopes, created_at, last_used_at, revoked_at
"""
LIST_API_KEYS = """
    SELECT id, name, prefix, scopes, created_at, last_used_at, revoked_at
    FROM api_keys WHERE merchant_id = $1 ORDER BY created_at DESC, id LIMIT 200
"""
REVOKE_API_KEY = """
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE id = $1 AND merchant_id = $2
    RETURNING id, name, prefix, scopes, created_at, last_used_at, revoked_at
"""
# The key is found by its public prefix, then its digest must match; last use is recorded at
# most once a minute so that a busy partner does not turn every read into a write.
USE_API_KEY = """
    WITH key AS (
        SELECT id, merchant_id, scopes, last_used_at FROM api_keys
        WHERE prefix = $1 AND secret_hash = $2 AND revoked_at IS NULL
    ), touched AS (
        UPDATE api_keys SET last_used_at = now()
        WHERE id = (SELECT id FROM key)
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
    )
    SELECT id, merchant_id, scopes FROM key
"""

HIT_RATE_LIMIT = """
    INSERT INTO rate_limits (key, window_start, hits)
    VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
    RETURNING hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::int
"""
PEEK_RATE_LIMIT = """
    SELECT hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::int
    FROM rate_limits
    WHERE key = $1 AND window_start = to_timestamp(floor(extract(epoch FROM now()) / $2) * $2)
"""
PURGE_RATE_LIMITS = "DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'"


async def find_api_key(conn: asyncpg.Connection, secret: str) -> asyncpg.Record | None:
    prefix = credentials.api_key_prefix(secret)
    if prefix is None:
        return None
    row: asyncpg.Record | None = await conn.fetchrow(
        USE_API_KEY, prefix, credentials.digest(secret)
    )
    return row


async def hit_rate_limit(
    conn: asyncpg.Connection, key: str, window_seconds: int
) -> tuple[int, int]:
    """Count one hit in the current fixed window; returns (hits so far, seconds left)."""
    row = await conn.fetchrow(HIT_RATE_LIMIT, key, window_seconds)
    assert row is not None
    return row[0], max(1, row[1])


async def peek_rate_limit(
    conn: asyncpg.Connection, key: str, window_seconds: int
) -> tuple[int, int]:
    """Hits so far in the current window without counting one more."""
    row = await conn.fetchrow(PEEK_RATE_LIMIT, key, window_seconds)
    return (0, window_seconds) if row is None else (row[0], max(1, row[1]))

"""SQL of accounts and access."""

import asyncpg

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
           m.merchant_id, m.role AS member_role, k.id AS kol_id,
           mc.disabled_at AS merchant_disabled_at
    FROM users u
    LEFT JOIN merchant_members m ON m.user_id = u.id
    LEFT JOIN merchants mc ON mc.id = m.merchant_id
    LEFT JOIN kols k ON k.user_id = u.id
    WHERE u.email = $1
"""
FIND_USER = """
    SELECT u.id, u.email, u.role, u.disabled_at,
           m.merchant_id, m.role AS member_role, k.id AS kol_id, mc.name AS merchant_name,
           mc.disabled_at AS merchant_disabled_at
    FROM users u
    LEFT JOIN merchant_members m ON m.user_id = u.id
    LEFT JOIN merchants mc ON mc.id = m.merchant_id
    LEFT JOIN kols k ON k.user_id = u.id
    WHERE u.id = $1
"""

INSERT_REFRESH = """
    INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, authenticated_at)
    VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)
"""
# Rotation: a refresh token is good once. Presenting one that was already used revokes its
# whole family, since only a thief or a replay would do that.
CLAIM_REFRESH = """
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
    RETURNING user_id, family_id, authenticated_at
"""
FIND_REFRESH_FAMILY = "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1"
REVOKE_FAMILY = """
    UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL
"""
REVOKE_USER_REFRESH = """
    UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL
"""
REVOKE_MERCHANT_REFRESH = """
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE revoked_at IS NULL
      AND user_id IN (SELECT user_id FROM merchant_members WHERE merchant_id = $1)
"""

DISABLE_USER = """
    UPDATE users SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL RETURNING id
"""
ENABLE_USER = """
    UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL RETURNING id
"""
FIND_ACCOUNT = "SELECT id AS user_id, email, role, disabled_at FROM users WHERE id = $1"
DISABLE_MERCHANT = """
    UPDATE merchants SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL RETURNING id
"""
ENABLE_MERCHANT = """
    UPDATE merchants SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL
    RETURNING id
"""
FIND_MERCHANT = "SELECT id AS merchant_id, name, disabled_at FROM merchants WHERE id = $1"

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
DELETE_MEMBER = """
    DELETE FROM merchant_members WHERE merchant_id = $1 AND user_id = $2 RETURNING role
"""
COUNT_OWNERS = "SELECT count(*) FROM merchant_members WHERE merchant_id = $1 AND role = 'owner'"
# Changes to members take the merchant's row first, so two owners demoting each other at once
# are decided one after the other and the merchant keeps an owner.
LOCK_MERCHANT = "SELECT id FROM merchants WHERE id = $1 FOR UPDATE"

INSERT_API_KEY = """
    INSERT INTO api_keys (merchant_id, name, prefix, secret_hash, scopes, created_by, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING id
"""
# A merchant's keys (or the one key $2), newest first. A key works while it is not revoked or
# expired, its merchant is enabled and the member who answers for it (whoever confirmed it
# last, else its creator) still belongs to the merchant with an enabled account; a key with
# nobody to answer for it is `unvouched`. `creator_removed` says the same of its creator.
FIND_API_KEYS = """
    SELECT k.id, k.name, k.prefix, k.scopes, k.created_at, k.created_by, k.last_used_at,
           k.revoked_at, k.expires_at, k.confirmed_by, k.confirmed_at,
           coalesce(k.expires_at <= now(), false) AS expired,
           NOT EXISTS (
               SELECT 1 FROM merchant_members m JOIN users u ON u.id = m.user_id
               WHERE m.merchant_id = k.merchant_id AND m.user_id = k.created_by
                 AND u.disabled_at IS NULL
           ) AS creator_removed,
           NOT EXISTS (
               SELECT 1 FROM merchant_members m JOIN users u ON u.id = m.user_id
               WHERE m.merchant_id = k.merchant_id
                 AND m.user_id = coalesce(k.confirmed_by, k.created_by)
                 AND u.disabled_at IS NULL
           ) AS unvouched
    FROM api_keys k
    WHERE k.merchant_id = $1 AND ($2::uuid IS NULL OR k.id = $2)
    ORDER BY k.created_at DESC, k.id
    LIMIT 200
"""
REVOKE_API_KEY = """
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE id = $1 AND merchant_id = $2
    RETURNING id
"""
CONFIRM_API_KEY = """
    UPDATE api_keys SET confirmed_by = $3, confirmed_at = now()
    WHERE id = $1 AND merchant_id = $2 AND revoked_at IS NULL
"""
# The key is found by its public prefix, then its digest must match; last use is recorded at
# most once a minute (and only by a key that works), so that a busy partner does not turn
# every read into a write.
USE_API_KEY = """
    WITH key AS (
        SELECT k.id, k.merchant_id, k.scopes,
               coalesce(k.expires_at <= now(), false) AS expired,
               mc.disabled_at IS NOT NULL AS merchant_disabled,
               NOT EXISTS (
                   SELECT 1 FROM merchant_members m JOIN users u ON u.id = m.user_id
                   WHERE m.merchant_id = k.merchant_id
                     AND m.user_id = coalesce(k.confirmed_by, k.created_by)
                     AND u.disabled_at IS NULL
               ) AS unvouched
        FROM api_keys k JOIN merchants mc ON mc.id = k.merchant_id
        WHERE k.prefix = $1 AND k.secret_hash = $2 AND k.revoked_at IS NULL
    ), touched AS (
        UPDATE api_keys SET last_used_at = now()
        WHERE id = (SELECT id FROM key WHERE NOT (expired OR merchant_disabled OR unvouched))
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
    )
    SELECT id, merchant_id, scopes, expired, merchant_disabled, unvouched FROM key
"""

HIT_RATE_LIMIT = """
    INSERT INTO rate_limits (key, window_start, hits)
    VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
    RETURNING hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::int
"""
# Counts one more hit only while fewer than $3 were counted: the check and the count are one
# statement, so concurrent requests can never take more than $3 between them.
TAKE_RATE_LIMIT = """
    INSERT INTO rate_limits AS r (key, window_start, hits)
    VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
    ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1 WHERE r.hits < $3
    RETURNING hits
"""
PEEK_RATE_LIMIT = """
    SELECT hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::int
    FROM rate_limits
    WHERE key = $1 AND window_start = to_timestamp(floor(extract(epoch FROM now()) / $2) * $2)
"""
FORGET_RATE_LIMIT = "DELETE FROM rate_limits WHERE key = $1"
PURGE_RATE_LIMITS = "DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'"


async def hit_rate_limit(
    conn: asyncpg.Connection, key: str, window_seconds: int
) -> tuple[int, int]:
    """Count one hit in the current fixed window; returns (hits so far, seconds left)."""
    row = await conn.fetchrow(HIT_RATE_LIMIT, key, window_seconds)
    assert row is not None
    return row[0], max(1, row[1])


async def take_rate_limit(
    conn: asyncpg.Connection, key: str, window_seconds: int, limit: int
) -> int | None:
    """Count one hit if fewer than `limit` were counted in the current window and return the
    hits so far; once the limit is reached, count nothing and return None."""
    hits: int | None = await conn.fetchval(TAKE_RATE_LIMIT, key, window_seconds, limit)
    return hits


async def seconds_left(conn: asyncpg.Connection, key: str, window_seconds: int) -> int:
    """Seconds until the current window of `key` ends (and its count with it)."""
    row = await conn.fetchrow(PEEK_RATE_LIMIT, key, window_seconds)
    return window_seconds if row is None else max(1, row[1])

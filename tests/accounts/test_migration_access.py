"""Migration 0015 carries existing rows over: raw addresses leave the audit log, sessions keep
the time of their login, keys and merchants start enabled and confirmed by nobody."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services import database
from tests.support.database import scratch_database

USER = uuid.uuid4()
MERCHANT = uuid.uuid4()
FAMILY = uuid.uuid4()
LOGIN = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


async def _before(url: str) -> None:
    conn = await asyncpg.connect(database.asyncpg_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO users (id, email, role, password_hash) "
            "VALUES ($1, 'o@x.io', 'merchant', 'h')",
            USER,
        )
        await conn.execute("INSERT INTO merchants (id, name) VALUES ($1, 'Shop')", MERCHANT)
        await conn.execute(
            "INSERT INTO merchant_members (merchant_id, user_id, role) VALUES ($1, $2, 'owner')",
            MERCHANT,
            USER,
        )
        for n, created in enumerate((LOGIN, LOGIN + timedelta(hours=3))):
            await conn.execute(
                "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, "
                "created_at) VALUES ($1, $2, $3, $4, $4)",
                USER,
                FAMILY,
                bytes([n]) * 32,
                created,
            )
        await conn.execute(
            "INSERT INTO audit_log (action, user_id, ip) "
            "VALUES ('login_failed', $1, '203.0.113.9')",
            USER,
        )
        await conn.execute(
            "INSERT INTO rate_limits (key, window_start, hits) VALUES "
            "('login:ip:203.0.113.9', now(), 1), ('login:failed:o@x.io', now(), 3)"
        )
    finally:
        await conn.close()


async def _after(url: str) -> dict:
    conn = await asyncpg.connect(database.asyncpg_dsn(url))
    try:
        return {
            "audit": [dict(r) for r in await conn.fetch("SELECT * FROM audit_log")],
            "sessions": [
                r["authenticated_at"]
                for r in await conn.fetch("SELECT authenticated_at FROM refresh_tokens")
            ],
            "limits": await conn.fetchval("SELECT count(*) FROM rate_limits"),
            "merchant": await conn.fetchval(
                "SELECT disabled_at FROM merchants WHERE id = $1", MERCHANT
            ),
        }
    finally:
        await conn.close()


def test_existing_rows_are_carried_over(server_url: str) -> None:
    with scratch_database(server_url, "kolmarket_m15", migrate=False) as url:
        database.upgrade(url, "0012")
        asyncio.run(_before(url))
        database.upgrade(url)
        after = asyncio.run(_after(url))
        [entry] = after["audit"]
        assert "ip" not in entry and entry["address_hash"] is None
        assert "203.0.113.9" not in str(entry)
        assert after["sessions"] == [LOGIN, LOGIN]
        assert after["limits"] == 0
        assert after["merchant"] is None

        database.downgrade(url, "0012")
        database.upgrade(url)

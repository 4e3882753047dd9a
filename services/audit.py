"""The audit log: who did what to which account, key or review, for operators to look back on.

Like the event outbox, an entry is written in the transaction of the change it records (or on
its own, for an attempt that changed nothing, such as a failed login), so it exists exactly
when the change does. This module alone writes `audit_log`.

An entry keeps the client's address only as a keyed hash (`services.addresses`), never the
address itself, and entries older than `AUDIT_RETENTION_DAYS` are purged by a worker job.
"""

from typing import Any
from uuid import UUID

import asyncpg

from services.database import delete_in_batches

INSERT_ENTRY = """
    INSERT INTO audit_log (action, user_id, merchant_id, subject, address_hash, detail)
    VALUES ($1, $2, $3, $4, $5, $6)
"""
# In batches, so that a first purge of a long history holds no lock for long.
PURGE_BATCH = """
    DELETE FROM audit_log WHERE id = any(ARRAY(
        SELECT id FROM audit_log WHERE created_at < now() - make_interval(days => $1)
        ORDER BY created_at LIMIT $2
    ))
"""
RAW_ADDRESS_KEYS = frozenset({"ip", "address", "client", "forwarded_for"})


async def record(
    conn: asyncpg.Connection,
    action: str,
    *,
    user_id: UUID | None = None,
    merchant_id: UUID | None = None,
    subject: str | None = None,
    address_hash: str | None = None,
    **detail: Any,
) -> None:
    """Record `action` (a snake_case verb in the past tense) by `user_id`, on `subject`, from
    the client whose hashed address is `address_hash`, with any further `detail` as JSON."""
    if RAW_ADDRESS_KEYS & detail.keys():
        raise ValueError("the audit log keeps a client address only as `address_hash`")
    await conn.execute(INSERT_ENTRY, action, user_id, merchant_id, subject, address_hash, detail)


async def purge(conn: asyncpg.Connection, retention_days: int) -> int:
    """Delete the entries older than `retention_days`; returns how many."""
    return await delete_in_batches(conn, PURGE_BATCH, retention_days)

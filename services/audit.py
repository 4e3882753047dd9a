"""The audit log: who did what to which account, key or review, for operators to look back on.

Like the event outbox, an entry is written in the transaction of the change it records (or on
its own, for an attempt that changed nothing, such as a failed login), so it exists exactly
when the change does. This module alone writes `audit_log`.
"""

from typing import Any
from uuid import UUID

import asyncpg

INSERT_ENTRY = """
    INSERT INTO audit_log (action, user_id, merchant_id, subject, ip, detail)
    VALUES ($1, $2, $3, $4, $5, $6)
"""


async def record(
    conn: asyncpg.Connection,
    action: str,
    *,
    user_id: UUID | None = None,
    merchant_id: UUID | None = None,
    subject: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    """Record `action` (a snake_case verb in the past tense) by `user_id`, on `subject`, with
    any further `detail` as JSON."""
    await conn.execute(INSERT_ENTRY, action, user_id, merchant_id, subject, ip, detail)

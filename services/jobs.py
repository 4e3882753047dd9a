"""Deferring background jobs from inside a use case's transaction.

Jobs go through procrastinate's queue in PostgreSQL. Deferring with its SQL function on the
use case's own connection makes the job part of the transaction: it exists if and only if the
change that asked for it was committed.
"""

from datetime import datetime
from typing import Any

import asyncpg

DEFER = """
    SELECT procrastinate_defer_jobs_v1(
        ARRAY[ROW($1, $2, 0, NULL, $3, $4::jsonb, $5)::procrastinate_job_to_defer_v1]
    )
"""


async def defer(
    conn: asyncpg.Connection,
    task: str,
    args: dict[str, Any],
    *,
    queue: str = "default",
    queueing_lock: str | None = None,
    scheduled_at: datetime | None = None,
) -> int:
    """Queue `task` (its full name, `namespace:name`) with JSON `args`; returns the job id."""
    ids: list[int] = await conn.fetchval(DEFER, queue, task, queueing_lock, args, scheduled_at)
    return ids[0]

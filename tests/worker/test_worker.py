"""Jobs deferred inside a transaction exist only if it commits, and the worker runs them."""

import asyncio

from services.jobs import defer
from services.worker.app import run_worker

COUNT_JOBS = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = $1 AND status = $2"


async def test_a_job_deferred_in_a_rolled_back_transaction_never_exists(db) -> None:
    before = await db.fetchval(COUNT_JOBS, "accounts:purge_rate_limits", "todo")
    tx = db.transaction()
    await tx.start()
    await defer(db, "accounts:purge_rate_limits", {"timestamp": 0})
    await tx.rollback()
    assert await db.fetchval(COUNT_JOBS, "accounts:purge_rate_limits", "todo") == before


async def test_the_worker_runs_deferred_jobs(db, database_url: str) -> None:
    await db.execute(
        "INSERT INTO rate_limits (key, window_start, hits)"
        " VALUES ('old', now() - interval '2 days', 1)"
    )
    await defer(db, "accounts:purge_rate_limits", {"timestamp": 0}, queueing_lock="test-purge")
    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)
    assert await db.fetchval("SELECT count(*) FROM rate_limits WHERE key = 'old'") == 0
    assert await db.fetchval(COUNT_JOBS, "accounts:purge_rate_limits", "succeeded") >= 1


async def test_the_worker_can_run_twice_in_one_process(db, database_url: str) -> None:
    for attempt in range(2):
        await defer(db, "accounts:purge_rate_limits", {"timestamp": attempt})
        await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)
    assert await db.fetchval(COUNT_JOBS, "accounts:purge_rate_limits", "todo") == 0

"""Shared rate limits: processes on one store let through the limit in total (PostgreSQL or
Redis), a process without its store counts on its own, and a limit's memory is bounded
without ever forgetting everyone at once."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
from structlog.testing import capture_logs

from services.api.app import create_app
from services.errors import TooManyRequests
from services.limits import (
    SPREAD,
    CounterStore,
    PostgresCounters,
    RedisCounters,
    SharedLimit,
)
from services.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/15"


async def _admitted(limit: SharedLimit, key: str) -> bool:
    try:
        await limit.hit(key)
    except TooManyRequests:
        return False
    return True


def _pair(store: CounterStore, limit: int) -> tuple[SharedLimit, SharedLimit]:
    """The same limit in two processes sharing `store`."""
    name = f"t{uuid.uuid4().hex[:8]}"
    one, other = SharedLimit(name, limit), SharedLimit(name, limit)
    one.store = other.store = store
    return one, other


async def _spend(one: SharedLimit, other: SharedLimit, key: str, hits: int) -> int:
    """Hits from both processes, in turns and at once; how many were let through."""
    admitted = 0
    for turn in range(hits // 2):
        admitted += await _admitted((one, other)[turn % 2], key)
        if turn % 7 == 0:
            await asyncio.gather(one.sync(), other.sync())
    rush = await asyncio.gather(*(_admitted((one, other)[n % 2], key) for n in range(hits // 2)))
    return admitted + sum(rush)


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisCounters]:
    store = RedisCounters(REDIS_URL)
    try:
        await store.redis.ping()
    except Exception:
        await store.close()
        pytest.skip("no Redis at 127.0.0.1:6379")
    yield store
    await store.close()


@pytest.mark.parametrize("limit", [6, 100])
async def test_two_processes_on_the_database_let_through_the_limit_in_total(
    pool: asyncpg.Pool, limit: int
) -> None:
    one, other = _pair(PostgresCounters(pool), limit)
    admitted = await _spend(one, other, "203.0.113.9", 4 * limit)
    # Far from the limit each process decides alone on a share of what was left; near it
    # every hit is counted in the store first.
    assert limit <= admitted <= limit + 2 * (limit // SPREAD)
    assert not await _admitted(one, "203.0.113.9") and not await _admitted(other, "203.0.113.9")


async def test_two_processes_on_redis_let_through_the_limit_in_total(
    redis_store: RedisCounters,
) -> None:
    one, other = _pair(redis_store, 40)
    admitted = await _spend(one, other, "caller:key:1", 160)
    assert 40 <= admitted <= 40 + 2 * (40 // SPREAD)


async def test_hits_counted_in_one_process_reach_the_store_and_the_others(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    one, other = _pair(PostgresCounters(pool), 1_000)
    for _ in range(30):
        await one.hit("198.51.100.4")
    assert await db.fetchval("SELECT count(*) FROM limit_counters WHERE key = $1", one.name) == 0
    await one.sync()
    stored = f"{one.name}:198.51.100.4"
    assert await db.fetchval("SELECT hits FROM limit_counters WHERE key = $1", stored) == 30
    await other.hit("198.51.100.4")
    await other.sync()
    assert await db.fetchval("SELECT hits FROM limit_counters WHERE key = $1", stored) == 31
    assert other._counts["198.51.100.4"].known == 31


class _Unreachable:
    async def add(self, window_seconds: int, increments: object) -> list[object]:
        raise ConnectionRefusedError("the store is down")

    async def purge(self) -> None: ...

    async def close(self) -> None: ...


async def test_without_its_store_a_process_counts_on_its_own_and_says_so() -> None:
    limit = SharedLimit("clicks", 3)
    limit.store = _Unreachable()
    with capture_logs() as logs:
        decisions = [await _admitted(limit, "203.0.113.1") for _ in range(5)]
    assert decisions == [True, True, True, False, False]
    assert [e["event"] for e in logs] == ["limit_store_unreachable"]


async def test_a_refusal_says_when_the_window_ends() -> None:
    limit = SharedLimit("requests", 1)
    await limit.hit("user:1")
    with pytest.raises(TooManyRequests) as refused:
        await limit.hit("user:1")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60


async def test_memory_is_bounded_and_a_busy_key_is_never_forgotten() -> None:
    limit = SharedLimit("clicks", 2, keys=50)
    assert await _admitted(limit, "flood") and await _admitted(limit, "flood")
    for n in range(1_000):
        assert await _admitted(limit, f"visitor-{n}")
        assert not await _admitted(limit, "flood")
    assert len(limit._counts) <= 50
    assert "visitor-0" not in limit._counts and "visitor-999" in limit._counts


async def test_the_hits_of_a_forgotten_key_still_reach_the_store(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    one, _ = _pair(PostgresCounters(pool), 1_000)
    one.keys = 10
    for n in range(100):
        await one.hit(f"visitor-{n}")
    await one.sync()
    rows = await db.fetch("SELECT hits FROM limit_counters WHERE key LIKE $1", f"{one.name}:%")
    assert [r["hits"] for r in rows] == [1] * 100


async def test_the_app_counts_in_redis_when_it_is_configured(
    settings: Settings, redis_store: RedisCounters
) -> None:
    app = create_app(msgspec.structs.replace(settings, redis_url=REDIS_URL))
    async with app.lifespan():
        assert isinstance(app.state.limits.store, RedisCounters)
        assert app.state.click_limiter.store is app.state.limits.store
    without = create_app(settings)
    async with without.lifespan():
        assert isinstance(without.state.limits.store, PostgresCounters)

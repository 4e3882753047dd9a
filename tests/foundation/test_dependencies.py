"""A request whose dependencies fail part-way gives its pooled connection back at once, not
when the garbage collector happens to finalise the abandoned generator: a burst of refused
requests cannot drain the pool, and the pool closes at shutdown."""

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.testing import AsyncTestClient

from services import database
from services.api.app import create_app
from services.api.problems import EXCEPTION_HANDLERS
from services.errors import Invalid
from services.settings import Settings
from services.web import DB, provide_db
from tests.helpers import merchant


@pytest.fixture
def collector_off() -> Iterator[None]:
    """What the garbage collector would release late must be released without it."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def in_use(pool: Any) -> int:
    """Connections out of the pool once the app's own background work (the shared limits'
    sync every 100 ms) has given back what it borrowed."""
    for _ in range(50):
        if pool.get_size() == pool.get_idle_size():
            break
        await asyncio.sleep(0.02)
    return int(pool.get_size() - pool.get_idle_size())


async def test_a_dependency_refusing_after_the_connection_was_taken_gives_it_back(
    database_url: str, settings: Settings, collector_off: None
) -> None:
    async def refusal() -> None:
        await asyncio.sleep(0.01)  # the connection is taken meanwhile
        raise Invalid("q", "refused after the connection was taken")

    @get("/refused", dependencies={"refusal": Provide(refusal)})
    async def refused(refusal: NamedDependency[None], db: DB) -> None:
        raise AssertionError("never reached")

    create_app(settings)  # installs the app's dependency resolution
    pool = await database.create_pool(database_url, min_size=1, max_size=3)
    app = Litestar(
        [refused],
        dependencies={"db": Provide(provide_db)},
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"pool": pool, "settings": settings}),
    )
    try:
        async with AsyncTestClient(app=app) as client:
            for _ in range(10):  # more than the pool holds
                answer = await client.get("/refused")
                assert answer.status_code == 422, answer.text
        assert await in_use(pool) == 0
    finally:
        await asyncio.wait_for(pool.close(), 10)


async def test_searches_refused_for_their_query_leave_the_pool_whole(
    settings: Settings, collector_off: None
) -> None:
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        owner = await merchant(client)
        for _ in range(20):
            answer = await client.get(
                "/v1/kols",
                params={"followers_min": 10, "followers_max": 1},
                headers=owner.headers,
            )
            assert answer.status_code == 422, answer.text
        assert await in_use(app.state.pool) == 0

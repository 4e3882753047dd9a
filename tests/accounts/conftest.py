"""Fixtures of the access tests: the app served on the tests' own event loop."""

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from tests.accounts.callers import served


@pytest.fixture(scope="session")
async def local_app(settings) -> AsyncIterator[Litestar]:
    """The app on the tests' event loop: requests to it (`callers.from_address`) run
    concurrently, each on its own pooled connection."""
    async with served(settings) as app:
        yield app

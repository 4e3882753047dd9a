"""Every way asyncpg reports a database that went away answers 503 problem+json with
Retry-After, never a 500: the outage test meets these at random moments of a real outage,
this one meets each of them every time."""

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from services.api.problems import EXCEPTION_HANDLERS

LOST = [
    ConnectionRefusedError(111, "Connection refused"),
    FileNotFoundError(2, "No such file or directory"),  # the server's socket file is gone
    asyncpg.CannotConnectNowError("the database system is shutting down"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    TimeoutError(),  # no pooled connection came in time
]


@pytest.mark.parametrize("error", LOST, ids=lambda e: type(e).__name__)
async def test_a_lost_database_answers_503_with_retry_after(error: Exception) -> None:
    @get("/lost", sync_to_thread=False)
    def lost() -> None:
        raise error

    app = Litestar([lost], exception_handlers=EXCEPTION_HANDLERS)
    async with AsyncTestClient(app=app) as client:
        answer = await client.get("/lost")

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) > 0
    assert answer.json()["type"] == "/problems/database-unavailable"

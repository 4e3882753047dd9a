"""Callers the access tests need: operators, second owners and members, clients that come from
a chosen address, and access tokens whose login is older than the step-up limit."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar

from services.accounts import credentials
from services.accounts.service import ensure_operator
from services.api.app import create_app
from services.settings import Settings
from tests.helpers import Account, Client, login, register, unique_email

OPERATOR_PASSWORD = "operator pass 123"


async def operator(client: Client, db) -> Account:
    email = unique_email("ops")
    await ensure_operator(db, email, OPERATOR_PASSWORD)
    return await login(client, email, OPERATOR_PASSWORD)


async def join(client: Client, owner: Account, role: str) -> Account:
    """A new member of the owner's merchant, with `role`."""
    invite = await client.post(
        "/v1/merchant/members/invitations",
        json={"email": unique_email(role), "role": role},
        headers=owner.headers,
    )
    assert invite.status_code == 201, invite.text
    body = invite.json()
    return await register(client, "merchant", email=body["email"], invitation=body["invitation"])


def stale_token(account: Account, settings: Settings, minutes_ago: int = 11) -> dict[str, str]:
    """Headers with a valid access token for the account whose password was checked
    `minutes_ago` (as a token refreshed since that login carries)."""
    claims = {
        "typ": "access",
        "sub": account.me["user_id"],
        "role": account.me["role"],
        "auth_time": int(time.time()) - minutes_ago * 60,
    }
    token = credentials.issue_access_token(claims, settings.jwt_secret, 900)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[Litestar]:
    """An app started on the tests' own event loop, so that clients from any address (below)
    can call it directly."""
    app = create_app(settings)
    started, done = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        # Entered and left in one task, as the app's lifespan requires.
        async with app.lifespan():
            started.set()
            await done.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # start-up failed: raise its error
    try:
        yield app
    finally:
        done.set()
        await task


@asynccontextmanager
async def from_address(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app `served` above whose connection comes from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client

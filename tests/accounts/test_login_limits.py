"""Login limits: exactly the allowed number of passwords is ever checked, a stranger locks out
only their own address, and the audit log shows the attack without holding an address."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar

from services import addresses
from tests.accounts.callers import from_address, served
from tests.helpers import PASSWORD, Client, kol, merchant

WRONG = "wrong password 1"


def hashed(settings, address: str) -> str:
    return addresses.keyed_hash(addresses.key(settings.jwt_secret, "address"), address)


async def _try(client, email: str, password: str) -> int:
    response = await client.post("/v1/auth/token", json={"email": email, "password": password})
    return response.status_code


async def test_forty_concurrent_wrong_passwords_have_exactly_ten_checked(
    local_app: Litestar, client: Client, db, settings
) -> None:
    account = await kol(client)
    async with from_address(local_app, "203.0.113.40") as attacker:
        statuses = await asyncio.gather(*(_try(attacker, account.email, WRONG) for _ in range(40)))
    assert Counter(statuses) == {401: settings.login_limit_per_account, 429: 30}
    checked = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'login_failed' AND user_id = $1",
        account.me["user_id"],
    )
    assert checked == settings.login_limit_per_account
    locks = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'login_locked_for_address' AND user_id = $1",
        account.me["user_id"],
    )
    assert locks == 1


async def test_a_stranger_locks_out_only_their_own_address(
    local_app: Litestar, client: Client, db, settings
) -> None:
    owner = await merchant(client)
    async with from_address(local_app, "198.51.100.10") as office:
        assert await _try(office, owner.email, PASSWORD) == 200
    async with from_address(local_app, "203.0.113.66") as stranger:
        tries = [await _try(stranger, owner.email, WRONG) for _ in range(12)]
        assert tries == [401] * 10 + [429] * 2
        assert await _try(stranger, owner.email, PASSWORD) == 429
    async with from_address(local_app, "198.51.100.10") as office:
        assert await _try(office, owner.email, PASSWORD) == 200
    async with from_address(local_app, "192.0.2.44") as travelling:
        assert await _try(travelling, owner.email, PASSWORD) == 200

    failures = await db.fetch(
        "SELECT address_hash, detail FROM audit_log WHERE action = 'login_failed' AND user_id = $1",
        owner.me["user_id"],
    )
    assert len(failures) == 10
    assert {r["address_hash"] for r in failures} == {hashed(settings, "203.0.113.66")}
    assert all(r["detail"]["known_address"] is False for r in failures)


@pytest.fixture(scope="module")
async def slow_app(settings) -> AsyncIterator[Litestar]:
    """An app whose account-wide slow-down starts after three failures."""
    async with served(msgspec.structs.replace(settings, login_slowdown_after=3)) as app:
        yield app


async def test_many_addresses_slow_new_addresses_down_but_not_known_ones(
    slow_app: Litestar, client: Client, db
) -> None:
    owner = await merchant(client)
    async with from_address(slow_app, "198.51.100.20") as office:
        assert await _try(office, owner.email, PASSWORD) == 200
    for n in range(3):
        async with from_address(slow_app, f"203.0.113.{n + 1}") as stranger:
            assert await _try(stranger, owner.email, WRONG) == 401

    async with from_address(slow_app, "192.0.2.55") as new_place:
        slowed = await new_place.post(
            "/v1/auth/token", json={"email": owner.email, "password": PASSWORD}
        )
        assert slowed.status_code == 429
        assert 1 <= int(slowed.headers["retry-after"]) <= 60
    async with from_address(slow_app, "198.51.100.20") as office:
        assert await _try(office, owner.email, PASSWORD) == 200

    # Once the delay has passed, the owner logs in from the new address too.
    await db.execute(
        "UPDATE login_throttles SET last_turn_at = now() - interval '1 hour' WHERE account = $1",
        owner.email,
    )
    async with from_address(slow_app, "192.0.2.55") as new_place:
        assert await _try(new_place, owner.email, PASSWORD) == 200
    actions = await db.fetch("SELECT action FROM audit_log WHERE user_id = $1", owner.me["user_id"])
    assert Counter(r["action"] for r in actions)["login_slowed_for_new_addresses"] == 1


async def test_while_slowed_down_new_addresses_take_one_turn_at_a_time(
    slow_app: Litestar, client: Client, db
) -> None:
    account = await kol(client)
    for n in range(3):
        async with from_address(slow_app, f"203.0.113.{n + 10}") as stranger:
            assert await _try(stranger, account.email, WRONG) == 401
    # The delay since the last failure has passed.
    await db.execute(
        "UPDATE login_throttles SET last_turn_at = now() - interval '1 hour' WHERE account = $1",
        account.email,
    )

    async def from_somewhere(n: int) -> int:
        async with from_address(slow_app, f"192.0.2.{n + 100}") as somewhere:
            return await _try(somewhere, account.email, WRONG)

    statuses = await asyncio.gather(*(from_somewhere(n) for n in range(8)))
    assert Counter(statuses) == {401: 1, 429: 7}


async def test_an_unknown_email_is_limited_like_an_existing_one(local_app: Litestar) -> None:
    async with from_address(local_app, "203.0.113.77") as stranger:
        tries = [await _try(stranger, "nobody-here@example.com", WRONG) for _ in range(11)]
    assert tries == [401] * 10 + [429]

"""Access follows the caller's standing now, not the token: demoted, removed and disabled
people lose their power on the next request, in this process and in every other."""

import asyncio
from collections.abc import Callable
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.accounts.standing import StandingCache
from services.api.app import create_app
from tests.accounts.callers import from_address, join, operator
from tests.helpers import Client, api_key, kol, login, merchant

PROBLEM = "application/problem+json"
RACES = 5


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for something another connection does (a notice from PostgreSQL)."""
    for _ in range(1_000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_demoted_owner_cannot_create_keys_on_the_next_request(client: Client) -> None:
    owner = await merchant(client)
    other_owner = await join(client, owner, "owner")
    before = await client.post(
        "/v1/api-keys", json={"name": "a", "scopes": ["deals:read"]}, headers=owner.headers
    )
    assert before.status_code == 201

    demoted = await client.patch(
        f"/v1/merchant/members/{owner.me['user_id']}",
        json={"role": "member"},
        headers=other_owner.headers,
    )
    assert demoted.status_code == 200
    after = await client.post(
        "/v1/api-keys", json={"name": "b", "scopes": ["deals:read"]}, headers=owner.headers
    )
    assert after.status_code == 403
    assert after.headers["content-type"].startswith(PROBLEM)
    me = (await client.get("/v1/me", headers=owner.headers)).json()
    assert me["member_role"] == "member"


async def test_a_removed_member_acts_for_the_merchant_no_more(client: Client, db) -> None:
    owner = await merchant(client)
    member = await join(client, owner, "member")
    assert (await client.get("/v1/briefs", headers=member.headers)).status_code == 200

    removed = await client.delete(
        f"/v1/merchant/members/{member.me['user_id']}", headers=owner.headers
    )
    assert removed.status_code == 204
    refused = await client.get("/v1/briefs", headers=member.headers)
    assert refused.status_code == 403
    assert "no longer belongs" in refused.json()["detail"]
    assert "merchant_id" not in (await client.get("/v1/me", headers=member.headers)).json()
    again = await client.post("/v1/auth/refresh", json={"refresh_token": member.refresh})
    assert again.status_code == 401
    listed = (await client.get("/v1/merchant/members", headers=owner.headers)).json()["items"]
    assert member.me["user_id"] not in {m["user_id"] for m in listed}
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE merchant_id = $1", owner.me["merchant_id"]
    )
    assert "member_removed" in {r["action"] for r in actions}


async def test_the_last_owner_and_other_merchants_members_cannot_be_removed(
    client: Client,
) -> None:
    owner = await merchant(client)
    response = await client.delete(
        f"/v1/merchant/members/{owner.me['user_id']}", headers=owner.headers
    )
    assert response.status_code == 409
    assert (await client.get("/v1/api-keys", headers=owner.headers)).status_code == 200
    stranger = await merchant(client)
    foreign = await client.delete(
        f"/v1/merchant/members/{stranger.me['user_id']}", headers=owner.headers
    )
    assert foreign.status_code == 404
    assert (await client.get("/v1/api-keys", headers=stranger.headers)).status_code == 200


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    local_app: Litestar, client: Client
) -> None:
    for _ in range(RACES):
        first = await merchant(client)
        second = await join(client, first, "owner")
        async with from_address(local_app, "198.51.100.1") as concurrent:
            answers = await asyncio.gather(
                *(
                    concurrent.patch(
                        f"/v1/merchant/members/{demoted.me['user_id']}",
                        json={"role": "member"},
                        headers=by.headers,
                    )
                    for by, demoted in ((first, second), (second, first))
                )
            )
        assert sorted(a.status_code for a in answers) in ([200, 403], [200, 409])
        roles = [
            (await client.get("/v1/me", headers=account.headers)).json()["member_role"]
            for account in (first, second)
        ]
        assert sorted(roles) == ["member", "owner"]


async def test_a_disabled_account_is_refused_at_once_and_cannot_refresh(client: Client, db) -> None:
    ops = await operator(client, db)
    creator = await kol(client)
    assert (await client.get("/v1/deals", headers=creator.headers)).status_code == 200

    disabled = await client.post(f"/v1/users/{creator.me['user_id']}/disable", headers=ops.headers)
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"]
    refused = await client.get("/v1/deals", headers=creator.headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the account is disabled"
    refresh = await client.post("/v1/auth/refresh", json={"refresh_token": creator.refresh})
    assert refresh.status_code == 401
    relogin = await client.post(
        "/v1/auth/token", json={"email": creator.email, "password": "correct horse 42"}
    )
    assert relogin.status_code == 401

    enabled = await client.post(f"/v1/users/{creator.me['user_id']}/enable", headers=ops.headers)
    assert enabled.status_code == 200 and enabled.json()["disabled_at"] is None
    assert (await login(client, creator.email)).me["kind"] == "kol"
    types = await db.fetch(
        "SELECT type FROM events WHERE aggregate_id = $1 ORDER BY id", creator.me["user_id"]
    )
    assert [r["type"] for r in types] == ["account.disabled", "account.enabled"]
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE subject = $1 ORDER BY id", creator.me["user_id"]
    )
    assert [r["action"] for r in actions] == ["account_disabled", "account_enabled"]


async def test_a_disabled_owner_cannot_mint_keys_with_a_live_token(client: Client, db) -> None:
    ops = await operator(client, db)
    owner = await merchant(client)
    await client.post(f"/v1/users/{owner.me['user_id']}/disable", headers=ops.headers)
    minted = await client.post(
        "/v1/api-keys",
        json={"name": "all", "scopes": ["deals:read", "conversions:write", "webhooks:manage"]},
        headers=owner.headers,
    )
    assert minted.status_code == 401


async def test_a_disabled_merchant_refuses_its_members_and_its_keys(client: Client, db) -> None:
    ops = await operator(client, db)
    owner = await merchant(client)
    secret = await api_key(client, owner, "deals:read")
    merchant_id = owner.me["merchant_id"]

    disabled = await client.post(f"/v1/merchants/{merchant_id}/disable", headers=ops.headers)
    assert disabled.status_code == 200
    assert (await client.get("/v1/deals", headers=owner.headers)).status_code == 401
    by_key = await client.get("/v1/me", headers={"X-API-Key": secret})
    assert by_key.status_code == 401
    assert "merchant is disabled" in by_key.json()["detail"]
    refresh = await client.post("/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert refresh.status_code == 401

    assert (
        await client.post(f"/v1/merchants/{merchant_id}/enable", headers=ops.headers)
    ).status_code == 200
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 200
    assert (await client.get("/v1/deals", headers=owner.headers)).status_code == 200
    types = await db.fetch(
        "SELECT type FROM events WHERE aggregate_id = $1 ORDER BY id", merchant_id
    )
    assert [r["type"] for r in types] == ["merchant.disabled", "merchant.enabled"]


async def test_operators_cannot_disable_themselves_and_others_cannot_disable(
    client: Client, db
) -> None:
    ops = await operator(client, db)
    owner = await merchant(client)
    itself = await client.post(f"/v1/users/{ops.me['user_id']}/disable", headers=ops.headers)
    assert itself.status_code == 409
    by_owner = await client.post(f"/v1/users/{ops.me['user_id']}/disable", headers=owner.headers)
    assert by_owner.status_code == 403


async def test_a_change_made_elsewhere_reaches_this_process_by_notice(
    settings, client: Client, db
) -> None:
    """Another process (here: a second app, and a change made straight in SQL) changes the
    standing; this app's cache, which holds it, forgets it when PostgreSQL's notice comes."""
    owner = await merchant(client)
    other: Litestar = create_app(settings)
    async with AsyncTestClient(app=other) as elsewhere:
        cache: StandingCache = other.state.standing
        await until(lambda: cache.live, "the second app listens")
        assert (await elsewhere.get("/v1/api-keys", headers=owner.headers)).status_code == 200
        assert (await elsewhere.get("/v1/api-keys", headers=owner.headers)).status_code == 200

        notices = cache.notices
        await db.execute(
            "UPDATE merchant_members SET role = 'member' WHERE user_id = $1", owner.me["user_id"]
        )
        await until(lambda: cache.notices > notices, "the notice of the change arrives")
        assert (await elsewhere.get("/v1/api-keys", headers=owner.headers)).status_code == 403

        notices = cache.notices
        await db.execute("UPDATE users SET disabled_at = now() WHERE id = $1", owner.me["user_id"])
        await until(lambda: cache.notices > notices, "the notice of the change arrives")
        assert (await elsewhere.get("/v1/me", headers=owner.headers)).status_code == 401


async def test_without_a_listener_every_request_reads_the_database(
    client: Client, pool, db
) -> None:
    creator = await kol(client)
    cache = StandingCache()  # never started: nothing tells it of changes
    user_id = creator.me["user_id"]
    assert (await cache.get(pool, UUID(user_id))).caller is not None
    await db.execute("UPDATE users SET disabled_at = now() WHERE id = $1", user_id)
    assert (await cache.get(pool, UUID(user_id))).refusal == "the account is disabled"

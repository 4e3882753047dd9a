"""Dangerous operations need a login within the last ten minutes: a token whose password check
is older is refused with a problem telling the client to log in again."""

from datetime import UTC, datetime, timedelta

import jwt

from tests.accounts.callers import join, operator, stale_token
from tests.helpers import Client, kol, merchant

REAUTH = "/problems/reauthentication-required"


def assert_reauthentication(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == REAUTH
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'max_age="600"' in challenge


async def test_powerful_keys_need_a_recent_login_and_plain_ones_do_not(
    client: Client, settings
) -> None:
    owner = await merchant(client)
    stale = stale_token(owner, settings)
    for scopes in (["conversions:write"], ["deals:read", "webhooks:manage"]):
        refused = await client.post(
            "/v1/api-keys", json={"name": "p", "scopes": scopes}, headers=stale
        )
        assert_reauthentication(refused)
    plain = await client.post(
        "/v1/api-keys", json={"name": "p", "scopes": ["deals:read"]}, headers=stale
    )
    assert plain.status_code == 201
    fresh = await client.post(
        "/v1/api-keys",
        json={"name": "p", "scopes": ["conversions:write", "webhooks:manage"]},
        headers=owner.headers,
    )
    assert fresh.status_code == 201
    listed = (await client.get("/v1/api-keys", headers=owner.headers)).json()["items"]
    assert len(listed) == 2


async def test_role_changes_removals_and_owner_invitations_need_a_recent_login(
    client: Client, settings
) -> None:
    owner = await merchant(client)
    member = await join(client, owner, "member")
    stale = stale_token(owner, settings)
    path = f"/v1/merchant/members/{member.me['user_id']}"
    assert_reauthentication(await client.patch(path, json={"role": "owner"}, headers=stale))
    assert_reauthentication(await client.delete(path, headers=stale))
    assert_reauthentication(
        await client.post(
            "/v1/merchant/members/invitations",
            json={"email": "new-owner@example.com", "role": "owner"},
            headers=stale,
        )
    )
    plain_invite = await client.post(
        "/v1/merchant/members/invitations",
        json={"email": "new-member@example.com", "role": "member"},
        headers=stale,
    )
    assert plain_invite.status_code == 201
    promoted = await client.patch(path, json={"role": "owner"}, headers=owner.headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"


async def test_payout_account_changes_need_a_recent_login(client: Client, settings) -> None:
    creator = await kol(client)
    body = {"country": "US"}
    stale = await client.post(
        "/v1/kols/me/payout-account", json=body, headers=stale_token(creator, settings)
    )
    assert_reauthentication(stale)
    fresh = await client.post("/v1/kols/me/payout-account", json=body, headers=creator.headers)
    # Past the guards, the (incomplete) body is read and judged.
    assert fresh.status_code == 422, fresh.text
    assert "return_url" in fresh.json()["detail"], fresh.text


async def test_operators_disable_only_after_a_recent_login(client: Client, db, settings) -> None:
    ops = await operator(client, db)
    creator = await kol(client)
    path = f"/v1/users/{creator.me['user_id']}/disable"
    assert_reauthentication(await client.post(path, headers=stale_token(ops, settings)))
    assert (await client.get("/v1/me", headers=creator.headers)).status_code == 200


async def test_a_refreshed_token_keeps_the_time_of_its_login(client: Client, db) -> None:
    owner = await merchant(client)
    login_time = jwt.decode(owner.token, options={"verify_signature": False})["auth_time"]
    refreshed = (
        await client.post("/v1/auth/refresh", json={"refresh_token": owner.refresh})
    ).json()
    claims = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert claims["auth_time"] == login_time

    # A session whose password was checked long ago refreshes into a token too old for
    # dangerous operations.
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    await db.execute(
        "UPDATE refresh_tokens SET authenticated_at = $2 WHERE user_id = $1",
        owner.me["user_id"],
        long_ago,
    )
    again = (
        await client.post("/v1/auth/refresh", json={"refresh_token": refreshed["refresh_token"]})
    ).json()
    headers = {"Authorization": f"Bearer {again['access_token']}"}
    assert_reauthentication(
        await client.post(
            "/v1/api-keys", json={"name": "p", "scopes": ["webhooks:manage"]}, headers=headers
        )
    )
    assert (await client.get("/v1/api-keys", headers=headers)).status_code == 200

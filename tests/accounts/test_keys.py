"""API keys expire when asked to, and answer to the merchant's members: a key whose creator
left works again only once an owner confirms it (the rule the README explains)."""

from datetime import UTC, datetime, timedelta

from tests.accounts.callers import join, operator, stale_token
from tests.helpers import Client, merchant


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def _key(client: Client, owner, *scopes: str, **extra) -> dict:
    response = await client.post(
        "/v1/api-keys",
        json={"name": "partner", "scopes": list(scopes), **extra},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    body: dict = response.json()
    return body


async def _listed(client: Client, owner, key_id: str) -> dict:
    items = (await client.get("/v1/api-keys", headers=owner.headers)).json()["items"]
    return next(k for k in items if k["id"] == key_id)


async def test_a_key_with_an_expiry_shows_it_and_stops_working_after_it(client: Client, db) -> None:
    owner = await merchant(client)
    created = await _key(client, owner, "deals:read", expires_in_days=30)
    secret, key_id = created["secret"], created["key"]["id"]
    assert created["key"]["expires_at"] and created["key"]["status"] == "active"
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 200

    await db.execute(
        "UPDATE api_keys SET expires_at = now() - interval '1 second', "
        "created_at = now() - interval '1 day' WHERE id = $1",
        key_id,
    )
    refused = await client.get("/v1/me", headers={"X-API-Key": secret})
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the API key has expired"
    assert (await _listed(client, owner, key_id))["status"] == "expired"


async def test_an_expiry_is_one_day_to_two_years_away(client: Client) -> None:
    owner = await merchant(client)
    for value, rule in [(0, ">= 1"), (731, "<= 730"), ("30", "Expected `int | null`")]:
        response = await client.post(
            "/v1/api-keys",
            json={"name": "p", "scopes": ["deals:read"], "expires_in_days": value},
            headers=owner.headers,
        )
        assert response.status_code == 422, value
        error = response.json()["errors"][0]
        assert error["field"] == "expires_in_days"
        assert rule in error["message"], error
    keys = (await client.get("/v1/api-keys", headers=owner.headers)).json()["items"]
    assert keys == []


async def test_a_removed_creators_key_waits_for_an_owner_to_confirm_it(client: Client, db) -> None:
    owner = await merchant(client)
    colleague = await join(client, owner, "owner")
    created = await _key(client, colleague, "deals:read")
    secret, key_id = created["secret"], created["key"]["id"]
    assert created["key"]["creator_removed"] is False
    assert created["key"]["created_by"] == colleague.me["user_id"]

    removed = await client.delete(
        f"/v1/merchant/members/{colleague.me['user_id']}", headers=owner.headers
    )
    assert removed.status_code == 204
    suspended = await client.get("/v1/me", headers={"X-API-Key": secret})
    assert suspended.status_code == 401
    assert "suspended" in suspended.json()["detail"]
    listed = await _listed(client, owner, key_id)
    assert listed["creator_removed"] is True and listed["status"] == "suspended"

    confirmed = await client.post(f"/v1/api-keys/{key_id}/confirmation", headers=owner.headers)
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "active" and body["creator_removed"] is True
    assert body["confirmed_by"] == owner.me["user_id"] and body["confirmed_at"]
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 200
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE merchant_id = $1", owner.me["merchant_id"]
    )
    assert "api_key_confirmed" in {r["action"] for r in actions}


async def test_a_disabled_creators_key_is_suspended_too(client: Client, db) -> None:
    ops = await operator(client, db)
    owner = await merchant(client)
    colleague = await join(client, owner, "owner")
    secret = (await _key(client, colleague, "deals:read"))["secret"]
    await client.post(f"/v1/users/{colleague.me['user_id']}/disable", headers=ops.headers)
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 401
    await client.post(f"/v1/users/{colleague.me['user_id']}/enable", headers=ops.headers)
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 200


async def test_a_key_of_a_member_still_there_needs_no_confirmation(client: Client) -> None:
    owner = await merchant(client)
    created = await _key(client, owner, "deals:read")
    key_id = created["key"]["id"]
    confirmed = await client.post(f"/v1/api-keys/{key_id}/confirmation", headers=owner.headers)
    assert confirmed.status_code == 200
    assert "confirmed_by" not in confirmed.json()
    await client.delete(f"/v1/api-keys/{key_id}", headers=owner.headers)
    revoked = await client.post(f"/v1/api-keys/{key_id}/confirmation", headers=owner.headers)
    assert revoked.status_code == 409
    other = await merchant(client)
    foreign = await client.post(f"/v1/api-keys/{key_id}/confirmation", headers=other.headers)
    assert foreign.status_code == 404


async def test_confirming_a_powerful_key_needs_a_recent_login(client: Client, settings) -> None:
    owner = await merchant(client)
    colleague = await join(client, owner, "owner")
    key_id = (await _key(client, colleague, "webhooks:manage"))["key"]["id"]
    await client.delete(f"/v1/merchant/members/{colleague.me['user_id']}", headers=owner.headers)
    stale = await client.post(
        f"/v1/api-keys/{key_id}/confirmation", headers=stale_token(owner, settings)
    )
    assert stale.status_code == 401
    assert stale.json()["type"] == "/problems/reauthentication-required"
    assert (await _listed(client, owner, key_id))["status"] == "suspended"
    fresh = await client.post(f"/v1/api-keys/{key_id}/confirmation", headers=owner.headers)
    assert fresh.status_code == 200 and fresh.json()["status"] == "active"

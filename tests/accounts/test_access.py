"""Each kind of caller reaches only what is its own; API keys act within their scopes."""

from uuid import uuid4

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services.api.app import create_app
from tests.helpers import PASSWORD, Client, api_key, kol, merchant, register, unique_email


async def test_kol_cannot_call_merchant_endpoints(client: Client) -> None:
    creator = await kol(client)
    for method, path in [("GET", "/v1/api-keys"), ("GET", "/v1/merchant/members")]:
        response = await client.request(method, path, headers=creator.headers)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_plain_member_cannot_manage_keys_or_members(client: Client) -> None:
    owner = await merchant(client)
    invite = await client.post(
        "/v1/merchant/members/invitations",
        json={"email": unique_email("member"), "role": "member"},
        headers=owner.headers,
    )
    assert invite.status_code == 201
    member = await register(
        client, "merchant", email=invite.json()["email"], invitation=invite.json()["invitation"]
    )
    assert member.me["merchant_id"] == owner.me["merchant_id"]
    assert member.me["member_role"] == "member"
    assert (await client.get("/v1/api-keys", headers=member.headers)).status_code == 403


async def test_an_invitation_works_once_and_only_for_its_email(client: Client) -> None:
    owner = await merchant(client)
    invite = (
        await client.post(
            "/v1/merchant/members/invitations",
            json={"email": unique_email("m")},
            headers=owner.headers,
        )
    ).json()
    wrong_email = await client.post(
        "/v1/auth/register",
        json={
            "email": unique_email("x"),
            "password": PASSWORD,
            "role": "merchant",
            "invitation": invite["invitation"],
        },
    )
    assert wrong_email.status_code == 422
    assert wrong_email.json()["errors"][0]["field"] == "invitation"
    await register(client, "merchant", email=invite["email"], invitation=invite["invitation"])
    reuse = await client.post(
        "/v1/auth/register",
        json={
            "email": unique_email("y"),
            "password": PASSWORD,
            "role": "merchant",
            "invitation": invite["invitation"],
        },
    )
    assert reuse.status_code == 422


async def test_role_change_is_audited_and_the_last_owner_stays(client: Client, db) -> None:
    owner = await merchant(client)
    me_id = owner.me["user_id"]
    demote = await client.patch(
        f"/v1/merchant/members/{me_id}", json={"role": "member"}, headers=owner.headers
    )
    assert demote.status_code == 409
    other = await merchant(client)
    foreign = await client.patch(
        f"/v1/merchant/members/{other.me['user_id']}",
        json={"role": "member"},
        headers=owner.headers,
    )
    assert foreign.status_code == 404
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE merchant_id = $1", owner.me["merchant_id"]
    )
    assert "member_role_changed" not in {r["action"] for r in actions}


async def test_api_key_secret_is_shown_once_and_stored_hashed(client: Client, db) -> None:
    owner = await merchant(client)
    created = await client.post(
        "/v1/api-keys", json={"name": "shop", "scopes": ["deals:read"]}, headers=owner.headers
    )
    body = created.json()
    secret = body["secret"]
    assert secret.startswith(body["key"]["prefix"] + "_")
    listed = (await client.get("/v1/api-keys", headers=owner.headers)).json()["items"]
    assert [k["prefix"] for k in listed] == [body["key"]["prefix"]]
    assert secret not in str(listed)
    stored = await db.fetchrow("SELECT secret_hash FROM api_keys WHERE id = $1", body["key"]["id"])
    assert secret.encode() not in bytes(stored["secret_hash"])
    assert len(stored["secret_hash"]) == 32


async def test_api_key_acts_for_its_merchant_and_stops_when_revoked(client: Client, db) -> None:
    owner = await merchant(client)
    secret = await api_key(client, owner, "deals:read")
    me = await client.get("/v1/me", headers={"X-API-Key": secret})
    assert me.status_code == 200
    assert me.json() | {"api_key_id": None} == {
        "kind": "partner",
        "merchant_id": owner.me["merchant_id"],
        "api_key_id": None,
        "scopes": ["deals:read"],
    }
    used = await db.fetchval("SELECT last_used_at FROM api_keys WHERE prefix = $1", secret[:12])
    assert used is not None
    # A key cannot manage keys, whatever its scopes.
    assert (await client.get("/v1/api-keys", headers={"X-API-Key": secret})).status_code == 403

    key_id = me.json()["api_key_id"]
    other = await merchant(client)
    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=other.headers)).status_code == 404
    revoked = await client.delete(f"/v1/api-keys/{key_id}", headers=owner.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 401
    actions = {
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM audit_log WHERE merchant_id = $1", owner.me["merchant_id"]
        )
    }
    assert {"api_key_created", "api_key_revoked"} <= actions


async def test_unknown_and_malformed_api_keys_are_refused(client: Client) -> None:
    for secret in ("kmk_deadbeef_" + "x" * 43, "nonsense", "kmk_"):
        assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 401


async def test_unknown_ids_of_other_tenants_are_404(client: Client) -> None:
    owner = await merchant(client)
    response = await client.delete(f"/v1/api-keys/{uuid4()}", headers=owner.headers)
    assert response.status_code == 404


async def test_login_is_rate_limited_per_account_with_retry_after(client: Client) -> None:
    account = await kol(client)
    statuses = []
    for _ in range(12):
        response = await client.post(
            "/v1/auth/token", json={"email": account.email, "password": "wrong password 1"}
        )
        statuses.append(response.status_code)
    # Ten failures are allowed in the window; the eleventh attempt is refused.
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert int(response.headers["retry-after"]) > 0


@pytest.fixture
async def strict_client(settings, db) -> Client:
    tight = msgspec.structs.replace(
        settings, login_limit_per_ip=3, register_limit_per_ip=2, request_limit_per_minute=4
    )
    # Counters are shared by every app on this database; start the per-address ones afresh.
    await db.execute("DELETE FROM rate_limits WHERE key LIKE '%:ip:%'")
    async with AsyncTestClient(app=create_app(tight)) as test_client:
        yield test_client


async def test_registration_and_login_are_limited_per_ip(strict_client: Client) -> None:
    registered = [
        (
            await strict_client.post(
                "/v1/auth/register",
                json={"email": unique_email("ip"), "password": PASSWORD, "role": "kol"},
            )
        ).status_code
        for _ in range(3)
    ]
    assert registered == [201, 201, 429]
    logins = [
        (
            await strict_client.post(
                "/v1/auth/token", json={"email": unique_email("z"), "password": PASSWORD}
            )
        ).status_code
        for _ in range(4)
    ]
    assert logins == [401, 401, 401, 429]


async def test_every_caller_has_a_request_budget(strict_client: Client, client: Client) -> None:
    # The budget is shared by every app on the database: a new API key has spent none of it.
    secret = await api_key(client, await merchant(client), "reports:read")
    statuses = [
        (await strict_client.get("/v1/me", headers={"X-API-Key": secret})).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]


@pytest.fixture
async def scoped_client(settings) -> Client:
    from litestar import get

    from services.web import CurrentCaller, allow

    @get("/v1/test-reports", guards=[allow("merchant", scope="reports:read")], sync_to_thread=False)
    def reports(caller: CurrentCaller) -> dict[str, str]:
        return {"merchant_id": str(caller.merchant_id)}

    app = create_app(settings)
    app.register(reports)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def test_api_keys_need_the_route_scope(client: Client, scoped_client: Client) -> None:
    owner = await merchant(client)
    creator = await kol(client)
    with_scope = await api_key(client, owner, "reports:read", "deals:read")
    without_scope = await api_key(client, owner, "conversions:write")

    allowed = await scoped_client.get("/v1/test-reports", headers={"X-API-Key": with_scope})
    assert allowed.status_code == 200
    assert allowed.json()["merchant_id"] == owner.me["merchant_id"]
    denied = await scoped_client.get("/v1/test-reports", headers={"X-API-Key": without_scope})
    assert denied.status_code == 403
    assert "reports:read" in denied.json()["detail"]
    assert (await scoped_client.get("/v1/test-reports", headers=creator.headers)).status_code == 403
    assert (await scoped_client.get("/v1/test-reports", headers=owner.headers)).status_code == 200

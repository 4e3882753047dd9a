"""The webhook endpoints API: owners and partners with `webhooks:manage` manage their own
merchant's endpoints; the secret is shown once and rotates with a day's overlap; URLs that
reach private, loopback, link-local or metadata addresses are refused."""

import ipaddress
import uuid

import pytest
from standardwebhooks import Webhook

from services.webhooks import addresses, rules
from tests.helpers import Client, api_key, merchant
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import deliver, endpoint, published_brief

PROBLEM = "application/problem+json"


async def test_owner_creates_lists_changes_and_deletes_an_endpoint(
    hook_client: Client, receiver: Receiver
) -> None:
    owner = await merchant(hook_client)
    created = await endpoint(
        hook_client, owner, receiver.url("/crud"), description="orders", event_types=["deal.funded"]
    )
    base = f"/v1/webhook-endpoints/{created['id']}"
    listed = await hook_client.get("/v1/webhook-endpoints", headers=owner.headers)
    assert [e["id"] for e in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]
    assert "secret" not in (await hook_client.get(base, headers=owner.headers)).json()

    changed = await hook_client.patch(
        base, json={"enabled": False, "event_types": []}, headers=owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False
    assert changed.json()["disabled_reason"] == "manual"
    assert changed.json()["event_types"] == []
    enabled = await hook_client.patch(base, json={"enabled": True}, headers=owner.headers)
    assert enabled.json()["disabled_reason"] is None

    assert (await hook_client.delete(base, headers=owner.headers)).status_code == 204
    assert (await hook_client.get(base, headers=owner.headers)).status_code == 404


async def test_another_merchant_cannot_see_or_touch_an_endpoint(
    hook_client: Client, receiver: Receiver
) -> None:
    owner, other = await merchant(hook_client), await merchant(hook_client)
    created = await endpoint(hook_client, owner, receiver.url("/private"))
    base = f"/v1/webhook-endpoints/{created['id']}"
    assert (await hook_client.get(base, headers=other.headers)).status_code == 404
    assert (await hook_client.delete(base, headers=other.headers)).status_code == 404
    assert (await hook_client.post(f"{base}/test", headers=other.headers)).status_code == 404
    listed = await hook_client.get("/v1/webhook-endpoints", headers=other.headers)
    assert listed.json()["items"] == []


async def test_partners_need_the_webhooks_manage_scope(
    hook_client: Client, receiver: Receiver
) -> None:
    owner = await merchant(hook_client)
    with_scope = await api_key(hook_client, owner, "webhooks:manage")
    without = await api_key(hook_client, owner, "deals:read")
    body = {"url": receiver.url("/partner")}
    refused = await hook_client.post(
        "/v1/webhook-endpoints", json=body, headers={"X-API-Key": without}
    )
    assert refused.status_code == 403
    made = await hook_client.post(
        "/v1/webhook-endpoints", json=body, headers={"X-API-Key": with_scope}
    )
    assert made.status_code == 201, made.text
    listed = await hook_client.get("/v1/webhook-endpoints", headers=owner.headers)
    assert [e["id"] for e in listed.json()["items"]] == [made.json()["id"]]


async def test_unknown_event_types_and_bad_urls_answer_422_naming_the_field(
    hook_client: Client, receiver: Receiver
) -> None:
    owner = await merchant(hook_client)
    for body, field in (
        ({"url": receiver.url("/x"), "event_types": ["deal.funded", "deal.exploded"]},
         "event_types[1]"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "https://user:pw@example.com/hook"}, "url"),
        ({"url": "not a url at all"}, "url"),
    ):  # fmt: skip
        response = await hook_client.post("/v1/webhook-endpoints", json=body, headers=owner.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert field in [e["field"] for e in response.json()["errors"]]


async def test_rotation_signs_with_both_secrets_for_a_day(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = f"/rotate/{uuid.uuid4().hex}"
    created = await endpoint(hook_client, owner, receiver.url(where))
    rotated = await hook_client.post(
        f"/v1/webhook-endpoints/{created['id']}/secret/rotate", headers=owner.headers
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    await published_brief(hook_client, owner)

    await deliver(pump, db)

    (got,) = await receiver.wait_for(where, 1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (created["secret"], rotated.json()["secret"]):
        assert Webhook(secret).verify(got.body, got.headers)["type"] == "brief.published"


# --- SSRF ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def strict_owner(client: Client):
    return await merchant(client)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://192.168.1.20/hook",
        "https://localhost/hook",  # a name resolving to loopback
        "https://hooks.example.com:99999/hook",
        "https://hooks.example.com/hook\n",
        "https://hooks.example.com/caf\u00e9",
        "https://user@hooks.example.com/hook",
        "http://93.184.215.14/hook",  # public, but not https
    ],
)
async def test_endpoints_reaching_internal_addresses_are_refused(
    client: Client, strict_owner, url: str
) -> None:
    response = await client.post(
        "/v1/webhook-endpoints", json={"url": url}, headers=strict_owner.headers
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["url"]


async def test_local_endpoints_are_allowed_only_where_configured_and_only_on_loopback(
    hook_client: Client,
) -> None:
    owner = await merchant(hook_client)
    allowed = await hook_client.post(
        "/v1/webhook-endpoints", json={"url": "http://localhost:9/hook"}, headers=owner.headers
    )
    assert allowed.status_code == 201, allowed.text
    for url in ("http://10.0.0.8/hook", "https://169.254.169.254/"):
        refused = await hook_client.post(
            "/v1/webhook-endpoints", json={"url": url}, headers=owner.headers
        )
        assert refused.status_code == 422, url


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("169.254.169.254", False),
        ("100.100.100.200", False),  # shared address space, a cloud's metadata service
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ],
)
def test_only_public_addresses_may_be_reached(address: str, allowed: bool) -> None:
    reason = rules.refusal(ipaddress.ip_address(address), allow_local=True)
    assert (reason is None) is allowed, reason


async def test_a_name_resolving_to_loopback_is_refused_when_resolved_again() -> None:
    # a stored endpoint whose name has come to point at loopback since it was accepted
    target = rules.Target("https", "localhost", 8443, "/hook")
    with pytest.raises(addresses.Refused, match="loopback"):
        await addresses.resolve(target, allow_local=False)
    assert (await addresses.resolve(target, allow_local=True)).is_loopback


async def test_a_local_endpoint_is_refused_at_delivery_where_not_allowed(
    hook_client: Client, receiver: Receiver, pool, settings, db
) -> None:
    from services.webhooks.pump import Pump

    owner = await merchant(hook_client)
    where = f"/rebound/{uuid.uuid4().hex}"
    created = await endpoint(hook_client, owner, receiver.url(where))
    await published_brief(hook_client, owner)
    strict = Pump(pool, settings)  # the production setting: local addresses refused
    try:
        await deliver(strict, db)
    finally:
        await strict.close()
    assert receiver.at(where) == []
    log = await hook_client.get(
        f"/v1/webhook-endpoints/{created['id']}/deliveries", headers=owner.headers
    )
    (item,) = log.json()["items"]
    assert item["last_error"].startswith("refused:")
    assert item["last_status_code"] is None


async def test_a_name_that_resolves_nowhere_yet_is_taken_and_never_reached(
    client: Client, strict_owner
) -> None:
    url = f"https://hooks-{uuid.uuid4().hex[:8]}.invalid/kolmarket"  # RFC 2606: never resolves
    created = await client.post(
        "/v1/webhook-endpoints", json={"url": url}, headers=strict_owner.headers
    )
    assert created.status_code == 201, created.text
    with pytest.raises(addresses.Unresolved):
        await addresses.resolve(rules.parse_url(url, allow_local=False), allow_local=False)


@pytest.mark.parametrize("private", ["10.20.30.40", "169.254.169.254", "127.0.0.1", "fd00::1"])
async def test_a_host_name_resolving_to_an_internal_address_is_refused(
    client: Client, strict_owner, monkeypatch: pytest.MonkeyPatch, private: str
) -> None:
    async def lookup(host: str, port: int) -> list[addresses.Address]:
        wanted = host == "hooks.partner-internal.com"
        return [ipaddress.ip_address(private if wanted else "93.184.215.14")]

    monkeypatch.setattr(addresses, "_lookup", lookup)
    refused = await client.post(
        "/v1/webhook-endpoints",
        json={"url": "https://hooks.partner-internal.com/kolmarket"},
        headers=strict_owner.headers,
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["url"]

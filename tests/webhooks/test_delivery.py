"""Webhook delivery to a real HTTP receiver on loopback: signed as Standard Webhooks say,
at least once with one webhook-id, retried on failure, stopped by 410, only to the event's
own merchant, in order per object."""

import uuid

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.helpers import Client, merchant
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import deliver, endpoint, published_brief

FIND_DELIVERIES = """
    SELECT status, attempts, event_type FROM webhook_deliveries
    WHERE endpoint_id = $1 ORDER BY created_at
"""


def path() -> str:
    return f"/hooks/{uuid.uuid4().hex}"


async def test_a_delivery_verifies_with_the_standardwebhooks_library(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = path()
    created = await endpoint(hook_client, owner, receiver.url(where))
    assert created["secret"].startswith("whsec_")
    brief_id = await published_brief(hook_client, owner)

    await deliver(pump, db)

    (got,) = await receiver.wait_for(where, 1)
    message = Webhook(created["secret"]).verify(got.body, got.headers)
    assert message["type"] == "brief.published"
    assert message["data"]["brief_id"] == brief_id
    assert message["object"] == {
        "type": "brief",
        "id": brief_id,
        "version": int(message["id"].removeprefix("evt_")),
    }
    assert got.headers["webhook-id"] == message["id"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)


async def test_a_failed_attempt_is_retried_with_the_same_webhook_id(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = path()
    receiver.answers[where] = [500]
    created = await endpoint(hook_client, owner, receiver.url(where))
    await published_brief(hook_client, owner)

    await deliver(pump, db)

    first, second = await receiver.wait_for(where, 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    rows = await db.fetch(FIND_DELIVERIES, uuid.UUID(created["id"]))
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 2)]

    log = await hook_client.get(
        f"/v1/webhook-endpoints/{created['id']}/deliveries", headers=owner.headers
    )
    assert log.status_code == 200, log.text
    (item,) = log.json()["items"]
    assert item["last_status_code"] == 200
    assert item["message_id"] == first.headers["webhook-id"]
    detail = await hook_client.get(
        f"/v1/webhook-endpoints/{created['id']}/deliveries/{item['id']}", headers=owner.headers
    )
    assert [a["status_code"] for a in detail.json()["attempts_made"]] == [500, 200]


async def test_retries_end_after_the_schedule_and_the_delivery_is_given_up(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = path()
    receiver.answers[where] = [503] * 10
    created = await endpoint(hook_client, owner, receiver.url(where))
    await published_brief(hook_client, owner)

    await deliver(pump, db)

    # The test schedule has three waits: four attempts, then no more.
    assert len(receiver.at(where)) == 4
    rows = await db.fetch(FIND_DELIVERIES, uuid.UUID(created["id"]))
    assert [(r["status"], r["attempts"]) for r in rows] == [("failed", 4)]


async def test_410_disables_the_endpoint_and_tells_its_owner(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = path()
    receiver.answers[where] = [410]
    created = await endpoint(hook_client, owner, receiver.url(where))
    await published_brief(hook_client, owner)

    await deliver(pump, db)
    await published_brief(hook_client, owner)
    await deliver(pump, db)

    assert len(receiver.at(where)) == 1
    found = await hook_client.get(f"/v1/webhook-endpoints/{created['id']}", headers=owner.headers)
    assert found.json()["enabled"] is False
    assert found.json()["disabled_reason"] == "gone"
    events = await hook_client.get(
        "/v1/events", params={"type": "webhook_endpoint.disabled"}, headers=owner.headers
    )
    (told,) = events.json()["items"]
    assert told["data"]["endpoint_id"] == created["id"]
    assert told["data"]["reason"] == "gone"


async def test_another_merchants_endpoint_never_receives_this_merchants_events(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner, other = await merchant(hook_client), await merchant(hook_client)
    mine, theirs = path(), path()
    await endpoint(hook_client, owner, receiver.url(mine))
    await endpoint(hook_client, other, receiver.url(theirs))
    brief_id = await published_brief(hook_client, owner)

    await deliver(pump, db)

    (got,) = await receiver.wait_for(mine, 1)
    assert got.message["data"]["brief_id"] == brief_id
    assert receiver.at(theirs) == []


async def test_an_endpoint_receives_only_the_types_it_asked_for(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    wanted, unwanted = path(), path()
    await endpoint(hook_client, owner, receiver.url(wanted), event_types=["brief.published"])
    await endpoint(hook_client, owner, receiver.url(unwanted), event_types=["deal.funded"])
    await published_brief(hook_client, owner)

    await deliver(pump, db)

    assert len(await receiver.wait_for(wanted, 1)) == 1
    assert receiver.at(unwanted) == []


async def test_a_later_event_of_an_object_waits_for_the_earlier_one(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = path()
    receiver.answers[where] = [500, 500]
    created = await endpoint(hook_client, owner, receiver.url(where))
    brief_id = await published_brief(hook_client, owner)
    closed = await hook_client.post(f"/v1/briefs/{brief_id}/close", headers=owner.headers)
    assert closed.status_code == 200, closed.text

    await deliver(pump, db)

    got = [r.message["type"] for r in receiver.at(where)]
    # The close is sent only once the publication got through, after two failures.
    assert got == ["brief.published", "brief.published", "brief.published", "brief.closed"]
    versions = [r.message["object"]["version"] for r in receiver.at(where)]
    assert versions[-1] > versions[0]
    rows = await db.fetch(FIND_DELIVERIES, uuid.UUID(created["id"]))
    assert {r["status"] for r in rows} == {"delivered"}


async def test_ping_and_retry_send_to_the_endpoint_on_request(
    hook_client: Client, receiver: Receiver, pump, db
) -> None:
    owner = await merchant(hook_client)
    where = path()
    created = await endpoint(hook_client, owner, receiver.url(where))
    base = f"/v1/webhook-endpoints/{created['id']}"

    ping = await hook_client.post(f"{base}/test", headers=owner.headers)
    assert ping.status_code == 202, ping.text
    await deliver(pump, db)
    (got,) = await receiver.wait_for(where, 1)
    assert Webhook(created["secret"]).verify(got.body, got.headers)["type"] == "ping"

    again = await hook_client.post(
        f"{base}/deliveries/{ping.json()['id']}/retry", headers=owner.headers
    )
    assert again.status_code == 202, again.text
    await deliver(pump, db)
    first, second = await receiver.wait_for(where, 2)
    assert (
        first.headers["webhook-id"] == second.headers["webhook-id"] == f"ping_{ping.json()['id']}"
    )

"""Stripe's webhook refuses what it must not process: an event Stripe signed that names no
object answers 400, and a signature stamped too far in the future or the past is refused
like a forged one; neither is stored, so Stripe's own retry is not mistaken for a repeat."""

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest

from tests.helpers import Client
from tests.payments.support import PROBLEM, deliver
from tests.stripe_peer import WEBHOOK_SECRET

STORED = "SELECT count(*) FROM stripe_events WHERE id = $1"
TOO_FAR = 600  # seconds; the webhook accepts signatures stamped within five minutes of now


def _event(**data: Any) -> tuple[str, bytes]:
    event_id = f"evt_{uuid.uuid4().hex}"
    body = {"id": event_id, "object": "event", "type": "payment_intent.succeeded",
            "created": int(time.time()), "data": data}  # fmt: skip
    return event_id, json.dumps(body).encode()


def _signed(payload: bytes, at: float) -> str:
    """The Stripe-Signature header Stripe sends, stamped `at`."""
    stamp = int(at)
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


@pytest.mark.parametrize(
    "data",
    [{"object": {"object": "payment_intent", "amount": 500}}, {"object": "pi_123"}, {}],
    ids=["object-without-id", "object-not-an-object", "no-object"],
)
async def test_a_signed_event_without_an_object_id_is_refused_and_not_stored(
    pay_client: Client, db, data: dict[str, Any]
) -> None:
    event_id, payload = _event(**data)

    answer = await deliver(pay_client, payload, _signed(payload, time.time()))

    assert (answer.status_code, answer.headers["content-type"]) == (400, PROBLEM)
    assert answer.json()["type"] == "/problems/bad-event"
    assert await db.fetchval(STORED, event_id) == 0


@pytest.mark.parametrize("skew", [TOO_FAR, -TOO_FAR], ids=["future", "past"])
async def test_a_signature_stamped_too_far_from_now_is_refused(
    pay_client: Client, db, skew: int
) -> None:
    event_id, payload = _event(object={"id": f"pi_{uuid.uuid4().hex}", "object": "payment_intent"})

    refused = await deliver(pay_client, payload, _signed(payload, time.time() + skew))

    assert (refused.status_code, refused.headers["content-type"]) == (401, PROBLEM)
    assert refused.json()["type"] == "/problems/bad-signature"
    assert await db.fetchval(STORED, event_id) == 0
    accepted = await deliver(pay_client, payload, _signed(payload, time.time() + skew / 10))
    assert accepted.json() == {"received": True, "duplicate": False}
    assert await db.fetchval(STORED, event_id) == 1

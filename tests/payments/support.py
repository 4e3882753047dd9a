"""Steps of the payments tests: an accepted deal, a paid PaymentIntent, a delivered webhook."""

import uuid
from typing import Any

import stripe

from tests.helpers import Account, Client
from tests.negotiation.support import answer, invite, open_brief
from tests.payments.conftest import Inbox

PROBLEM = "application/problem+json"


async def accepted_deal(
    client: Client, owner: Account, creator: Account, fee: int = 50_000
) -> dict[str, Any]:
    """A deal awaiting funding: the merchant invites, the KOL accepts revision 1."""
    brief = await open_brief(client, owner)
    offer = await invite(client, owner, brief["id"], creator, fee)
    accepted = await answer(client, creator, offer, "accept", 1)
    assert accepted.status_code == 200, accepted.text
    deal: dict[str, Any] = accepted.json()
    return deal


async def start_funding(client: Client, owner: Account, deal_id: str) -> dict[str, Any]:
    response = await client.post(f"/v1/deals/{deal_id}/funding", headers=owner.headers)
    assert response.status_code == 200, response.text
    funding: dict[str, Any] = response.json()
    return funding


async def pay(stripe_api: stripe.StripeClient, intent_id: str, card: str = "pm_card_visa") -> Any:
    """The merchant confirms the PaymentIntent in the browser with `card`."""
    return await stripe_api.v1.payment_intents.confirm_async(intent_id, {"payment_method": card})


async def deliver(client: Client, body: bytes, signature: str) -> Any:
    return await client.post(
        "/v1/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def funded_deal(
    client: Client,
    stripe_api: stripe.StripeClient,
    inbox: Inbox,
    owner: Account,
    creator: Account,
    fee: int = 50_000,
) -> dict[str, Any]:
    """A deal funded through Stripe, its succeeded webhook delivered to the app."""
    deal = await accepted_deal(client, owner, creator, fee)
    funding = await start_funding(client, owner, deal["id"])
    await pay(stripe_api, funding["payment_intent_id"])
    body, signature = await inbox.wait_for("payment_intent.succeeded", funding["payment_intent_id"])
    delivered = await deliver(client, body, signature)
    assert delivered.status_code == 200, delivered.text
    return deal


async def deal_status(db: Any, deal_id: str) -> str:
    status: str = await db.fetchval("SELECT status FROM deals WHERE id = $1", uuid.UUID(deal_id))
    return status


async def set_deal_status(db: Any, deal_id: str, status: str) -> None:
    """Stands in for the delivery flow (submission, approval, dispute) that moves the deal."""
    await db.execute("UPDATE deals SET status = $2 WHERE id = $1", uuid.UUID(deal_id), status)

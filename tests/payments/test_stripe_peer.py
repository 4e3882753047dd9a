"""What the local Stripe peer promises the product, checked with the real stripe library."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import stripe
from aiohttp import web

from tests.stripe_peer import (
    onboard_account,
    register_webhook,
    stripe_client,
    stripe_peer,
    unregister_webhook,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
def peer_url() -> Iterator[str]:
    with stripe_peer() as base_url:
        yield base_url


@pytest.fixture
async def client(peer_url: str) -> AsyncIterator[stripe.StripeClient]:
    async with stripe_client(peer_url) as stripe_client_:
        yield stripe_client_


async def _customer_with_card(client: stripe.StripeClient, test_card: str) -> tuple[str, str]:
    customer = await client.v1.customers.create_async({"email": "merchant@example.com"})
    card = await client.v1.payment_methods.attach_async(test_card, {"customer": customer.id})
    await client.v1.customers.update_async(
        customer.id, {"invoice_settings": {"default_payment_method": card.id}}
    )
    return customer.id, card.id


async def _onboarded_kol(client: stripe.StripeClient, peer_url: str) -> str:
    account = await client.v1.accounts.create_async(
        {"type": "express", "country": "US", "capabilities": {"transfers": {"requested": True}}}
    )
    await onboard_account(peer_url, account.id)
    return account.id


async def _paid_intent(
    client: stripe.StripeClient, amount: int, group: str = ""
) -> stripe.PaymentIntent:
    params = {"amount": amount, "currency": "usd", "payment_method": "pm_card_visa"}
    params |= {"payment_method_types": ["card"], "confirm": True}
    if group:
        params["transfer_group"] = group
    return await client.v1.payment_intents.create_async(params)


async def test_customer_keeps_saved_card_as_default_payment_method(client):
    customer_id, card_id = await _customer_with_card(client, "pm_card_visa")

    customer = await client.v1.customers.retrieve_async(customer_id)
    cards = await client.v1.payment_methods.list_async({"customer": customer_id, "type": "card"})

    assert customer.invoice_settings.default_payment_method == card_id
    assert [card.id for card in cards.data] == [card_id]
    assert cards.data[0].card.last4 == "4242"


async def test_card_that_stripe_declines_cannot_be_saved(client):
    customer = await client.v1.customers.create_async({"email": "merchant@example.com"})

    with pytest.raises(stripe.CardError) as declined:
        await client.v1.payment_methods.attach_async(
            "pm_card_visa_chargeDeclined", {"customer": customer.id}
        )

    assert declined.value.code == "card_declined"


async def test_same_idempotency_key_returns_same_payment_intent(client):
    key = f"deal-{uuid.uuid4()}-funding"
    params = {"amount": 12_500, "currency": "usd", "transfer_group": "deal_1"}

    first = await client.v1.payment_intents.create_async(params, {"idempotency_key": key})
    again = await client.v1.payment_intents.create_async(params, {"idempotency_key": key})

    assert again.id == first.id
    assert first.transfer_group == "deal_1"
    assert again.last_response.headers["Idempotent-Replayed"] == "true"


async def test_reusing_idempotency_key_with_other_parameters_is_refused(client):
    key = f"deal-{uuid.uuid4()}-funding"
    await client.v1.payment_intents.create_async(
        {"amount": 12_500, "currency": "usd"}, {"idempotency_key": key}
    )

    with pytest.raises(stripe.IdempotencyError):
        await client.v1.payment_intents.create_async(
            {"amount": 99, "currency": "usd"}, {"idempotency_key": key}
        )


async def test_confirming_payment_intent_with_good_card_succeeds(client):
    intent = await client.v1.payment_intents.create_async(
        {"amount": 12_500, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    assert intent.status == "requires_confirmation"

    confirmed = await client.v1.payment_intents.confirm_async(intent.id)

    assert confirmed.status == "succeeded"
    assert confirmed.latest_charge.startswith("ch_")


async def test_declined_card_raises_card_error_and_leaves_intent_unpaid(client):
    intent = await client.v1.payment_intents.create_async(
        {"amount": 12_500, "currency": "usd", "payment_method": "pm_card_visa_chargeDeclined"}
    )

    with pytest.raises(stripe.CardError) as declined:
        await client.v1.payment_intents.confirm_async(intent.id)

    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "generic_decline"
    assert declined.value.error.payment_intent.id == intent.id
    after = await client.v1.payment_intents.retrieve_async(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "card_declined"


async def test_refund_returns_whole_payment_once(client):
    intent = await _paid_intent(client, 12_500)

    refund = await client.v1.refunds.create_async({"payment_intent": intent.id})

    assert (refund.status, refund.amount) == ("succeeded", 12_500)
    with pytest.raises(stripe.InvalidRequestError) as twice:
        await client.v1.refunds.create_async({"payment_intent": intent.id})
    assert twice.value.code == "charge_already_refunded"


async def test_off_session_charge_of_saved_card_succeeds(client):
    customer_id, card_id = await _customer_with_card(client, "pm_card_visa")

    intent = await client.v1.payment_intents.create_async(
        {"amount": 3_000, "currency": "usd", "customer": customer_id, "payment_method": card_id}
        | {"off_session": True, "confirm": True}
    )

    assert intent.status == "succeeded"
    assert intent.customer == customer_id


async def test_off_session_charge_of_saved_card_that_later_fails_raises_card_error(client):
    customer_id, card_id = await _customer_with_card(client, "pm_card_chargeCustomerFail")

    with pytest.raises(stripe.CardError) as declined:
        await client.v1.payment_intents.create_async(
            {"amount": 3_000, "currency": "usd", "customer": customer_id}
            | {"payment_method": card_id, "off_session": True, "confirm": True}
        )

    assert declined.value.http_status == 402
    assert declined.value.error.payment_intent.status == "requires_payment_method"


async def test_express_account_needs_onboarding_before_receiving_transfers(client, peer_url):
    account = await client.v1.accounts.create_async(
        {"type": "express", "country": "US", "email": "kol@example.com"}
        | {"capabilities": {"transfers": {"requested": True}}, "metadata": {"kol_id": "k1"}}
    )
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    link = await client.v1.account_links.create_async(
        {"account": account.id, "type": "account_onboarding"}
        | {"refresh_url": "https://app.test/refresh", "return_url": "https://app.test/done"}
    )
    assert link.url.startswith("http") and link.expires_at > time.time()
    transfer = {"amount": 1_000, "currency": "usd", "destination": account.id}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await client.v1.transfers.create_async(transfer)
    assert refused.value.code == "insufficient_capabilities_for_transfer"

    await onboard_account(peer_url, account.id)

    onboarded = await client.v1.accounts.retrieve_async(account.id)
    assert onboarded.charges_enabled and onboarded.payouts_enabled and onboarded.details_submitted
    assert onboarded.capabilities.transfers == "active"
    updated = await client.v1.accounts.update_async(account.id, {"metadata": {"tier": "gold"}})
    assert updated.metadata.to_dict() == {"kol_id": "k1", "tier": "gold"}
    assert (await client.v1.transfers.create_async(transfer)).destination == account.id


async def test_opening_account_link_onboards_and_returns_to_the_app(client):
    account = await client.v1.accounts.create_async(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    link = await client.v1.account_links.create_async(
        {"account": account.id, "type": "account_onboarding"}
        | {"refresh_url": "https://app.test/refresh", "return_url": "https://app.test/done"}
    )

    async with httpx.AsyncClient() as browser:
        opened = await browser.get(link.url)

    assert opened.status_code == 302
    assert opened.headers["Location"] == "https://app.test/done"
    assert (await client.v1.accounts.retrieve_async(account.id)).details_submitted


async def test_transfer_replay_and_listing_by_transfer_group(client, peer_url):
    kol = await _onboarded_kol(client, peer_url)
    deal, other_deal = f"deal_{uuid.uuid4().hex}", f"deal_{uuid.uuid4().hex}"
    charge = (await _paid_intent(client, 10_000, deal)).latest_charge
    params = {"amount": 8_000, "currency": "usd", "destination": kol, "transfer_group": deal}
    params |= {"source_transaction": charge, "metadata": {"deal_id": deal}}

    first = await client.v1.transfers.create_async(params, {"idempotency_key": f"{deal}-payout"})
    again = await client.v1.transfers.create_async(params, {"idempotency_key": f"{deal}-payout"})
    await client.v1.transfers.create_async(params | {"amount": 500, "transfer_group": other_deal})
    listed = await client.v1.transfers.list_async({"transfer_group": deal})

    assert again.id == first.id
    assert [transfer.id for transfer in listed.data] == [first.id]
    assert (first.amount, first.transfer_group, first.metadata.deal_id) == (8_000, deal, deal)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        await client.v1.transfers.create_async(params | {"amount": 2_000})
    assert too_much.value.code == "balance_insufficient"


async def test_unknown_objects_answer_in_stripe_error_shape(client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await client.v1.accounts.retrieve_async("acct_missing")

    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


@pytest.fixture
async def webhook_inbox() -> AsyncIterator[tuple[str, asyncio.Queue[tuple[bytes, str]]]]:
    """A tiny HTTP receiver standing in for the product's webhook endpoint."""
    inbox: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await inbox.put((await request.read(), request.headers.get("Stripe-Signature", "")))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks/stripe", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/stripe", inbox
    await runner.cleanup()


async def test_payment_intent_succeeded_webhook_is_signed_and_tampering_is_detected(
    client, peer_url, webhook_inbox
):
    url, inbox = webhook_inbox
    secret = await register_webhook(peer_url, url, events=["payment_intent.succeeded"])
    try:
        intent = await _paid_intent(client, 4_200)
        while True:
            payload, signature = await asyncio.wait_for(inbox.get(), timeout=5)
            event = stripe.Webhook.construct_event(payload, signature, secret)
            if event.data.object.id == intent.id:
                break
    finally:
        await unregister_webhook(peer_url)

    assert event.type == "payment_intent.succeeded"
    assert event.data.object.status == "succeeded"
    assert client.construct_event(payload, signature, secret).id == event.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"4200", b"4201"), signature, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_someone_else")

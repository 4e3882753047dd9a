"""Our one door to Stripe: a small protocol of the calls payments make, and its implementation
on the official `stripe` library (`StripeClient` with its async methods over HTTPX).

Every creating call takes an idempotency key derived from our own ids, so a retry after a
crash returns what Stripe made the first time instead of charging or paying twice. Calls
have connect and read timeouts, and the library retries a lost connection a bounded number
of times with the same key (`STRIPE_*` settings).
"""

from typing import Any, Protocol

import httpx
import stripe

from services.settings import Settings


class StripeGateway(Protocol):
    async def create_payment_intent(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.PaymentIntent: ...

    async def retrieve_payment_intent(self, intent_id: str) -> stripe.PaymentIntent: ...

    async def cancel_payment_intent(
        self, intent_id: str, idempotency_key: str
    ) -> stripe.PaymentIntent: ...

    async def confirm_payment_intent(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.PaymentIntent: ...

    async def list_refunds(self, payment_intent: str) -> list[stripe.Refund]: ...

    async def list_transfers(self, transfer_group: str) -> list[stripe.Transfer]: ...

    async def create_refund(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.Refund: ...

    async def create_account(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.Account: ...

    async def retrieve_account(self, account_id: str) -> stripe.Account: ...

    async def create_account_link(self, params: dict[str, Any]) -> stripe.AccountLink: ...

    async def create_transfer(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.Transfer: ...

    async def create_customer(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.Customer: ...

    async def save_card(self, customer_id: str, payment_method_id: str) -> stripe.PaymentMethod: ...

    def verify_event(self, payload: bytes, signature: str) -> stripe.Event: ...


class StripeLibraryGateway:
    """The real gateway; `close` releases its HTTP connections."""

    def __init__(self, settings: Settings) -> None:
        timeout = httpx.Timeout(
            settings.stripe_timeout_seconds, connect=settings.stripe_connect_timeout_seconds
        )
        self._http = stripe.HTTPXClient(timeout=timeout)
        base = settings.stripe_api_base
        addresses = {"api": base, "connect": base, "files": base} if base else {}
        self._client = stripe.StripeClient(
            settings.stripe_api_key or "sk_unset",
            base_addresses=addresses,  # type: ignore[arg-type]
            http_client=self._http,
            max_network_retries=settings.stripe_max_retries,
        )
        self._webhook_secret = settings.stripe_webhook_secret

    async def close(self) -> None:
        await self._http.close_async()

    async def create_payment_intent(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.PaymentIntent:
        options = {"idempotency_key": idempotency_key}
        return await self._client.v1.payment_intents.create_async(params, options)  # type: ignore[arg-type]

    async def retrieve_payment_intent(self, intent_id: str) -> stripe.PaymentIntent:
        return await self._client.v1.payment_intents.retrieve_async(intent_id)

    async def cancel_payment_intent(
        self, intent_id: str, idempotency_key: str
    ) -> stripe.PaymentIntent:
        options = {"idempotency_key": idempotency_key}
        return await self._client.v1.payment_intents.cancel_async(intent_id, None, options)  # type: ignore[arg-type]

    async def confirm_payment_intent(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.PaymentIntent:
        """Confirm `params["payment_intent"]` again with the rest of `params`."""
        options = {"idempotency_key": idempotency_key}
        rest = {k: v for k, v in params.items() if k != "payment_intent"}
        intents = self._client.v1.payment_intents
        return await intents.confirm_async(params["payment_intent"], rest, options)  # type: ignore[arg-type]

    async def list_refunds(self, payment_intent: str) -> list[stripe.Refund]:
        found = await self._client.v1.refunds.list_async(
            {"payment_intent": payment_intent, "limit": 100}
        )
        return list(found.data)

    async def list_transfers(self, transfer_group: str) -> list[stripe.Transfer]:
        found = await self._client.v1.transfers.list_async(
            {"transfer_group": transfer_group, "limit": 100}
        )
        return list(found.data)

    async def create_refund(self, params: dict[str, Any], idempotency_key: str) -> stripe.Refund:
        options = {"idempotency_key": idempotency_key}
        return await self._client.v1.refunds.create_async(params, options)  # type: ignore[arg-type]

    async def create_account(self, params: dict[str, Any], idempotency_key: str) -> stripe.Account:
        options = {"idempotency_key": idempotency_key}
        return await self._client.v1.accounts.create_async(params, options)  # type: ignore[arg-type]

    async def retrieve_account(self, account_id: str) -> stripe.Account:
        return await self._client.v1.accounts.retrieve_async(account_id)

    async def create_account_link(self, params: dict[str, Any]) -> stripe.AccountLink:
        return await self._client.v1.account_links.create_async(params)  # type: ignore[arg-type]

    async def create_transfer(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.Transfer:
        options = {"idempotency_key": idempotency_key}
        return await self._client.v1.transfers.create_async(params, options)  # type: ignore[arg-type]

    async def create_customer(
        self, params: dict[str, Any], idempotency_key: str
    ) -> stripe.Customer:
        options = {"idempotency_key": idempotency_key}
        return await self._client.v1.customers.create_async(params, options)  # type: ignore[arg-type]

    async def save_card(self, customer_id: str, payment_method_id: str) -> stripe.PaymentMethod:
        """Attach the card to the customer and make it the default for off-session charges."""
        card = await self._client.v1.payment_methods.attach_async(
            payment_method_id, {"customer": customer_id}
        )
        settings = {"invoice_settings": {"default_payment_method": card.id}}
        await self._client.v1.customers.update_async(customer_id, settings)  # type: ignore[arg-type]
        return card

    def verify_event(self, payload: bytes, signature: str) -> stripe.Event:
        """Raises `stripe.SignatureVerificationError` (or ValueError) unless Stripe signed it.

        The library pins the API version it speaks; without a configured signing secret no
        event is ever accepted."""
        if not self._webhook_secret:
            raise stripe.SignatureVerificationError("no webhook signing secret configured", "")
        return stripe.Webhook.construct_event(payload, signature, self._webhook_secret)

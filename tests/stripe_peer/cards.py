"""Cards on the local Stripe peer, as on Stripe: a decline answers `card_error` with the
PaymentIntent, and a PaymentIntent is confirmed with a `payment_method` (the card the customer
just entered; after a decline, another card), where localstripe answers "Not implemented"."""

from aiohttp import web
from localstripe import resources as ls
from localstripe import server as ls_server
from localstripe.errors import UserError

CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
CONFIRM_URL = "/v1/payment_intents/{id}/confirm"


def allow_confirm_with_payment_method(app: web.Application) -> None:
    """Serve the confirm route on `app`, ahead of localstripe's route of the same path."""
    intent = ls.PaymentIntent
    if not getattr(intent, "_kolmarket_confirm", False):
        intent._kolmarket_confirm = True
        _patch_confirm(intent)
    app.router.add_post(CONFIRM_URL, ls_server.api_extra(intent._api_confirm, CONFIRM_URL))


def _patch_confirm(intent) -> None:
    confirm = intent._api_confirm.__func__

    def confirm_with(cls, id, payment_method=None, **params):
        if payment_method is not None:
            obj = cls._api_retrieve(id)
            if obj.status not in CONFIRMABLE:
                message = f"This PaymentIntent's status is {obj.status}; it cannot be confirmed."
                raise UserError(400, message, {"code": "payment_intent_unexpected_state"})
            ls.PaymentMethod._api_retrieve(payment_method)
            obj.payment_method, obj.latest_charge, obj.next_action = payment_method, None, None
        return confirm(cls, id, **params)

    intent._api_confirm = classmethod(confirm_with)


def raise_card_error(charge) -> None:
    contents = {"code": charge.failure_code, "decline_code": "generic_decline", "charge": charge.id}
    if charge.payment_intent:
        contents["payment_intent"] = ls.PaymentIntent._api_retrieve(charge.payment_intent)._export()
    error = UserError(402, charge.failure_message, contents)
    error.body["error"]["type"] = "card_error"
    raise error

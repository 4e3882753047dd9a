"""The local Stripe peer: localstripe's emulator plus the Stripe Connect endpoints we use.

Tests and local runs point the real `stripe` library at this app instead of api.stripe.com.
On top of localstripe it serves express accounts, account links and transfers, replays
`Idempotency-Key` requests as Stripe does, answers every error in Stripe's error shape and
keeps a few payment behaviours in line with Stripe's (see `_align_payments_with_stripe`).
State lives in memory only. Test hooks, like localstripe's own, sit under `/_config/`.

    python -m tests.stripe_peer.server --port 8420    # 0 picks a free port
"""

import argparse
import asyncio
import hashlib
import logging
import re
import signal
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from localstripe import resources as ls
from localstripe import server as ls_server
from localstripe import webhooks as ls_webhooks
from localstripe.errors import UserError

from tests.stripe_peer.cards import allow_confirm_with_payment_method, raise_card_error

log = logging.getLogger(__name__)

ACCOUNT_LINK_TTL = 300  # seconds, as on Stripe
IDEMPOTENCY_KEYS_KEPT = 10_000
ONBOARDING_FIELDS = ("business_profile.url", "external_account", "tos_acceptance.date")
CURRENCY_BY_COUNTRY = {"US": "usd", "GB": "gbp", "SG": "sgd", "HK": "hkd", "JP": "jpy"}
KEY_REUSED = (
    "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with. Try using a key other than '{key}' if you meant to execute a different request."
)
NO_TRANSFERS = "Your destination account needs to have the transfers capability enabled"

IDEMPOTENCY = web.AppKey("idempotency", OrderedDict)
URLS = ("refresh_url", "return_url")


def _invalid(message: str, param: str | None = None, code: str | None = None, status: int = 400):
    contents = {key: value for key, value in (("param", param), ("code", code)) if value}
    return UserError(status, message, contents)


def _error_response(status: int, message: str, **fields: str) -> web.Response:
    return ls_server.json_response({"error": {"message": message, **fields}}, status=status)


def _reject_unknown(params: dict[str, Any]) -> None:
    if params:
        name = sorted(params)[0]
        raise _invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")


def _required(value: Any, param: str) -> Any:
    if value is None:
        raise _invalid(f"Missing required param: {param}.", param, "parameter_missing")
    return value


def _positive_int(value: Any, param: str) -> int:
    number = ls.try_convert_to_int(_required(value, param))
    if not isinstance(number, int) or number <= 0:
        raise _invalid(f"Invalid {param}: must be a positive integer", param, "parameter_invalid")
    return number


def _text(value: Any, param: str, pattern: str = r"(?s).{1,5000}") -> str | None:
    if value is not None and (not isinstance(value, str) or not re.fullmatch(pattern, value)):
        raise _invalid(f"Invalid {param}: {value!r}", param)
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise _invalid("Invalid metadata: must be a hash of at most 50 keys", "metadata")
    return dict(value)


class _StripeShaped:
    """Lookups and lists that answer as Stripe does ("No such ...", newest first)."""

    _list_filters: tuple[str, ...] = ()

    @classmethod
    def _api_retrieve(cls, id):
        found = ls.store.get(f"{cls.object}:{id}")
        if found is None:
            raise _invalid(f"No such {cls.object}: '{id}'", "id", "resource_missing", 404)
        return found

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, **filters):
        _reject_unknown({k: v for k, v in filters.items() if k not in cls._list_filters})
        listed = ls.List(url, limit=limit, starting_after=starting_after)
        listed._list = [
            obj
            for key, obj in reversed(ls.store.items())
            if key.startswith(cls.object + ":")
            and all(getattr(obj, name) == value for name, value in filters.items())
        ]
        return listed


class Account(_StripeShaped, ls.StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self, type=None, country="US", email=None, capabilities=None, metadata=None, **unknown
    ):
        _reject_unknown(unknown)
        if type not in ("express", "standard", "custom"):
            raise _invalid("Invalid type: must be one of express, standard or custom", "type")
        checked = {
            "country": _text(country, "country", r"[A-Z]{2}"),
            "email": _text(email, "email", r"[^@\s]{1,200}@[^@\s]{1,200}"),
            "metadata": _metadata(metadata),
            "capabilities": dict.fromkeys(_requested_capabilities(capabilities), "inactive"),
        }
        super().__init__()
        vars(self).update(checked, type=type)
        self.default_currency = CURRENCY_BY_COUNTRY.get(self.country, "eur")
        self.charges_enabled = self.payouts_enabled = self.details_submitted = False
        due = list(ONBOARDING_FIELDS)
        self.requirements = {"currently_due": due, "disabled_reason": "requirements.past_due"}

    @classmethod
    def _api_update(cls, id, email=None, metadata=None, capabilities=None, **unknown):
        _reject_unknown(unknown)
        obj, changes = cls._api_retrieve(id), _metadata(metadata)
        requested = _requested_capabilities(capabilities)
        obj.email = _text(email, "email") or obj.email  # the last check: no change before it
        for key, value in changes.items():  # "" unsets a key, as on Stripe
            obj.metadata[key] = value
            if value == "":
                del obj.metadata[key]
        for name in requested:
            obj.capabilities.setdefault(name, "active" if obj.details_submitted else "inactive")
        ls.schedule_webhook(ls.Event("account.updated", obj))
        return obj

    def _onboard(self) -> None:
        self.charges_enabled = self.payouts_enabled = self.details_submitted = True
        self.capabilities = dict.fromkeys(self.capabilities, "active")
        self.requirements = {"currently_due": [], "disabled_reason": None}
        ls.schedule_webhook(ls.Event("account.updated", self))


def _requested_capabilities(capabilities: Any) -> list[str]:
    """`capabilities[transfers][requested]=true` -> ["transfers"]"""
    asked = capabilities or {}
    if not isinstance(asked, dict) or not all(isinstance(v, dict) for v in asked.values()):
        raise _invalid("Invalid capabilities[name][requested]", "capabilities")
    return [name for name, v in asked.items() if ls.try_convert_to_bool(v.get("requested")) is True]


class Transfer(_StripeShaped, ls.StripeObject):
    object = "transfer"
    _id_prefix = "tr_"
    _list_filters = ("destination", "transfer_group")

    def __init__(
        self, amount=None, currency=None, destination=None, transfer_group=None,
        metadata=None, description=None, source_transaction=None, **unknown,
    ):  # fmt: skip
        _reject_unknown(unknown)
        amount = _positive_int(amount, "amount")
        currency = _text(_required(currency, "currency"), "currency", r"[A-Za-z]{3}").lower()
        _check_destination(_required(destination, "destination"))
        if source_transaction is not None:
            _check_source_transaction(source_transaction, amount, currency)
        checked = {
            "transfer_group": _text(transfer_group, "transfer_group"),
            "description": _text(description, "description"),
            "metadata": _metadata(metadata),
        }
        super().__init__()
        vars(self).update(checked, amount=amount, currency=currency, destination=destination)
        vars(self).update(source_transaction=source_transaction, balance_transaction=None)
        self.destination_payment, self.source_type = "py_" + ls.random_id(24), "card"
        ls.schedule_webhook(ls.Event("transfer.created", self))


def _check_destination(destination: str) -> None:
    account = ls.store.get(f"account:{destination}")
    if account is None:
        raise _invalid(f"No such destination: '{destination}'", "destination", "resource_missing")
    if account.capabilities.get("transfers") != "active":
        raise _invalid(NO_TRANSFERS, "destination", "insufficient_capabilities_for_transfer")


def _check_source_transaction(charge_id: str, amount: int, currency: str) -> None:
    """A transfer funded by a charge may not move more than the charge still holds."""
    charge = ls.store.get(f"charge:{charge_id}")
    if charge is None:
        raise _invalid(f"No such charge: '{charge_id}'", "source_transaction", "resource_missing")
    if charge.status != "succeeded" or charge.currency.lower() != currency:
        message = "source_transaction must be a succeeded charge in the transfer's currency"
        raise _invalid(message, "source_transaction")
    transfers = [obj for obj in ls.store.values() if isinstance(obj, Transfer)]
    transferred = sum(t.amount for t in transfers if t.source_transaction == charge_id)
    available = charge.amount - charge.amount_refunded - transferred
    if amount > available:
        message = f"Transfer amount exceeds the {available} left on source_transaction"
        raise _invalid(message, "amount", "balance_insufficient")


async def create_account_link(request: web.Request) -> web.Response:
    """The link leads to the onboarding hook, so opening it in a browser completes onboarding
    and returns to `return_url`."""
    params = await ls_server.get_post_data(request) or {}
    account = Account._api_retrieve(_required(params.pop("account", None), "account"))
    if params.pop("type", None) not in ("account_onboarding", "account_update"):
        raise _invalid("Invalid type: must be account_onboarding or account_update", "type")
    urls = {url: _text(params.pop(url, None), url, r"https?://\S{1,2000}") for url in URLS}
    for ignored in ("collect", "collection_options"):
        params.pop(ignored, None)
    _reject_unknown(params)
    query = f"?{urlencode({'return_url': urls['return_url']})}" if urls["return_url"] else ""
    url = f"{request.url.origin()}/_config/accounts/{account.id}/onboard{query}"
    created = int(time.time())
    link = {"object": "account_link", "created": created, "url": url}
    return ls_server.json_response({**link, "expires_at": created + ACCOUNT_LINK_TTL})


async def onboard_account(request: web.Request) -> web.Response:
    """Test hook (POST), or the account link opened in a browser (GET)."""
    account = Account._api_retrieve(request.match_info["id"])
    account._onboard()
    if request.method == "GET" and request.query.get("return_url"):
        raise web.HTTPFound(request.query["return_url"])
    return ls_server.json_response(account._export())


async def forget_webhook(request: web.Request) -> web.Response:
    ls_webhooks._webhooks.pop(request.match_info["id"], None)
    return web.Response(status=204)


@web.middleware
async def stripe_errors(request: web.Request, handler) -> web.StreamResponse:
    """Unknown routes and crashes answer in Stripe's error JSON, which the library parses."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = f"Unrecognized request URL ({request.method}: {request.path})."
        return _error_response(exc.status, message, type="invalid_request_error")
    except Exception:
        log.exception("peer_request_failed")
        return _error_response(500, "The Stripe peer failed on this request.", type="api_error")


@web.middleware
async def idempotency(request: web.Request, handler) -> web.StreamResponse:
    """Replay the first answer for a repeated Idempotency-Key, as Stripe does (per API key)."""
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    cache, scope = request.app[IDEMPOTENCY], (request.headers.get("Authorization", ""), key)
    fingerprint = hashlib.sha256(request.path.encode() + b"?" + await request.read()).digest()
    saved = cache.get(scope)
    if saved is not None:
        if saved[0] != fingerprint:
            return _error_response(400, KEY_REUSED.format(key=key), type="idempotency_error")
        headers = {"Idempotent-Replayed": "true", "Content-Type": "application/json"}
        return web.Response(body=saved[2], status=saved[1], headers=headers)
    response = await handler(request)  # runs to its end without yielding to another request
    # Stripe keeps the answers of requests that ran (card declines too), not of rejections.
    if isinstance(response, web.Response) and (response.status < 400 or response.status == 402):
        cache[scope] = (fingerprint, response.status, response.body)
        while len(cache) > IDEMPOTENCY_KEYS_KEPT:
            cache.popitem(last=False)
    return response


def _align_payments_with_stripe() -> None:
    """Where localstripe differs from Stripe in ways our flows notice: cards Stripe declines
    also decline on charge; declines answer `card_error` with the PaymentIntent; PaymentIntents
    take `transfer_group` and `description` and show `latest_charge` as an id; a charge cannot
    be refunded beyond its amount; state is not written to /tmp/localstripe.pickle."""
    if getattr(ls, "_kolmarket_aligned", False):
        return
    ls._kolmarket_aligned = True
    ls.store.dump_to_disk = lambda: None
    pm, intent, refund = ls.PaymentMethod, ls.PaymentIntent, ls.Refund
    on_attach, on_charge = pm._attaching_is_declined, pm._charging_is_declined
    pm._charging_is_declined = lambda self: on_attach(self) or on_charge(self)
    ls.Charge._raise_failure = raise_card_error
    intent_init, intent_export, refund_init = intent.__init__, intent._export, refund.__init__

    def intent_with_group(self, transfer_group=None, description=None, **params):
        checked = {
            "transfer_group": _text(transfer_group, "transfer_group"),
            "description": _text(description, "description"),
            "automatic_payment_methods": params.pop("automatic_payment_methods", None),
        }
        intent_init(self, **params)
        vars(self).update(checked)

    def intent_with_charge_id(self, expand=None):
        exported = intent_export(self, expand=expand)
        expanded = any(path.split(".")[0] == "latest_charge" for path in expand or ())
        if isinstance(exported.get("latest_charge"), dict) and not expanded:
            exported["latest_charge"] = exported["latest_charge"]["id"]
        return exported

    def refund_within_charge(self, charge=None, payment_intent=None, amount=None, **params):
        _check_refundable(charge, payment_intent, amount)
        refund_init(self, charge=charge, payment_intent=payment_intent, amount=amount, **params)

    intent.__init__, intent._export = intent_with_group, intent_with_charge_id
    refund.__init__ = refund_within_charge


def _check_refundable(charge_id: Any, intent_id: Any, amount: Any) -> None:
    intent = ls.store.get(f"payment_intent:{intent_id}") if isinstance(intent_id, str) else None
    if intent is not None and intent.latest_charge is None:
        raise _invalid(f"PaymentIntent {intent_id} has no charge to refund.", "payment_intent")
    charge = intent.latest_charge if intent else ls.store.get(f"charge:{charge_id}")
    if charge is None or charge.status != "succeeded":
        return  # localstripe answers these itself
    left, asked = charge.amount - charge.amount_refunded, ls.try_convert_to_int(amount)
    if left <= 0:
        raise _invalid(
            f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
        )
    if isinstance(asked, int) and asked > left:
        message = f"Refund amount ({asked}) is greater than unrefunded amount on charge ({left})"
        raise _invalid(message, "amount", "amount_too_large")


def create_app() -> web.Application:
    """localstripe's routes and middlewares, wrapped by ours, plus the Connect endpoints."""
    _align_payments_with_stripe()
    localstripes = [ls_server.error_middleware, ls_server.auth_middleware]
    app = web.Application(middlewares=[stripe_errors, idempotency, *localstripes])
    app[IDEMPOTENCY] = OrderedDict()
    app.on_response_prepare.append(ls_server.add_cors_headers)
    allow_confirm_with_payment_method(app)  # before localstripe's own confirm route
    for route in ls_server.app.router.routes():
        app.router.add_route(route.method, route.resource.canonical, route.handler)
    for cls in (Account, Transfer):
        base = f"/v1/{cls.object}s"
        for method, url, make in (
            ("POST", base, ls_server.api_create),
            ("GET", base, ls_server.api_list_all),
            ("GET", base + "/{id}", ls_server.api_retrieve),
        ):
            app.router.add_route(method, url, make(cls, url))
    app.router.add_post("/v1/accounts/{id}", ls_server.api_update(Account, "/v1/accounts"))
    app.router.add_post("/v1/account_links", create_account_link)
    app.router.add_route("*", "/_config/accounts/{id}/onboard", onboard_account)
    app.router.add_delete("/_config/webhooks/{id}", forget_webhook)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(create_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"listening on http://{host}:{runner.addresses[0][1]}", flush=True)
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420, help="0 picks a free port")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

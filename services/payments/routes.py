"""HTTP face of payments: funding, cancellation, refunds, statements, payout accounts,
earnings, the operator's overdue payouts, and Stripe's webhook."""

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, SkipValidation
from litestar.status_codes import HTTP_200_OK

from contracts.deals import DealOut
from contracts.payments import (
    BillingOut,
    DealStatement,
    EarningsOut,
    FundingOut,
    PaymentMethodIn,
    PayoutAccountIn,
    PayoutAccountOut,
    PayoutPage,
    SettlementPage,
    WebhookAck,
)
from services.errors import Forbidden
from services.payments import accounts, commissions, payouts, service, webhooks
from services.payments.gateway import StripeGateway
from services.web import (
    DB,
    PUBLIC,
    AppSettings,
    CurrentCaller,
    Pool,
    allow,
    problem_responses,
    recent_login,
)

# The Stripe gateway of the running app (`app.state.gateway`), by name.
Gateway = NamedDependency[SkipValidation[StripeGateway]]


class DealMoneyController(Controller):
    path = "/v1/deals/{deal_id:uuid}"
    tags = ["deals"]
    security = [{"BearerToken": []}]

    @post(
        "/funding",
        guards=[allow("merchant")],
        status_code=HTTP_200_OK,
        operation_id="fundDeal",
        summary="The deal's Stripe PaymentIntent (creator fee + platform fee), made once",
        description=(
            "Makes the PaymentIntent for what the merchant pays (creator fee + platform fee) the "
            "first time and answers the same one every time after; the browser confirms it with "
            "`client_secret`. The deal becomes `funded`, recording `deal.funded`, when Stripe "
            "reports the payment succeeded. 409 when the deal was cancelled or refunded, is past "
            "`awaiting_funding` without a PaymentIntent, or Stripe refused to make one; 404 when "
            "the deal is not the merchant's. While Stripe's answer is being confirmed it answers "
            "503 naming the operation; sending it again is safe."
        ),
        responses=problem_responses(401, 403, 404, 409, 503),
    )
    async def fund(
        self, caller: CurrentCaller, deal_id: FromPath[UUID], pool: Pool, gateway: Gateway
    ) -> FundingOut:
        return await service.fund(pool, gateway, caller, deal_id)

    @post(
        "/cancel",
        guards=[allow("merchant")],
        status_code=HTTP_200_OK,
        operation_id="cancelDeal",
        summary="Cancel before delivery; a funded deal's escrow is refunded in full",
        description=(
            "Before funding the deal is cancelled, with its PaymentIntent if one was made (records "
            "`deal.cancelled`). Funded and before any content was submitted, it becomes `refunded` "
            "and everything in escrow goes back to the merchant's card (records "
            "`deal.status_changed`, then `deal.refunded` once Stripe confirms). 409 when the deal "
            "is past `funded` or a movement of its money is still being confirmed; 404 when it is "
            "not the merchant's. After a 503 the refund is still under way; sending the request "
            "again completes it."
        ),
        responses=problem_responses(401, 403, 404, 409, 503),
    )
    async def cancel(
        self,
        caller: CurrentCaller,
        deal_id: FromPath[UUID],
        pool: Pool,
        gateway: Gateway,
        settings: AppSettings,
    ) -> DealOut:
        return await service.cancel(pool, gateway, caller, deal_id, settings.public_base_url)

    @get(
        "/statement",
        guards=[allow("merchant", "kol", scope="deals:read")],
        operation_id="getDealStatement",
        summary="Every ledger entry of the deal's money, with its totals",
        description=(
            "What was funded, is held in escrow and was refunded, the payout, every refund, every "
            "journal entry of the deal, and every call to Stripe about its money with its outcome. "
            "404 when the caller is not a side of the deal (for an API key: not its merchant's)."
        ),
        security=[{"BearerToken": []}, {"ApiKey": []}],
        responses=problem_responses(401, 403, 404),
    )
    async def statement(
        self, caller: CurrentCaller, deal_id: FromPath[UUID], db: DB
    ) -> DealStatement:
        return await service.statement(db, caller, deal_id)


class KolPayoutsController(Controller):
    path = "/v1/kols/me"
    tags = ["payouts"]
    security = [{"BearerToken": []}]
    guards = [allow("kol")]

    @post(
        "/payout-account",
        guards=[recent_login],
        status_code=HTTP_200_OK,
        operation_id="openPayoutAccount",
        summary="The KOL's Stripe Express account and, until it is ready, an onboarding link",
        description=(
            "Needs a login within the last 10 minutes. The Express account is made in `country` "
            "the first time; later calls reuse it. While Stripe does not let it receive payouts "
            "the answer carries a fresh onboarding link (`onboarding_url`). 422 on `country` when "
            "Stripe refuses to make the account."
        ),
        responses=problem_responses(400, 401, 403, 404, 422, 503),
    )
    async def open_account(
        self,
        caller: CurrentCaller,
        data: JSONBody[PayoutAccountIn],
        pool: Pool,
        gateway: Gateway,
    ) -> PayoutAccountOut:
        return await accounts.open_payout_account(pool, gateway, _kol(caller), data)

    @get(
        "/payout-account",
        operation_id="getPayoutAccount",
        summary="Whether the KOL's payout account can receive payouts, as Stripe says now",
        description=(
            "Read from Stripe now. 404 when the KOL has no payout account yet (`POST "
            "/v1/kols/me/payout-account` makes one)."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def account(
        self, caller: CurrentCaller, pool: Pool, gateway: Gateway
    ) -> PayoutAccountOut:
        return await accounts.payout_account(pool, gateway, _kol(caller))

    @get(
        "/earnings",
        operation_id="getEarnings",
        summary="Every payout of the KOL with its promised date, and what is still owed",
        description=(
            "Every payout of the KOL, oldest due first; what is owed per currency; the minimum "
            "payout (smaller due amounts wait until they add up to it); and every ledger line "
            "behind them."
        ),
        responses=problem_responses(401, 403),
    )
    async def earnings(self, caller: CurrentCaller, db: DB, settings: AppSettings) -> EarningsOut:
        return await payouts.earnings(db, _kol(caller), settings.minimum_payout)


def _kol(caller: CurrentCaller) -> UUID:
    if caller.kol_id is None:
        raise Forbidden("only a KOL has payouts")
    return caller.kol_id


class OperatorPayoutsController(Controller):
    path = "/v1/payouts"
    tags = ["payouts"]
    security = [{"BearerToken": []}]
    guards = [allow("operator")]

    @get(
        "/overdue",
        operation_id="listOverduePayouts",
        summary="Payouts past their promised date and not yet paid, oldest first",
        description=("Scheduled or paused payouts whose due date has passed, at most `limit`."),
        responses=problem_responses(401, 403, 422),
    )
    async def overdue(
        self, db: DB, limit: FromQuery[Annotated[int, Parameter(ge=1, le=500)]] = 100
    ) -> PayoutPage:
        return PayoutPage(items=await payouts.overdue(db, limit))


class BillingController(Controller):
    path = "/v1/billing"
    tags = ["payments"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant")]

    @post(
        "/payment-method",
        status_code=HTTP_200_OK,
        operation_id="savePaymentMethod",
        summary="Save the merchant's card for off-session commission settlements",
        description=(
            "Makes the merchant's Stripe customer the first time and saves the card "
            "(`payment_method`, from Stripe.js) as its default; accrued commissions are charged to "
            "it. 422 on `payment_method` when Stripe declines the card."
        ),
        responses=problem_responses(400, 401, 403, 404, 422, 503),
    )
    async def save(
        self, caller: CurrentCaller, data: JSONBody[PaymentMethodIn], pool: Pool, gateway: Gateway
    ) -> BillingOut:
        merchant_id = caller.merchant_id
        if merchant_id is None:
            raise Forbidden("only a merchant has billing")
        return await commissions.save_payment_method(
            pool, gateway, merchant_id, data.payment_method
        )

    @get(
        "/settlements",
        operation_id="listSettlements",
        summary="The merchant's commission settlements, with failures and attempts",
        description=(
            "The merchant's commission settlements, newest first (at most 200), with their "
            "attempts and last error."
        ),
        responses=problem_responses(401, 403),
    )
    async def settlements(self, caller: CurrentCaller, db: DB) -> SettlementPage:
        if caller.merchant_id is None:
            raise Forbidden("only a merchant has billing")
        return await commissions.settlements(db, caller.merchant_id)


class StripeWebhookController(Controller):
    path = "/v1/stripe"
    tags = ["payments"]

    @post(
        "/webhook",
        opt={PUBLIC: True},
        status_code=HTTP_200_OK,
        operation_id="receiveStripeEvent",
        summary="Stripe's signed events, verified first, each processed exactly once",
        description=(
            "Where Stripe sends its events. The `Stripe-Signature` header must verify the payload "
            "with the endpoint's signing secret and a recent timestamp, neither too old nor in the "
            "future (401 `bad-signature` otherwise). Each event is processed once; a repeat "
            "answers `duplicate: true`. A succeeded payment funds its deal (recording "
            "`deal.funded`), or is refunded in full when the deal was cancelled meanwhile; a "
            "failed one marks the funding failed; an account update refreshes the KOL's payout "
            "readiness."
        ),
        responses=problem_responses(400, 401),
    )
    async def receive(self, request: Request, pool: Pool, gateway: Gateway) -> WebhookAck:
        signature = request.headers.get("stripe-signature", "")
        return await webhooks.receive(pool, gateway, await request.body(), signature)


ROUTES = [
    DealMoneyController,
    BillingController,
    KolPayoutsController,
    OperatorPayoutsController,
    StripeWebhookController,
]

"""HTTP face of negotiation: invitations (one at a time, or every creator a plan chose),
applications, answers to an offer's revisions, and the cancellation of a brief, which
withdraws its open offers."""

import functools
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from contracts.briefs import BriefOut
from contracts.deals import DealOut
from contracts.offers import (
    AnswerIn,
    ApplicationIn,
    CounterIn,
    InviteIn,
    OfferOut,
    OfferPage,
    OfferStatus,
)
from contracts.plan_requests import PlanInvitationsIn, PlanInvitationsOut
from services.negotiation import invitations, offers, service
from services.web import (
    DB,
    AppSettings,
    CurrentCaller,
    Cursor,
    Idempotency,
    Limit,
    allow,
    problem_responses,
)

OFFER_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)
# The two kinds of writes on offers: opening one on a brief (revision 1), and answering the
# latest revision of one.
opening = functools.partial(
    post, tags=["offers"], status_code=HTTP_201_CREATED, responses=OFFER_ERRORS
)
answer = functools.partial(post, status_code=200, responses=OFFER_ERRORS)


class BriefOffersController(Controller):
    """A brief's offers: invitations, applications, and calling the brief off with them."""

    path = "/v1/briefs/{brief_id:uuid}"
    security = [{"BearerToken": []}]

    @opening(
        "/offers",
        guards=[allow("merchant")],
        operation_id="inviteKol",
        summary="Invite a KOL to an open brief with terms (revision 1, proposed by the merchant)",
    )
    async def invite(
        self,
        caller: CurrentCaller,
        brief_id: FromPath[UUID],
        data: JSONBody[InviteIn],
        db: DB,
        idempotency: Idempotency,
    ) -> OfferOut:
        return await service.invite(db, caller, brief_id, data, key=idempotency)

    @opening(
        "/applications",
        guards=[allow("kol")],
        operation_id="applyToBrief",
        summary="Apply to an open brief with proposed terms (revision 1, proposed by the KOL)",
    )
    async def apply(
        self,
        caller: CurrentCaller,
        brief_id: FromPath[UUID],
        data: JSONBody[ApplicationIn],
        db: DB,
        idempotency: Idempotency,
    ) -> OfferOut:
        return await service.apply(db, caller, brief_id, data, key=idempotency)

    @post(
        "/cancel",
        guards=[allow("merchant")],
        tags=["briefs"],
        status_code=200,
        operation_id="cancelBrief",
        summary="Call the brief off: its open offers are withdrawn; deals made stand",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def cancel_brief(
        self, caller: CurrentCaller, brief_id: FromPath[UUID], db: DB
    ) -> BriefOut:
        return await service.cancel_brief(db, caller, brief_id)


class OffersController(Controller):
    path = "/v1/offers"
    tags = ["offers"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant", "kol")]

    @get(
        "/",
        operation_id="listOffers",
        summary="The caller's offers, newest first",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_offers(
        self,
        caller: CurrentCaller,
        db: DB,
        status: FromQuery[OfferStatus | None] = None,
        brief_id: FromQuery[UUID | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> OfferPage:
        return await offers.list_offers(db, caller, status, brief_id, limit, cursor)

    @get(
        "/{offer_id:uuid}",
        operation_id="getOffer",
        summary="One offer with every revision and its breakdown",
        responses=problem_responses(401, 403, 404),
    )
    async def get_offer(self, caller: CurrentCaller, offer_id: FromPath[UUID], db: DB) -> OfferOut:
        return await offers.get(db, caller, offer_id)

    @answer(
        "/{offer_id:uuid}/counter",
        operation_id="counterOffer",
        summary="Answer the latest revision with new terms (the side that did not propose it)",
    )
    async def counter(
        self,
        caller: CurrentCaller,
        offer_id: FromPath[UUID],
        data: JSONBody[CounterIn],
        db: DB,
        idempotency: Idempotency,
    ) -> OfferOut:
        return await service.counter(db, caller, offer_id, data, key=idempotency)

    @answer(
        "/{offer_id:uuid}/accept",
        operation_id="acceptOffer",
        summary="Accept the latest revision (the side that did not propose it); makes the deal",
    )
    async def accept(
        self,
        caller: CurrentCaller,
        offer_id: FromPath[UUID],
        data: JSONBody[AnswerIn],
        db: DB,
        settings: AppSettings,
        idempotency: Idempotency,
    ) -> DealOut:
        return await service.accept(
            db, caller, offer_id, data, settings.public_base_url, key=idempotency
        )

    @answer(
        "/{offer_id:uuid}/decline",
        operation_id="declineOffer",
        summary="Decline the latest revision (the side that did not propose it)",
    )
    async def decline(
        self, caller: CurrentCaller, offer_id: FromPath[UUID], data: JSONBody[AnswerIn], db: DB
    ) -> OfferOut:
        return await service.decline(db, caller, offer_id, data)

    @answer(
        "/{offer_id:uuid}/withdraw",
        operation_id="withdrawOffer",
        summary="Withdraw the latest revision (the side that proposed it)",
    )
    async def withdraw(
        self, caller: CurrentCaller, offer_id: FromPath[UUID], data: JSONBody[AnswerIn], db: DB
    ) -> OfferOut:
        return await service.withdraw(db, caller, offer_id, data)


class PlanInvitationsController(Controller):
    """Offers to the creators a plan chose."""

    path = "/v1/plans/{plan_id:uuid}/invitations"
    security = [{"BearerToken": []}]

    @post(
        "/",
        guards=[allow("merchant")],
        tags=["planning", "offers"],
        status_code=200,
        operation_id="inviteFromPlan",
        summary="Invite every creator a solved selection chose (or the KOLs named): one offer "
        "each, terms from its quote and the brief, refusals item by item",
        description=(
            "One transaction: offers open in the plan's order under the brief's budget rule. "
            "A KOL with an open offer already, without a ready payout account when the brief "
            "requires one, or over what remains of the budget is refused on its own line."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def invite_from_plan(
        self,
        caller: CurrentCaller,
        plan_id: FromPath[UUID],
        db: DB,
        idempotency: Idempotency,
        data: JSONBody[PlanInvitationsIn | None] = None,
    ) -> PlanInvitationsOut:
        body = data or PlanInvitationsIn()
        return await invitations.invite_from_plan(db, caller, plan_id, body, key=idempotency)


ROUTES = [BriefOffersController, OffersController, PlanInvitationsController]

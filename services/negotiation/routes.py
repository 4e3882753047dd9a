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
        description=(
            "Opens an offer to the KOL `kol_id` with revision 1 and its breakdown (the platform "
            "fee at the current rate card's take rate). 422 when `terms.currency` is not the "
            "brief's, `terms.commission_cap` comes without a `terms.commission_bp`, "
            "`terms.expires_at` is not in the future or is more than 30 days ahead, a "
            "deliverable's `platform` is not one of the brief's or its `due_by` is outside the "
            "posting window, or what the merchant would pay exceeds what remains of the budget "
            "(`terms.fixed_fee`). 409 when the brief is not open, the KOL already has an open "
            "offer on it, or the brief requires a ready payout account and the KOL has none; 404 "
            "when the brief is not the merchant's or no KOL has this id. Takes an "
            "`Idempotency-Key`: a repeat with the same key and body answers as the first request "
            "did, and the same key with another body answers 409. Records `offer.created`."
        ),
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
        description=(
            "Opens an offer on the brief with the KOL's terms as revision 1; they are checked "
            "against the budget only when the merchant accepts them. 422 on the terms as for an "
            "invitation (`terms.currency`, `terms.commission_cap`, `terms.expires_at`, each "
            "deliverable's `platform` and `due_by`). 409 when the brief is not open, is invite "
            "only or its `apply_by` has passed, the KOL already has an open offer on it, or the "
            "brief requires a ready payout account and the KOL has none; 404 when the brief is not "
            "visible to the KOL. Takes an `Idempotency-Key`: a repeat with the same key and body "
            "answers as the first request did, and the same key with another body answers 409. "
            "Records `offer.created`."
        ),
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
        description=(
            "A draft, open or closed brief is cancelled: each of its open offers is withdrawn "
            "(recording `offer.withdrawn`, by the merchant), then `brief.cancelled` is recorded "
            "with their count; deals already made stand. 409 when the brief is already cancelled; "
            "404 when it is not the caller's merchant's."
        ),
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
        description=(
            "The offers the caller is a side of, newest first, each with its latest revision's "
            "price; `status` and `brief_id` narrow the list."
        ),
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
        description=(
            "The offer with each revision's terms and breakdown, and `awaiting`, the side that may "
            "answer now. 404 when the caller is not a side of the offer."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def get_offer(self, caller: CurrentCaller, offer_id: FromPath[UUID], db: DB) -> OfferOut:
        return await offers.get(db, caller, offer_id)

    @answer(
        "/{offer_id:uuid}/counter",
        operation_id="counterOffer",
        summary="Answer the latest revision with new terms (the side that did not propose it)",
        description=(
            "Proposes new terms as the next revision, answering `revision`; the other side answers "
            "next. 422 on the terms as for an invitation; the merchant's must also fit what "
            "remains of the budget, this offer's own reservation left out (`terms.fixed_fee`). "
            "409, with the offer as it now is in `current`, when the offer is not open, `revision` "
            "is not the latest, the offer has expired, the caller proposed the latest revision, or "
            "the brief's `max_counter_rounds` are used up. 404 when the caller is not a side of "
            "the offer. Takes an `Idempotency-Key`: a repeat with the same key and body answers as "
            "the first request did, and the same key with another body answers 409. Records "
            "`offer.countered`."
        ),
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
        description=(
            "Accepts `revision` and makes the deal at once, with its terms frozen (and their "
            "SHA-256) and its tracking link; answers the deal, `awaiting_funding`. 409, with the "
            "offer as it now is in `current`, when the offer is not open, `revision` is not the "
            "latest, the offer has expired, the caller proposed that revision, or the brief's "
            "budget cannot hold what the merchant pays (a merchant keeps room for its other open "
            "offers; a KOL only needs the deals to fit). 404 when the caller is not a side of the "
            "offer. Takes an `Idempotency-Key`: a repeat with the same key and body answers as the "
            "first request did, and the same key with another body answers 409. Records "
            "`offer.accepted` and `deal.created`."
        ),
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
        description=(
            "The offer closes without a deal. 409, with the offer as it now is in `current`, when "
            "the offer is not open, `revision` is not the latest, the offer has expired, or the "
            "caller proposed that revision; 404 when the caller is not a side of the offer. "
            "Records `offer.declined`."
        ),
    )
    async def decline(
        self, caller: CurrentCaller, offer_id: FromPath[UUID], data: JSONBody[AnswerIn], db: DB
    ) -> OfferOut:
        return await service.decline(db, caller, offer_id, data)

    @answer(
        "/{offer_id:uuid}/withdraw",
        operation_id="withdrawOffer",
        summary="Withdraw the latest revision (the side that proposed it)",
        description=(
            "The offer closes without a deal. 409, with the offer as it now is in `current`, when "
            "the offer is not open, `revision` is not the latest, the offer has expired, or the "
            "caller did not propose that revision; 404 when the caller is not a side of the offer. "
            "Records `offer.withdrawn`."
        ),
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
            "One transaction: offers open in the plan's order under the brief's budget rule, each "
            "lapsing `expires_in_days` from now. A KOL with an open offer already, without a ready "
            "payout account when the brief requires one, over what remains of the budget, no "
            "longer quoted, or not chosen by the plan is refused on its own line (`reason`, "
            "`detail`). 409 when the plan is not a solved selection derived from a brief's "
            "catalog, or the brief is not open; 404 when the plan is not the merchant's. Takes an "
            "`Idempotency-Key`: a repeat with the same key and body answers as the first request "
            "did, and the same key with another body answers 409. Records `offer.created` for each "
            "offer opened."
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

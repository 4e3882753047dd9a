"""HTTP face of disputes: takedown reports on a merchant's deal, both sides' view of a deal's
disputes, and the operators' queue and resolution."""

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contracts.disputes import DisputeOut, DisputePage, DisputeStatus, ResolveIn, TakedownIn
from services.disputes import service
from services.payments.routes import Gateway
from services.web import (
    DB,
    CurrentCaller,
    Cursor,
    Idempotency,
    Limit,
    Pool,
    allow,
    problem_responses,
)


class DealDisputesController(Controller):
    path = "/v1/deals/{deal_id:uuid}"
    tags = ["disputes"]
    security = [{"BearerToken": []}, {"ApiKey": []}]

    @post(
        "/takedowns",
        guards=[allow("merchant", scope="deals:write")],
        status_code=HTTP_201_CREATED,
        operation_id="reportTakedown",
        summary="Report approved content taken down before its minimum live days; opens a "
        "dispute and holds the payout",
        description=(
            "The approved submission `submission_id` becomes `taken_down`, the deal `disputed` and "
            "its scheduled payout paused until an operator decides. 422 on `observed_at` when it "
            "is in the future or before the post went live. 409 when a dispute is already open, "
            "the deal has no approved content to report, the submission is not approved, or the "
            "content stayed live for the brief's minimum live days; 404 when the deal is not the "
            "merchant's or the submission not the deal's. Takes an `Idempotency-Key`: a repeat "
            "with the same key and body answers as the first request did, and the same key with "
            "another body answers 409. Records `deal.status_changed`, `dispute.opened` and, when a "
            "payout was scheduled, `payout.paused`."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def report(
        self,
        caller: CurrentCaller,
        deal_id: FromPath[UUID],
        data: JSONBody[TakedownIn],
        db: DB,
        idempotency: Idempotency,
    ) -> DisputeOut:
        return await service.report_takedown(db, caller, deal_id, data, key=idempotency)

    @get(
        "/disputes",
        guards=[allow("merchant", "kol", scope="deals:read")],
        operation_id="listDealDisputes",
        summary="The deal's disputes, newest first",
        description=(
            "404 when the caller is not a side of the deal (for an API key: not its merchant's)."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def deal_disputes(
        self,
        caller: CurrentCaller,
        deal_id: FromPath[UUID],
        db: DB,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DisputePage:
        return await service.deal_disputes(db, caller, deal_id, limit, cursor)


class DisputesController(Controller):
    path = "/v1/disputes"
    tags = ["disputes"]
    security = [{"BearerToken": []}]
    guards = [allow("operator")]

    @get(
        "/",
        operation_id="listDisputes",
        summary="Disputes across the marketplace, newest first (the operators' queue)",
        description=(
            "Every dispute, newest first; `status` narrows the list to open or resolved ones."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_disputes(
        self,
        db: DB,
        status: FromQuery[DisputeStatus | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DisputePage:
        return await service.list_disputes(db, status, limit, cursor)

    @get(
        "/{dispute_id:uuid}",
        operation_id="getDispute",
        summary="One dispute with its report and resolution",
        description=("404 when no dispute has this id."),
        responses=problem_responses(401, 403, 404),
    )
    async def get_dispute(self, dispute_id: FromPath[UUID], db: DB) -> DisputeOut:
        return await service.get(db, dispute_id)

    @post(
        "/{dispute_id:uuid}/resolve",
        status_code=HTTP_200_OK,
        operation_id="resolveDispute",
        summary="Pay the KOL, or refund the merchant part of what the KOL was not yet paid",
        description=(
            "`pay_kol`: the content counts as delivered again, the deal goes back to "
            "`prior_status` and its payout resumes. `refund`: `refund_amount` goes back to the "
            "merchant's card, from escrow first and then from the KOL's unpaid payout; the deal "
            "goes back to `prior_status`, or becomes `refunded` when nothing is left for the KOL. "
            "422 on `refund_amount` when it is missing with `refund`, given with `pay_kol`, more "
            "than escrow and the unpaid payout hold, or (before the content's approval) leaves no "
            "more than the platform fee in escrow. 409 when the dispute was resolved already, the "
            "deal is not disputed, or a movement of its money is being confirmed; 404 when no "
            "dispute has this id. Records `dispute.resolved` and `deal.status_changed`, "
            "`payout.scheduled` when a payout resumes, and `deal.refunded` once Stripe confirms a "
            "refund."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
    )
    async def resolve(
        self, dispute_id: FromPath[UUID], data: JSONBody[ResolveIn], pool: Pool, gateway: Gateway
    ) -> DisputeOut:
        return await service.resolve(pool, gateway, dispute_id, data)


ROUTES = [DealDisputesController, DisputesController]

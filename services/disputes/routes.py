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
        responses=problem_responses(401, 403, 404),
    )
    async def get_dispute(self, dispute_id: FromPath[UUID], db: DB) -> DisputeOut:
        return await service.get(db, dispute_id)

    @post(
        "/{dispute_id:uuid}/resolve",
        status_code=HTTP_200_OK,
        operation_id="resolveDispute",
        summary="Pay the KOL, or refund the merchant part of what the KOL was not yet paid",
        responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
    )
    async def resolve(
        self, dispute_id: FromPath[UUID], data: JSONBody[ResolveIn], pool: Pool, gateway: Gateway
    ) -> DisputeOut:
        return await service.resolve(pool, gateway, dispute_id, data)


ROUTES = [DealDisputesController, DisputesController]

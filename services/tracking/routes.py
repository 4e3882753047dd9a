"""HTTP face of conversions: partners (API key with `conversions:write`) or the merchant report
orders and returns; both sides of a deal read them; operators decide held ones."""

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contracts.tracking import (
    ConversionBatchIn,
    ConversionBatchOut,
    ConversionIn,
    ConversionOut,
    ConversionPage,
    ConversionReviewIn,
    ConversionStatus,
    OrderId,
    ReversalIn,
)
from services.actors import Caller
from services.errors import Forbidden
from services.tracking import service
from services.web import DB, CurrentCaller, Cursor, Limit, allow, problem_responses


def _merchant(caller: Caller) -> UUID:
    """The merchant an order belongs to: the signed-in member's, or the API key's."""
    if caller.merchant_id is None:
        raise Forbidden("only a merchant or its partner reports orders")
    return caller.merchant_id


class ConversionsController(Controller):
    path = "/v1/conversions"
    tags = ["tracking"]
    security = [{"ApiKey": []}, {"BearerToken": []}]

    @post(
        "/",
        guards=[allow("merchant", scope="conversions:write")],
        operation_id="recordConversion",
        summary="Report one order; 201 when new, 200 with the stored result when repeated",
        description=(
            "An order counts once per merchant and order id. The answer's `status` and `reasons` "
            "say whether it counted (see ConversionOut). The same report sent again answers 200 "
            "with the stored result; a different report of an order that already counts is stored "
            "as `rejected` with the reason `duplicate`. 409 when another request reported the same "
            "order at the same moment (send it again). Records `conversion.recorded` for each "
            "report stored."
        ),
        responses={
            HTTP_200_OK: ResponseSpec(
                data_container=ConversionOut,
                description="The order was reported before: the stored report",
                generate_examples=False,
            ),
            **problem_responses(400, 401, 403, 409, 422),
        },
        status_code=HTTP_201_CREATED,
    )
    async def record_one(
        self, caller: CurrentCaller, data: JSONBody[ConversionIn], db: DB
    ) -> Response[ConversionOut]:
        merchant_id = _merchant(caller)
        conversion, new = await service.record_one(db, merchant_id, data)
        return Response(conversion, status_code=HTTP_201_CREATED if new else HTTP_200_OK)

    @post(
        "/batch",
        guards=[allow("merchant", scope="conversions:write")],
        status_code=HTTP_200_OK,
        operation_id="recordConversions",
        summary="Report up to 1,000 orders; each item gets its own result, in the order sent",
        description=(
            "Items are judged one after another in the order sent, as `POST /v1/conversions` "
            "judges one (a repeat answers with its stored result and `duplicate: true`), and the "
            "batch is stored in one transaction. 409 when another request reported some of the "
            "same orders at the same moment (send the batch again). Records `conversion.recorded` "
            "for each report stored."
        ),
        responses=problem_responses(400, 401, 403, 409, 422),
    )
    async def record_batch(
        self, caller: CurrentCaller, data: JSONBody[ConversionBatchIn], db: DB
    ) -> ConversionBatchOut:
        return await service.record(db, _merchant(caller), data.items)

    @post(
        "/{conversion_id:uuid}/reversal",
        guards=[allow("merchant", scope="conversions:write")],
        status_code=HTTP_200_OK,
        operation_id="reverseConversion",
        summary="A return: the order stops counting while its commission is still pending",
        description=(
            "A `pending` or `held` order stops counting and its commission is not owed; a reversed "
            "one is answered as it is. 409 when it was rejected (it never counted), or its holding "
            "period ended (`approved` or `paid`: a later return is settled in a dispute); 404 when "
            "it is not the merchant's. Records `conversion.reversed`."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def reverse(
        self,
        caller: CurrentCaller,
        conversion_id: FromPath[UUID],
        db: DB,
        data: JSONBody[ReversalIn] = ReversalIn(),
    ) -> ConversionOut:
        return await service.reverse(db, _merchant(caller), conversion_id, data.reason)

    @get(
        "/",
        guards=[allow("merchant", "kol", scope="reports:read")],
        operation_id="listConversions",
        summary="The caller's conversions (the merchant's, or those of the KOL's deals)",
        description=(
            "Newest first: the merchant's orders, or those of the KOL's deals; `deal_id`, `status` "
            "and `order_id` narrow the list (an order's reports come on one page). 404 when "
            "`deal_id` names a deal the caller is not a side of."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def list_conversions(
        self,
        caller: CurrentCaller,
        db: DB,
        deal_id: FromQuery[UUID | None] = None,
        status: FromQuery[ConversionStatus | None] = None,
        order_id: FromQuery[OrderId | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> ConversionPage:
        return await service.list_conversions(db, caller, deal_id, status, order_id, limit, cursor)

    @get(
        "/{conversion_id:uuid}",
        guards=[allow("merchant", "kol", scope="reports:read")],
        operation_id="getConversion",
        summary="One conversion with its status, reasons and commission",
        description=("404 when the order is not the caller's merchant's or of the KOL's deals."),
        responses=problem_responses(401, 403, 404),
    )
    async def get_conversion(
        self, caller: CurrentCaller, conversion_id: FromPath[UUID], db: DB
    ) -> ConversionOut:
        return await service.get(db, caller, conversion_id)

    @get(
        "/held",
        guards=[allow("operator")],
        operation_id="listHeldConversions",
        summary="Operators' review queue: conversions held for fraud signals, oldest first",
        description=("Orders held for fraud signals (`buyer_is_kol`, `click_burst`, `no_click`)."),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def held(self, db: DB, limit: Limit = 50, cursor: Cursor = None) -> ConversionPage:
        return await service.held(db, limit, cursor)

    @post(
        "/{conversion_id:uuid}/review",
        guards=[allow("operator")],
        status_code=HTTP_200_OK,
        operation_id="reviewConversion",
        summary="Operator's decision on a held conversion: approve it or reject it",
        description=(
            "`approve`: the order counts, pending until its holding period ends; `reject`: it "
            "stops counting and frees the deal's commission cap. 409 unless the conversion is "
            "`held`; 404 when no conversion has this id. Records `conversion.reviewed`."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def review(
        self, conversion_id: FromPath[UUID], data: JSONBody[ConversionReviewIn], db: DB
    ) -> ConversionOut:
        return await service.review(db, conversion_id, data.decision, data.note)


ROUTES = [ConversionsController]

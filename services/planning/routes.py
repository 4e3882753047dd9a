"""HTTP face of pricing and planning: rate cards, quotes, allocations and selections."""

from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from contracts.planning import AllocationProblem, SelectionProblem
from contracts.plans import CatalogSelectionIn, PlanOut, PlanState
from contracts.pricing import Quote, RateCard
from contracts.quotes import QuoteIn, RateCardIn
from services.planning import quoting, ratecards, service
from services.web import DB, CurrentCaller, allow, problem_responses

BriefId = FromQuery[UUID | None]
# Selections of up to 200,000 inline candidates (about 30 MB of JSON) are accepted.
SELECTION_MAX_BODY = 64 * 1024 * 1024


class RateCardsController(Controller):
    path = "/v1/rate-cards"
    tags = ["pricing"]
    security = [{"BearerToken": []}]

    @get(
        "/current",
        guards=[allow("merchant", "kol", "operator")],
        operation_id="getCurrentRateCard",
        summary="The rate card quotes use now, with the source of every value",
        responses=problem_responses(401, 403),
    )
    async def current(self, db: DB) -> RateCard:
        return await ratecards.current_rate_card(db)

    @post(
        "/",
        guards=[allow("operator")],
        operation_id="publishRateCard",
        summary="Publish a new rate card version (operators); older versions stay as they were",
        responses=problem_responses(400, 401, 403, 409, 422),
    )
    async def publish(self, caller: CurrentCaller, data: JSONBody[RateCardIn], db: DB) -> RateCard:
        return await ratecards.publish_rate_card(db, data.card, caller.user_id, data.note)


class QuotesController(Controller):
    path = "/v1/quotes"
    tags = ["pricing"]
    security = [{"BearerToken": []}]

    @post(
        "/",
        guards=[allow("merchant", "kol", "operator")],
        status_code=200,
        operation_id="createQuote",
        summary="Quote one deliverable: every line with its formula, inputs and amount",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def quote(self, caller: CurrentCaller, data: JSONBody[QuoteIn], db: DB) -> Quote:
        return await quoting.quote(db, caller, data)


class PlansController(Controller):
    path = "/v1/plans"
    tags = ["planning"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant")]

    @post(
        "/allocations",
        status_code=HTTP_201_CREATED,
        operation_id="createAllocation",
        summary="Spread a budget over (platform, tier) segments; a diagnosis if infeasible",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def allocation(
        self,
        caller: CurrentCaller,
        data: JSONBody[AllocationProblem],
        db: DB,
        brief_id: BriefId = None,
    ) -> PlanOut:
        return await service.create_allocation(db, caller, data, brief_id)

    @post(
        "/selections",
        request_max_body_size=SELECTION_MAX_BODY,
        operation_id="createSelection",
        summary="Choose creators from given candidates; large problems are queued (202)",
        responses=problem_responses(400, 401, 403, 404, 413, 422),
    )
    async def selection(
        self,
        caller: CurrentCaller,
        data: JSONBody[SelectionProblem],
        db: DB,
        brief_id: BriefId = None,
    ) -> Response[PlanOut]:
        return _created_or_accepted(await service.create_selection(db, caller, data, brief_id))

    @post(
        "/selections/from-catalog",
        operation_id="createCatalogSelection",
        summary="Choose creators among catalog accounts matching filters (queued, 202)",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def catalog_selection(
        self, caller: CurrentCaller, data: JSONBody[CatalogSelectionIn], db: DB
    ) -> Response[PlanOut]:
        return _created_or_accepted(await service.create_catalog_selection(db, caller, data))

    @get(
        "/{plan_id:uuid}",
        operation_id="getPlan",
        summary="A plan: its state, and its result or diagnosis once solved",
        responses=problem_responses(401, 403, 404),
    )
    async def get_plan(self, caller: CurrentCaller, plan_id: FromPath[UUID], db: DB) -> PlanOut:
        return await service.get_plan(db, caller, plan_id)


def _created_or_accepted(plan: PlanOut) -> Response[PlanOut]:
    queued = plan.status in (PlanState.QUEUED, PlanState.RUNNING)
    headers: dict[str, Any] = {"Location": plan.status_url}
    status = HTTP_202_ACCEPTED if queued else HTTP_201_CREATED
    return Response(plan, status_code=status, headers=headers)


ROUTES = [RateCardsController, QuotesController, PlansController]

"""HTTP face of pricing and planning: rate cards, quotes, a brief's plans, allocations and
selections, and what a plan's merchant does with it (read its creators, adopt, cancel, turn an
allocation into a selection)."""

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from contracts.plan_requests import BriefPlanIn
from contracts.planning import AllocationProblem, SelectionProblem
from contracts.plans import CatalogSelectionIn, PlanOut, PlanPage, SelectedCreatorPage
from contracts.pricing import Quote, RateCard
from contracts.quotes import QuoteIn, RateCardIn
from services.planning import creators, quoting, ratecards, rules, service
from services.web import (
    DB,
    CurrentCaller,
    Cursor,
    Idempotency,
    Limit,
    allow,
    problem_responses,
)

QUEUED = {
    HTTP_202_ACCEPTED: ResponseSpec(
        data_container=PlanOut,
        description="Queued for the worker (too large to solve while the request waits, or "
        "not finished within that wait): read it at `Location` until it has ended",
        generate_examples=False,
    )
}

BriefId = FromQuery[UUID | None]
# Selections of up to 200,000 inline candidates (about 30 MB of JSON) are accepted.
SELECTION_MAX_BODY = 64 * 1024 * 1024


PlaceCursor = Annotated[
    str | None,
    QueryParameter(
        pattern=creators.CURSOR_PATTERN, description="`next_cursor` of the previous page"
    ),
]


class RateCardsController(Controller):
    path = "/v1/rate-cards"
    tags = ["pricing"]
    security = [{"BearerToken": []}]

    @get(
        "/current",
        guards=[allow("merchant", "kol", "operator")],
        operation_id="getCurrentRateCard",
        summary="The rate card quotes use now, with the source of every value",
        description=("The newest published card."),
        responses=problem_responses(401, 403),
    )
    async def current(self, db: DB) -> RateCard:
        return await ratecards.current_rate_card(db)

    @post(
        "/",
        guards=[allow("operator")],
        operation_id="publishRateCard",
        summary="Publish a new rate card version (operators); older versions stay as they were",
        description=(
            "From now on quotes, plans and offers use the new card, and every catalog account's "
            "reference price is computed again with it in the background. 422 when the card misses "
            "a platform's or tier's value, a deliverable's multiplier or a platform's "
            "click-through rate, has a median engagement of 0, or has `engagement_ratio_min_bp` "
            "above `engagement_ratio_max_bp`; the field is named (`rate_card.cpm.tiktok.mega`, "
            "...). 409 when the version exists."
        ),
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
        description=(
            "Priced with the current rate card. 422 when not exactly one of `account_id` and "
            "`account` is given (`account_id`), when both `brief_id` and `product` are "
            "(`brief_id`), when the currency is not the card's (`currency`), and with the title "
            "`Quote refused` when the account's authenticity is below the card's floor "
            "(`account.authenticity`). 404 when `account_id` names no catalog account or "
            "`brief_id` no brief the caller may quote for (a merchant's own, or any published "
            "one)."
        ),
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
        operation_id="createAllocation",
        summary="Spread a budget over (platform, tier) segments; a diagnosis if infeasible; "
        "large problems are queued (202)",
        description=(
            "How many creators to hire in each segment for the `objective`, within the budget, "
            "targets, tier shares and caps; with no plan possible it ends `infeasible` with a "
            "diagnosis. A problem is solved while the request waits (201) when its columns "
            "(candidates, or the sum of `available` + 1 over the segments) × (1 + its active "
            "constraints) are at most 200,000, or when its `time_limit_seconds` is at most 1 and "
            "it has at most 100,000 columns, and it ends within 3 seconds; otherwise it is queued "
            "(202, `Location` names the plan). 422 when a segment's `reach` exceeds its "
            "`audience`, a platform and tier is "
            "given twice, or a tier's `min_share` exceeds its `max_share` (a queued plan ends "
            "`failed` instead). 404 when `brief_id` is not the merchant's. Records `plan.finished` "
            "when the plan ends."
        ),
        responses=QUEUED | problem_responses(400, 401, 403, 404, 422),
    )
    async def allocation(
        self,
        caller: CurrentCaller,
        data: JSONBody[AllocationProblem],
        db: DB,
        brief_id: BriefId = None,
    ) -> Response[PlanOut]:
        return _created_or_accepted(await service.create_allocation(db, caller, data, brief_id))

    @post(
        "/selections",
        request_max_body_size=SELECTION_MAX_BODY,
        operation_id="createSelection",
        summary="Choose creators from given candidates; large problems are queued (202)",
        description=(
            "Which candidates to choose (0 or 1 each) for the `objective`, within the budget, "
            "targets, tier shares and caps. A problem is solved while the request waits (201) when "
            "its columns (candidates, or the sum of `available` + 1 over the segments) × (1 + its "
            "active constraints) are at most 200,000, or when its `time_limit_seconds` is at most "
            "1 and it has at most 100,000 columns, and it ends within 3 seconds; otherwise it is "
            "queued (202, `Location` names the plan). 422 when candidate ids repeat, a "
            "`must_include` id is not a candidate, or "
            "a tier's `min_share` exceeds its `max_share` (a queued plan ends `failed` instead). "
            "404 when `brief_id` is not the merchant's. Records `plan.finished` when the plan "
            "ends."
        ),
        responses=QUEUED | problem_responses(400, 401, 403, 404, 413, 422),
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
        status_code=HTTP_202_ACCEPTED,
        operation_id="createCatalogSelection",
        summary="Choose creators among catalog accounts matching filters (queued, 202)",
        description=(
            "Always queued (202, `Location` names the plan): each catalog account matching the "
            "filters becomes a candidate priced by the current rate card for one `deliverable`. "
            "404 when `brief_id` is not the merchant's. Records `plan.finished` when the plan "
            "ends."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def catalog_selection(
        self, caller: CurrentCaller, data: JSONBody[CatalogSelectionIn], db: DB
    ) -> Response[PlanOut]:
        return _created_or_accepted(await service.create_catalog_selection(db, caller, data))

    @get(
        "/{plan_id:uuid}",
        operation_id="getPlan",
        summary="A plan: its state, its progress while it runs, and how it ended",
        description=("404 when the plan is not the merchant's."),
        responses=problem_responses(401, 403, 404),
    )
    async def get_plan(self, caller: CurrentCaller, plan_id: FromPath[UUID], db: DB) -> PlanOut:
        return await service.get_plan(db, caller, plan_id)

    @get(
        "/{plan_id:uuid}/creators",
        operation_id="listPlanCreators",
        summary="The creators a derived selection chose, in order, each with its quotes",
        description=(
            "The chosen creators in the plan's order, each priced again exactly from the plan's "
            "card. 409 when the plan is not a selection derived from the catalog (it names no "
            "creators); 404 when it is not the merchant's."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def plan_creators(
        self,
        caller: CurrentCaller,
        plan_id: FromPath[UUID],
        db: DB,
        limit: Limit = 20,
        cursor: PlaceCursor = None,
    ) -> SelectedCreatorPage:
        return await creators.page(db, caller, plan_id, limit, cursor)

    @post(
        "/{plan_id:uuid}/adopt",
        status_code=200,
        operation_id="adoptPlan",
        summary="Make a solved plan its brief's plan of record (the report compares with it)",
        description=(
            "The plan replaces the one adopted before; adopting it again changes nothing. 409 when "
            "the plan has no brief or is not solved; 404 when it is not the merchant's. Records "
            "`plan.adopted`."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def adopt(self, caller: CurrentCaller, plan_id: FromPath[UUID], db: DB) -> PlanOut:
        return await service.adopt(db, caller, plan_id)

    @post(
        "/{plan_id:uuid}/cancel",
        status_code=200,
        operation_id="cancelPlan",
        summary="Stop a queued or running plan; it ends cancelled",
        description=(
            "The plan ends `cancelled`, recording `plan.finished`; its search stops without saving "
            "anything. 409, with the plan in `current`, when it has ended already; 404 when it is "
            "not the merchant's."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def cancel(self, caller: CurrentCaller, plan_id: FromPath[UUID], db: DB) -> PlanOut:
        return await service.cancel(db, caller, plan_id)

    @post(
        "/{plan_id:uuid}/selection",
        operation_id="selectFromAllocation",
        summary="Choose the creators of a solved allocation's brief, keeping to its segments "
        "and its creators per platform and tier (201 solved, 202 queued)",
        description=(
            "A selection of the allocation's brief from the catalog: only accounts in the segments "
            "the allocation hires in, at most its creators per platform and per tier, with its "
            "budget, targets, tier shares and objective. 409 when the plan is not a solved "
            "allocation, has no brief, or hires no creator; 422 when no catalog account matches or "
            "the brief's currency is not the current card's; 404 when the plan is not the "
            "merchant's. Takes an `Idempotency-Key`: a repeat with the same key and body answers "
            "as the first request did, and the same key with another body answers 409. Records "
            "`plan.finished` when the selection ends."
        ),
        responses=QUEUED | problem_responses(401, 403, 404, 409, 422),
    )
    async def selection_from_allocation(
        self, caller: CurrentCaller, plan_id: FromPath[UUID], db: DB, idempotency: Idempotency
    ) -> Response[PlanOut]:
        plan = await service.selection_from_allocation(db, caller, plan_id, key=idempotency)
        return _created_or_accepted(plan)


class BriefPlansController(Controller):
    path = "/v1/briefs/{brief_id:uuid}/plans"
    tags = ["planning"]
    security = [{"BearerToken": []}]
    guards = [allow("merchant")]

    @post(
        "/",
        request_max_body_size=SELECTION_MAX_BODY,
        operation_id="planBrief",
        summary="Plan the brief: an allocation or a selection, derived from the catalog and the "
        "current rate card unless segments or candidates are given (201 solved, 202 queued)",
        description=(
            "Targets default to the brief: the budget to what remains of it, `min_reach` and "
            '`min_conversions` to its goals. `{"kind": "allocation"}` alone plans the brief. Every '
            "derived number is returned with its source in `derivation`. A derived allocation is "
            "solved while the request waits (201) unless the engine has not finished after 3 "
            "seconds (then 202); other plans follow the size rule of `POST /v1/plans/selections`, "
            "a derived selection counting its matching accounts as columns. "
            "422 when a tier's `min_share` exceeds its `max_share`, given segments or candidates "
            "break the rules of `POST /v1/plans/allocations` or `/selections`, no catalog account "
            "matches the brief (`brief`), or the brief's currency is not the current rate card's "
            "(`currency`); 404 when the brief is not the merchant's. Takes an `Idempotency-Key`: a "
            "repeat with the same key and body answers as the first request did, and the same key "
            "with another body answers 409. Records `plan.finished` when the plan ends."
        ),
        responses=QUEUED | problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def plan_brief(
        self,
        caller: CurrentCaller,
        brief_id: FromPath[UUID],
        data: JSONBody[BriefPlanIn],
        db: DB,
        idempotency: Idempotency,
    ) -> Response[PlanOut]:
        plan = await service.plan_brief(db, caller, brief_id, data, key=idempotency)
        return _created_or_accepted(plan)

    @get(
        "/",
        operation_id="listBriefPlans",
        summary="The brief's plans, newest first, with their state and totals",
        description=("404 when the brief is not the merchant's."),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def list_plans(
        self,
        caller: CurrentCaller,
        brief_id: FromPath[UUID],
        db: DB,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PlanPage:
        return await service.list_plans(db, caller, brief_id, limit, cursor)


def _created_or_accepted(plan: PlanOut) -> Response[PlanOut]:
    queued = plan.status in rules.UNFINISHED
    headers: dict[str, Any] = {"Location": plan.status_url}
    status = HTTP_202_ACCEPTED if queued else HTTP_201_CREATED
    return Response(plan, status_code=status, headers=headers)


ROUTES = [RateCardsController, QuotesController, PlansController, BriefPlansController]

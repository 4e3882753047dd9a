"""HTTP face of deals: both sides, and partners with `deals:read` for their merchant, read them."""

from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from contracts.deals import DealOut, DealPage, DealStatus
from services.deals import service
from services.web import DB, AppSettings, CurrentCaller, Cursor, Limit, allow, problem_responses


class DealsController(Controller):
    path = "/v1/deals"
    tags = ["deals"]
    security = [{"BearerToken": []}, {"ApiKey": []}]
    guards = [allow("merchant", "kol", scope="deals:read")]

    @get(
        "/",
        operation_id="listDeals",
        summary="The caller's deals, newest first",
        description=(
            "The deals the caller is a side of (for an API key, its merchant's), newest first; "
            "`status` and `brief_id` narrow the list."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_deals(
        self,
        caller: CurrentCaller,
        db: DB,
        settings: AppSettings,
        status: FromQuery[DealStatus | None] = None,
        brief_id: FromQuery[UUID | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DealPage:
        base_url = settings.public_base_url
        return await service.list_deals(db, caller, status, brief_id, limit, cursor, base_url)

    @get(
        "/{deal_id:uuid}",
        operation_id="getDeal",
        summary="One deal: frozen terms, their SHA-256, both acceptance times and status",
        description=(
            "`terms_sha256` can be recomputed from `terms` to check what was agreed. 404 when the "
            "deal does not exist or the caller is not a side of it (for an API key: not its "
            "merchant's)."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def get_deal(
        self, caller: CurrentCaller, deal_id: FromPath[UUID], db: DB, settings: AppSettings
    ) -> DealOut:
        return await service.get(db, caller, deal_id, settings.public_base_url)


ROUTES = [DealsController]

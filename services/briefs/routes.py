"""HTTP face of briefs: merchants create, edit, publish and close them; KOLs browse.

Cancelling a brief withdraws its open offers, so its route is negotiation's.
"""

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from contracts.briefs import BriefIn, BriefOut, BriefPage, BriefPatch, BriefStatus
from services.briefs import service
from services.web import DB, CurrentCaller, Cursor, Idempotency, Limit, allow, problem_responses

MERCHANT_ONLY = [allow("merchant")]


class BriefsController(Controller):
    path = "/v1/briefs"
    tags = ["briefs"]
    security = [{"BearerToken": []}]

    @post(
        "/",
        guards=MERCHANT_ONLY,
        status_code=HTTP_201_CREATED,
        operation_id="createBrief",
        summary="Create a brief as a draft",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def create(
        self,
        caller: CurrentCaller,
        data: JSONBody[BriefIn],
        db: DB,
        idempotency: Idempotency,
    ) -> BriefOut:
        return await service.create(db, caller, data, key=idempotency)

    @get(
        "/",
        guards=[allow("merchant", "kol")],
        operation_id="listBriefs",
        summary="A merchant's own briefs (any status), or the open briefs that fit a KOL",
        description=(
            "For a KOL: open briefs taking applications whose product category is one of the "
            "KOL's and that want a platform and tier one of its accounts has (a KOL without "
            "categories or accounts is not narrowed by them). `status` filters a merchant's "
            "list only."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_briefs(
        self,
        caller: CurrentCaller,
        db: DB,
        status: FromQuery[BriefStatus | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> BriefPage:
        return await service.list_briefs(db, caller, status, limit, cursor)

    @get(
        "/{brief_id:uuid}",
        guards=[allow("merchant", "kol")],
        operation_id="getBrief",
        summary="One brief, with what its budget holds",
        responses=problem_responses(401, 403, 404),
    )
    async def get_brief(self, caller: CurrentCaller, brief_id: FromPath[UUID], db: DB) -> BriefOut:
        return await service.get(db, caller, brief_id)

    @patch(
        "/{brief_id:uuid}",
        guards=MERCHANT_ONLY,
        operation_id="updateBrief",
        summary="Edit a draft brief, or raise an open brief's budget",
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def update(
        self, caller: CurrentCaller, brief_id: FromPath[UUID], data: JSONBody[BriefPatch], db: DB
    ) -> BriefOut:
        return await service.update(db, caller, brief_id, data)

    @post(
        "/{brief_id:uuid}/publish",
        guards=MERCHANT_ONLY,
        status_code=200,
        operation_id="publishBrief",
        summary="Open a draft brief to invitations and (unless invite only) applications",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def publish(self, caller: CurrentCaller, brief_id: FromPath[UUID], db: DB) -> BriefOut:
        return await service.publish(db, caller, brief_id)

    @post(
        "/{brief_id:uuid}/close",
        guards=MERCHANT_ONLY,
        status_code=200,
        operation_id="closeBrief",
        summary="Stop new invitations and applications; negotiations under way continue",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def close(self, caller: CurrentCaller, brief_id: FromPath[UUID], db: DB) -> BriefOut:
        return await service.close(db, caller, brief_id)


ROUTES = [BriefsController]

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
        description=(
            "The brief stays invisible to KOLs until it is published. 422 when `platforms`, "
            "`tiers`, `deliverables` or `targeting.regions` repeat a value, when "
            "`timeline.posting_until` is before `timeline.posting_from`, or when "
            "`timeline.apply_by` falls after `timeline.posting_until`. Takes an `Idempotency-Key`: "
            "a repeat with the same key and body answers as the first request did, and the same "
            "key with another body answers 409."
        ),
        responses=problem_responses(400, 401, 403, 409, 422),
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
        description=(
            "A merchant reads its own briefs; a KOL reads open briefs that take applications and "
            "any brief it has an offer on. 404 when the brief does not exist or is not visible to "
            "the caller."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def get_brief(self, caller: CurrentCaller, brief_id: FromPath[UUID], db: DB) -> BriefOut:
        return await service.get(db, caller, brief_id)

    @patch(
        "/{brief_id:uuid}",
        guards=MERCHANT_ONLY,
        operation_id="updateBrief",
        summary="Edit a draft brief, or raise an open brief's budget",
        description=(
            "Changes the fields given (absent or null: unchanged). A draft may change any of them "
            "and is checked as at creation (422, the same fields). An open brief may only raise "
            "its budget: changing another field answers 409 and lowering the budget 422 on "
            "`budget`. A closed or cancelled brief answers 409. 404 when the brief is not the "
            "caller's merchant's."
        ),
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
        description=(
            "The brief opens: the merchant may invite KOLs and, unless it is invite only, KOLs it "
            "fits see it and may apply until `timeline.apply_by`. Records `brief.published`. 409 "
            "when the brief is not a draft, its budget is 0 (`budget`) or `timeline.apply_by` has "
            "passed (`timeline.apply_by`); 422 when it breaks a rule of creation. 404 when the "
            "brief is not the caller's merchant's."
        ),
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
        description=(
            "An open brief stops taking invitations and applications; offers under way can still "
            "be answered and deals stand. Records `brief.closed`. 409 unless the brief is open; "
            "404 when it is not the caller's merchant's."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def close(self, caller: CurrentCaller, brief_id: FromPath[UUID], db: DB) -> BriefOut:
        return await service.close(db, caller, brief_id)


ROUTES = [BriefsController]

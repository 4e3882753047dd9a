"""HTTP face of delivery: the KOL submits content, both sides (and the merchant's partners)
read it, the merchant reviews it."""

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contracts.delivery import ReviewIn, SubmissionIn, SubmissionOut, SubmissionPage
from services.delivery import service
from services.web import DB, CurrentCaller, Cursor, Idempotency, Limit, allow, problem_responses


class SubmissionsController(Controller):
    path = "/v1/deals/{deal_id:uuid}/submissions"
    tags = ["deals"]
    security = [{"BearerToken": []}]

    @post(
        "/",
        guards=[allow("kol")],
        status_code=HTTP_201_CREATED,
        operation_id="submitContent",
        summary="Submit one piece of a deliverable (its post URL); the merchant reviews it",
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def submit(
        self,
        caller: CurrentCaller,
        deal_id: FromPath[UUID],
        data: JSONBody[SubmissionIn],
        db: DB,
        idempotency: Idempotency,
    ) -> SubmissionOut:
        return await service.submit(db, caller, deal_id, data, key=idempotency)

    @get(
        "/",
        guards=[allow("merchant", "kol", scope="deals:read")],
        operation_id="listSubmissions",
        summary="The deal's submissions with their review state, newest first",
        security=[{"BearerToken": []}, {"ApiKey": []}],
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def list_submissions(
        self,
        caller: CurrentCaller,
        deal_id: FromPath[UUID],
        db: DB,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> SubmissionPage:
        return await service.list_submissions(db, caller, deal_id, limit, cursor)

    @post(
        "/{submission_id:uuid}/review",
        guards=[allow("merchant")],
        status_code=HTTP_200_OK,
        operation_id="reviewSubmission",
        summary="Approve a submission or request changes, within the review window",
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def review(
        self,
        caller: CurrentCaller,
        deal_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        data: JSONBody[ReviewIn],
        db: DB,
    ) -> SubmissionOut:
        return await service.review(db, caller, deal_id, submission_id, data)


ROUTES = [SubmissionsController]

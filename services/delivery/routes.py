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
        description=(
            "One piece of `deliverable` (an index into the deal's `terms.deliverables`) of a "
            "`funded` or `content_submitted` deal; the first moves the deal to "
            "`content_submitted`. The merchant reviews it until `review_due_at` (the brief's "
            "review days from now), after which it is approved automatically. 422 when "
            "`deliverable` is not an index of the terms, `url` is not on one of the deliverable's "
            "platform's hosts, or `posted_at` is in the future. 409 when the deal takes no "
            "submissions, the deliverable already has its `count` pieces submitted or approved, or "
            "the URL was already submitted for the deal; 404 when the deal is not the KOL's. Takes "
            "an `Idempotency-Key`: a repeat with the same key and body answers as the first "
            "request did, and the same key with another body answers 409. Records "
            "`submission.created` (and `deal.status_changed` on the first)."
        ),
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
        description=(
            "404 when the caller is not a side of the deal (for an API key: not its merchant's)."
        ),
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
        description=(
            "`approve`, or `request_changes` with a `reason` (422 on `reason` without one); the "
            "KOL then submits a new piece. Approving the deal's last piece approves the deal: "
            "escrow is released and the payout scheduled the brief's payout hold days later. 409 "
            "when the submission is not waiting for review, the deal is not `content_submitted` or "
            "`disputed`, or changes are asked after the review window ended; 404 when the deal is "
            "not the merchant's or the submission not the deal's. Records `submission.approved` or "
            "`submission.changes_requested`; the last approval also records `deal.approved` and "
            "`payout.scheduled`."
        ),
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

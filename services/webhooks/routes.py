"""HTTP face of webhooks: a merchant's endpoints (owners, or partners with `webhooks:manage`),
their delivery log, sending a delivery again and sending a test ping."""

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from contracts.webhooks import (
    DeliveryStatus,
    WebhookDeliveryDetail,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointPatch,
)
from services.web import (
    DB,
    AppSettings,
    CurrentCaller,
    Cursor,
    Idempotency,
    Limit,
    allow,
    problem_responses,
)
from services.webhooks import service

ENDPOINT = "/{endpoint_id:uuid}"
DELIVERY = ENDPOINT + "/deliveries/{delivery_id:uuid}"


class WebhookEndpointsController(Controller):
    path = "/v1/webhook-endpoints"
    tags = ["webhook endpoints"]
    security = [{"BearerToken": []}, {"ApiKey": []}]
    guards = [allow("merchant", scope="webhooks:manage", owner=True)]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="createWebhookEndpoint",
        summary="Register an https endpoint for the merchant's events; its signing secret is "
        "shown only in this answer",
        description=(
            "The merchant's events of the types wanted (all when `event_types` is empty) are "
            "POSTed to `url`, signed with the `whsec_` secret of this answer. 422 on `url` when it "
            "is not https, carries credentials or a fragment, or its host resolves to a private, "
            "loopback, link-local or other non-public address (a host that does not resolve yet is "
            "taken, and checked again at each delivery). 409 when the merchant has 16 endpoints "
            "already. Takes an `Idempotency-Key`: a repeat with the same key and body answers as "
            "the first request did, and the same key with another body answers 409."
        ),
        responses=problem_responses(400, 401, 403, 409, 422),
    )
    async def create(
        self,
        caller: CurrentCaller,
        data: JSONBody[WebhookEndpointIn],
        db: DB,
        settings: AppSettings,
        idempotency: Idempotency,
    ) -> WebhookEndpointCreated:
        return await service.create(
            db, caller, data, allow_local=settings.webhook_allow_local, key=idempotency
        )

    @get(
        "/",
        operation_id="listWebhookEndpoints",
        summary="The merchant's webhook endpoints (at most 16), oldest first",
        description=("Without their secrets."),
        responses=problem_responses(401, 403),
    )
    async def list_endpoints(self, caller: CurrentCaller, db: DB) -> WebhookEndpointList:
        return await service.list_endpoints(db, caller)

    @get(
        ENDPOINT,
        operation_id="getWebhookEndpoint",
        summary="One webhook endpoint, without its secret",
        description=("404 when the endpoint is not the merchant's."),
        responses=problem_responses(401, 403, 404),
    )
    async def get_endpoint(
        self, caller: CurrentCaller, endpoint_id: FromPath[UUID], db: DB
    ) -> WebhookEndpointOut:
        return await service.get(db, caller, endpoint_id)

    @patch(
        ENDPOINT,
        operation_id="updateWebhookEndpoint",
        summary="Change an endpoint's URL, event types, description, or enable or disable it",
        description=(
            "Changes the fields given (absent or null: unchanged). Enabling a disabled endpoint "
            "clears why it was disabled and resumes its pending deliveries; events that happened "
            "while it was disabled are not sent (read them from `GET /v1/events`). 422 on `url` as "
            "at creation; 404 when the endpoint is not the merchant's."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def update(
        self,
        caller: CurrentCaller,
        endpoint_id: FromPath[UUID],
        data: JSONBody[WebhookEndpointPatch],
        db: DB,
        settings: AppSettings,
    ) -> WebhookEndpointOut:
        return await service.update(
            db, caller, endpoint_id, data, allow_local=settings.webhook_allow_local
        )

    @delete(
        ENDPOINT,
        status_code=204,
        operation_id="deleteWebhookEndpoint",
        summary="Remove an endpoint and its delivery log; nothing more is sent to it",
        description=("404 when the endpoint is not the merchant's."),
        responses=problem_responses(401, 403, 404),
    )
    async def remove(self, caller: CurrentCaller, endpoint_id: FromPath[UUID], db: DB) -> None:
        await service.delete(db, caller, endpoint_id)

    @post(
        ENDPOINT + "/secret/rotate",
        status_code=HTTP_200_OK,
        operation_id="rotateWebhookSecret",
        summary="A new signing secret, shown once; the previous one keeps signing for 24 hours",
        description=(
            "Answers the endpoint with its new secret; messages carry a second signature, made "
            "with the previous secret, until `previous_secret_expires_at`. 404 when the endpoint "
            "is not the merchant's."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def rotate(
        self, caller: CurrentCaller, endpoint_id: FromPath[UUID], db: DB
    ) -> WebhookEndpointCreated:
        return await service.rotate_secret(db, caller, endpoint_id)

    @post(
        ENDPOINT + "/test",
        status_code=HTTP_202_ACCEPTED,
        operation_id="testWebhookEndpoint",
        summary="Send a signed `ping` message to the endpoint; follow it in the delivery log",
        description=(
            "Queues a `ping` message (its `data` names the endpoint) and answers its delivery. 409 "
            "when the endpoint is disabled; 404 when it is not the merchant's."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def test(
        self, caller: CurrentCaller, endpoint_id: FromPath[UUID], db: DB
    ) -> WebhookDeliveryOut:
        return await service.send_test(db, caller, endpoint_id)

    @get(
        ENDPOINT + "/deliveries",
        operation_id="listWebhookDeliveries",
        summary="The endpoint's deliveries, newest first: attempts, last status code and "
        "latency, next retry",
        description=(
            "`status` narrows the list. Finished deliveries are kept 30 days. 404 when the "
            "endpoint is not the merchant's."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def deliveries(
        self,
        caller: CurrentCaller,
        endpoint_id: FromPath[UUID],
        db: DB,
        status: FromQuery[DeliveryStatus | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> WebhookDeliveryPage:
        return await service.deliveries(db, caller, endpoint_id, status, limit, cursor)

    @get(
        DELIVERY,
        operation_id="getWebhookDelivery",
        summary="One delivery with each of its attempts",
        description=(
            "404 when the endpoint is not the merchant's or the delivery not the endpoint's."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def delivery(
        self,
        caller: CurrentCaller,
        endpoint_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        db: DB,
    ) -> WebhookDeliveryDetail:
        return await service.delivery(db, caller, endpoint_id, delivery_id)

    @post(
        DELIVERY + "/retry",
        status_code=HTTP_202_ACCEPTED,
        operation_id="retryWebhookDelivery",
        summary="Send a delivery again now, with the same webhook-id",
        description=(
            "The delivery is due now, with the same `webhook-id` (sent again even when it was "
            "delivered); an attempt under way is left to finish. 409 when the endpoint is "
            "disabled; 404 when the endpoint is not the merchant's or the delivery not the "
            "endpoint's."
        ),
        responses=problem_responses(401, 403, 404, 409),
    )
    async def retry(
        self,
        caller: CurrentCaller,
        endpoint_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        db: DB,
    ) -> WebhookDeliveryOut:
        return await service.retry(db, caller, endpoint_id, delivery_id)


ROUTES = [WebhookEndpointsController]

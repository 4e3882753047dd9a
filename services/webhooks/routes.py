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
        responses=problem_responses(401, 403),
    )
    async def list_endpoints(self, caller: CurrentCaller, db: DB) -> WebhookEndpointList:
        return await service.list_endpoints(db, caller)

    @get(
        ENDPOINT,
        operation_id="getWebhookEndpoint",
        summary="One webhook endpoint, without its secret",
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
        responses=problem_responses(401, 403, 404),
    )
    async def remove(self, caller: CurrentCaller, endpoint_id: FromPath[UUID], db: DB) -> None:
        await service.delete(db, caller, endpoint_id)

    @post(
        ENDPOINT + "/secret/rotate",
        status_code=HTTP_200_OK,
        operation_id="rotateWebhookSecret",
        summary="A new signing secret, shown once; the previous one keeps signing for 24 hours",
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

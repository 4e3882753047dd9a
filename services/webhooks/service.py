"""Use cases of webhook endpoints: register, list, read, change, rotate the secret of and
remove a merchant's endpoints; read their delivery log, send a delivery again, send a ping.

Every statement names the caller's merchant in its WHERE: another merchant's endpoint answers
404. URLs are checked (https, and no private, loopback, link-local or metadata address)
when set; the worker checks them again before each delivery.
"""

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.webhooks import (
    DeliveryStatus,
    WebhookAttemptOut,
    WebhookDeliveryDetail,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointPatch,
)
from services import pagination
from services.actors import Caller
from services.errors import Conflict, Invalid, NotFound
from services.feed import rules as feed_rules
from services.idempotency import idempotent
from services.webhooks import addresses, queries, rules

log = structlog.get_logger(__name__)


def endpoint_out(row: asyncpg.Record) -> WebhookEndpointOut:
    return msgspec.convert(dict(row), WebhookEndpointOut)


def delivery_out(row: asyncpg.Record) -> WebhookDeliveryOut:
    fields = dict(row)
    event_id = fields["event_id"]
    fields["message_id"] = (
        feed_rules.message_id(event_id) if event_id is not None else f"ping_{fields['id']}"
    )
    return msgspec.convert(fields, WebhookDeliveryOut)


def _merchant(caller: Caller) -> UUID:
    assert caller.merchant_id is not None, "the guard admits merchants and their partners only"
    return caller.merchant_id


async def check_url(url: str, allow_local: bool) -> None:
    """422 naming `url` unless it is https and reaches only public addresses. A name that
    does not resolve yet (DNS not set up) is taken: each delivery checks it again, and none
    is sent while it resolves nowhere or somewhere private."""
    target = rules.parse_url(url, allow_local)
    try:
        await addresses.resolve(target, allow_local)
    except addresses.Unresolved:
        log.info("webhook_endpoint_unresolved", host=target.host)
    except addresses.Refused as refused:
        raise Invalid("url", f"url is not allowed: {refused}") from None


@idempotent
async def create(
    conn: asyncpg.Connection, caller: Caller, data: WebhookEndpointIn, *, allow_local: bool
) -> WebhookEndpointCreated:
    await check_url(data.url, allow_local)
    merchant_id = _merchant(caller)
    await conn.execute(queries.LOCK_MERCHANT_ENDPOINTS, merchant_id)
    if await conn.fetchval(queries.COUNT_ENDPOINTS, merchant_id) >= rules.MAX_ENDPOINTS:
        raise Conflict(f"a merchant has at most {rules.MAX_ENDPOINTS} webhook endpoints")
    row = await conn.fetchrow(
        queries.INSERT_ENDPOINT,
        *(merchant_id, data.url, sorted(set(data.event_types)), data.description),
        *(data.enabled, rules.new_secret()),
    )
    log.info("webhook_endpoint_created", endpoint_id=str(row["id"]), merchant_id=str(merchant_id))
    return msgspec.convert(dict(row), WebhookEndpointCreated)


async def list_endpoints(conn: asyncpg.Connection, caller: Caller) -> WebhookEndpointList:
    rows = await conn.fetch(queries.LIST_ENDPOINTS, _merchant(caller))
    return WebhookEndpointList(items=[endpoint_out(r) for r in rows])


async def get(conn: asyncpg.Connection, caller: Caller, endpoint_id: UUID) -> WebhookEndpointOut:
    row = await conn.fetchrow(queries.FIND_ENDPOINT, endpoint_id, _merchant(caller))
    if row is None:
        raise NotFound("webhook endpoint", endpoint_id)
    return endpoint_out(row)


async def update(
    conn: asyncpg.Connection,
    caller: Caller,
    endpoint_id: UUID,
    data: WebhookEndpointPatch,
    *,
    allow_local: bool,
) -> WebhookEndpointOut:
    """Change the given fields; enabling a disabled endpoint resumes its pending deliveries."""
    if data.url is not None:
        await check_url(data.url, allow_local)
    types = sorted(set(data.event_types)) if data.event_types is not None else None
    row = await conn.fetchrow(
        queries.UPDATE_ENDPOINT,
        *(endpoint_id, _merchant(caller), data.url, types, data.description, data.enabled),
    )
    if row is None:
        raise NotFound("webhook endpoint", endpoint_id)
    if data.enabled:
        await conn.execute(queries.NOTIFY_DELIVERIES)
    log.info("webhook_endpoint_updated", endpoint_id=str(endpoint_id))
    return endpoint_out(row)


async def rotate_secret(
    conn: asyncpg.Connection, caller: Caller, endpoint_id: UUID
) -> WebhookEndpointCreated:
    """A new secret, shown once; the previous one still signs (as a second signature) for
    24 hours, so receivers can switch without losing a message."""
    row = await conn.fetchrow(
        queries.ROTATE_SECRET,
        *(endpoint_id, _merchant(caller), rules.PREVIOUS_SECRET_VALID, rules.new_secret()),
    )
    if row is None:
        raise NotFound("webhook endpoint", endpoint_id)
    log.info("webhook_secret_rotated", endpoint_id=str(endpoint_id))
    return msgspec.convert(dict(row), WebhookEndpointCreated)


async def delete(conn: asyncpg.Connection, caller: Caller, endpoint_id: UUID) -> None:
    """Remove the endpoint with its delivery log; nothing more is sent to it."""
    if await conn.fetchval(queries.DELETE_ENDPOINT, endpoint_id, _merchant(caller)) is None:
        raise NotFound("webhook endpoint", endpoint_id)
    log.info("webhook_endpoint_deleted", endpoint_id=str(endpoint_id))


async def deliveries(
    conn: asyncpg.Connection,
    caller: Caller,
    endpoint_id: UUID,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> WebhookDeliveryPage:
    """The endpoint's deliveries, newest first."""
    await get(conn, caller, endpoint_id)
    page, next_cursor = await pagination.fetch_page(
        conn,
        queries.LIST_DELIVERIES,
        *(endpoint_id, status.value if status else None),
        limit=limit,
        cursor=cursor,
    )
    return WebhookDeliveryPage(items=[delivery_out(r) for r in page], next_cursor=next_cursor)


async def delivery(
    conn: asyncpg.Connection, caller: Caller, endpoint_id: UUID, delivery_id: UUID
) -> WebhookDeliveryDetail:
    """One delivery with every attempt made."""
    await get(conn, caller, endpoint_id)
    row = await conn.fetchrow(queries.FIND_DELIVERY, delivery_id, endpoint_id)
    if row is None:
        raise NotFound("delivery", delivery_id)
    made = [msgspec.convert(dict(a), WebhookAttemptOut) for a in await conn.fetch(
        queries.LIST_ATTEMPTS, delivery_id
    )]  # fmt: skip
    out = delivery_out(row)
    return WebhookDeliveryDetail(**msgspec.structs.asdict(out), attempts_made=made)


async def retry(
    conn: asyncpg.Connection, caller: Caller, endpoint_id: UUID, delivery_id: UUID
) -> WebhookDeliveryOut:
    """Send the delivery again now (a replay when it was delivered), with the same
    `webhook-id`; an attempt under way is left to finish."""
    async with conn.transaction():
        endpoint = await get(conn, caller, endpoint_id)
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled; enable it before sending again")
        row = await conn.fetchrow(queries.RETRY_DELIVERY, delivery_id, endpoint_id)
        if row is None:
            raise NotFound("delivery", delivery_id)
        await conn.execute(queries.NOTIFY_DELIVERIES)
    log.info("webhook_delivery_retried", delivery_id=str(delivery_id))
    return delivery_out(row)


async def send_test(
    conn: asyncpg.Connection, caller: Caller, endpoint_id: UUID
) -> WebhookDeliveryOut:
    """Queue a `ping` message for the endpoint; its delivery shows in the log."""
    async with conn.transaction():
        endpoint = await get(conn, caller, endpoint_id)
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled; enable it before testing it")
        row = await conn.fetchrow(queries.INSERT_PING, endpoint_id)
        await conn.execute(queries.NOTIFY_DELIVERIES)
    return delivery_out(row)


async def purge(conn: asyncpg.Connection, now: datetime) -> int:
    """Forget deliveries finished more than 30 days ago."""
    status = await conn.execute(queries.PURGE_FINISHED, now - rules.KEEP_FINISHED)
    return int(status.split()[-1])

"""Webhook endpoints, their deliveries, and the message every delivery carries.

A partner registers an https URL and the event types it wants; each event of its merchant is
then POSTed to it signed as Standard Webhooks specify (`webhook-id`, `webhook-timestamp`,
`webhook-signature`: HMAC-SHA256 with the endpoint's `whsec_` secret).
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.events import EventType

Url = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=2048,
        description="https URL that receives the events (http and loopback are allowed only "
        "where the service is set up for local development)",
    ),
]
EventTypeName = EventType
EventTypes = Annotated[
    list[EventTypeName],
    Meta(max_length=100, description="the event types wanted; empty for every type"),
]
Description = Annotated[str, Meta(max_length=500)]


class DeliveryStatus(enum.StrEnum):
    """`pending`: waiting for its (next) attempt; `delivered`: the endpoint answered 2xx;
    `failed`: given up (retries exhausted, or the endpoint answered 410)."""

    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # given up: retries exhausted, or the endpoint answered 410


class DisabledReason(enum.StrEnum):
    """Why an endpoint is disabled: `gone` (it answered 410 Gone), `failing` (every delivery
    failed for five days), `manual` (its owner turned it off)."""

    GONE = "gone"  # the endpoint answered 410 Gone
    FAILING = "failing"  # every delivery failed for five days
    MANUAL = "manual"  # its owner turned it off


class WebhookEndpointIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A new endpoint: an https URL without credentials or fragment whose host resolves only
    to public addresses (a host that does not resolve yet is taken and checked again at
    each delivery), and the event types it wants."""

    url: Url
    event_types: EventTypes = []
    description: Description = ""
    enabled: bool = True


class WebhookEndpointPatch(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Fields to change (absent or null: unchanged). Enabling a disabled endpoint clears the
    reason it was disabled for."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class WebhookEndpointOut(msgspec.Struct, kw_only=True, frozen=True):
    """An endpoint without its secret; `failing_since` is its first failed attempt since
    the last success. While `previous_secret_expires_at` is ahead, messages carry a second
    signature made with the secret before the last rotation."""

    id: UUID
    url: str
    event_types: Annotated[list[str], Meta(description="the event types sent; empty for all")]
    description: str
    enabled: bool
    disabled_reason: DisabledReason | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointOut, kw_only=True, frozen=True):
    """The endpoint with its signing secret, shown only in this answer."""

    secret: str


class WebhookEndpointList(msgspec.Struct, kw_only=True, frozen=True):
    """The merchant's endpoints, oldest first (at most 16)."""

    items: list[WebhookEndpointOut]


class WebhookDeliveryOut(msgspec.Struct, kw_only=True, frozen=True):
    """One event (or ping) for one endpoint: `message_id` is its `webhook-id` on every
    attempt; `next_attempt_at` is when it is tried next while pending."""

    id: UUID
    endpoint_id: UUID
    event_id: Annotated[int, Meta(description="the event sent; null for a test ping")] | None
    event_type: str
    message_id: Annotated[
        str, Meta(description="the `webhook-id` header: `evt_<event id>`, or `ping_<id>`")
    ]
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookAttemptOut(msgspec.Struct, kw_only=True, frozen=True):
    """One HTTP attempt: the status code answered (none when no answer came) and how long
    it took."""

    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


class WebhookDeliveryDetail(WebhookDeliveryOut, kw_only=True, frozen=True):
    """A delivery with every attempt made, oldest first."""

    attempts_made: list[WebhookAttemptOut]


class WebhookDeliveryPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of an endpoint's deliveries, newest first; `next_cursor` is null on the last
    page."""

    items: list[WebhookDeliveryOut]
    next_cursor: str | None


class WebhookObject(msgspec.Struct, kw_only=True, frozen=True):
    """The object an event is about. `version` grows with each of its events: a receiver
    that already holds a higher version of the object may drop the message as stale."""

    type: str
    id: UUID
    version: int


class WebhookPing(msgspec.Struct, kw_only=True, frozen=True):
    """The `data` of a test message (`type` = `ping`) sent on request."""

    endpoint_id: UUID
    message: str

"""The OpenAPI document's `webhooks` section: one entry per event type (and the test `ping`),
each the signed POST a partner's endpoint receives, with its payload schema.

The payload schemas are the components generated from `contracts.events` (the events API
returns them as `data`), referenced here by name, so the two can never disagree.
"""

from typing import get_args

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
    Tag,
)

from contracts.events import EventPayload
from services import events

TAG = "webhooks"
SIGNATURES = (
    "Every message is a POST with a JSON body, signed as the Standard Webhooks specification "
    "says (https://www.standardwebhooks.com). `webhook-id` is the message id (`evt_<event "
    "id>`, the same on every attempt: deduplicate by it), `webhook-timestamp` the attempt's "
    "time in Unix seconds, and `webhook-signature` a space-separated list of `v1,<base64>` "
    "signatures: HMAC-SHA256, keyed with the base64-decoded part of the endpoint's `whsec_` "
    "secret, over `<webhook-id>.<webhook-timestamp>.<body>`. During the 24 hours after a "
    "secret rotation a second signature, made with the previous secret, is included. Verify "
    "the signature over the raw body before parsing it, and refuse timestamps more than five "
    "minutes away (any Standard Webhooks library does both).\n\n"
    "Answer 2xx within 10 seconds to acknowledge; anything else (or no answer) is retried "
    "with exponential backoff and jitter after about 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, "
    "10 h, 14 h, 20 h and 20 h (eleven attempts over about three days). 410 Gone disables the "
    "endpoint; so do five days without a successful delivery. Messages about one object are "
    "sent in order, the next only after the previous one was delivered or given up; "
    "`object.version` grows with each event of the object, so a receiver holding a higher "
    "version may drop a message as stale."
)
_HEADERS = {
    "webhook-id": "the message id, the same on every attempt",
    "webhook-timestamp": "the attempt's time, Unix seconds",
    "webhook-signature": "space-separated `v1,<base64 HMAC-SHA256>` signatures",
}


def _object() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "id", "version"],
        properties={
            "type": Schema(type=OpenAPIType.STRING, description="the kind of object"),
            "id": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
            "version": Schema(
                type=OpenAPIType.INTEGER,
                description="grows with each event of the object (its event id)",
            ),
        },
    )


def _message(kind: str, data: Schema | Reference) -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["id", "type", "timestamp", "object", "data"],
        properties={
            "id": Schema(type=OpenAPIType.STRING, description="the message id (`webhook-id`)"),
            "type": Schema(type=OpenAPIType.STRING, const=kind),
            "timestamp": Schema(
                type=OpenAPIType.STRING,
                format=OpenAPIFormat.DATE_TIME,
                description="when the event happened",
            ),
            "object": _object(),
            "data": data,
        },
    )


def _operation(kind: str, summary: str, data: Schema | Reference) -> PathItem:
    return PathItem(
        post=Operation(
            tags=[TAG],
            summary=summary,
            description=SIGNATURES,
            operation_id=f"webhook_{kind.replace('.', '_')}",
            parameters=[
                Parameter(
                    name=name,
                    param_in="header",  # type: ignore[arg-type]
                    required=True,
                    schema=Schema(type=OpenAPIType.STRING),
                    description=text,
                )
                for name, text in _HEADERS.items()
            ],
            request_body=RequestBody(
                required=True,
                content={"application/json": OpenAPIMediaType(schema=_message(kind, data))},
            ),
            responses={
                "2XX": OpenAPIResponse(description="Received; the message is not sent again"),
                "410": OpenAPIResponse(description="Gone: the endpoint is disabled"),
                "default": OpenAPIResponse(description="Failed: the message is retried"),
            },
        )
    )


def _summary(kind: type) -> str:
    doc = (kind.__doc__ or "").strip()
    first = " ".join(doc.split("\n\n")[0].split())
    return first or f"The {events.type_of(kind)} event"


def webhooks_section() -> dict[str, PathItem | Reference]:
    """Every event type of `contracts.events`, by type, and the test `ping`."""
    section: dict[str, PathItem | Reference] = {}
    for kind in get_args(EventPayload):
        name = events.type_of(kind)
        section[name] = _operation(
            name, _summary(kind), Reference(ref=f"#/components/schemas/{kind.__name__}")
        )
    ping = Schema(
        type=OpenAPIType.OBJECT,
        required=["endpoint_id", "message"],
        properties={
            "endpoint_id": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
            "message": Schema(type=OpenAPIType.STRING),
        },
    )
    section["ping"] = _operation("ping", "A test message, sent on request", ping)
    return section


def webhooks_tag() -> Tag:
    return Tag(name=TAG, description=SIGNATURES)

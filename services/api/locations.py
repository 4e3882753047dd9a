"""Where a created object is read: the `Location` of every 201 (and of a plan's 202), and the
document's links from each creating operation to the operation that reads what it made.

One table, by the type of the answer, serves both: the service sets the header from it and
the document says it (with an OpenAPI link) from it, so the two cannot drift apart.
"""

from dataclasses import dataclass
from typing import Any

from litestar import Response

from contracts.accounts import ApiKeyCreated, InvitationOut, Me
from contracts.briefs import BriefOut
from contracts.delivery import SubmissionOut
from contracts.disputes import DisputeOut
from contracts.kols import AccountOut
from contracts.offers import OfferOut
from contracts.plans import PlanOut
from contracts.pricing import RateCard
from contracts.tracking import ConversionOut
from contracts.webhooks import WebhookDeliveryOut, WebhookEndpointCreated


@dataclass(frozen=True)
class Reading:
    """The path that reads the object, its parameters filled from fields of the answer."""

    path: str
    parameters: tuple[tuple[str, str], ...] = ()  # (path parameter, field of the answer)

    def of(self, created: Any) -> str:
        values = {name: getattr(created, field) for name, field in self.parameters}
        return self.path.format(**values)


READINGS: dict[type, Reading] = {
    Me: Reading("/v1/me"),
    ApiKeyCreated: Reading("/v1/api-keys"),
    InvitationOut: Reading("/v1/merchant/members"),
    BriefOut: Reading("/v1/briefs/{brief_id}", (("brief_id", "id"),)),
    OfferOut: Reading("/v1/offers/{offer_id}", (("offer_id", "id"),)),
    PlanOut: Reading("/v1/plans/{plan_id}", (("plan_id", "id"),)),
    ConversionOut: Reading("/v1/conversions/{conversion_id}", (("conversion_id", "id"),)),
    DisputeOut: Reading("/v1/disputes/{dispute_id}", (("dispute_id", "id"),)),
    SubmissionOut: Reading("/v1/deals/{deal_id}/submissions", (("deal_id", "deal_id"),)),
    AccountOut: Reading("/v1/kols/me"),
    RateCard: Reading("/v1/rate-cards/current"),
    WebhookEndpointCreated: Reading(
        "/v1/webhook-endpoints/{endpoint_id}", (("endpoint_id", "id"),)
    ),
    WebhookDeliveryOut: Reading(
        "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}",
        (("endpoint_id", "endpoint_id"), ("delivery_id", "id")),
    ),
}
CREATED_STATUSES = (201, 202)


async def locate(response: Response[Any]) -> Response[Any]:
    """An app `after_request` hook: a 201 or 202 says where its object is read. (Answers that
    are not `Response` objects, such as the tracking redirect, have no content to read.)"""
    content = getattr(response, "content", None)
    reading = READINGS.get(type(content))
    if reading and response.status_code in CREATED_STATUSES and "location" not in response.headers:
        response.headers["Location"] = reading.of(content)
    return response

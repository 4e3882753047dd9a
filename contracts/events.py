"""Event payloads: what the outbox records for every state change, and what partners receive.

Each payload carries its type as the tag `type` (for example `offer.accepted`); a payload's
fields only ever grow, so consumers may ignore what they do not know.
"""

from datetime import datetime
from uuid import UUID

import msgspec

from contracts.deals import DealStatus
from contracts.offers import OfferOrigin, Side


class _Event(msgspec.Struct, kw_only=True, frozen=True, tag_field="type"):
    pass


class BriefPublished(_Event, tag="brief.published", frozen=True):
    brief_id: UUID
    merchant_id: UUID
    budget: int
    currency: str


class BriefClosed(_Event, tag="brief.closed", frozen=True):
    """No new applications or invitations; negotiations under way continue."""

    brief_id: UUID
    merchant_id: UUID


class BriefCancelled(_Event, tag="brief.cancelled", frozen=True):
    """The campaign is called off; its open offers were withdrawn (deals stand)."""

    brief_id: UUID
    merchant_id: UUID
    withdrawn_offers: int


class OfferCreated(_Event, tag="offer.created", frozen=True):
    offer_id: UUID
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    origin: OfferOrigin
    revision: int
    proposed_by: Side
    fixed_fee: int
    merchant_pays: int
    currency: str
    expires_at: datetime


class OfferCountered(_Event, tag="offer.countered", frozen=True):
    offer_id: UUID
    brief_id: UUID
    revision: int
    proposed_by: Side
    fixed_fee: int
    merchant_pays: int
    currency: str
    expires_at: datetime


class OfferAccepted(_Event, tag="offer.accepted", frozen=True):
    offer_id: UUID
    brief_id: UUID
    revision: int
    accepted_by: Side
    deal_id: UUID


class OfferDeclined(_Event, tag="offer.declined", frozen=True):
    offer_id: UUID
    brief_id: UUID
    revision: int
    declined_by: Side


class OfferWithdrawn(_Event, tag="offer.withdrawn", frozen=True):
    offer_id: UUID
    brief_id: UUID
    revision: int
    withdrawn_by: Side


class OfferExpired(_Event, tag="offer.expired", frozen=True):
    offer_id: UUID
    brief_id: UUID
    revision: int
    expired_at: datetime


class DealCreated(_Event, tag="deal.created", frozen=True):
    deal_id: UUID
    offer_id: UUID
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    status: DealStatus
    terms_sha256: str
    merchant_pays: int
    currency: str


class DealFunded(_Event, tag="deal.funded", frozen=True):
    """The merchant's payment succeeded; the money is held in the deal's escrow."""

    deal_id: UUID
    merchant_id: UUID
    kol_id: UUID
    amount: int
    currency: str
    payment_intent_id: str


class DealRefunded(_Event, tag="deal.refunded", frozen=True):
    deal_id: UUID
    merchant_id: UUID
    amount: int
    currency: str
    full: bool
    stripe_refund_id: str


class DealCancelled(_Event, tag="deal.cancelled", frozen=True):
    """Called off before funding; no money had moved."""

    deal_id: UUID
    merchant_id: UUID


class DealPaid(_Event, tag="deal.paid", frozen=True):
    """The creator fee left for the KOL's connected account."""

    deal_id: UUID
    kol_id: UUID
    amount: int
    currency: str
    transfer_id: str


class PayoutScheduled(_Event, tag="payout.scheduled", frozen=True):
    """Escrow was released on approval; the payout is promised for `due_at`."""

    payout_id: UUID
    deal_id: UUID
    kol_id: UUID
    amount: int
    currency: str
    due_at: datetime


class PayoutPaused(_Event, tag="payout.paused", frozen=True):
    payout_id: UUID
    deal_id: UUID
    kol_id: UUID
    reason: str


class PayoutFailed(_Event, tag="payout.failed", frozen=True):
    """A transfer attempt failed; it is retried and stays visible until it succeeds."""

    payout_id: UUID
    deal_id: UUID
    kol_id: UUID
    attempts: int
    error: str


class SubmissionCreated(_Event, tag="submission.created", frozen=True):
    """The KOL submitted one piece of content; the merchant reviews it until `review_due_at`."""

    submission_id: UUID
    deal_id: UUID
    kol_id: UUID
    deliverable: int
    platform: str
    url: str
    posted_at: datetime
    review_due_at: datetime


class SubmissionApproved(_Event, tag="submission.approved", frozen=True):
    """Approved by the merchant, or automatically (`auto`) when the review window ended."""

    submission_id: UUID
    deal_id: UUID
    deliverable: int
    auto: bool


class SubmissionChangesRequested(_Event, tag="submission.changes_requested", frozen=True):
    submission_id: UUID
    deal_id: UUID
    deliverable: int
    reason: str


class DealApproved(_Event, tag="deal.approved", frozen=True):
    """Every piece of content was approved; escrow is released to the KOL."""

    deal_id: UUID
    merchant_id: UUID
    kol_id: UUID
    approved_at: datetime


class DealClosed(_Event, tag="deal.closed", frozen=True):
    """Paid and past its attribution window: no more commission accrues."""

    deal_id: UUID
    merchant_id: UUID
    kol_id: UUID


class DisputeOpened(_Event, tag="dispute.opened", frozen=True):
    """Approved content was reported taken down too early; the deal's payout is on hold."""

    dispute_id: UUID
    deal_id: UUID
    submission_id: UUID | None
    kind: str
    opened_by: str
    observed_at: datetime | None
    prior_status: DealStatus


class DisputeResolved(_Event, tag="dispute.resolved", frozen=True):
    """An operator's decision: `pay_kol`, or `refund` of `refund_amount` to the merchant (of
    which `clawback` was taken back from the KOL's unpaid payout)."""

    dispute_id: UUID
    deal_id: UUID
    outcome: str
    refund_amount: int
    clawback: int
    currency: str
    deal_status: DealStatus


class ConversionRecorded(_Event, tag="conversion.recorded", frozen=True):
    """A partner's order report and how it was judged (see contracts.tracking)."""

    conversion_id: UUID
    merchant_id: UUID
    deal_id: UUID | None
    order_id: str
    amount: int
    currency: str
    status: str
    reasons: list[str]
    commission: int


class ConversionReversed(_Event, tag="conversion.reversed", frozen=True):
    """A return: the order no longer counts and its commission is not owed."""

    conversion_id: UUID
    merchant_id: UUID
    deal_id: UUID | None
    order_id: str
    commission: int
    reason: str


class ConversionApproved(_Event, tag="conversion.approved", frozen=True):
    """The holding period ended: the order's commission is booked and will be settled."""

    conversion_id: UUID
    merchant_id: UUID
    deal_id: UUID
    order_id: str
    commission: int
    platform_cut: int


class ConversionReviewed(_Event, tag="conversion.reviewed", frozen=True):
    """An operator decided a held order: `pending` (it counts) or `rejected`."""

    conversion_id: UUID
    merchant_id: UUID
    deal_id: UUID | None
    order_id: str
    status: str
    note: str


class ConversionPaid(_Event, tag="conversion.paid", frozen=True):
    """The KOL's share of the order's commission was transferred."""

    conversion_id: UUID
    merchant_id: UUID
    deal_id: UUID
    order_id: str
    transfer_id: str


class DealStatusChanged(_Event, tag="deal.status_changed", frozen=True):
    """A deal moved to `status` (from `previous`) in a step that has no event of its own:
    content submitted, a dispute opened or ended, a cancellation refunded."""

    deal_id: UUID
    merchant_id: UUID
    kol_id: UUID
    previous: DealStatus
    status: DealStatus


class WebhookEndpointDisabled(_Event, tag="webhook_endpoint.disabled", frozen=True):
    """A webhook endpoint stopped receiving events: it answered 410 Gone (`gone`), or every
    delivery to it failed for five days (`failing`). Its owner re-enables it when fixed."""

    endpoint_id: UUID
    merchant_id: UUID
    url: str
    reason: str
    failing_since: datetime | None


EventPayload = (
    BriefPublished
    | BriefClosed
    | BriefCancelled
    | OfferCreated
    | OfferCountered
    | OfferAccepted
    | OfferDeclined
    | OfferWithdrawn
    | OfferExpired
    | DealCreated
    | DealFunded
    | DealRefunded
    | DealCancelled
    | DealPaid
    | PayoutScheduled
    | PayoutPaused
    | PayoutFailed
    | SubmissionCreated
    | SubmissionApproved
    | SubmissionChangesRequested
    | DealApproved
    | DealClosed
    | DisputeOpened
    | DisputeResolved
    | ConversionRecorded
    | ConversionReversed
    | ConversionApproved
    | ConversionReviewed
    | ConversionPaid
    | DealStatusChanged
    | WebhookEndpointDisabled
)

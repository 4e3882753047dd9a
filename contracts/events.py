"""Event payloads: what the outbox records for every state change, and what partners receive.

Each payload carries its type as the tag `type` (for example `offer.accepted`); a payload's
fields only ever grow, so consumers may ignore what they do not know.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.accounts import AccountRole
from contracts.deals import DealStatus
from contracts.notifications import NotificationKind
from contracts.offers import OfferOrigin, Side

# Money in events is integer minor units of the event's `currency`.
Money = Annotated[int, Meta(description="integer minor units of `currency`")]
Deliverable = Annotated[int, Meta(description="index into the deal's terms.deliverables")]


class _Event(msgspec.Struct, kw_only=True, frozen=True, tag_field="type"):
    """Every event payload: its type is the tag `type`."""


class _BriefEvent(_Event, frozen=True):
    """About a merchant's brief."""

    brief_id: UUID
    merchant_id: UUID


class BriefPublished(_BriefEvent, tag="brief.published", frozen=True):
    """The brief opened: invitations and (unless invite only) applications are taken."""

    budget: Money
    currency: str


class BriefClosed(_BriefEvent, tag="brief.closed", frozen=True):
    """No new applications or invitations; negotiations under way continue."""


class BriefCancelled(_BriefEvent, tag="brief.cancelled", frozen=True):
    """The campaign is called off; its open offers were withdrawn (deals stand)."""

    withdrawn_offers: int


class _OfferEvent(_Event, frozen=True):
    """About `revision` of the offer: the one proposed, or the latest when it was answered."""

    offer_id: UUID
    brief_id: UUID
    revision: int


class _Proposal(_OfferEvent, frozen=True):
    """A new revision of the offer: who proposed it, its price and when it lapses."""

    proposed_by: Side
    fixed_fee: Money
    merchant_pays: Annotated[
        int, Meta(description="fixed fee + platform fee, integer minor units of `currency`")
    ]
    currency: str
    expires_at: datetime


class OfferCreated(_Proposal, tag="offer.created", frozen=True):
    """An offer opened with its first revision: a merchant's invitation or a KOL's
    application."""

    merchant_id: UUID
    kol_id: UUID
    origin: OfferOrigin


class OfferCountered(_Proposal, tag="offer.countered", frozen=True):
    """One side answered the latest revision with new terms (`revision`)."""


class OfferAccepted(_OfferEvent, tag="offer.accepted", frozen=True):
    """The latest revision was accepted; the deal `deal_id` was made from it."""

    accepted_by: Side
    deal_id: UUID


class OfferDeclined(_OfferEvent, tag="offer.declined", frozen=True):
    """The side that did not propose the latest revision declined it; the offer is closed."""

    declined_by: Side


class OfferWithdrawn(_OfferEvent, tag="offer.withdrawn", frozen=True):
    """The proposer withdrew the latest revision (or the merchant cancelled the brief); the
    offer is closed."""

    withdrawn_by: Side


class OfferExpired(_OfferEvent, tag="offer.expired", frozen=True):
    """Nobody answered the latest revision before it lapsed; the offer is closed."""

    expired_at: datetime


class _DealEvent(_Event, frozen=True):
    """About a deal."""

    deal_id: UUID


class _MerchantDealEvent(_DealEvent, frozen=True):
    """About a deal, naming its merchant."""

    merchant_id: UUID


class _DealSidesEvent(_MerchantDealEvent, frozen=True):
    """About a deal, naming both its sides."""

    kol_id: UUID


class DealCreated(_DealSidesEvent, tag="deal.created", frozen=True):
    """An offer was accepted: the deal exists with its terms frozen (`terms_sha256`) and
    waits for the merchant's payment."""

    offer_id: UUID
    brief_id: UUID
    status: DealStatus
    terms_sha256: str
    merchant_pays: Money
    currency: str


class DealFunded(_DealSidesEvent, tag="deal.funded", frozen=True):
    """The merchant's payment succeeded; the money is held in the deal's escrow."""

    amount: Money
    currency: str
    payment_intent_id: str


class DealRefunded(_MerchantDealEvent, tag="deal.refunded", frozen=True):
    """Money went back to the merchant's card: all of escrow when a funded deal was
    cancelled (`full`), or part of it when a dispute was decided with a refund."""

    amount: Money
    currency: str
    full: bool
    stripe_refund_id: str


class DealCancelled(_MerchantDealEvent, tag="deal.cancelled", frozen=True):
    """Called off before funding; no money had moved."""


class DealPaid(_DealEvent, tag="deal.paid", frozen=True):
    """The creator fee left for the KOL's connected account."""

    kol_id: UUID
    amount: Money
    currency: str
    transfer_id: str


class _PayoutEvent(_Event, frozen=True):
    """About the payout of a deal's creator fee to its KOL."""

    payout_id: UUID
    deal_id: UUID
    kol_id: UUID


class PayoutScheduled(_PayoutEvent, tag="payout.scheduled", frozen=True):
    """Escrow was released on approval; the payout is promised for `due_at`."""

    amount: Money
    currency: str
    due_at: datetime


class PayoutPaused(_PayoutEvent, tag="payout.paused", frozen=True):
    """The payout is held (a dispute opened on the deal) until the dispute is decided."""

    reason: str


class PayoutFailed(_PayoutEvent, tag="payout.failed", frozen=True):
    """A transfer attempt failed; it is retried and stays visible until it succeeds."""

    attempts: int
    error: str


class _SubmissionEvent(_Event, frozen=True):
    """About a piece of content the KOL submitted for a deal."""

    submission_id: UUID
    deal_id: UUID


class SubmissionCreated(_SubmissionEvent, tag="submission.created", frozen=True):
    """The KOL submitted one piece of content; the merchant reviews it until `review_due_at`."""

    kol_id: UUID
    deliverable: Deliverable
    platform: str
    url: str
    posted_at: datetime
    review_due_at: datetime


class SubmissionApproved(_SubmissionEvent, tag="submission.approved", frozen=True):
    """Approved by the merchant, or automatically (`auto`) when the review window ended."""

    deliverable: Deliverable
    auto: bool


class SubmissionChangesRequested(_SubmissionEvent, tag="submission.changes_requested", frozen=True):
    """The merchant sent the content back with `reason`; the KOL submits a new piece."""

    deliverable: Deliverable
    reason: str


class DealApproved(_DealSidesEvent, tag="deal.approved", frozen=True):
    """Every piece of content was approved; escrow is released to the KOL."""

    approved_at: datetime


class DealClosed(_DealSidesEvent, tag="deal.closed", frozen=True):
    """Paid and past its attribution window: no more commission accrues."""


class _DisputeEvent(_Event, frozen=True):
    """About a dispute on a deal."""

    dispute_id: UUID
    deal_id: UUID


class DisputeOpened(_DisputeEvent, tag="dispute.opened", frozen=True):
    """Approved content was reported taken down too early; the deal's payout is on hold."""

    submission_id: UUID | None
    kind: str
    opened_by: str
    observed_at: datetime | None
    prior_status: DealStatus


class DisputeResolved(_DisputeEvent, tag="dispute.resolved", frozen=True):
    """An operator's decision: `pay_kol`, or `refund` of `refund_amount` to the merchant (of
    which `clawback` was taken back from the KOL's unpaid payout)."""

    outcome: str
    refund_amount: Money
    clawback: Money
    currency: str
    deal_status: DealStatus


class _ConversionEvent(_Event, frozen=True):
    """About a partner's order; `deal_id` is null for an order no deal was found for."""

    conversion_id: UUID
    merchant_id: UUID
    deal_id: UUID | None
    order_id: str


class ConversionRecorded(_ConversionEvent, tag="conversion.recorded", frozen=True):
    """A partner's order report and how it was judged (`status` and `reasons` as in
    ConversionOut)."""

    amount: Money
    currency: str
    status: str
    reasons: list[str]
    commission: Annotated[int, Meta(description="integer minor units of the order's currency")]


class ConversionReversed(_ConversionEvent, tag="conversion.reversed", frozen=True):
    """A return: the order no longer counts and its commission is not owed."""

    commission: Annotated[int, Meta(description="integer minor units of the order's currency")]
    reason: str


class ConversionApproved(_ConversionEvent, tag="conversion.approved", frozen=True):
    """The holding period ended: the order's commission is booked and will be settled."""

    deal_id: UUID  # never null: an approved or paid order is a deal's
    commission: Annotated[int, Meta(description="integer minor units of the order's currency")]
    platform_cut: Annotated[
        int, Meta(description="the marketplace's share of the commission, same units")
    ]


class ConversionReviewed(_ConversionEvent, tag="conversion.reviewed", frozen=True):
    """An operator decided a held order: `pending` (it counts) or `rejected`."""

    status: str
    note: str


class ConversionPaid(_ConversionEvent, tag="conversion.paid", frozen=True):
    """The KOL's share of the order's commission was transferred."""

    deal_id: UUID  # never null: an approved or paid order is a deal's
    transfer_id: str


class DealStatusChanged(_DealSidesEvent, tag="deal.status_changed", frozen=True):
    """A deal moved to `status` (from `previous`) in a step that has no event of its own:
    content submitted, a dispute opened or ended, a cancellation refunded."""

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


class AccountDisabled(_Event, tag="account.disabled", frozen=True):
    """An operator disabled the account: it cannot log in, its access tokens stop working on
    their next request and its refresh tokens were revoked."""

    user_id: UUID
    role: AccountRole
    disabled_at: datetime


class AccountEnabled(_Event, tag="account.enabled", frozen=True):
    """An operator enabled the account again; it logs in anew."""

    user_id: UUID
    role: AccountRole


class MerchantDisabled(_Event, tag="merchant.disabled", frozen=True):
    """An operator disabled the merchant: its members cannot log in or act, and its API keys
    stop working on their next request."""

    merchant_id: UUID
    disabled_at: datetime


class MerchantEnabled(_Event, tag="merchant.enabled", frozen=True):
    """An operator enabled the merchant again: its members log in anew and its keys work."""

    merchant_id: UUID


class NotificationCreated(_Event, tag="notification.created", frozen=True):
    """A notification reached a user's inbox: filed under the recipient's side only (a KOL's
    own, its merchant's for a member, operators' for an operator)."""

    notification_id: UUID
    user_id: UUID
    kind: NotificationKind
    title: str
    body: str
    link: str
    object_type: str
    object_id: UUID


class NotificationRead(_Event, tag="notification.read", frozen=True):
    """A user read one notification (`notification_id`), or all (`notification_id` null)."""

    user_id: UUID
    notification_id: UUID | None
    read: int
    unread: int


class _PlanEvent(_Event, frozen=True):
    """About a merchant's plan (an allocation or a selection, `kind`)."""

    plan_id: UUID
    brief_id: UUID | None
    merchant_id: UUID
    kind: str


class PlanFinished(_PlanEvent, tag="plan.finished", frozen=True):
    """A plan ended: `solved` (with why it stopped), `infeasible`, `failed` or `cancelled`."""

    status: str
    stop_reason: str | None
    objective_value: float | None
    bound: float | None
    gap: float | None


class PlanAdopted(_PlanEvent, tag="plan.adopted", frozen=True):
    """The plan became its brief's plan of record (replacing `replaced`, if any)."""

    replaced: UUID | None


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
    | AccountDisabled
    | AccountEnabled
    | MerchantDisabled
    | MerchantEnabled
    | NotificationCreated
    | NotificationRead
    | PlanFinished
    | PlanAdopted
)


class EventType(enum.StrEnum):
    """Every event type, the tag of its payload (`offer.accepted`); see EventPayload."""

    BRIEF_PUBLISHED = "brief.published"
    BRIEF_CLOSED = "brief.closed"
    BRIEF_CANCELLED = "brief.cancelled"
    OFFER_CREATED = "offer.created"
    OFFER_COUNTERED = "offer.countered"
    OFFER_ACCEPTED = "offer.accepted"
    OFFER_DECLINED = "offer.declined"
    OFFER_WITHDRAWN = "offer.withdrawn"
    OFFER_EXPIRED = "offer.expired"
    DEAL_CREATED = "deal.created"
    DEAL_FUNDED = "deal.funded"
    DEAL_REFUNDED = "deal.refunded"
    DEAL_CANCELLED = "deal.cancelled"
    DEAL_PAID = "deal.paid"
    PAYOUT_SCHEDULED = "payout.scheduled"
    PAYOUT_PAUSED = "payout.paused"
    PAYOUT_FAILED = "payout.failed"
    SUBMISSION_CREATED = "submission.created"
    SUBMISSION_APPROVED = "submission.approved"
    SUBMISSION_CHANGES_REQUESTED = "submission.changes_requested"
    DEAL_APPROVED = "deal.approved"
    DEAL_CLOSED = "deal.closed"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_RESOLVED = "dispute.resolved"
    CONVERSION_RECORDED = "conversion.recorded"
    CONVERSION_REVERSED = "conversion.reversed"
    CONVERSION_APPROVED = "conversion.approved"
    CONVERSION_REVIEWED = "conversion.reviewed"
    CONVERSION_PAID = "conversion.paid"
    DEAL_STATUS_CHANGED = "deal.status_changed"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    ACCOUNT_DISABLED = "account.disabled"
    ACCOUNT_ENABLED = "account.enabled"
    MERCHANT_DISABLED = "merchant.disabled"
    MERCHANT_ENABLED = "merchant.enabled"
    NOTIFICATION_CREATED = "notification.created"
    NOTIFICATION_READ = "notification.read"
    PLAN_FINISHED = "plan.finished"
    PLAN_ADOPTED = "plan.adopted"

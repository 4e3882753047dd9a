"""Which events notify whom: each event the consumer reads becomes the intents it implies.

An event already names its objects and its two sides (the row's `merchant_id` and `kol_id`);
the texts' other values (names, the brief's title) are read later from `Intent.context`.
Pure: no I/O. Reminders (`offer_expiring`, `review_closing`) come from due windows instead,
see `reminders`.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from contracts.disputes import DisputeOpener
from contracts.events import (
    ConversionRecorded,
    DealApproved,
    DealFunded,
    DealPaid,
    DisputeOpened,
    DisputeResolved,
    EventPayload,
    OfferAccepted,
    OfferCountered,
    OfferCreated,
    OfferDeclined,
    OfferWithdrawn,
    SubmissionChangesRequested,
    SubmissionCreated,
)
from contracts.notifications import NotificationKind as K
from contracts.offers import OfferOrigin, Side
from contracts.tracking import ConversionStatus
from services import events
from services.notifications import rules
from services.notifications.rules import Audience, Intent

Sides = tuple[UUID | None, UUID | None]  # the event row's (merchant_id, kol_id)


def audience_of(side: Side) -> Audience:
    return Audience.KOL if side is Side.KOL else Audience.MEMBERS


def other(side: Side) -> Side:
    return Side.MERCHANT if side is Side.KOL else Side.KOL


def _offer(
    kind: K, to: Side, event: Any, sides: Sides, link: str | None = None, **values: Any
) -> list[Intent]:
    return [
        Intent(
            kind=kind, audience=audience_of(to), object_type="offer", object_id=event.offer_id,
            link=link or rules.offer_link(event.offer_id), context=("offer", event.offer_id),
            merchant_id=sides[0], kol_id=sides[1], values=values,
        )
    ]  # fmt: skip


def _proposal(event: OfferCreated | OfferCountered) -> dict[str, Any]:
    return {
        "fee": rules.money(event.fixed_fee, event.currency),
        "expires": rules.moment(event.expires_at),
    }


def offer_created(event: OfferCreated, sides: Sides) -> list[Intent]:
    if event.origin is OfferOrigin.INVITATION:
        return _offer(K.OFFER_INVITATION, Side.KOL, event, sides, **_proposal(event))
    return _offer(K.OFFER_APPLICATION, Side.MERCHANT, event, sides, **_proposal(event))


def offer_countered(event: OfferCountered, sides: Sides) -> list[Intent]:
    return _offer(K.OFFER_COUNTERED, other(event.proposed_by), event, sides, **_proposal(event))


def offer_accepted(event: OfferAccepted, sides: Sides) -> list[Intent]:
    """About the offer, linking to the deal it became (the merchant funds it there)."""
    to = other(event.accepted_by)
    return _offer(K.OFFER_ACCEPTED, to, event, sides, link=rules.deal_link(event.deal_id))


def offer_declined(event: OfferDeclined, sides: Sides) -> list[Intent]:
    return _offer(K.OFFER_DECLINED, other(event.declined_by), event, sides)


def offer_withdrawn(event: OfferWithdrawn, sides: Sides) -> list[Intent]:
    return _offer(K.OFFER_WITHDRAWN, other(event.withdrawn_by), event, sides)


def _submission(
    kind: K, audience: Audience, deal_id: UUID, submission_id: UUID, sides: Sides, **values: Any
) -> Intent:
    return Intent(
        kind=kind, audience=audience, object_type="submission", object_id=submission_id,
        link=rules.submission_link(deal_id, submission_id), context=("deal", deal_id),
        merchant_id=sides[0], kol_id=sides[1], values=values,
    )  # fmt: skip


def submission_created(event: SubmissionCreated, sides: Sides) -> list[Intent]:
    due = rules.moment(event.review_due_at)
    return [
        _submission(
            K.SUBMISSION_WAITING, Audience.MEMBERS, event.deal_id, event.submission_id, sides,
            due=due,
        )
    ]  # fmt: skip


def changes_requested(event: SubmissionChangesRequested, sides: Sides) -> list[Intent]:
    reason = rules.clean(event.reason, 300)
    return [
        _submission(
            K.CHANGES_REQUESTED, Audience.KOL, event.deal_id, event.submission_id, sides,
            reason=reason,
        )
    ]  # fmt: skip


def _deal(kind: K, audience: Audience, deal_id: UUID, sides: Sides, **values: Any) -> Intent:
    return Intent(
        kind=kind, audience=audience, object_type="deal", object_id=deal_id,
        link=rules.deal_link(deal_id), context=("deal", deal_id), merchant_id=sides[0],
        kol_id=sides[1], values=values,
    )  # fmt: skip


def deal_approved(event: DealApproved, sides: Sides) -> list[Intent]:
    return [_deal(K.DEAL_APPROVED, Audience.KOL, event.deal_id, (event.merchant_id, event.kol_id))]


def deal_paid(event: DealPaid, sides: Sides) -> list[Intent]:
    amount = rules.money(event.amount, event.currency)
    return [
        _deal(K.PAYOUT_SENT, Audience.KOL, event.deal_id, (sides[0], event.kol_id), amount=amount)
    ]


def deal_funded(event: DealFunded, sides: Sides) -> list[Intent]:
    """Kept only when the KOL cannot be paid yet (the consumer checks its payout account)."""
    return [
        Intent(
            kind=K.PAYOUT_ACCOUNT_INCOMPLETE, audience=Audience.KOL, object_type="kol",
            object_id=event.kol_id, link=rules.PAYOUT_SETUP_LINK,
            context=("deal", event.deal_id), merchant_id=event.merchant_id, kol_id=event.kol_id,
        )
    ]  # fmt: skip


def _dispute(kind: K, audience: Audience, event: Any, sides: Sides, **values: Any) -> Intent:
    return Intent(
        kind=kind, audience=audience, object_type="dispute", object_id=event.dispute_id,
        link=rules.dispute_link(event.dispute_id), context=("deal", event.deal_id),
        merchant_id=sides[0], kol_id=sides[1], values=values,
    )  # fmt: skip


def dispute_opened(event: DisputeOpened, sides: Sides) -> list[Intent]:
    """The KOL whose payout is held and the operators who decide; the merchant's owners too
    when they did not report it themselves (a partner or an operator did)."""
    audiences = [Audience.KOL, Audience.OPERATORS]
    if event.opened_by != DisputeOpener.MERCHANT:
        audiences.append(Audience.OWNERS)
    return [_dispute(K.TAKEDOWN_REPORTED, a, event, sides) for a in audiences]


def dispute_resolved(event: DisputeResolved, sides: Sides) -> list[Intent]:
    return [
        _dispute(K.DISPUTE_RESOLVED, a, event, sides, outcome=event.outcome)
        for a in (Audience.KOL, Audience.OWNERS)
    ]


def conversion_recorded(event: ConversionRecorded, sides: Sides) -> list[Intent]:
    if event.status != ConversionStatus.HELD:
        return []
    return [
        Intent(
            kind=K.CONVERSION_HELD, audience=Audience.OPERATORS, object_type="conversion",
            object_id=event.conversion_id, link=rules.conversion_link(event.conversion_id),
            context=("merchant", event.merchant_id), merchant_id=event.merchant_id,
            values={"order": rules.clean(event.order_id, 80), "count": 1},
        )
    ]  # fmt: skip


def coalesce_held(items: list[tuple[Intent, int | None]]) -> list[tuple[Intent, int | None]]:
    """Orders held from one batch of reports tell operators once per merchant: a partner
    sending 1,000 orders at a time must not send 1,000 mails. The first order stands for
    the others, with their count; the link then lists the held orders."""
    held: dict[UUID | None, list[Intent]] = {}
    for intent, _ in items:
        if intent.kind is K.CONVERSION_HELD:
            held.setdefault(intent.merchant_id, []).append(intent)
    kept: list[tuple[Intent, int | None]] = []
    for intent, event_id in items:
        group = held.get(intent.merchant_id, []) if intent.kind is K.CONVERSION_HELD else []
        if not group:
            kept.append((intent, event_id))
        elif group[0] is intent:
            count = len(group)
            link = intent.link if count == 1 else rules.HELD_ORDERS_LINK
            kept.append(
                (replace(intent, link=link, values={**intent.values, "count": count}), event_id)
            )
    return kept


SOURCES: dict[type[Any], Callable[[Any, Sides], list[Intent]]] = {
    OfferCreated: offer_created,
    OfferCountered: offer_countered,
    OfferAccepted: offer_accepted,
    OfferDeclined: offer_declined,
    OfferWithdrawn: offer_withdrawn,
    SubmissionCreated: submission_created,
    SubmissionChangesRequested: changes_requested,
    DealApproved: deal_approved,
    DealPaid: deal_paid,
    DealFunded: deal_funded,
    DisputeOpened: dispute_opened,
    DisputeResolved: dispute_resolved,
    ConversionRecorded: conversion_recorded,
}
TYPES = sorted(events.type_of(kind) for kind in SOURCES)  # the event types that can notify


def intents(event: EventPayload, sides: Sides) -> list[Intent]:
    """What `event` (filed under `sides`) tells whom; empty for events that notify no one."""
    source = SOURCES.get(type(event))
    return source(event, sides) if source is not None else []

"""Pure rules of negotiation: the offer state machine, when a brief takes offers, valid
terms, the breakdown of a revision, and the brief's budget."""

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from contracts.briefs import BriefStatus, Visibility
from contracts.common import Platform
from contracts.offers import Breakdown, OfferOrigin, OfferStatus, Side, Terms
from contracts.pricing import InputValue, LineCode, QuoteLine
from pricing.rounding import round_half_even
from services.errors import Invalid

BP = 10_000
MAX_OFFER_LIFETIME = timedelta(days=30)
# Label and formula in words of each line of a revision's breakdown.
LINES: dict[LineCode, tuple[str, str]] = {
    LineCode.CREATOR_FEE: ("Creator fee", "the fixed fee for all deliverables"),
    LineCode.PLATFORM_FEE: (
        "Platform fee",
        "creator fee × take rate (bp) / 10 000, rounded half to even",
    ),
    LineCode.MERCHANT_PAYS: ("Merchant pays", "creator fee + platform fee"),
    LineCode.COMMISSION_PER_CONVERSION: (
        "Commission per order",
        "min(average order value × commission rate (bp) / 10 000, cap), on orders within the "
        "attribution window; over the whole deal, commission = min(GMV × rate, cap)",
    ),
}


class Action(enum.StrEnum):
    COUNTER = "counter"
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"


# Expiry is the clock's move (the expiry job, guarded in SQL); every other one is a side's.
ALLOWED: dict[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.OPEN: frozenset(OfferStatus),
    OfferStatus.ACCEPTED: frozenset(),
    OfferStatus.DECLINED: frozenset(),
    OfferStatus.WITHDRAWN: frozenset(),
    OfferStatus.EXPIRED: frozenset(),
}


class Actor(enum.Enum):
    PROPOSER = "the side that proposed the latest revision"
    RESPONDER = "the side that did not propose the latest revision"


@dataclass(frozen=True, slots=True)
class Move:
    target: OfferStatus
    actor: Actor


MOVES: dict[Action, Move] = {
    Action.COUNTER: Move(OfferStatus.OPEN, Actor.RESPONDER),
    Action.ACCEPT: Move(OfferStatus.ACCEPTED, Actor.RESPONDER),
    Action.DECLINE: Move(OfferStatus.DECLINED, Actor.RESPONDER),
    Action.WITHDRAW: Move(OfferStatus.WITHDRAWN, Actor.PROPOSER),
}


@dataclass(frozen=True, slots=True)
class OfferState:
    status: OfferStatus
    latest_revision: int
    proposed_by: Side
    expires_at: datetime


def refusal(action: Action, offer: OfferState, side: Side, revision: int, now: datetime) -> str:
    """Why `side` may not take `action` on `revision` of the offer now ('' if it may)."""
    move = MOVES[action]
    if move.target not in ALLOWED[offer.status]:
        return f"the offer is {offer.status}; it cannot {action} any more"
    if revision != offer.latest_revision:
        return f"revision {revision} is not the latest; revision {offer.latest_revision} is"
    if offer.expires_at <= now:
        return f"the offer expired at {offer.expires_at.isoformat()}"
    is_proposer = offer.proposed_by == side
    if move.actor is Actor.PROPOSER and not is_proposer:
        return f"only the {offer.proposed_by} proposed revision {revision}, so only it may {action}"
    if move.actor is Actor.RESPONDER and is_proposer:
        return f"the {side} proposed revision {revision}; only the other side may {action} it"
    return ""


def counter_refusal(latest_revision: int, max_rounds: int) -> str:
    used = latest_revision - 1
    if used >= max_rounds:
        return f"this offer has used all {max_rounds} counter rounds; accept or decline it"
    return ""


def opening_refusal(
    origin: OfferOrigin,
    status: BriefStatus,
    visibility: Visibility,
    apply_by: datetime,
    now: datetime,
) -> str:
    """Why the brief takes no new offer of this origin now ('' if it does)."""
    if status != BriefStatus.OPEN:
        return f"the brief is {status}; it takes new offers only while open"
    if origin is OfferOrigin.APPLICATION:
        if visibility == Visibility.INVITE_ONLY:
            return "the brief is by invitation only; KOLs cannot apply"
        if apply_by <= now:
            return f"applications closed at {apply_by.isoformat()}"
    return ""


def payout_refusal(required: bool, ready: bool) -> str:
    """Why a brief that requires a ready payout account takes no offer of this KOL."""
    if required and not ready:
        return (
            "the brief requires a payout account that can receive payouts, and the KOL has "
            "none ready yet"
        )
    return ""


@dataclass(frozen=True, slots=True)
class BriefFrame:
    """What of a brief the terms of its offers must respect."""

    currency: str
    platforms: frozenset[Platform]
    posting_from: date
    posting_until: date
    average_order_value: int
    attribution_days: int


def check_terms(terms: Terms, brief: BriefFrame, now: datetime) -> None:
    """Raise Invalid naming every field of `terms` the brief does not allow."""
    found: list[tuple[str, str]] = []
    if terms.currency != brief.currency:
        found.append(("terms.currency", f"must be {brief.currency}, the brief's currency"))
    if terms.commission_cap is not None and terms.commission_bp == 0:
        found.append(("terms.commission_cap", "a cap needs a commission_bp above 0"))
    if terms.expires_at <= now:
        found.append(("terms.expires_at", "must be in the future"))
    elif terms.expires_at > now + MAX_OFFER_LIFETIME:
        found.append(("terms.expires_at", "must be at most 30 days ahead"))
    for i, item in enumerate(terms.deliverables):
        if item.platform not in brief.platforms:
            wanted = ", ".join(sorted(brief.platforms))
            found.append((f"terms.deliverables[{i}].platform", f"must be one of {wanted}"))
        if not brief.posting_from <= item.due_by <= brief.posting_until:
            window = f"{brief.posting_from} to {brief.posting_until}"
            found.append((f"terms.deliverables[{i}].due_by", f"must be within {window}"))
    if found:
        (field, message), *more = found
        raise Invalid(field, message, more=more)


def commission_per_order(average_order_value: int, commission_bp: int, cap: int | None) -> int:
    """Commission on one order at the average order value: min(AOV × rate, cap)."""
    amount = round_half_even(average_order_value * commission_bp, BP)
    return amount if cap is None else min(amount, cap)


def breakdown(terms: Terms, brief: BriefFrame, take_rate_bp: int, card_version: str) -> Breakdown:
    """The numbers both sides see for `terms`; each line is rounded once, half to even."""
    fee = terms.fixed_fee
    platform_fee = round_half_even(fee * take_rate_bp, BP)
    per_order = commission_per_order(
        brief.average_order_value, terms.commission_bp, terms.commission_cap
    )
    return Breakdown(
        currency=terms.currency,
        rate_card_version=card_version,
        take_rate_bp=take_rate_bp,
        attribution_days=brief.attribution_days,
        lines=_lines(terms, brief, take_rate_bp, card_version, platform_fee, per_order),
        creator_fee=fee,
        platform_fee=platform_fee,
        merchant_pays=fee + platform_fee,
        commission_per_order=per_order,
    )


def _lines(
    terms: Terms,
    brief: BriefFrame,
    take_rate_bp: int,
    card_version: str,
    platform_fee: int,
    per_order: int,
) -> list[QuoteLine]:
    fee, cap = terms.fixed_fee, terms.commission_cap
    items = sum(d.count for d in terms.deliverables)
    fee_inputs: dict[str, InputValue] = {"fixed_fee": fee, "deliverable_items": items}
    platform_inputs: dict[str, InputValue] = {
        "creator_fee": fee,
        "take_rate_bp": take_rate_bp,
        "rate_card_version": card_version,
    }
    pays_inputs: dict[str, InputValue] = {"creator_fee": fee, "platform_fee": platform_fee}
    commission_inputs: dict[str, InputValue] = {
        "average_order_value": brief.average_order_value,
        "commission_bp": terms.commission_bp,
        "commission_cap": "none" if cap is None else cap,
        "attribution_days": brief.attribution_days,
    }
    amounts = {
        LineCode.CREATOR_FEE: (fee_inputs, fee),
        LineCode.PLATFORM_FEE: (platform_inputs, platform_fee),
        LineCode.MERCHANT_PAYS: (pays_inputs, fee + platform_fee),
        LineCode.COMMISSION_PER_CONVERSION: (commission_inputs, per_order),
    }
    return [
        QuoteLine(code=code, label=LINES[code][0], formula=LINES[code][1], inputs=i, amount=a)
        for code, (i, a) in amounts.items()
    ]


def budget_refusal(budget: int, committed: int, reserved: int, amount: int) -> str:
    """Why `amount` does not fit in what is left of the budget ('' if it does)."""
    remaining = budget - committed - reserved
    if amount > remaining:
        return (
            f"the merchant would pay {amount} but the brief's remaining budget is {remaining} "
            f"(budget {budget}, committed {committed}, reserved {reserved}); raise the budget"
        )
    return ""

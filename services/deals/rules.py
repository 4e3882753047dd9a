"""Pure rules of deals: the lifecycle's transition table, the terms frozen at acceptance,
their fingerprint, and where a deal's tracking link points."""

import hashlib
from dataclasses import dataclass
from uuid import UUID

import msgspec

from contracts.deals import DealDeliverable, DealStatus, DealTerms
from contracts.offers import Breakdown, Side, Terms

S = DealStatus
# Where a deal may go from each state. Every move of a deal is checked against this table.
MOVES: dict[DealStatus, frozenset[DealStatus]] = {
    S.AWAITING_FUNDING: frozenset({S.FUNDED, S.CANCELLED}),
    S.FUNDED: frozenset({S.CONTENT_SUBMITTED, S.REFUNDED}),
    S.CONTENT_SUBMITTED: frozenset({S.APPROVED, S.DISPUTED}),
    S.APPROVED: frozenset({S.PAID, S.DISPUTED}),
    S.PAID: frozenset({S.CLOSED, S.DISPUTED}),
    S.CLOSED: frozenset({S.DISPUTED}),
    # A dispute ends where the deal was (its prior state) or, refunded in full, refunded.
    S.DISPUTED: frozenset({S.CONTENT_SUBMITTED, S.APPROVED, S.PAID, S.CLOSED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}


def move_refusal(
    current: DealStatus, target: DealStatus, expected: frozenset[DealStatus] | None
) -> str | None:
    """Why a deal in `current` cannot move to `target` (None when it can). `expected` narrows
    the states the caller's use case moves from."""
    if expected is not None and current not in expected:
        return f"the deal is {current}, not {' or '.join(sorted(expected))}"
    if target not in MOVES[current]:
        return f"a {current} deal cannot become {target}"
    return None


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Which revision of which offer was accepted, between whom, and by which side."""

    offer_id: UUID
    revision: int
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    accepted_by: Side


def frozen_terms(acceptance: Acceptance, terms: Terms, numbers: Breakdown) -> DealTerms:
    return DealTerms(
        offer_id=acceptance.offer_id,
        revision=acceptance.revision,
        brief_id=acceptance.brief_id,
        merchant_id=acceptance.merchant_id,
        kol_id=acceptance.kol_id,
        currency=terms.currency,
        fixed_fee=terms.fixed_fee,
        platform_fee=numbers.platform_fee,
        merchant_pays=numbers.merchant_pays,
        take_rate_bp=numbers.take_rate_bp,
        rate_card_version=numbers.rate_card_version,
        commission_bp=terms.commission_bp,
        commission_cap=terms.commission_cap,
        attribution_days=numbers.attribution_days,
        deliverables=[
            DealDeliverable(kind=d.kind, platform=d.platform, count=d.count, due_by=d.due_by)
            for d in terms.deliverables
        ],
        usage_rights=terms.usage_rights,
        exclusivity_days=terms.exclusivity_days,
    )


def canonical_json(terms: DealTerms) -> bytes:
    """UTF-8 JSON with keys sorted at every level and no whitespace."""
    return msgspec.json.encode(terms, order="sorted")


def fingerprint(terms: DealTerms) -> str:
    """SHA-256 (hex) of the canonical JSON of `terms`."""
    return hashlib.sha256(canonical_json(terms)).hexdigest()


def tracking_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/t/{code}"

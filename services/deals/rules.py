"""Pure rules of deals: the terms frozen at acceptance, their fingerprint, and the deal's
tracking link."""

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

import msgspec

from contracts.deals import DealDeliverable, DealTerms
from contracts.offers import Breakdown, Side, Terms


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


def new_tracking_code() -> str:
    """12 URL-safe characters (72 random bits): a deal's tracking code."""
    return secrets.token_urlsafe(9)


def tracking_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/t/{code}"

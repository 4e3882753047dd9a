"""Quote requests as the API takes them, and rate card publication by operators."""

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Currency
from contracts.pricing import AccountMetrics, DeliverableOrder, ProductTerms, RateCard


class QuoteIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Quote one deliverable of a catalog account (`account_id`) or of given `account` metrics
    (exactly one of the two), for a brief (`brief_id`: its product's order value, its
    commission and currency) or a `product` (not both). With neither, no commission is
    quoted. The currency defaults to the brief's, else the card's, and must be the current
    card's currency.
    """

    account_id: UUID | None = None
    account: AccountMetrics | None = None
    deliverable: DeliverableOrder
    brief_id: UUID | None = None
    product: ProductTerms | None = None
    currency: Currency | None = None


class RateCardIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A new rate card version; versions are never edited in place."""

    card: RateCard
    note: Annotated[str, Meta(min_length=1, max_length=1000)]

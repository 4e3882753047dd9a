"""Wire contract of conversions: the orders partners report against a deal's tracking link.

An order counts once per merchant and `order_id`. Each report gets a status and the reasons for
it, never silently dropped:

- `pending`: counted; its commission waits out the brief's holding period (`hold_until`, the
  order's time plus the brief's `return_days`), during which a return reverses it; an order
  reported after that is booked by the next run;
- `approved`: the holding period ended and the commission is booked in the ledger;
- `paid`: the KOL's share was transferred;
- `reversed`: returned while pending;
- `rejected`: not counted (`unknown_code`, `unknown_click`, `code_click_mismatch`,
  `currency_mismatch`, `deal_cancelled`, `outside_window`, `occurred_in_future`, `duplicate`);
- `held`: counted but waiting for an operator (`buyer_is_kol`, `click_burst`, `no_click`).

Commission per order is min(amount × commission_bp / 10 000 rounded half to even, what is
left of the deal's cap); the platform keeps `platform_cut` (commission × take rate) and the KOL
earns `kol_share`.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Currency
from contracts.pricing import MinorUnits

OrderId = Annotated[str, Meta(min_length=1, max_length=200, description="the shop's order id")]
TrackingCode = Annotated[
    str,
    Meta(
        pattern="^[A-Za-z0-9_-]{8,32}$",
        description="the deal's tracking code (the last part of its tracking link)",
    ),
]
BuyerRef = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        description=(
            "who bought: the SHA-256 hex of the buyer's lower-cased email, so an order placed by "
            "the KOL themself can be recognised without sharing the address"
        ),
    ),
]
Note = Annotated[str, Meta(min_length=1, max_length=500)]
MAX_BATCH = 1000


class ConversionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    REVERSED = "reversed"
    REJECTED = "rejected"
    HELD = "held"


class Reason(enum.StrEnum):
    UNKNOWN_CODE = "unknown_code"
    UNKNOWN_CLICK = "unknown_click"
    CODE_CLICK_MISMATCH = "code_click_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    DEAL_CANCELLED = "deal_cancelled"
    OUTSIDE_WINDOW = "outside_window"
    OCCURRED_IN_FUTURE = "occurred_in_future"
    DUPLICATE = "duplicate"
    BUYER_IS_KOL = "buyer_is_kol"
    CLICK_BURST = "click_burst"
    NO_CLICK = "no_click"


class ConversionIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One order. Name the deal by `tracking_code`, `click_id` (the `kmk_click` the tracking
    link added to the product URL), or both."""

    order_id: OrderId
    amount: MinorUnits
    currency: Currency
    occurred_at: Annotated[datetime, Meta(tz=True, description="when the order was placed")]
    tracking_code: TrackingCode | None = None
    click_id: UUID | None = None
    buyer_ref: BuyerRef | None = None


class ConversionBatchIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    items: Annotated[list[ConversionIn], Meta(min_length=1, max_length=MAX_BATCH)]


class ConversionOut(msgspec.Struct, kw_only=True, frozen=True):
    id: UUID
    order_id: str
    deal_id: UUID | None
    click_id: UUID | None
    tracking_code: str | None
    amount: int
    currency: str
    occurred_at: datetime
    status: ConversionStatus
    reasons: list[Reason]
    commission: int
    platform_cut: int
    kol_share: int
    hold_until: datetime | None
    received_at: datetime
    decided_at: datetime | None
    reversal_reason: str | None
    review_note: str | None  # an operator's note on a held conversion


class ConversionResult(msgspec.Struct, kw_only=True, frozen=True):
    """The answer for one item of a batch, in the order sent. `duplicate`: the order was
    already counted by an earlier report, whose result this is."""

    index: int
    order_id: str
    id: UUID
    status: ConversionStatus
    reasons: list[Reason]
    commission: int
    duplicate: bool


class ConversionBatchOut(msgspec.Struct, kw_only=True, frozen=True):
    results: list[ConversionResult]
    counts: dict[ConversionStatus, int]


class ConversionPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[ConversionOut]
    next_cursor: str | None


class ReversalIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    reason: Note = "returned"


class ConversionReviewDecision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ConversionReviewIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An operator's decision on a held conversion: approve counts it (pending until its
    holding period ends), reject takes it out."""

    decision: ConversionReviewDecision
    note: Note

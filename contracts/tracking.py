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
    """How an order report was judged; see ConversionOut."""

    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    REVERSED = "reversed"
    REJECTED = "rejected"
    HELD = "held"


class Reason(enum.StrEnum):
    """Why an order was rejected or held; see ConversionOut."""

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
    link added to the product URL), or both. `amount` is integer minor units of `currency`,
    which must be the deal's; an order counts once per merchant and `order_id`."""

    order_id: OrderId
    amount: MinorUnits
    currency: Currency
    occurred_at: Annotated[datetime, Meta(tz=True, description="when the order was placed")]
    tracking_code: TrackingCode | None = None
    click_id: UUID | None = None
    buyer_ref: BuyerRef | None = None


class ConversionBatchIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Up to 1,000 orders, judged one after another in the order sent."""

    items: Annotated[list[ConversionIn], Meta(min_length=1, max_length=MAX_BATCH)]


class ConversionOut(msgspec.Struct, kw_only=True, frozen=True):
    """A partner's order report and how it was judged; never silently dropped.

    - `pending`: counted; its commission waits out the brief's holding period (`hold_until`,
      the order's time plus the brief's `return_days`), during which a return reverses it;
    - `approved`: the holding period ended and the commission is booked in the ledger;
    - `paid`: the KOL's share was transferred;
    - `reversed`: returned while pending;
    - `rejected`: not counted (`reasons`: `unknown_code`, `unknown_click`,
      `code_click_mismatch`, `currency_mismatch`, `deal_cancelled`, `outside_window`,
      `occurred_in_future`, `duplicate`);
    - `held`: counted but waiting for an operator (`reasons`: `buyer_is_kol`, `click_burst`,
      `no_click`).

    Commission is min(amount × commission_bp / 10 000 rounded half to even, what is left of
    the deal's cap); the platform keeps `platform_cut` (commission × take rate) and the KOL
    earns `kol_share`. Money is integer minor units of `currency`.
    """

    id: UUID
    order_id: str
    deal_id: Annotated[UUID, Meta(description="null when no deal was found for the order")] | None
    click_id: UUID | None
    tracking_code: str | None
    amount: int
    currency: str
    occurred_at: datetime
    status: ConversionStatus
    reasons: list[Reason]
    commission: int
    platform_cut: int
    kol_share: Annotated[int, Meta(description="commission − platform_cut")]
    hold_until: (
        Annotated[
            datetime, Meta(description="the end of the holding period, for an order that counts")
        ]
        | None
    )
    received_at: datetime
    decided_at: (
        Annotated[datetime, Meta(description="when it was approved, reversed, reviewed or paid")]
        | None
    )
    reversal_reason: str | None
    review_note: Annotated[str, Meta(description="an operator's note on a held conversion")] | None


class ConversionResult(msgspec.Struct, kw_only=True, frozen=True):
    """The answer for one item of a batch, in the order sent. `duplicate`: the item repeats
    an earlier report of the order exactly, and this is that report's stored result (nothing
    new was stored)."""

    index: Annotated[int, Meta(description="the item's place in the batch, from 0")]
    order_id: str
    id: Annotated[UUID, Meta(description="the conversion's id")]
    status: ConversionStatus
    reasons: list[Reason]
    commission: Annotated[int, Meta(description="integer minor units of the order's currency")]
    duplicate: bool


class ConversionBatchOut(msgspec.Struct, kw_only=True, frozen=True):
    """One result per item, in the order sent, and how many ended in each status."""

    results: list[ConversionResult]
    counts: dict[ConversionStatus, int]


class ConversionPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of conversions; `next_cursor` is null on the last page."""

    items: list[ConversionOut]
    next_cursor: str | None


class ReversalIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Why the order stops counting (a return, by default)."""

    reason: Note = "returned"


class ConversionReviewDecision(enum.StrEnum):
    """An operator's decision on a held conversion."""

    APPROVE = "approve"
    REJECT = "reject"


class ConversionReviewIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An operator's decision on a held conversion: approve counts it (pending until its
    holding period ends), reject takes it out."""

    decision: ConversionReviewDecision
    note: Note

"""Wire contract of briefs: a merchant's campaign, from draft to open to closed or cancelled.

Money is integer minor units of the brief's `currency`; rates are basis points. A brief's
budget is spent by deals (`committed`) and held for offers the merchant has on the table that
a KOL may accept at any moment (`reserved`); `remaining` is what is left for new terms.
"""

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import UNIQUE, Currency, Deliverable, Platform, Tier, spelled
from contracts.kols import Category
from contracts.planning import Budget
from contracts.pricing import MinorUnits

Title = Annotated[str, Meta(min_length=1, max_length=200)]
Description = Annotated[str, Meta(max_length=5000)]
ProductUrl = Annotated[
    str,
    Meta(
        min_length=12,
        max_length=500,
        pattern=spelled(r"^https://[^\s/?#\[\]@\\]+\.[^\s/?#\[\]@\\]+(/\S*)?$"),
        description="https link to the product page",
    ),
]
CounterRounds = Annotated[
    int, Meta(ge=0, le=20, description="counter-offers allowed on each offer of the brief")
]


class BriefStatus(enum.StrEnum):
    """`draft` (editable, invisible to KOLs) → `open` (taking invitations and, unless invite
    only, applications) → `closed` (no new offers; negotiations under way continue);
    `cancelled` from any of them (open offers withdrawn, deals stand)."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Visibility(enum.StrEnum):
    """`open`: listed to fitting KOLs, who may apply; `invite_only`: only invited KOLs."""

    OPEN = "open"
    INVITE_ONLY = "invite_only"


class Product(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The product the campaign promotes. Its page is where the deals' tracking links lead;
    `average_order_value` (minor units of the brief's currency) prices commissions and
    plans."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    url: ProductUrl
    category: Category
    average_order_value: MinorUnits


class Goals(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the campaign aims for: people reached and orders (0: not a goal)."""

    reach: Annotated[int, Meta(ge=0, le=10**11)] = 0
    conversions: Annotated[int, Meta(ge=0, le=10**9)] = 0


class Timeline(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Applications close at `apply_by`; content is posted between the two dates (inclusive).
    `posting_until` must not be before `posting_from`, and `apply_by` must not fall after
    `posting_until`; publishing needs `apply_by` in the future."""

    apply_by: Annotated[datetime, Meta(tz=True)]
    posting_from: date
    posting_until: date


class CommissionOffer(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Commission on sales the merchant offers; each offer may negotiate its own rate."""

    commission_bp: Annotated[
        int,
        Meta(ge=0, le=10_000, description="commission on each order's amount, in basis points"),
    ] = 0
    attribution_days: Annotated[
        int,
        Meta(
            ge=1,
            le=365,
            description="an order earns commission within this many days of its click "
            "(without a click, from the deal's start), and never later than this many days "
            "after the content was approved",
        ),
    ] = 30


class DeliveryPolicy(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the merchant promises and asks about delivery and payment, shown to KOLs before
    they apply. Fixed while the brief is open."""

    review_days: Annotated[
        int,
        Meta(
            ge=1,
            le=30,
            description="days the merchant has to review each submission; after them the "
            "content is approved automatically",
        ),
    ] = 3
    min_live_days: Annotated[
        int,
        Meta(ge=0, le=365, description="days each deliverable must stay live once posted"),
    ] = 30
    payout_hold_days: Annotated[
        int,
        Meta(
            ge=0,
            le=60,
            description="days between the approval of the content and the creator's payout",
        ),
    ] = 7
    return_days: Annotated[
        int,
        Meta(
            ge=0,
            le=90,
            description="days a conversion stays pending (and may be reversed, e.g. on a "
            "return) before its commission is due",
        ),
    ] = 14
    click_required: Annotated[
        bool,
        Meta(
            description="whether an order counts only when it carries the click id of one of "
            "the deal's tracking links"
        ),
    ] = False


class Targeting(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Whom the brief is for beyond its platforms, tiers and product category. Plans draw
    their creators from the catalog with all three; offers (invitations and applications)
    are refused to a KOL without a ready payout account when `payout_ready_required`."""

    regions: Annotated[
        list[Annotated[str, Meta(pattern="^[A-Z]{2}$")]],
        Meta(
            max_length=50,
            description="creators' home regions (ISO 3166-1 alpha-2); empty: any",
            extra_json_schema=UNIQUE,
        ),
    ] = []
    min_authenticity: (
        Annotated[
            float,
            Meta(
                ge=0.0,
                le=1.0,
                description="creators scoring below are not planned; the rate card's floor "
                "applies in any case",
            ),
        ]
        | None
    ) = None
    payout_ready_required: Annotated[
        bool,
        Meta(description="whether offers go only to KOLs whose payout account can receive payouts"),
    ] = False


Platforms = Annotated[list[Platform], Meta(min_length=1, max_length=10, extra_json_schema=UNIQUE)]
Tiers = Annotated[list[Tier], Meta(min_length=1, max_length=5, extra_json_schema=UNIQUE)]
Deliverables = Annotated[
    list[Deliverable], Meta(min_length=1, max_length=5, extra_json_schema=UNIQUE)
]


class BriefIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A campaign brief, created as a draft. `budget` is integer minor units of `currency`;
    `platforms`, `tiers`, `deliverables` and `targeting.regions` must not repeat a value;
    see Timeline for the order of its dates."""

    title: Title
    description: Description = ""
    product: Product
    goals: Goals = Goals()
    budget: Budget
    currency: Currency
    platforms: Platforms
    tiers: Tiers
    deliverables: Deliverables
    timeline: Timeline
    commission: CommissionOffer = CommissionOffer()
    visibility: Visibility = Visibility.OPEN
    max_counter_rounds: CounterRounds = 5
    delivery: DeliveryPolicy = DeliveryPolicy()
    targeting: Targeting = msgspec.field(default_factory=Targeting)


class BriefPatch(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Fields to change (absent or null: unchanged). A draft may change any of them; an open
    brief only its budget, and only upwards."""

    title: Title | None = None
    description: Description | None = None
    product: Product | None = None
    goals: Goals | None = None
    budget: Budget | None = None
    currency: Currency | None = None
    platforms: Platforms | None = None
    tiers: Tiers | None = None
    deliverables: Deliverables | None = None
    timeline: Timeline | None = None
    commission: CommissionOffer | None = None
    visibility: Visibility | None = None
    max_counter_rounds: CounterRounds | None = None
    delivery: DeliveryPolicy | None = None
    targeting: Targeting | None = None


class BriefOut(msgspec.Struct, kw_only=True, frozen=True):
    """A brief with its budget use: `committed` + `reserved` + `remaining` = `budget`.
    `closed_at` is when it was closed or cancelled."""

    id: UUID
    merchant_id: UUID
    status: BriefStatus
    title: str
    description: str
    product: Product
    goals: Goals
    budget: Annotated[int, Meta(description="integer minor units of `currency`")]
    currency: str
    platforms: list[Platform]
    tiers: list[Tier]
    deliverables: list[Deliverable]
    timeline: Timeline
    commission: CommissionOffer
    visibility: Visibility
    max_counter_rounds: int
    delivery: DeliveryPolicy
    targeting: Targeting
    committed: Annotated[
        int,
        Meta(description="what the merchant pays for the brief's deals that stand (minor units)"),
    ]
    reserved: Annotated[
        int,
        Meta(
            description="what the merchant would pay for its open offers that a KOL may still "
            "accept (minor units)"
        ),
    ]
    remaining: Annotated[
        int, Meta(description="budget − committed − reserved: room for new terms (minor units)")
    ]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class BriefPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of briefs, newest first; `next_cursor` is null on the last page."""

    items: list[BriefOut]
    next_cursor: str | None

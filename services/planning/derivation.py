"""Pure rules of plans derived from the catalog: the accounts a plan may draw from (its scope),
an allocation's segments from per-segment medians, a selection's candidates from accounts, and
the brief's targets, each number with its source.

Every price is the current rate card's quote as an offer would carry it: one of each of the
brief's deliverables; `pricing/README.md` ("Plans derived from the catalog") gives every
formula.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import msgspec

from contracts.common import Deliverable, Platform, Tier
from contracts.planning import Candidate, Segment
from contracts.plans import Figure, Matching, SegmentDerivation
from contracts.pricing import (
    AccountMetrics,
    DeliverableOrder,
    LineCode,
    ProductTerms,
    Quote,
    QuoteRequest,
    RateCard,
)
from pricing import quote, round_half_even

BP: Final = 10_000
MAX_AVAILABLE: Final = 10_000  # the most creators one allocation segment may hold


@dataclass(frozen=True, slots=True)
class Scope:
    """The accounts a derived plan may draw from, and how their offers are priced."""

    platforms: tuple[Platform, ...]
    tiers: tuple[Tier, ...]
    categories: tuple[str, ...]
    regions: tuple[str, ...]
    segments: tuple[str, ...]  # "platform:tier" keys a plan keeps to (empty: any)
    min_followers: int
    min_authenticity: float  # the card's floor, or the brief's if higher
    payout_ready_required: bool
    engaged: tuple[UUID, ...]  # KOLs with an open offer or a standing deal on the brief
    deliverables: tuple[Deliverable, ...]
    average_order_value: int
    commission_bp: int
    currency: str

    def query_args(self) -> tuple[Any, ...]:
        """The arguments of queries.MATCHING, in order."""
        return (
            [str(p) for p in self.platforms],
            [str(t) for t in self.tiers],
            list(self.categories),
            list(self.regions),
            list(self.segments),
            self.min_followers,
            self.min_authenticity,
            list(self.engaged),
            self.payout_ready_required,
        )

    def matching(self) -> Matching:
        return Matching(
            platforms=list(self.platforms),
            tiers=list(self.tiers),
            categories=list(self.categories),
            regions=list(self.regions),
            segments=list(self.segments),
            min_followers=self.min_followers,
            min_authenticity=self.min_authenticity,
            payout_ready_required=self.payout_ready_required,
            kols_already_engaged=len(self.engaged),
        )


def segment_key(platform: str, tier: str) -> str:
    return f"{platform}:{tier}"


class Priced(msgspec.Struct, frozen=True, kw_only=True):
    """An account's offer for the scope's deliverables, as the quotes price it."""

    fixed_fee: int
    platform_fee: int
    merchant_pays: int
    expected_commission: int
    cost: int
    conversions: float


def quotes(card: RateCard, scope: Scope, metrics: AccountMetrics) -> list[Quote]:
    """One quote per deliverable of the scope; raises QuoteRefused below the card's floor."""
    return _quoted(card, scope, metrics, scope.deliverables)


def _quoted(
    card: RateCard, scope: Scope, metrics: AccountMetrics, kinds: Sequence[Deliverable]
) -> list[Quote]:
    product = ProductTerms(
        average_order_value=scope.average_order_value, commission_bp=scope.commission_bp
    )
    return [
        quote(
            QuoteRequest(
                account=metrics,
                deliverable=DeliverableOrder(kind=kind),
                product=product,
                currency=scope.currency,
            ),
            card,
        )
        for kind in kinds
    ]


def offer(card: RateCard, scope: Scope, metrics: AccountMetrics) -> Priced:
    """The account's offer for the scope's deliverables, exactly as `priced(quotes(...))`.
    A deliverable enters a quote only through its multiplier, so deliverables with the same
    multiplier are quoted once and counted as often as they appear."""
    counts: dict[object, int] = {}
    kinds: dict[object, Deliverable] = {}
    for kind in scope.deliverables:
        key = card.deliverable_multiplier_bp.get(kind, kind)
        counts[key] = counts.get(key, 0) + 1
        kinds.setdefault(key, kind)
    return priced(card, _quoted(card, scope, metrics, list(kinds.values())), list(counts.values()))


def priced(card: RateCard, quoted: list[Quote], times: Sequence[int] | None = None) -> Priced:
    """fixed fee = Σ creator fees; platform fee = fixed fee × take rate (half to even);
    merchant pays = their sum; cost = merchant pays + Σ expected commissions. Each quote
    counts `times` times (once by default)."""
    weights = list(times) if times is not None else [1] * len(quoted)
    fixed = sum(q.creator_fee * n for q, n in zip(quoted, weights, strict=True))
    platform_fee = round_half_even(fixed * card.take_rate_bp, BP)
    commission = sum(
        _line(q, LineCode.EXPECTED_COMMISSION) * n for q, n in zip(quoted, weights, strict=True)
    )
    conversions = sum(q.expected_conversions * n for q, n in zip(quoted, weights, strict=True))
    return Priced(
        fixed_fee=fixed,
        platform_fee=platform_fee,
        merchant_pays=fixed + platform_fee,
        expected_commission=commission,
        cost=fixed + platform_fee + commission,
        conversions=conversions,
    )


def _line(q: Quote, code: LineCode) -> int:
    return next(line.amount for line in q.lines if line.code == code)


def metrics(row: Mapping[str, Any]) -> AccountMetrics:
    """An account's metrics as the rate card prices them, from its catalog row."""
    return AccountMetrics(
        platform=Platform(row["platform"]),
        followers=row["followers"],
        median_views=row["median_views"],
        engagement_rate=row["engagement_rate"],
        authenticity=row["authenticity"],
    )


# ---- Allocation segments --------------------------------------------------------------------
def segment(
    card: RateCard, scope: Scope, row: Mapping[str, Any], budget: int
) -> tuple[Segment, SegmentDerivation]:
    """One (platform, tier) from its matching accounts' figures (queries.SEGMENT_FIGURES).
    No plan hires more creators of a segment than the budget buys at its fee, so `available`
    stops there."""
    platform, tier, count = Platform(row["platform"]), Tier(row["tier"]), row["accounts"]
    median = AccountMetrics(
        platform=platform,
        followers=row["median_followers"],
        median_views=row["median_views"],
        engagement_rate=row["median_engagement"],
        authenticity=row["median_authenticity"],
    )
    price = offer(card, scope, median)
    cvr_bp2 = len(scope.deliverables) * card.click_through_bp[platform] * card.conversion_rate_bp
    per_conversion = round_half_even(scope.average_order_value * scope.commission_bp, BP)
    reach, audience = float(row["median_views"]), max(float(row["audience"]), 1.0)
    made = Segment(
        platform=platform,
        tier=tier,
        fee=price.merchant_pays,
        reach=reach,
        audience=max(audience, reach),
        cvr=min(1.0, cvr_bp2 / BP / BP),
        commission_per_conversion=per_conversion,
        available=min(count, MAX_AVAILABLE, affordable(budget, price.merchant_pays)),
    )
    return made, _segment_sources(card, scope, made, row, price, budget)


def _segment_sources(
    card: RateCard,
    scope: Scope,
    made: Segment,
    row: Mapping[str, Any],
    price: Priced,
    budget: int,
) -> SegmentDerivation:
    n, p = row["accounts"], made.platform
    return SegmentDerivation(
        platform=p,
        tier=made.tier,
        available=Figure(
            value=made.available,
            source=f"count of available matching accounts, at most {MAX_AVAILABLE} and at "
            "most what the budget buys at the segment's fee (budget // fee)",
            inputs={"accounts": n, "budget": budget, "fee": made.fee},
        ),
        fee=_fee_source(card, scope, made, row, price),
        reach=Figure(value=made.reach, source=f"median of median_views over {n} accounts"),
        audience=Figure(
            value=made.audience,
            source=f"sum over {n} accounts of the larger of followers and median_views",
        ),
        cvr=Figure(
            value=made.cvr,
            source=f"deliverables × click_through_bp.{p} × conversion_rate_bp of rate card "
            f"{card.version}",
            inputs={"deliverables": len(scope.deliverables),
                    "click_through_bp": card.click_through_bp[p],
                    "conversion_rate_bp": card.conversion_rate_bp},
        ),
        commission_per_conversion=Figure(
            value=made.commission_per_conversion,
            source="product.average_order_value × commission.commission_bp / 10 000, "
            "rounded half to even",
            inputs={"average_order_value": scope.average_order_value,
                    "commission_bp": scope.commission_bp},
        ),
    )  # fmt: skip


def _fee_source(
    card: RateCard, scope: Scope, made: Segment, row: Mapping[str, Any], price: Priced
) -> Figure:
    p, t, kinds = made.platform, made.tier, ", ".join(scope.deliverables)
    medians = ("median_followers", "median_views", "median_engagement", "median_authenticity")
    inputs: dict[str, int | float | str] = {name: row[name] for name in medians}
    inputs |= {f"cpm.{p}.{t}": card.cpm[p][t], "creator_fee": price.fixed_fee,
               "platform_fee": price.platform_fee}  # fmt: skip
    return Figure(
        value=made.fee,
        source=f"merchant pays for the segment's median creator (median followers, views, "
        f"engagement and authenticity of {row['accounts']} accounts): one each of {kinds} "
        f"quoted by rate card {card.version} (cpm.{p}.{t}, deliverable_multiplier_bp, "
        "take_rate_bp)",
        inputs=inputs,
    )


def affordable(budget: int, fee: int) -> int:
    return budget // fee if fee > 0 else MAX_AVAILABLE


# ---- Selection candidates -------------------------------------------------------------------
class StoredCreator(msgspec.Struct, frozen=True, kw_only=True):
    """A candidate's account as it was priced: kept for the creators a selection chose, so
    their quotes can be shown again, line by line, from the plan's card."""

    account_id: UUID
    kol_id: UUID
    handle: str
    platform: Platform
    tier: Tier
    followers: int
    median_views: int
    engagement_rate: float
    authenticity: float
    fixed_fee: int
    platform_fee: int
    merchant_pays: int
    expected_commission: int
    cost: int
    expected_reach: float
    expected_conversions: float


def stored(row: Mapping[str, Any], made: Priced) -> StoredCreator:
    """An account priced for the scope (`offer`): reach is its median views, conversions the
    quotes' expected conversions summed."""
    return StoredCreator(
        account_id=row["id"],
        kol_id=row["kol_id"],
        handle=row["handle"],
        platform=row["platform"],
        tier=row["tier"],
        followers=row["followers"],
        median_views=row["median_views"],
        engagement_rate=row["engagement_rate"],
        authenticity=row["authenticity"],
        fixed_fee=made.fixed_fee,
        platform_fee=made.platform_fee,
        merchant_pays=made.merchant_pays,
        expected_commission=made.expected_commission,
        cost=made.cost,
        expected_reach=float(row["median_views"]),
        expected_conversions=made.conversions,
    )


def metrics_of(made: StoredCreator) -> AccountMetrics:
    return AccountMetrics(
        platform=made.platform,
        followers=made.followers,
        median_views=made.median_views,
        engagement_rate=made.engagement_rate,
        authenticity=made.authenticity,
    )


def candidate(row: Mapping[str, Any], made: Priced) -> Candidate:
    return Candidate(
        id=str(row["id"]),
        platform=row["platform"],
        tier=row["tier"],
        fee=made.cost,
        reach=float(row["median_views"]),
        conversions=made.conversions,
        authenticity=row["authenticity"],
    )


CANDIDATE_FEE: Final = (
    "cost = merchant pays (Σ creator fees of one each of the deliverables, + platform fee) "
    "+ Σ expected commissions, quoted by the rate card for the account's own metrics"
)
CANDIDATE_REACH: Final = "the account's median views"
CANDIDATE_CONVERSIONS: Final = "Σ over the deliverables of views × click-through × conversion rate"

"""Pure rules of conversions: which deal an order belongs to, whether it counts, what commission
it earns, and which signals hold it for an operator.

`Judge` reads one batch in order, so two orders of the same batch see each other exactly as if
they had been sent one by one: the second order of a click counts towards its burst, and the
commission of the first uses up the deal's cap before the second.
"""

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from contracts.deals import DealStatus
from contracts.tracking import ConversionIn, ConversionStatus, Reason
from pricing import round_half_even

BP = 10_000
# More orders than this from one click within the burst window are held for review.
BURST_LIMIT = 3
BURST_WINDOW = timedelta(hours=24)
# Shop clocks run a little fast; an order later than this ahead of ours is refused.
CLOCK_SLACK = timedelta(minutes=5)
NOT_ATTRIBUTABLE = frozenset({DealStatus.CANCELLED, DealStatus.REFUNDED})
REVERSIBLE = frozenset({ConversionStatus.PENDING, ConversionStatus.HELD})


@dataclass(frozen=True, slots=True)
class DealFacts:
    """What attribution needs of a deal, read under the deal's lock."""

    id: UUID
    kol_id: UUID
    status: DealStatus
    currency: str
    commission_bp: int
    commission_cap: int | None
    take_rate_bp: int
    attribution_days: int
    created_at: datetime
    approved_at: datetime | None
    return_days: int
    click_required: bool
    kol_buyer_ref: str
    commission_counted: int
    span: timedelta = field(init=False)  # the attribution window's length
    hold: timedelta = field(init=False)  # the commission's holding period
    closes_at: datetime | None = field(init=False)  # attribution days after approval
    attributable: bool = field(init=False)  # neither cancelled nor refunded

    def __post_init__(self) -> None:
        span = timedelta(days=self.attribution_days)
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "hold", timedelta(days=self.return_days))
        closes = self.approved_at + span if self.approved_at is not None else None
        object.__setattr__(self, "closes_at", closes)
        object.__setattr__(self, "attributable", self.status not in NOT_ATTRIBUTABLE)


@dataclass(frozen=True, slots=True)
class Click:
    deal_id: UUID
    clicked_at: datetime


class Verdict(NamedTuple):
    deal_id: UUID | None
    status: ConversionStatus
    reasons: tuple[Reason, ...]
    commission: int
    platform_cut: int
    hold_until: datetime | None


_RAND_B = (1 << 62) - 1


def time_ordered_ids(count: int) -> list[UUID]:
    """`count` UUIDv7s (RFC 9562) of this millisecond, their random bits read from the system
    at once. Ids made one after another sort together, so a busy table's indexes grow at their
    right edge."""
    ms = time.time_ns() // 1_000_000
    fixed = (ms << 80) | (0x7 << 76) | (0b10 << 62)
    noise = os.urandom(10 * count)
    ids = []
    for start in range(0, 10 * count, 10):
        rand = int.from_bytes(noise[start : start + 10])
        ids.append(UUID(int=fixed | ((rand >> 68) << 64) | (rand & _RAND_B)))
    return ids


def commission(amount: int, commission_bp: int, cap_left: int | None) -> int:
    """amount × rate, rounded half to even, never more than what is left of the cap."""
    earned = round_half_even(amount * commission_bp, BP)
    return earned if cap_left is None else max(0, min(earned, cap_left))


def platform_cut(commission_amount: int, take_rate_bp: int) -> int:
    return round_half_even(commission_amount * take_rate_bp, BP)


def window(deal: DealFacts, click: Click | None) -> tuple[datetime, datetime | None]:
    """When an order may happen to count: from the click (or the deal) for the attribution
    days, and never later than the attribution days after the content was approved."""
    if click is None:
        return deal.created_at, deal.closes_at
    end = click.clicked_at + deal.span
    if deal.closes_at is not None and deal.closes_at < end:
        end = deal.closes_at
    return click.clicked_at, end


@dataclass(slots=True)
class Judge:
    """Decides a batch's orders one after another, keeping what each decision used up."""

    now: datetime
    links: dict[str, UUID]
    clicks: dict[UUID, Click]
    deals: dict[UUID, DealFacts]
    click_orders: dict[UUID, list[datetime]]
    counted: dict[UUID, int] = field(default_factory=dict)
    latest: datetime = field(init=False)  # the latest an order may have happened

    def __post_init__(self) -> None:
        self.counted = {deal_id: d.commission_counted for deal_id, d in self.deals.items()}
        self.latest = self.now + CLOCK_SLACK

    def deal_of(self, item: ConversionIn) -> tuple[UUID | None, list[Reason]]:
        by_code = self.links.get(item.tracking_code) if item.tracking_code else None
        click = self.clicks.get(item.click_id) if item.click_id else None
        reasons = []
        if item.tracking_code and by_code is None:
            reasons.append(Reason.UNKNOWN_CODE)
        if item.click_id and click is None and by_code is None:
            # With a known code the order still counts by its code; a click id alone that we
            # never recorded names no deal.
            reasons.append(Reason.UNKNOWN_CLICK)
        if not item.tracking_code and not item.click_id:
            reasons.append(Reason.UNKNOWN_CODE)
        if by_code and click and click.deal_id != by_code:
            reasons.append(Reason.CODE_CLICK_MISMATCH)
        return by_code or (click.deal_id if click else None), reasons

    def _count(
        self,
        item: ConversionIn,
        deal: DealFacts,
        status: ConversionStatus,
        signals: tuple[Reason, ...],
    ) -> Verdict:
        """An order that counts: its commission uses up what is left of the deal's cap."""
        cap = deal.commission_cap
        earned = commission(
            item.amount, deal.commission_bp, None if cap is None else cap - self.counted[deal.id]
        )
        self.counted[deal.id] += earned
        if item.click_id is not None and item.click_id in self.clicks:
            self.click_orders.setdefault(item.click_id, []).append(item.occurred_at)
        hold_until = item.occurred_at + deal.hold
        return Verdict(
            deal.id, status, signals, earned, platform_cut(earned, deal.take_rate_bp), hold_until
        )

    def decide(self, item: ConversionIn) -> Verdict:
        deal_id, reasons = self.deal_of(item)
        deal = self.deals.get(deal_id) if deal_id else None
        click = self.clicks.get(item.click_id) if item.click_id else None
        if item.occurred_at > self.latest:
            reasons.append(Reason.OCCURRED_IN_FUTURE)
        if deal is not None and not reasons:
            reasons = _refusals(item, deal, click)
        if reasons or deal is None:
            return Verdict(deal_id, ConversionStatus.REJECTED, tuple(reasons), 0, 0, None)
        signals = self._signals(item, deal, click)
        status = ConversionStatus.HELD if signals else ConversionStatus.PENDING
        return self._count(item, deal, status, tuple(signals))

    def _signals(self, item: ConversionIn, deal: DealFacts, click: Click | None) -> list[Reason]:
        signals = []
        if item.buyer_ref is not None and item.buyer_ref.lower() == deal.kol_buyer_ref:
            signals.append(Reason.BUYER_IS_KOL)
        if click is not None:
            earlier = self.click_orders.get(item.click_id, [])  # the click found by this id
            if within(earlier, item.occurred_at, BURST_WINDOW) >= BURST_LIMIT:
                signals.append(Reason.CLICK_BURST)
        elif deal.click_required:
            signals.append(Reason.NO_CLICK)
        return signals


def _refusals(item: ConversionIn, deal: DealFacts, click: Click | None) -> list[Reason]:
    reasons = []
    if not deal.attributable:
        reasons.append(Reason.DEAL_CANCELLED)
    if item.currency != deal.currency:
        reasons.append(Reason.CURRENCY_MISMATCH)
    start, end = window(deal, click)
    if item.occurred_at < start or (end is not None and item.occurred_at > end):
        reasons.append(Reason.OUTSIDE_WINDOW)
    return reasons


def within(times: Iterable[datetime], at: datetime, span: timedelta) -> int:
    """How many of `times` lie within `span` of `at`, either side."""
    return sum(abs(t - at) <= span for t in times)


def same_order(item: ConversionIn, row: dict[str, object]) -> bool:
    """Whether a report repeats the stored one exactly (a retry), rather than contradicting it."""
    return (
        row["amount"] == item.amount
        and row["currency"] == item.currency
        and row["occurred_at"] == item.occurred_at
        and row["tracking_code"] == item.tracking_code
        and row["click_id"] == item.click_id
        and row["buyer_ref"] == item.buyer_ref
    )


RETRYABLE = frozenset({Reason.OCCURRED_IN_FUTURE, Reason.UNKNOWN_CLICK})


def retryable(row: dict[str, object]) -> bool:
    """A stored rejection that a later identical report may overturn."""
    reasons = row["reasons"]
    assert isinstance(reasons, list | tuple)
    return row["status"] == ConversionStatus.REJECTED and not RETRYABLE.isdisjoint(reasons)


def kol_share(commission_amount: int, cut: int) -> int:
    return commission_amount - cut

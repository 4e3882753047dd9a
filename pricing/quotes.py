"""Quotes: the transparent price of one deliverable order, line by line.

All arithmetic on money is exact integer arithmetic; each line is rounded once, half to
even, and totals are sums of rounded lines. Engagement and authenticity are read as parts
per million (half to even) before use, so every input shown in a line is exact.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from contracts.common import Tier, tier_for_followers
from contracts.pricing import (
    InputValue,
    LineCode,
    Quote,
    QuoteEstimate,
    QuoteLine,
    QuoteRequest,
    RateCard,
)
from pricing.errors import PricingError, QuoteRefused, check_currency
from pricing.rounding import round_half_even, scaled

PPM = 1_000_000
BP = 10_000
BASE_FORMULA = "expected views × reference CPM / 1000 × deliverable multiplier"
CREATOR_FORMULA = "base fee + engagement adjustment + authenticity adjustment"


def quote(request: QuoteRequest, card: RateCard) -> Quote:
    """Price `request` with `card`; raises PricingError (naming the field) on bad input
    and QuoteRefused when the account's authenticity is below the card's floor."""
    _check_request(request, card)
    account = request.account
    tier = tier_for_followers(account.followers)
    views = account.median_views * request.deliverable.count
    engagement_ppm = scaled(account.engagement_rate, PPM)
    authenticity_ppm = scaled(account.authenticity, PPM)
    floor_ppm = card.authenticity_floor_bp * 100
    if authenticity_ppm < floor_ppm:
        raise QuoteRefused(
            "account.authenticity",
            f"authenticity {authenticity_ppm / PPM:.6f} is below the floor "
            f"{floor_ppm / PPM:.2f} of rate card {card.version}; the account needs review",
        )
    fees = _fees(request, card, tier, engagement_ppm, authenticity_ppm)
    lines = _adjustment_lines(fees, str(request.deliverable.kind), card)
    lines.extend(_total_lines(fees, card))
    lines.extend(_commission_lines(request, card, views))
    return _assemble(request, card, tier, views, engagement_ppm, lines)


def _check_request(request: QuoteRequest, card: RateCard) -> None:
    account, product = request.account, request.product
    check_currency(request.currency)
    if request.currency != card.currency:
        raise PricingError(
            "currency",
            f"rate card {card.version} prices in {card.currency}, not {request.currency}",
        )
    checks = (
        ("account.followers", account.followers, 0, 5_000_000_000),
        ("account.median_views", account.median_views, 0, 10_000_000_000),
        ("account.engagement_rate", account.engagement_rate, 0.0, 1.0),
        ("account.authenticity", account.authenticity, 0.0, 1.0),
        ("deliverable.count", request.deliverable.count, 1, 100),
        ("product.average_order_value", product.average_order_value, 0, 10**11),
        ("product.commission_bp", product.commission_bp, 0, BP),
    )
    for field, value, low, high in checks:
        if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
            raise PricingError(field, f"must be between {low} and {high}, got {value}")
    if account.platform not in card.cpm or account.platform not in card.median_engagement_bp:
        raise PricingError("account.platform", f"{account.platform} is not priced by the card")
    if request.deliverable.kind not in card.deliverable_multiplier_bp:
        raise PricingError("deliverable.kind", f"{request.deliverable.kind} is not priced")


class _Fees(NamedTuple):
    views: int
    cpm: int
    multiplier_bp: int
    base: int
    median_bp: int
    ratio: tuple[int, int]
    engagement_ppm: int
    engagement: int
    authenticity_ppm: int
    authenticity: int
    creator_fee: int
    platform_fee: int


def _fees(
    request: QuoteRequest, card: RateCard, tier: Tier, engagement_ppm: int, authenticity_ppm: int
) -> _Fees:
    platform = request.account.platform
    views = request.account.median_views * request.deliverable.count
    cpm = card.cpm[platform][tier]
    multiplier_bp = card.deliverable_multiplier_bp[request.deliverable.kind]
    base = round_half_even(views * cpm * multiplier_bp, 1000 * BP)
    median_bp = card.median_engagement_bp[platform][tier]
    ratio_num, ratio_den = _clamped_ratio(engagement_ppm, median_bp * 100, card)
    engagement = round_half_even(base * (ratio_num - ratio_den), ratio_den)
    authenticity = round_half_even((base + engagement) * (authenticity_ppm - PPM), PPM)
    creator_fee = base + engagement + authenticity
    platform_fee = round_half_even(creator_fee * card.take_rate_bp, BP)
    return _Fees(
        views,
        cpm,
        multiplier_bp,
        base,
        median_bp,
        (ratio_num, ratio_den),
        engagement_ppm,
        engagement,
        authenticity_ppm,
        authenticity,
        creator_fee,
        platform_fee,
    )


def _line(
    code: LineCode, label: str, formula: str, inputs: dict[str, InputValue], amount: int
) -> QuoteLine:
    return QuoteLine(code=code, label=label, formula=formula, inputs=inputs, amount=amount)


def _adjustment_lines(fees: _Fees, kind: str, card: RateCard) -> list[QuoteLine]:
    low, high = card.engagement_ratio_min_bp / BP, card.engagement_ratio_max_bp / BP
    base_inputs: dict[str, InputValue] = {
        "expected_views": fees.views,
        "reference_cpm": fees.cpm,
        "deliverable": kind,
        "deliverable_multiplier": fees.multiplier_bp / BP,
    }
    engagement_inputs: dict[str, InputValue] = {
        "base_fee": fees.base,
        "engagement_rate": fees.engagement_ppm / PPM,
        "tier_median_engagement": fees.median_bp / BP,
        "clamped_ratio": round(fees.ratio[0] / fees.ratio[1], 6),
    }
    authenticity_inputs: dict[str, InputValue] = {
        "base_fee": fees.base,
        "engagement_adjustment": fees.engagement,
        "authenticity": fees.authenticity_ppm / PPM,
    }
    return [
        _line(LineCode.BASE_FEE, "Base fee", BASE_FORMULA, base_inputs, fees.base),
        _line(
            LineCode.ENGAGEMENT_ADJUSTMENT,
            "Engagement adjustment",
            f"base fee × (clamp(engagement rate / tier median, {low}, {high}) − 1)",
            engagement_inputs,
            fees.engagement,
        ),
        _line(
            LineCode.AUTHENTICITY_ADJUSTMENT,
            "Authenticity adjustment",
            "(base fee + engagement adjustment) × (authenticity − 1)",
            authenticity_inputs,
            fees.authenticity,
        ),
    ]


def _total_lines(fees: _Fees, card: RateCard) -> list[QuoteLine]:
    creator_inputs: dict[str, InputValue] = {
        "base_fee": fees.base,
        "engagement_adjustment": fees.engagement,
        "authenticity_adjustment": fees.authenticity,
    }
    platform_inputs: dict[str, InputValue] = {
        "creator_fee": fees.creator_fee,
        "take_rate": card.take_rate_bp / BP,
    }
    merchant_inputs: dict[str, InputValue] = {
        "creator_fee": fees.creator_fee,
        "platform_fee": fees.platform_fee,
    }
    return [
        _line(
            LineCode.CREATOR_FEE, "Creator fee", CREATOR_FORMULA, creator_inputs, fees.creator_fee
        ),
        _line(
            LineCode.PLATFORM_FEE,
            "Platform fee",
            "creator fee × take rate",
            platform_inputs,
            fees.platform_fee,
        ),
        _line(
            LineCode.MERCHANT_PAYS,
            "Merchant pays",
            "creator fee + platform fee",
            merchant_inputs,
            fees.creator_fee + fees.platform_fee,
        ),
    ]


def _clamped_ratio(engagement_ppm: int, median_ppm: int, card: RateCard) -> tuple[int, int]:
    """engagement / median clamped to the card's range, as an exact fraction."""
    low, high = card.engagement_ratio_min_bp, card.engagement_ratio_max_bp
    if engagement_ppm * BP < low * median_ppm:
        return low, BP
    if engagement_ppm * BP > high * median_ppm:
        return high, BP
    return engagement_ppm, median_ppm


def _commission_lines(request: QuoteRequest, card: RateCard, views: int) -> list[QuoteLine]:
    product = request.product
    per_conversion = round_half_even(product.average_order_value * product.commission_bp, BP)
    ctr_bp = card.click_through_bp[request.account.platform]
    funnel = views * ctr_bp * card.conversion_rate_bp
    expected = round_half_even(funnel * per_conversion, BP * BP)
    return [
        _line(
            LineCode.COMMISSION_PER_CONVERSION,
            "Commission per conversion",
            "average order value × commission_bp / 10000",
            {
                "average_order_value": product.average_order_value,
                "commission_bp": product.commission_bp,
            },
            per_conversion,
        ),
        _line(
            LineCode.EXPECTED_COMMISSION,
            "Expected commission (paid per conversion, not part of the fee)",
            "expected views × click-through × conversion rate × commission per conversion",
            {
                "expected_views": views,
                "click_through": ctr_bp / BP,
                "conversion_rate": card.conversion_rate_bp / BP,
                "commission_per_conversion": per_conversion,
            },
            expected,
        ),
    ]


def _estimates(views: int, engagement_ppm: int, ctr_bp: int, cvr_bp: int) -> list[QuoteEstimate]:
    return [
        QuoteEstimate(
            code="expected_engagements",
            label="Expected engagements",
            formula="expected views × engagement rate",
            inputs={"expected_views": views, "engagement_rate": engagement_ppm / PPM},
            value=views * engagement_ppm / PPM,
        ),
        QuoteEstimate(
            code="expected_conversions",
            label="Expected conversions",
            formula="expected views × click-through × conversion rate",
            inputs={
                "expected_views": views,
                "click_through": ctr_bp / BP,
                "conversion_rate": cvr_bp / BP,
            },
            value=views * ctr_bp * cvr_bp / (BP * BP),
        ),
    ]


def _assemble(
    request: QuoteRequest,
    card: RateCard,
    tier: Tier,
    views: int,
    engagement_ppm: int,
    lines: list[QuoteLine],
) -> Quote:
    """The quote with its totals and unit costs (all rounded half to even)."""
    merchant_pays = lines[5].amount
    ctr_bp = card.click_through_bp[request.account.platform]
    funnel = views * ctr_bp * card.conversion_rate_bp  # expected conversions × 10^8
    engagements = views * engagement_ppm  # expected engagements × 10^6
    estimates = _estimates(views, engagement_ppm, ctr_bp, card.conversion_rate_bp)
    return Quote(
        rate_card_version=card.version,
        currency=request.currency,
        tier=tier,
        lines=lines,
        estimates=estimates,
        creator_fee=lines[3].amount,
        platform_fee=lines[4].amount,
        merchant_pays=merchant_pays,
        commission_per_conversion=lines[6].amount,
        expected_views=views,
        expected_engagements=estimates[0].value,
        expected_conversions=estimates[1].value,
        effective_cpm=round_half_even(merchant_pays * 1000, views) if views else 0,
        cost_per_engagement=(
            round_half_even(merchant_pays * PPM, engagements) if engagements else None
        ),
        cost_per_expected_conversion=(
            round_half_even(merchant_pays * BP * BP, funnel) if funnel else None
        ),
    )

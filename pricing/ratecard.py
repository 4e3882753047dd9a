"""The versioned rate card: the default card built from `default_card`, and its checks."""

from __future__ import annotations

import functools

from contracts.common import SUPPORTED_CURRENCIES, Currency, Deliverable, Platform, Tier
from contracts.pricing import RateCard, RateSource
from pricing import default_card as data
from pricing.errors import PricingError


@functools.cache
def default_rate_card() -> RateCard:
    """The default card (USD), with the source of every group of values."""
    cpm = {p: dict.fromkeys(Tier, cents) for p, (cents, _) in data.CPM_CENTS.items()}
    engagement = {
        p: dict(zip(data.TIER_ORDER, values, strict=True))
        for p, (values, _) in data.ENGAGEMENT_BP.items()
    }
    return RateCard(
        version=data.VERSION,
        currency=Currency(data.CURRENCY),
        cpm=cpm,
        deliverable_multiplier_bp={d: bp for d, (bp, _) in data.DELIVERABLE_MULTIPLIER_BP.items()},
        median_engagement_bp=engagement,
        click_through_bp=dict.fromkeys(Platform, data.CLICK_THROUGH_BP[0]),
        conversion_rate_bp=data.CONVERSION_RATE_BP[0],
        take_rate_bp=data.TAKE_RATE_BP[0],
        authenticity_floor_bp=data.AUTHENTICITY_FLOOR_BP[0],
        engagement_ratio_min_bp=data.ENGAGEMENT_CLAMP_BP[0],
        engagement_ratio_max_bp=data.ENGAGEMENT_CLAMP_BP[1],
        sources=_sources(),
    )


def _sources() -> list[RateSource]:
    sources = [RateSource(applies_to="tiers", value="by followers", source=data.TIER_NOTE)]
    for platform, (cents, source) in data.CPM_CENTS.items():
        value = f"{cents} cents per 1000 views"
        sources.append(RateSource(applies_to=f"cpm.{platform}", value=value, source=source))
    sources.append(RateSource(applies_to="cpm.*.<tier>", value="", source=data.CPM_BY_TIER_NOTE))
    for kind, (bp, source) in data.DELIVERABLE_MULTIPLIER_BP.items():
        path = f"deliverable_multiplier_bp.{kind}"
        sources.append(RateSource(applies_to=path, value=f"{bp} bp", source=source))
    for platform, (values, source) in data.ENGAGEMENT_BP.items():
        text = " / ".join(f"{v} bp" for v in values) + " (nano → mega)"
        path = f"median_engagement_bp.{platform}"
        sources.append(RateSource(applies_to=path, value=text, source=source))
    singles = (
        ("click_through_bp", data.CLICK_THROUGH_BP),
        ("conversion_rate_bp", data.CONVERSION_RATE_BP),
        ("take_rate_bp", data.TAKE_RATE_BP),
        ("authenticity_floor_bp", data.AUTHENTICITY_FLOOR_BP),
    )
    for path, (bp, source) in singles:
        sources.append(RateSource(applies_to=path, value=f"{bp} bp", source=source))
    low, high, clamp_source = data.ENGAGEMENT_CLAMP_BP
    clamp = f"{low}..{high} bp"
    sources.append(RateSource(applies_to="engagement_ratio", value=clamp, source=clamp_source))
    return sources


def check_rate_card(card: RateCard) -> None:
    """Raise PricingError naming the first missing or inconsistent value of `card`."""
    if card.currency not in SUPPORTED_CURRENCIES:
        raise PricingError("rate_card.currency", f"{card.currency} is not a supported currency")
    for platform in Platform:
        _require_tiers(card.cpm.get(platform), f"rate_card.cpm.{platform}")
        _require_tiers(
            card.median_engagement_bp.get(platform), f"rate_card.median_engagement_bp.{platform}"
        )
        if platform not in card.click_through_bp:
            raise PricingError(f"rate_card.click_through_bp.{platform}", "is missing")
    for kind in Deliverable:
        if kind not in card.deliverable_multiplier_bp:
            raise PricingError(f"rate_card.deliverable_multiplier_bp.{kind}", "is missing")
    if card.engagement_ratio_min_bp > card.engagement_ratio_max_bp:
        raise PricingError(
            "rate_card.engagement_ratio_min_bp", "must not exceed engagement_ratio_max_bp"
        )


def _require_tiers(table: dict[Tier, int] | None, path: str) -> None:
    if table is None:
        raise PricingError(path, "is missing")
    for tier in Tier:
        if tier not in table:
            raise PricingError(f"{path}.{tier}", "is missing")
        if path.startswith("rate_card.median") and table[tier] <= 0:
            raise PricingError(f"{path}.{tier}", "must be greater than 0")

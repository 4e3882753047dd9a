"""The default rate card is complete, sourced and round-trips as JSON."""

import msgspec
import pytest

from contracts.common import Platform, Tier, tier_for_followers
from contracts.pricing import RateCard
from pricing import PricingError, check_rate_card, default_rate_card


def test_the_default_card_prices_every_platform_tier_and_deliverable() -> None:
    check_rate_card(default_rate_card())


def test_every_platform_has_a_cited_cpm_and_engagement_source() -> None:
    card = default_rate_card()
    cited = {source.applies_to for source in card.sources}
    for platform in Platform:
        assert f"cpm.{platform}" in cited
        assert f"median_engagement_bp.{platform}" in cited
    assert all(source.source for source in card.sources)


def test_the_card_round_trips_through_json() -> None:
    card = default_rate_card()
    assert msgspec.json.decode(msgspec.json.encode(card), type=RateCard) == card


def test_an_incomplete_card_is_refused_naming_the_missing_value() -> None:
    card = default_rate_card()
    cpm = {p: dict(t) for p, t in card.cpm.items()}
    del cpm[Platform.WEIBO][Tier.MEGA]
    with pytest.raises(PricingError) as error:
        check_rate_card(msgspec.structs.replace(card, cpm=cpm))
    assert error.value.field == "rate_card.cpm.weibo.mega"


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "nano"),
        (9_999, "nano"),
        (10_000, "micro"),
        (99_999, "micro"),
        (100_000, "mid"),
        (499_999, "mid"),
        (500_000, "macro"),
        (999_999, "macro"),
        (1_000_000, "mega"),
    ],
)
def test_tiers_follow_the_follower_thresholds(followers: int, tier: str) -> None:
    assert tier_for_followers(followers) == tier

"""The catalog's pure rules: tiers, reference prices, authenticity reasons, input checks."""

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.common import Platform, Tier, tier_for_followers
from contracts.kols import Audience, KolSearch, ReasonCode, SearchSort
from pricing import default_rate_card
from services.catalog import rules
from services.catalog.rules import Sample
from services.errors import Invalid

T0 = datetime(2026, 9, 1, tzinfo=UTC)
CARD = default_rate_card()


def sample(days: int = 0, followers: int = 50_000, **changes: float) -> Sample:
    """A healthy micro Instagram account: 2.4 % engagement, 20 % views, 3 % comments."""
    base = Sample(
        taken_at=T0 + timedelta(days=days),
        followers=followers,
        median_views=followers // 5,
        median_likes=int(followers * 0.0233),
        median_comments=int(followers * 0.0007),
        engagement_rate=0.024,
    )
    return base._replace(**changes)


def codes(history: list[Sample], platform: Platform = Platform.INSTAGRAM) -> set[ReasonCode]:
    return {r.code for r in rules.score_authenticity(platform, history)[1]}


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, Tier.NANO),
        (9_999, Tier.NANO),
        (10_000, Tier.MICRO),
        (99_999, Tier.MICRO),
        (100_000, Tier.MID),
        (499_999, Tier.MID),
        (500_000, Tier.MACRO),
        (999_999, Tier.MACRO),
        (1_000_000, Tier.MEGA),
    ],
)
def test_tier_follows_the_published_thresholds(followers: int, tier: Tier) -> None:
    assert tier_for_followers(followers) == tier


def test_reference_price_is_the_rate_cards_creator_fee() -> None:
    # 40,000 views at the card's $10 CPM, engagement at the tier's median: $400.
    median = rules.median_engagement(Platform.DOUYIN, Tier.MID)
    assert rules.reference_price(CARD, Platform.DOUYIN, 200_000, 40_000, median, 1.0) == 40_000
    # YouTube is priced at $22.50 CPM; an authenticity of 0.8 takes a fifth off.
    median = rules.median_engagement(Platform.YOUTUBE, Tier.MID)
    assert rules.reference_price(CARD, Platform.YOUTUBE, 200_000, 40_000, median, 1.0) == 90_000
    assert rules.reference_price(CARD, Platform.YOUTUBE, 200_000, 40_000, median, 0.8) == 72_000
    # Below the card's authenticity floor the card quotes nothing.
    floor = CARD.authenticity_floor_bp / 10_000
    assert (
        rules.reference_price(CARD, Platform.YOUTUBE, 200_000, 40_000, median, floor - 0.01) is None
    )


@given(
    st.sampled_from(list(Platform)),
    st.integers(0, 5_000_000_000),
    st.integers(0, 10_000_000_000 - 1),
    st.floats(0, 1),
    st.floats(0.6, 1),
)
def test_reference_price_never_falls_when_views_grow(
    platform: Platform, followers: int, views: int, engagement: float, authenticity: float
) -> None:
    more = rules.reference_price(CARD, platform, followers, views + 1, engagement, authenticity)
    fewer = rules.reference_price(CARD, platform, followers, views, engagement, authenticity)
    assert more is not None and fewer is not None and more >= fewer >= 0


def test_a_healthy_account_scores_one_without_reasons() -> None:
    score, reasons = rules.score_authenticity(
        Platform.INSTAGRAM, [sample(0), sample(30, 52_000), sample(60, 54_000)]
    )
    assert (score, reasons) == (1.0, [])


def test_engagement_far_below_the_tier_median_is_explained() -> None:
    score, reasons = rules.score_authenticity(Platform.INSTAGRAM, [sample(engagement_rate=0.002)])
    (reason,) = reasons
    assert reason.code == ReasonCode.ENGAGEMENT_LOW
    assert "0.20 %" in reason.message and "2.40 % median of micro instagram" in reason.message
    assert score == pytest.approx(1 - reason.penalty)


def test_engagement_far_above_the_tier_median_is_explained() -> None:
    reasons = rules.score_authenticity(Platform.TIKTOK, [sample(engagement_rate=0.9)])[1]
    assert [r.code for r in reasons] == [ReasonCode.ENGAGEMENT_HIGH]
    assert "engagement groups or are bought" in reasons[0].message


def test_a_follower_jump_without_more_viewers_is_a_spike() -> None:
    before, after = sample(0, 40_000), sample(20, 120_000, median_views=8_000)
    reasons = rules.score_authenticity(Platform.INSTAGRAM, [before, after])[1]
    spike = next(r for r in reasons if r.code == ReasonCode.FOLLOWER_SPIKE)
    assert "from 40,000 to 120,000 (+200 %)" in spike.message
    assert "2026-09-01 and 2026-09-21" in spike.message


def test_viral_growth_with_matching_views_is_not_a_spike() -> None:
    before, after = sample(0, 40_000), sample(20, 120_000)  # views triple too
    assert ReasonCode.FOLLOWER_SPIKE not in codes([before, after])


def test_many_small_snapshots_in_one_day_still_show_the_spike() -> None:
    history = [sample(0, 40_000)]
    for hour in range(1, 8):
        history.append(
            sample(0, int(40_000 * 1.15**hour), median_views=8_000)._replace(
                taken_at=T0 + timedelta(hours=hour)
            )
        )
    assert ReasonCode.FOLLOWER_SPIKE in codes(history)


def test_views_far_below_followers_are_explained() -> None:
    reasons = rules.score_authenticity(Platform.YOUTUBE, [sample(median_views=300)])[1]
    assert [r.code for r in reasons] == [ReasonCode.VIEWS_LOW]
    assert "300 are 0.60 % of 50,000 followers" in reasons[0].message


def test_likes_without_comments_are_explained() -> None:
    reasons = rules.score_authenticity(
        Platform.INSTAGRAM, [sample(median_likes=1_200, median_comments=0)]
    )[1]
    assert [r.code for r in reasons] == [ReasonCode.COMMENTS_MISSING]
    assert "1,200 likes but 0 comments" in reasons[0].message


def test_small_accounts_are_not_judged_on_noisy_ratios() -> None:
    tiny = sample(followers=400, median_views=1, median_likes=50, engagement_rate=0.0)
    assert rules.score_authenticity(Platform.WEIBO, [tiny]) == (1.0, [])


def test_penalties_add_up_and_the_score_stays_in_range() -> None:
    bad = sample(0, 40_000), sample(10, 400_000, median_views=100, engagement_rate=0.0005)
    score, reasons = rules.score_authenticity(Platform.INSTAGRAM, list(bad))
    assert len(reasons) >= 3
    assert score == pytest.approx(max(0.0, 1 - sum(r.penalty for r in reasons)))
    assert 0.0 <= score < 0.5


def audience(gender: dict, age: dict | None = None, regions: dict | None = None) -> Audience:
    return msgspec.convert(
        {"gender": gender, "age": age or {"18-24": 1.0}, "regions": regions or {"CN": 1.0}},
        Audience,
    )


def test_audience_shares_must_each_sum_to_one() -> None:
    ok = audience({"female": 0.6, "male": 0.3995, "other": 0.0005})
    assert rules.audience_errors(ok, "metrics.audience") == []
    bad = audience({"female": 0.6, "male": 0.3}, regions={"CN": 0.5, "other": 0.4})
    fields = [f for f, _ in rules.audience_errors(bad, "metrics.audience")]
    assert fields == ["metrics.audience.gender", "metrics.audience.regions"]


def test_profile_links_must_point_to_the_accounts_platform() -> None:
    rules.check_profile_url(Platform.XIAOHONGSHU, "https://www.xiaohongshu.com/user/profile/x")
    rules.check_profile_url(Platform.YOUTUBE, "https://youtu.be/abc")
    with pytest.raises(Invalid) as caught:
        rules.check_profile_url(Platform.DOUYIN, "https://evil-douyin.com/user/x")
    assert caught.value.errors[0][0] == "profile_url"


def test_search_ranges_and_audience_pairs_are_checked() -> None:
    with pytest.raises(Invalid) as caught:
        rules.check_search(
            KolSearch(followers_min=10, followers_max=5, audience_age_min=0.3, region=["cn"])
        )
    assert [f for f, _ in caught.value.errors] == ["followers_min", "audience_age_min", "region"]


def test_a_cursor_only_resumes_the_search_it_came_from() -> None:
    search = KolSearch(sort=SearchSort.ENGAGEMENT, platform=[Platform.WEIBO])
    cursor = rules.SearchCursor(
        rules.search_fingerprint(search), [0.05, "6f1c3a52-8d8a-4d4c-9a43-4f6c1d2e3b4a"], 42, True
    )
    text = rules.encode_cursor(cursor)
    resume = rules.resume_search(msgspec.structs.replace(search, cursor=text, limit=50))
    assert resume is not None and resume.total == 42 and resume.estimate
    other = KolSearch(sort=SearchSort.ENGAGEMENT, platform=[Platform.DOUYIN], cursor=text)
    with pytest.raises(Invalid, match="another search"):
        rules.resume_search(other)
    with pytest.raises(Invalid, match="malformed"):
        rules.resume_search(msgspec.structs.replace(search, cursor="not-a-cursor"))

"""The default rate card's data, each value next to its source.

Values are in US cents and basis points. Published figures vary 5 to 10× between sources
(PRICING.md), so the card is versioned and editable; `pricing/README.md` explains each
choice. "Assumed equal to X" means no published figure for that platform was found in the
card's sources and the closest comparable format was used.
"""

from __future__ import annotations

from typing import Final

from contracts.common import Deliverable, Platform, Tier

VERSION: Final = "2025.1-usd"
CURRENCY: Final = "USD"

_GUIDES = "influencer pricing guides quoted in PRICING.md"
_IG_TT_CPM = f"{_GUIDES}: Instagram and TikTok $5–15 CPM; midpoint $10 chosen"
_YT_CPM = f"{_GUIDES}: YouTube $15–30 CPM; midpoint $22.50 chosen"

# Reference CPM (cents per 1000 expected views) of one standard post or short video.
# The guides' ranges are used rather than the one booking data set ($25–42, $51–61): they
# are broader, and the card is meant as a fair starting point, not a ceiling.
CPM_CENTS: Final[dict[Platform, tuple[int, str]]] = {
    Platform.INSTAGRAM: (1_000, _IG_TT_CPM),
    Platform.TIKTOK: (1_000, _IG_TT_CPM),
    Platform.YOUTUBE: (2_250, _YT_CPM),
    Platform.DOUYIN: (1_000, "assumed equal to TikTok (same short-video format)"),
    Platform.KUAISHOU: (1_000, "assumed equal to TikTok (same short-video format)"),
    Platform.TAOBAO_LIVE: (1_000, "assumed equal to TikTok (live and short-video commerce)"),
    Platform.XIAOHONGSHU: (1_000, "assumed equal to Instagram (photo and note feed)"),
    Platform.WEIBO: (1_000, "assumed equal to Instagram (feed posts)"),
    Platform.WECHAT: (1_000, "assumed equal to Instagram (feed posts)"),
    Platform.BILIBILI: (2_250, "assumed equal to YouTube (long-form video)"),
}
CPM_BY_TIER_NOTE: Final = (
    "no published CPM by tier in the card's sources: the CPM is the same for every tier and "
    "the engagement adjustment against the tier's median carries the tier difference"
)

_HYPE = "secondary sources citing HypeAuditor and Statista (PRICING.md)"
_TIKTOK_ER = (1_030, 810, 630, 550, 490)
_INSTAGRAM_ER = (480, 240, 180, 150, 120)

# Median engagement rate (bp) by tier, nano → mega.
ENGAGEMENT_BP: Final[dict[Platform, tuple[tuple[int, ...], str]]] = {
    Platform.TIKTOK: (_TIKTOK_ER, f"TikTok 10.3 / 8.1 / 6.3 / 5.5 / 4.9 %, {_HYPE}"),
    Platform.INSTAGRAM: (_INSTAGRAM_ER, f"Instagram 4.8 / 2.4 / 1.8 / 1.5 / 1.2 %, {_HYPE}"),
    Platform.DOUYIN: (_TIKTOK_ER, "assumed equal to TikTok"),
    Platform.KUAISHOU: (_TIKTOK_ER, "assumed equal to TikTok"),
    Platform.TAOBAO_LIVE: (_TIKTOK_ER, "assumed equal to TikTok"),
    Platform.XIAOHONGSHU: (_INSTAGRAM_ER, "assumed equal to Instagram"),
    Platform.WEIBO: (_INSTAGRAM_ER, "assumed equal to Instagram"),
    Platform.WECHAT: (_INSTAGRAM_ER, "assumed equal to Instagram"),
    Platform.YOUTUBE: (_INSTAGRAM_ER, "assumed equal to Instagram (no tier figures found)"),
    Platform.BILIBILI: (_INSTAGRAM_ER, "assumed equal to Instagram (no tier figures found)"),
}
TIER_ORDER: Final = (Tier.NANO, Tier.MICRO, Tier.MID, Tier.MACRO, Tier.MEGA)

_HOUSE = "house assumption: no published per-format price in the card's sources"
DELIVERABLE_MULTIPLIER_BP: Final[dict[Deliverable, tuple[int, str]]] = {
    Deliverable.POST: (10_000, "reference deliverable"),
    Deliverable.SHORT_VIDEO: (10_000, "reference deliverable (the guides' CPMs cover both)"),
    Deliverable.LONG_VIDEO: (15_000, _HOUSE),
    Deliverable.LIVE_STREAM: (12_500, _HOUSE),
    Deliverable.STORY: (5_000, _HOUSE),
}

CLICK_THROUGH_BP: Final = (
    100,
    "1.0 %: midpoint of 0.5–1.5 % of impressions for organic Instagram feed posts "
    "(codivupload.com glossary, 'Click-Through Rate'); used for every platform",
)
CONVERSION_RATE_BP: Final = (
    200,
    "2.0 %: inside the 0.5–3 % range for influencer traffic to purchase (tanke.fr "
    "glossary, 'Benchmark') and below the 2.58 % all-traffic e-commerce average "
    "(Monetate Q2 2019, via vwo.com)",
)
TAKE_RATE_BP: Final = (1_000, "marketplace policy: 10 % of the creator fee, paid by merchant")
AUTHENTICITY_FLOOR_BP: Final = (6_000, "marketplace policy: accounts below 0.60 are not quoted")
ENGAGEMENT_CLAMP_BP: Final = (7_000, 15_000, "PRICING.md: clamp(engagement / median, 0.7, 1.5)")
TIER_NOTE: Final = (
    "nano < 10k <= micro < 100k <= mid < 500k <= macro < 1M <= mega (Mediakix's standard; "
    "micro up to 100k rather than 50k)"
)

"""Shared vocabulary of the product: platforms, tiers, deliverables and currencies.

Every bounded context imports these; the tier thresholds live here and nowhere else.
"""

from __future__ import annotations

import enum
from typing import Any, Final

# Whitespace and control characters, spelled out. `\s` means one set in Python's `re`, which
# checks requests, and another in the ECMA-262 patterns of JSON Schema, which clients check
# (Python's includes U+001C-U+001F and U+0085, ECMA's U+FEFF): patterns name these instead.
SPACE: Final = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def spelled(pattern: str) -> str:
    r"""`pattern` with `\s` (written inside a character class) and `\S` as SPACE spells them."""
    return pattern.replace(r"\S", f"[^{SPACE}]").replace(r"\s", SPACE)


class Platform(enum.StrEnum):
    """Social platforms a KOL account can live on."""

    DOUYIN = "douyin"
    XIAOHONGSHU = "xiaohongshu"
    WEIBO = "weibo"
    WECHAT = "wechat"
    BILIBILI = "bilibili"
    KUAISHOU = "kuaishou"
    TAOBAO_LIVE = "taobao_live"
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"


class Tier(enum.StrEnum):
    """Size class of an account, derived from its followers (see `tier_for_followers`)."""

    NANO = "nano"
    MICRO = "micro"
    MID = "mid"
    MACRO = "macro"
    MEGA = "mega"


class Deliverable(enum.StrEnum):
    """Kinds of content a KOL can deliver."""

    POST = "post"
    SHORT_VIDEO = "short_video"
    LONG_VIDEO = "long_video"
    LIVE_STREAM = "live_stream"
    STORY = "story"


# A list the service refuses with repeats (422 naming it): `Meta(extra_json_schema=UNIQUE)`.
UNIQUE: Final[dict[str, Any]] = {"uniqueItems": True}


class Currency(enum.StrEnum):
    """ISO 4217 codes of the currencies the marketplace trades in (MINOR_UNIT_DIGITS below
    says how many digits each has after the point)."""

    AUD = "AUD"
    CAD = "CAD"
    CNY = "CNY"
    EUR = "EUR"
    GBP = "GBP"
    HKD = "HKD"
    IDR = "IDR"
    INR = "INR"
    JPY = "JPY"
    KRW = "KRW"
    MYR = "MYR"
    PHP = "PHP"
    SGD = "SGD"
    THB = "THB"
    TWD = "TWD"
    USD = "USD"
    VND = "VND"


# ISO 4217 minor-unit digits: amounts are integers of 10**-digits of the major unit.
MINOR_UNIT_DIGITS: Final[dict[str, int]] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CNY": 2,
    "HKD": 2,
    "SGD": 2,
    "TWD": 2,
    "MYR": 2,
    "THB": 2,
    "IDR": 2,
    "PHP": 2,
    "VND": 0,
    "INR": 2,
    "AUD": 2,
    "CAD": 2,
    "JPY": 0,
    "KRW": 0,
}
SUPPORTED_CURRENCIES: Final[frozenset[str]] = frozenset(MINOR_UNIT_DIGITS)
ZERO_DECIMAL_CURRENCIES: Final[frozenset[str]] = frozenset(
    code for code, digits in MINOR_UNIT_DIGITS.items() if digits == 0
)

# Lower follower bound of each tier (Mediakix's standard): nano < 10k <= micro < 100k
# <= mid < 500k <= macro < 1M <= mega.
TIER_FLOORS: Final[tuple[tuple[Tier, int], ...]] = (
    (Tier.MEGA, 1_000_000),
    (Tier.MACRO, 500_000),
    (Tier.MID, 100_000),
    (Tier.MICRO, 10_000),
    (Tier.NANO, 0),
)


def tier_for_followers(followers: int) -> Tier:
    """The tier of an account with `followers` followers (followers must be >= 0)."""
    if followers < 0:
        raise ValueError("followers must be at least 0")
    for tier, floor in TIER_FLOORS:
        if followers >= floor:
            return tier
    return Tier.NANO

"""Pure rules of the catalog: tiers, reference prices, authenticity scoring, input checks.

No I/O here: every function takes values and returns values or raises `Invalid`.
"""

import base64
import hashlib
import itertools
import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from contracts.common import Deliverable, Platform, Tier, tier_for_followers
from contracts.kols import (
    AccountPatch,
    Audience,
    AuthenticityReason,
    KolSearch,
    ProfileIn,
    ReasonCode,
    SearchSort,
    SortOrder,
)
from contracts.pricing import (
    AccountMetrics,
    DeliverableOrder,
    ProductTerms,
    QuoteRequest,
    RateCard,
)
from pricing import QuoteRefused, default_rate_card, quote
from services.errors import Invalid

T = TypeVar("T")

# ---- Reference price of one post or short video -------------------------------------------
# The creator fee of the current rate card (read from the database by the caller); the card's
# currency and version are kept beside each price.
VIDEO_FIRST: Final = frozenset(
    Platform(p) for p in ("douyin", "kuaishou", "taobao_live", "tiktok", "bilibili", "youtube")
)


def reference_price(
    card: RateCard,
    platform: Platform,
    followers: int,
    median_views: int,
    engagement: float,
    authenticity: float,
) -> int | None:
    """`card`'s creator fee for one short video (video-first platforms) or post, in minor
    units; None when the card does not quote the account (authenticity below its floor)."""
    kind = Deliverable.SHORT_VIDEO if platform in VIDEO_FIRST else Deliverable.POST
    account = AccountMetrics(
        platform=platform,
        followers=followers,
        median_views=median_views,
        engagement_rate=engagement,
        authenticity=authenticity,
    )
    request = QuoteRequest(
        account=account,
        deliverable=DeliverableOrder(kind=kind),
        product=ProductTerms(average_order_value=0),
        currency=card.currency,
    )
    try:
        return quote(request, card).creator_fee
    except QuoteRefused:
        return None


# ---- Authenticity ---------------------------------------------------------------------------
class Sample(NamedTuple):
    """One metrics snapshot, as the scoring reads it."""

    taken_at: datetime
    followers: int
    median_views: int
    median_likes: int
    median_comments: int
    engagement_rate: float


# Scoring compares engagement with the default card's tier medians: a fixed yardstick, so that
# scores do not move when an operator publishes new prices.
SCORING_CARD: Final = default_rate_card()


def median_engagement(platform: Platform, tier: Tier) -> float:
    """The default card's median engagement rate of accounts of this platform and tier."""
    return SCORING_CARD.median_engagement_bp[platform][tier] / 10_000


MIN_FOLLOWERS_CHECKED: Final = 1_000  # smaller accounts are too noisy to judge
# (threshold, penalty), most severe first.
ENGAGEMENT_LOW_RATIO: Final = ((0.10, 0.40), (0.25, 0.25))
ENGAGEMENT_HIGH_RATIO: Final = ((8.0, 0.35), (4.0, 0.20))
VIEWS_PER_FOLLOWER: Final = ((0.005, 0.40), (0.02, 0.25))
COMMENTS_PER_LIKE: Final = ((0.001, 0.30), (0.005, 0.20))
MIN_LIKES_CHECKED: Final = 100
# A spike: followers growing faster than 50 % a month (intervals shorter than a week count
# as a week) by at least 2,000, while median views grew less than half as fast.
SPIKE_MONTHLY_GROWTH: Final = 0.5
SPIKE_MIN_GAIN: Final = 2_000
SPIKE_PENALTY: Final = 0.30
SPIKE_SEVERE_GROWTH: Final = 2.0
SPIKE_SEVERE_PENALTY: Final = 0.40


def score_authenticity(
    platform: Platform, history: Sequence[Sample]
) -> tuple[float, list[AuthenticityReason]]:
    """Score 0..1 (1 = nothing suspicious) from the history, oldest first, and its reasons."""
    if not history:
        return 1.0, []
    latest = history[-1]
    found = [
        _engagement_reason(platform, latest),
        _views_reason(latest),
        _comments_reason(latest),
        _spike_reason(history),
    ]
    reasons = [r for r in found if r is not None]
    score = max(0.0, 1.0 - sum(r.penalty for r in reasons))
    return round(score, 3), reasons


def _graded(value: float, grades: Sequence[tuple[float, float]], below: bool) -> float:
    for threshold, penalty in grades:
        if (value < threshold) if below else (value > threshold):
            return penalty
    return 0.0


def _engagement_reason(platform: Platform, s: Sample) -> AuthenticityReason | None:
    if s.followers < MIN_FOLLOWERS_CHECKED:
        return None
    tier = tier_for_followers(s.followers)
    median = median_engagement(platform, tier)
    ratio = s.engagement_rate / median
    where = f"the {_pct(median)} median of {tier} {platform} accounts"
    if penalty := _graded(ratio, ENGAGEMENT_LOW_RATIO, below=True):
        return AuthenticityReason(
            code=ReasonCode.ENGAGEMENT_LOW,
            penalty=penalty,
            message=f"engagement {_pct(s.engagement_rate)} is {ratio:.2f}× {where}: "
            "followers who never engage are often bought",
        )
    if penalty := _graded(ratio, ENGAGEMENT_HIGH_RATIO, below=False):
        return AuthenticityReason(
            code=ReasonCode.ENGAGEMENT_HIGH,
            penalty=penalty,
            message=f"engagement {_pct(s.engagement_rate)} is {ratio:.1f}× {where}: "
            "likes and comments this far above peers often come from engagement groups or "
            "are bought",
        )
    return None


def _views_reason(s: Sample) -> AuthenticityReason | None:
    if s.followers < MIN_FOLLOWERS_CHECKED:
        return None
    ratio = s.median_views / s.followers
    if penalty := _graded(ratio, VIEWS_PER_FOLLOWER, below=True):
        return AuthenticityReason(
            code=ReasonCode.VIEWS_LOW,
            penalty=penalty,
            message=f"median views {s.median_views:,} are {_pct(ratio)} of {s.followers:,} "
            "followers: most followers never see or watch the posts",
        )
    return None


def _comments_reason(s: Sample) -> AuthenticityReason | None:
    if s.median_likes < MIN_LIKES_CHECKED:
        return None
    ratio = s.median_comments / s.median_likes
    if penalty := _graded(ratio, COMMENTS_PER_LIKE, below=True):
        return AuthenticityReason(
            code=ReasonCode.COMMENTS_MISSING,
            penalty=penalty,
            message=f"posts get a median {s.median_likes:,} likes but {s.median_comments:,} "
            f"comments ({_pct(ratio)} of likes): likes without conversation are often bought",
        )
    return None


def _spike_reason(history: Sequence[Sample]) -> AuthenticityReason | None:
    worst: tuple[float, Sample, Sample] | None = None
    for before, after in itertools.pairwise(history):
        gain = after.followers - before.followers
        if gain < SPIKE_MIN_GAIN:
            continue
        growth = gain / max(before.followers, 1)
        days = max((after.taken_at - before.taken_at).total_seconds() / 86_400, 7.0)
        monthly = growth * 30 / days
        views_growth = (after.median_views - before.median_views) / max(before.median_views, 1)
        suspicious = monthly > SPIKE_MONTHLY_GROWTH and views_growth < growth / 2
        if suspicious and (worst is None or monthly > worst[0]):
            worst = (monthly, before, after)
    if worst is None:
        return None
    monthly, before, after = worst
    growth = (after.followers - before.followers) / max(before.followers, 1)
    views_growth = (after.median_views - before.median_views) / max(before.median_views, 1)
    return AuthenticityReason(
        code=ReasonCode.FOLLOWER_SPIKE,
        penalty=SPIKE_SEVERE_PENALTY if monthly > SPIKE_SEVERE_GROWTH else SPIKE_PENALTY,
        message=f"followers jumped from {before.followers:,} to {after.followers:,} "
        f"({_signed_pct(growth)}) between {before.taken_at:%Y-%m-%d} and "
        f"{after.taken_at:%Y-%m-%d} while median views moved {_signed_pct(views_growth)}: "
        "sudden growth without more viewers usually means bought followers",
    )


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.2f} %"


def _signed_pct(fraction: float) -> str:
    return f"{fraction * 100:+.0f} %"


# ---- Input checks ---------------------------------------------------------------------------
SHARE_TOLERANCE: Final = 0.001

# Hosts an account's profile link may point to, per platform (subdomains allowed).
PLATFORM_HOSTS: Final[dict[Platform, tuple[str, ...]]] = {
    Platform.DOUYIN: ("douyin.com", "iesdouyin.com"),
    Platform.XIAOHONGSHU: ("xiaohongshu.com", "xhslink.com"),
    Platform.WEIBO: ("weibo.com", "weibo.cn"),
    Platform.WECHAT: ("weixin.qq.com", "wechat.com"),
    Platform.BILIBILI: ("bilibili.com", "b23.tv"),
    Platform.KUAISHOU: ("kuaishou.com", "gifshow.com"),
    Platform.TAOBAO_LIVE: ("taobao.com", "tb.cn"),
    Platform.INSTAGRAM: ("instagram.com",),
    Platform.TIKTOK: ("tiktok.com",),
    Platform.YOUTUBE: ("youtube.com", "youtu.be"),
}


def audience_errors(audience: Audience | None, field: str) -> list[tuple[str, str]]:
    """Each dimension's shares must sum to 1 (within SHARE_TOLERANCE)."""
    if audience is None:
        return []
    errors = []
    for name, shares in (
        ("gender", audience.gender),
        ("age", audience.age),
        ("regions", audience.regions),
    ):
        total = math.fsum(shares.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            errors.append(
                (f"{field}.{name}", f"shares must sum to 1 (±{SHARE_TOLERANCE}), got {total:.4f}")
            )
    return errors


def check_profile_url(platform: Platform, url: str, field: str = "profile_url") -> None:
    try:
        parts = urlsplit(url)
        host, _ = (parts.hostname or "").lower(), parts.port
    except ValueError:  # brackets that open no IPv6 address, a port that is not one
        raise Invalid(field, f"{field} is not a valid link") from None
    allowed = PLATFORM_HOSTS[platform]
    if not any(host == h or host.endswith("." + h) for h in allowed):
        raise Invalid(field, f"a {platform} profile link must be on {' or '.join(allowed)}")


def check_account(platform: Platform, profile_url: str | None, audience: Audience | None) -> None:
    if profile_url is not None:
        check_profile_url(platform, profile_url)
    _raise_all(audience_errors(audience, "metrics.audience"))


def check_patch(patch: AccountPatch) -> None:
    if patch.handle is None and patch.profile_url is None and patch.metrics is None:
        raise Invalid("body", "give at least one of handle, profile_url, metrics")


def check_profile(profile: ProfileIn) -> None:
    errors = []
    for field, values in (
        ("languages", profile.languages),
        ("categories", profile.categories),
        ("contact_preferences.channels", profile.contact_preferences.channels),
    ):
        if len(set(values)) != len(values):
            errors.append((field, f"{field} must not repeat a value"))
    if not profile.display_name.strip():
        errors.append(("display_name", "display_name must not be blank"))
    _raise_all(errors)


def _raise_all(errors: list[tuple[str, str]]) -> None:
    if errors:
        (field, message), *more = errors
        raise Invalid(field, message, more=more)


# ---- Search ---------------------------------------------------------------------------------
SORT_COLUMNS: Final[dict[SearchSort, str]] = {
    SearchSort.FOLLOWERS: "followers",
    SearchSort.ENGAGEMENT: "engagement_rate",
    SearchSort.AUTHENTICITY: "authenticity",
    SearchSort.PRICE: "reference_price",
}
_FLOAT_SORTS: Final = frozenset({SearchSort.ENGAGEMENT, SearchSort.AUTHENTICITY})
_REGION = re.compile("^[A-Z]{2}$")


def resolve_order(search: KolSearch) -> SortOrder:
    """Cheapest first for price, largest first for everything else, unless asked."""
    if search.order is not None:
        return search.order
    return SortOrder.ASC if search.sort == SearchSort.PRICE else SortOrder.DESC


def ranks_by_categories(search: KolSearch) -> bool:
    """Relevance ranks by categories covered when more than one is wanted; otherwise every
    match covers the one wanted, and relevance orders by followers."""
    return search.sort == SearchSort.RELEVANCE and len(set(search.category or ())) > 1


def check_search(search: KolSearch) -> None:
    errors = []
    for low, high in (("followers_min", "followers_max"), ("price_min", "price_max")):
        low_value, high_value = getattr(search, low), getattr(search, high)
        if low_value is not None and high_value is not None and low_value > high_value:
            errors.append((low, f"{low} must not exceed {high}"))
    for key in ("audience_gender", "audience_age", "audience_region"):
        if (getattr(search, key) is None) != (getattr(search, f"{key}_min") is None):
            errors.append((f"{key}_min", f"{key} and {key}_min go together"))
    if search.audience_region not in (None, "other") and not _REGION.match(search.audience_region):
        errors.append(("audience_region", "audience_region must be a code like CN, or other"))
    for code in search.region or ():
        if not _REGION.match(code):
            errors.append(("region", f"region {code!r} is not a code like CN"))
    _raise_all(errors)


class SearchCursor(msgspec.Struct, array_like=True, frozen=True):
    """Where the next page starts: the last row's sort key, and the first page's total."""

    fingerprint: str
    key: list[int | float | str]
    total: int
    estimate: bool


def search_fingerprint(search: KolSearch) -> str:
    """Identifies the filters and order a cursor belongs to (not the page size)."""
    canonical = msgspec.structs.replace(search, cursor=None, limit=0, order=resolve_order(search))
    return hashlib.sha256(msgspec.json.encode(canonical)).hexdigest()[:16]


def encode_cursor(position: msgspec.Struct) -> str:
    """An opaque, URL-safe token of a page position."""
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def read_cursor(text: str, type_: type[T]) -> T:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return msgspec.json.decode(raw, type=type_)
    except (ValueError, msgspec.DecodeError) as exc:
        raise Invalid("cursor", "cursor is malformed; start again without it") from exc


class Resume(NamedTuple):
    """Where a search resumes: the last served row's sort key (ending with its account id)."""

    after: list[Any]
    total: int
    estimate: bool


def resume_search(search: KolSearch) -> Resume | None:
    """The position of `search`'s cursor, checked against its filters; None on a first page."""
    if search.cursor is None:
        return None
    cursor = read_cursor(search.cursor, SearchCursor)
    if cursor.fingerprint != search_fingerprint(search):
        raise Invalid("cursor", "cursor belongs to another search; start again without it")
    try:
        after = _typed_key(search, cursor.key)
    except ValueError as exc:
        raise Invalid("cursor", "cursor is malformed; start again without it") from exc
    return Resume(after, cursor.total, cursor.estimate)


def _typed_key(search: KolSearch, key: list[int | float | str]) -> list[Any]:
    *values, last = key
    wanted = 2 if ranks_by_categories(search) else 1
    number = (int, float) if search.sort in _FLOAT_SORTS else (int,)
    if len(values) != wanted or not all(
        isinstance(v, number) and not isinstance(v, bool) for v in values
    ):
        raise ValueError("cursor key does not fit the sort")
    if wanted == 2 and not 1 <= values[0] <= len(set(search.category or ())):
        raise ValueError("cursor relevance is out of range")
    typed: list[Any] = [float(v) if search.sort in _FLOAT_SORTS else v for v in values]
    return [*typed, UUID(str(last))]

"""KOL catalog: profiles, platform accounts with their metric history, authenticity, search.

Shares are fractions in 0..1; an audience dimension's shares sum to 1 (within 0.001).
`reference_price` is a rate card's creator fee for one short video (video-first platforms)
or post, in integer minor units of `currency`, priced by the card `rate_card_version` names:
the current card, recomputed when an operator publishes a new one. It is null when the card
does not quote the account (authenticity below the card's floor).
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import UNIQUE, Platform, Tier, spelled

Share = Annotated[float, Meta(ge=0.0, le=1.0, description="a fraction between 0 and 1")]
RegionCode = Annotated[
    str, Meta(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country or region code")
]
AudienceRegion = Annotated[
    str,
    Meta(
        pattern="^([A-Z]{2}|other)$",
        description="ISO 3166-1 alpha-2 code, or `other` for the rest of the audience",
    ),
]
LanguageTag = Annotated[
    str,
    Meta(
        pattern="^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        max_length=35,
        description="BCP 47 language tag, e.g. zh-Hans or en",
    ),
]
Handle = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        pattern=spelled(r"^[^\s/?#]+$"),
        description="the account's name on the platform, without spaces or slashes",
    ),
]
ProfileUrl = Annotated[
    str,
    Meta(
        min_length=12,
        max_length=500,
        pattern=spelled(r"^https://[^\s/?#]+\.[^\s/?#]+(/\S*)?$"),
        description="https link to the account on its platform",
    ),
]
Count = Annotated[int, Meta(ge=0, le=10_000_000_000)]
Note = Annotated[str, Meta(min_length=1, max_length=1000)]


class Category(enum.StrEnum):
    """Content categories a KOL covers; merchants search by them."""

    BEAUTY = "beauty"
    SKINCARE = "skincare"
    FASHION = "fashion"
    LUXURY = "luxury"
    FOOD = "food"
    TRAVEL = "travel"
    FITNESS = "fitness"
    HEALTH = "health"
    PARENTING = "parenting"
    HOME = "home"
    PETS = "pets"
    TECH = "tech"
    GAMING = "gaming"
    FINANCE = "finance"
    EDUCATION = "education"
    AUTOMOTIVE = "automotive"
    SPORTS = "sports"
    MUSIC = "music"
    ENTERTAINMENT = "entertainment"
    LIFESTYLE = "lifestyle"
    BOOKS = "books"
    ART = "art"


class Gender(enum.StrEnum):
    """An audience's gender dimension."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class AgeBand(enum.StrEnum):
    """An audience's age bands, in years."""

    AGE_13_17 = "13-17"
    AGE_18_24 = "18-24"
    AGE_25_34 = "25-34"
    AGE_35_44 = "35-44"
    AGE_45_54 = "45-54"
    AGE_55_PLUS = "55+"


class ContactChannel(enum.StrEnum):
    """Ways a KOL likes to be contacted."""

    IN_APP = "in_app"
    EMAIL = "email"
    WECHAT = "wechat"
    WHATSAPP = "whatsapp"
    LINE = "line"
    TELEGRAM = "telegram"
    PHONE = "phone"


class ReasonCode(enum.StrEnum):
    """Why an account's authenticity score is below 1."""

    ENGAGEMENT_LOW = "engagement_low"
    ENGAGEMENT_HIGH = "engagement_high"
    FOLLOWER_SPIKE = "follower_spike"
    VIEWS_LOW = "views_low"
    COMMENTS_MISSING = "comments_missing"


class SearchSort(enum.StrEnum):
    """The order of a KOL search, by the KOL's best matching account."""

    RELEVANCE = "relevance"
    FOLLOWERS = "followers"
    ENGAGEMENT = "engagement"
    AUTHENTICITY = "authenticity"
    PRICE = "price"


class SortOrder(enum.StrEnum):
    """Ascending or descending."""

    ASC = "asc"
    DESC = "desc"


class ContactPreferences(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How the KOL likes to be approached; contact details stay private to deals."""

    channels: Annotated[
        list[ContactChannel], Meta(min_length=1, max_length=7, extra_json_schema=UNIQUE)
    ] = msgspec.field(default_factory=lambda: [ContactChannel.IN_APP])
    open_to_offers: bool = True
    note: Annotated[str, Meta(max_length=500)] = ""


class ProfileIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The whole profile of the calling KOL (PUT replaces it)."""

    display_name: Annotated[str, Meta(min_length=1, max_length=100)]
    bio: Annotated[str, Meta(max_length=2000)] = ""
    region: RegionCode | None = None
    languages: Annotated[list[LanguageTag], Meta(max_length=10, extra_json_schema=UNIQUE)] = []
    categories: Annotated[list[Category], Meta(max_length=5, extra_json_schema=UNIQUE)] = []
    contact_preferences: ContactPreferences = msgspec.field(default_factory=ContactPreferences)


class Audience(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Who follows the account; each dimension's shares sum to 1."""

    gender: Annotated[dict[Gender, Share], Meta(min_length=1, max_length=3)]
    age: Annotated[dict[AgeBand, Share], Meta(min_length=1, max_length=6)]
    regions: Annotated[
        dict[AudienceRegion, Share],
        Meta(min_length=1, max_length=11, description="top regions, with `other` for the rest"),
    ]


class MetricsIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One measurement of an account, over its recent posts; kept as history."""

    followers: Annotated[int, Meta(ge=0, le=5_000_000_000)]
    median_views: Count
    median_likes: Count
    median_comments: Count
    engagement_rate: Annotated[
        float, Meta(ge=0.0, le=1.0, description="(likes + comments + shares) / followers")
    ]
    posts_per_month: Annotated[float, Meta(ge=0.0, le=1000.0)]
    audience: Audience | None = None


class AccountIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A platform account the KOL lists, with its first measurement. `profile_url` must be on
    one of the platform's hosts (e.g. tiktok.com for TikTok); a handle is listed once per
    platform."""

    platform: Platform
    handle: Handle
    profile_url: ProfileUrl
    metrics: MetricsIn


class AccountPatch(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Change the handle or link, and/or record a new metrics snapshot: at least one of the
    three. A new `profile_url` must be on one of the account's platform's hosts."""

    handle: Handle | None = None
    profile_url: ProfileUrl | None = None
    metrics: MetricsIn | None = None


class OverrideIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An operator's review: a score replacing the computed one (null clears it)."""

    score: Share | None
    verified: bool | None = None
    note: Note


class AuthenticityReason(msgspec.Struct, kw_only=True, frozen=True):
    """One suspicious sign in the account's metrics, and what it costs the score."""

    code: ReasonCode
    penalty: Annotated[
        float, Meta(description="subtracted from 1: the computed score is 1 − the penalties")
    ]
    message: str


class AuthenticityOverride(msgspec.Struct, kw_only=True, frozen=True):
    """An operator's review that replaced the computed score, with its note."""

    score: float
    note: str
    at: datetime


class Authenticity(msgspec.Struct, kw_only=True, frozen=True):
    """`score` is the override when an operator set one, else `computed_score`."""

    score: float
    computed_score: float
    reasons: list[AuthenticityReason]
    override: AuthenticityOverride | None = None


class AccountOut(msgspec.Struct, kw_only=True, frozen=True):
    """A KOL's platform account with its latest metrics, its tier (from its followers), its
    authenticity and its reference price."""

    id: UUID
    kol_id: UUID
    platform: Platform
    handle: str
    profile_url: str
    verified: Annotated[bool, Meta(description="an operator marked the account verified")]
    tier: Tier
    followers: int
    median_views: int
    median_likes: int
    median_comments: int
    engagement_rate: Annotated[
        float, Meta(description="(likes + comments + shares) / followers, a fraction")
    ]
    posts_per_month: float
    audience: Audience | None
    reference_price: (
        Annotated[
            int,
            Meta(
                description="the rate card's creator fee for one short video (video-first "
                "platforms) or post, integer minor units of `currency`; null when the card does "
                "not quote the account (authenticity below its floor)"
            ),
        ]
        | None
    )
    currency: str
    rate_card_version: Annotated[str, Meta(description="the card `reference_price` is from")]
    authenticity: Authenticity
    metrics_updated_at: datetime
    created_at: datetime


class KolOut(msgspec.Struct, kw_only=True, frozen=True):
    """A KOL's profile with its platform accounts."""

    id: UUID
    display_name: str
    bio: str
    region: str | None
    languages: list[str]
    categories: list[Category]
    contact_preferences: ContactPreferences
    accounts: list[AccountOut]
    payout_ready: Annotated[
        bool,
        Meta(
            description="whether the KOL has a payout account that can receive payouts "
            "(onboarding with the payment provider finished)"
        ),
    ]
    updated_at: datetime


class SnapshotOut(msgspec.Struct, kw_only=True, frozen=True):
    """One past measurement of an account."""

    taken_at: datetime
    followers: int
    median_views: int
    median_likes: int
    median_comments: int
    engagement_rate: float
    posts_per_month: float
    audience: Audience | None


class SnapshotPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of an account's measurements, newest first; `next_cursor` is null on the last
    page."""

    items: list[SnapshotOut]
    next_cursor: str | None


class AccountCard(msgspec.Struct, kw_only=True, frozen=True):
    """The KOL's account that best matches the search; it gives the KOL its place."""

    id: UUID
    platform: Platform
    handle: str
    tier: Tier
    followers: int
    engagement_rate: float
    authenticity: Annotated[float, Meta(description="the account's authenticity score, 0..1")]
    reference_price: (
        Annotated[
            int,
            Meta(
                description="the rate card's creator fee for one short video (video-first "
                "platforms) or post, integer minor units of `currency`; null when the card does "
                "not quote the account (authenticity below its floor)"
            ),
        ]
        | None
    )
    currency: str
    rate_card_version: Annotated[str, Meta(description="the card `reference_price` is from")]
    verified: bool


class KolCard(msgspec.Struct, kw_only=True, frozen=True):
    """A KOL in search results, with the account that placed it."""

    id: UUID
    display_name: str
    region: str | None
    languages: list[str]
    categories: list[Category]
    account: AccountCard


class KolPage(msgspec.Struct, kw_only=True, frozen=True):
    """One page of a search. `total` counts matching KOLs when the first page was served;
    it is the planner's estimate when `total_is_estimate` is true."""

    items: list[KolCard]
    next_cursor: str | None
    total: int
    total_is_estimate: bool


class KolSearch(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Filters, order and page of `GET /v1/kols`. Account filters apply to one account."""

    platform: list[Platform] | None = None
    tier: list[Tier] | None = None
    category: list[Category] | None = None
    region: list[str] | None = None
    followers_min: int | None = None
    followers_max: int | None = None
    engagement_min: float | None = None
    authenticity_min: float | None = None
    price_min: int | None = None
    price_max: int | None = None
    verified: bool | None = None
    audience_gender: Gender | None = None
    audience_gender_min: float | None = None
    audience_age: AgeBand | None = None
    audience_age_min: float | None = None
    audience_region: str | None = None
    audience_region_min: float | None = None
    sort: SearchSort = SearchSort.RELEVANCE
    order: SortOrder | None = None
    limit: int = 20
    cursor: str | None = None

"""One realistic example of each request body and of the main answers, shown in the OpenAPI
document on the struct's schema (`examples`).

They tell one story, in early 2027: Lumen Beauty, a Singapore skincare brand, runs a TikTok and
Instagram launch of its vitamin C serum in Southeast Asia, in USD (amounts in cents), and
negotiates with Aisyah Rahman, a Malaysian TikTok creator. Each request is valid by every rule
of the service at the moment it is sent in that story (offers lapse at most 30 days ahead,
content is posted before it is submitted, ...), against the objects the other examples show.
"""

import hashlib
from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from contracts.accounts import (
    AccountRole,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyStatus,
    ApiScope,
    InvitationOut,
    Me,
    MemberInviteIn,
    MemberRole,
    RefreshIn,
    RegisterIn,
    RegistrableRole,
    RoleChangeIn,
    TokenIn,
    TokenPair,
)
from contracts.briefs import (
    BriefIn,
    BriefOut,
    BriefPatch,
    BriefStatus,
    CommissionOffer,
    DeliveryPolicy,
    Goals,
    Product,
    Targeting,
    Timeline,
    Visibility,
)
from contracts.common import Currency, Deliverable, Platform, Tier
from contracts.deals import DealDeliverable, DealOut, DealStatus, DealTerms
from contracts.delivery import (
    Metrics,
    ReviewDecision,
    ReviewIn,
    SubmissionIn,
    SubmissionOut,
    SubmissionStatus,
)
from contracts.disputes import (
    DisputeKind,
    DisputeOpener,
    DisputeOut,
    DisputeOutcome,
    DisputeStatus,
    ResolveIn,
    TakedownIn,
)
from contracts.errors import FieldError, Problem
from contracts.events import EventType
from contracts.kols import (
    AccountIn,
    AccountOut,
    AccountPatch,
    AgeBand,
    Audience,
    Authenticity,
    AuthenticityReason,
    Category,
    ContactChannel,
    ContactPreferences,
    Gender,
    KolOut,
    MetricsIn,
    OverrideIn,
    ProfileIn,
    ReasonCode,
)
from contracts.notifications import (
    Language,
    NotificationKind,
    NotificationObject,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
)
from contracts.offers import (
    AnswerIn,
    ApplicationIn,
    Breakdown,
    CounterIn,
    DeliverableTerm,
    InviteIn,
    OfferOrigin,
    OfferOut,
    OfferStatus,
    RevisionOut,
    Side,
    Terms,
    UsageRights,
    UsageScope,
)
from contracts.payments import FundingOut, FundingStatus, PaymentMethodIn, PayoutAccountIn
from contracts.plan_requests import AllocationPlanIn, PlanInvitationsIn, SelectionPlanIn
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Candidate,
    Objective,
    PlanStatus,
    Segment,
    SegmentPlan,
    SelectionProblem,
    ShareRange,
    StopReason,
)
from contracts.plans import CatalogSelectionIn, PlanKind, PlanOut, PlanState, PlanStopReason
from contracts.pricing import (
    AccountMetrics,
    DeliverableOrder,
    LineCode,
    ProductTerms,
    Quote,
    QuoteEstimate,
    QuoteLine,
    RateCard,
    RateSource,
)
from contracts.quotes import QuoteIn, RateCardIn
from contracts.tracking import (
    ConversionBatchIn,
    ConversionBatchOut,
    ConversionIn,
    ConversionOut,
    ConversionResult,
    ConversionReviewDecision,
    ConversionReviewIn,
    ConversionStatus,
    ReversalIn,
)
from contracts.webhooks import (
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointPatch,
)

MERCHANT_ID = UUID("a3887057-abbd-4eb3-8ace-11888717871d")
OWNER_ID = UUID("856456ab-6d1d-49fa-9ec0-2439a169bd18")
KOL_ID = UUID("1a781308-2db4-4888-ac89-0203d8e8e478")
ACCOUNT_ID = UUID("5f008727-8e9e-4781-a087-d4464ad27cec")
ACCOUNT_2_ID = UUID("451be3df-525d-40dd-974d-c3dea2b0c96b")
ACCOUNT_3_ID = UUID("ec4c9015-da99-4998-af09-b9108b2a6b2f")
BRIEF_ID = UUID("2c69e3ea-cf47-49f5-86b8-a5a277c595eb")
OFFER_ID = UUID("b7ab27e2-db63-427c-af21-ad02e9fb4c88")
DEAL_ID = UUID("e5d120d2-6ff5-483f-898d-7031c96eb144")
SUBMISSION_ID = UUID("5a8eb9f2-5aca-4e5b-a473-d9b13116f195")
CLICK_ID = UUID("596727bf-7a11-46a2-89d6-37d06b8263a8")
CONVERSION_ID = UUID("f6f625e5-e413-435a-b3c2-cecd7be79f53")
CONVERSION_2_ID = UUID("8c4981b7-c70a-4a66-9e31-15826f4a11e2")
PLAN_ID = UUID("4c1ff7f8-03d7-46ce-bec6-9712331ddfee")
ENDPOINT_ID = UUID("151b43f4-b54c-4e49-97b9-aad841448835")
NOTIFICATION_ID = UUID("6ea018ac-9423-4d35-b6e2-562c1a0d32bb")
API_KEY_ID = UUID("74be81a8-b10f-4bfd-a289-49d364a94747")
INVITATION_ID = UUID("73c6c09c-57a5-4dd9-908d-15a7b0c26007")
DISPUTE_ID = UUID("24f624a3-39f9-41a7-ba57-acbc6ae4ea1e")

EMAIL = "mei.tan@lumenbeauty.sg"
PASSWORD = "Serum-launch-2027"
RATE_CARD_VERSION = "2027.1-usd"
TRACKING_CODE = "WnfbqgKlzJOe"


def at(day: str, time: str = "00:00:00") -> datetime:
    """A moment of the story, in UTC: `at("2027-01-06", "03:20:00")`."""
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


# ---- Accounts --------------------------------------------------------------------------------
REGISTER = RegisterIn(
    email=EMAIL,
    password=PASSWORD,
    role=RegistrableRole.MERCHANT,
    merchant_name="Lumen Beauty Pte. Ltd.",
)
TOKEN = TokenIn(email=EMAIL, password=PASSWORD)
REFRESH = RefreshIn(refresh_token="zeKvtwpuEZBtUFr5Yu613cI1oWk3BCuptO-zA6f-i_w")
TOKEN_PAIR = TokenPair(
    access_token=(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJ0eXAiOiJhY2Nlc3MiLCJzdWIiOiI4NTY0NTZhYi02ZDFkLTQ5ZmEtOWVjMC0yNDM5YTE2OWJkMTgiLCJy"
        "b2xlIjoibWVyY2hhbnQiLCJhdXRoX3RpbWUiOjE3OTkwMjgzMDAsImlzcyI6ImtvbG1hcmtldCIsImlhdCI6"
        "MTc5OTAyODMwMCwiZXhwIjoxNzk5MDI5MjAwLCJqdGkiOiIzZjFjOWE3ZTUyYjg0ZDBjOWU2YTFiMmMzZDRl"
        "NWY2MCJ9"
        ".CHAw_0soB2zntba-sDb7R6u89PEBZaJdqwZowgy3D3A"
    ),
    refresh_token="ak1SzbSK9zTH8eaeTwLl26sqJw-wcU4Gp74ZsR4rvJs",
    expires_in=900,
)
ME = Me(
    kind="merchant",
    user_id=OWNER_ID,
    email=EMAIL,
    role=AccountRole.MERCHANT,
    merchant_id=MERCHANT_ID,
    merchant_name="Lumen Beauty Pte. Ltd.",
    member_role=MemberRole.OWNER,
)
MEMBER_INVITE = MemberInviteIn(email="jun.lim@lumenbeauty.sg", role=MemberRole.MEMBER)
INVITATION = InvitationOut(
    id=INVITATION_ID,
    email="jun.lim@lumenbeauty.sg",
    role=MemberRole.MEMBER,
    token="Hq3vYx0bT1nW8pLr6sKe2uZa9cJd4fGm7oNi5AyEw0Q",
    expires_at=at("2027-01-11", "02:15:00"),
)
ROLE_CHANGE = RoleChangeIn(role=MemberRole.OWNER)
API_KEY = ApiKeyIn(
    name="Shopify order sync",
    scopes=[ApiScope.CONVERSIONS_WRITE, ApiScope.REPORTS_READ],
    expires_in_days=365,
)
API_KEY_CREATED = ApiKeyCreated(
    key=ApiKeyOut(
        id=API_KEY_ID,
        name="Shopify order sync",
        prefix="kmk_f9bb3b67",
        scopes=[ApiScope.CONVERSIONS_WRITE, ApiScope.REPORTS_READ],
        status=ApiKeyStatus.ACTIVE,
        created_at=at("2027-01-04", "02:20:00"),
        created_by=OWNER_ID,
        creator_removed=False,
        expires_at=at("2028-01-04", "02:20:00"),
    ),
    secret="kmk_f9bb3b67_u8Qw2mZ5rT9kLp1vXc6bNd3sHf7jAe0gYi4oRt2wEq8",
)

# ---- The brief -------------------------------------------------------------------------------
PRODUCT = Product(
    name="Glow Dew Vitamin C Serum 30 ml",
    url="https://shop.lumenbeauty.sg/products/glow-dew-serum",
    category=Category.SKINCARE,
    average_order_value=3_800,
)
GOALS = Goals(reach=900_000, conversions=180)
TIMELINE = Timeline(
    apply_by=at("2027-01-22", "16:00:00"),
    posting_from=date(2027, 2, 1),
    posting_until=date(2027, 3, 14),
)
COMMISSION = CommissionOffer(commission_bp=800, attribution_days=30)
DELIVERY = DeliveryPolicy(
    review_days=3, min_live_days=30, payout_hold_days=7, return_days=14, click_required=False
)
TARGETING = Targeting(regions=["SG", "MY", "ID"], min_authenticity=0.7, payout_ready_required=True)
BRIEF = BriefIn(
    title="Glow Dew serum launch: Southeast Asia",
    description=(
        "Show your morning routine with the Glow Dew Vitamin C Serum: texture, the first "
        "application and the glow after a week. Link the product with your tracking link."
    ),
    product=PRODUCT,
    goals=GOALS,
    budget=1_500_000,
    currency=Currency.USD,
    platforms=[Platform.TIKTOK, Platform.INSTAGRAM],
    tiers=[Tier.MICRO, Tier.MID],
    deliverables=[Deliverable.SHORT_VIDEO, Deliverable.STORY],
    timeline=TIMELINE,
    commission=COMMISSION,
    visibility=Visibility.OPEN,
    max_counter_rounds=3,
    delivery=DELIVERY,
    targeting=TARGETING,
)
BRIEF_PATCH = BriefPatch(budget=2_000_000)
BRIEF_OUT = BriefOut(
    id=BRIEF_ID,
    merchant_id=MERCHANT_ID,
    status=BriefStatus.OPEN,
    title=BRIEF.title,
    description=BRIEF.description,
    product=PRODUCT,
    goals=GOALS,
    budget=1_500_000,
    currency="USD",
    platforms=BRIEF.platforms,
    tiers=BRIEF.tiers,
    deliverables=BRIEF.deliverables,
    timeline=TIMELINE,
    commission=COMMISSION,
    visibility=Visibility.OPEN,
    max_counter_rounds=3,
    delivery=DELIVERY,
    targeting=TARGETING,
    committed=0,
    reserved=0,
    remaining=1_500_000,
    created_at=at("2027-01-04", "02:10:00"),
    updated_at=at("2027-01-05", "01:00:00"),
    published_at=at("2027-01-05", "01:00:00"),
    closed_at=None,
)

# ---- The creator -----------------------------------------------------------------------------
CONTACT = ContactPreferences(
    channels=[ContactChannel.IN_APP, ContactChannel.EMAIL],
    open_to_offers=True,
    note="Skincare and beauty only; no alcohol or gambling brands.",
)
PROFILE = ProfileIn(
    display_name="Aisyah Rahman",
    bio="Kuala Lumpur. Honest skincare routines for humid weather, in Malay and English.",
    region="MY",
    languages=["ms", "en"],
    categories=[Category.SKINCARE, Category.BEAUTY],
    contact_preferences=CONTACT,
)
AUDIENCE = Audience(
    gender={Gender.FEMALE: 0.78, Gender.MALE: 0.2, Gender.OTHER: 0.02},
    age={
        AgeBand.AGE_13_17: 0.04,
        AgeBand.AGE_18_24: 0.46,
        AgeBand.AGE_25_34: 0.38,
        AgeBand.AGE_35_44: 0.12,
    },
    regions={"MY": 0.55, "SG": 0.18, "ID": 0.15, "other": 0.12},
)
METRICS = MetricsIn(
    followers=84_000,
    median_views=52_000,
    median_likes=3_900,
    median_comments=15,
    engagement_rate=0.052,
    posts_per_month=14.0,
    audience=AUDIENCE,
)
ACCOUNT = AccountIn(
    platform=Platform.TIKTOK,
    handle="aisyahglows",
    profile_url="https://www.tiktok.com/@aisyahglows",
    metrics=METRICS,
)
ACCOUNT_PATCH = AccountPatch(
    metrics=MetricsIn(
        followers=86_500,
        median_views=55_000,
        median_likes=4_100,
        median_comments=18,
        engagement_rate=0.051,
        posts_per_month=15.0,
        audience=AUDIENCE,
    )
)
OVERRIDE = OverrideIn(
    score=0.95,
    verified=True,
    note=(
        "Comments are turned off on her sponsored videos; her analytics export shows real, "
        "steady engagement."
    ),
)

# ---- Negotiation -----------------------------------------------------------------------------
TWO_VIDEOS = [
    DeliverableTerm(
        kind=Deliverable.SHORT_VIDEO, platform=Platform.TIKTOK, count=2, due_by=date(2027, 2, 20)
    )
]
ORGANIC_90_DAYS = UsageRights(scope=UsageScope.ORGANIC, days=90)
INVITED_TERMS = Terms(
    fixed_fee=70_000,
    currency=Currency.USD,
    commission_bp=800,
    commission_cap=30_000,
    deliverables=TWO_VIDEOS,
    usage_rights=ORGANIC_90_DAYS,
    exclusivity_days=14,
    expires_at=at("2027-01-15", "16:00:00"),
)
COUNTERED_TERMS = Terms(
    fixed_fee=85_000,
    currency=Currency.USD,
    commission_bp=800,
    commission_cap=30_000,
    deliverables=TWO_VIDEOS,
    usage_rights=ORGANIC_90_DAYS,
    exclusivity_days=14,
    expires_at=at("2027-01-18", "16:00:00"),
)
INVITE = InviteIn(
    kol_id=KOL_ID,
    terms=INVITED_TERMS,
    message=(
        "Hi Aisyah, we loved your humid-weather routine. Would you show Glow Dew in two "
        "TikToks in February?"
    ),
)
APPLICATION = ApplicationIn(
    terms=Terms(
        fixed_fee=40_000,
        currency=Currency.USD,
        commission_bp=800,
        deliverables=[
            DeliverableTerm(
                kind=Deliverable.SHORT_VIDEO,
                platform=Platform.TIKTOK,
                count=1,
                due_by=date(2027, 2, 15),
            )
        ],
        expires_at=at("2027-01-20", "16:00:00"),
    ),
    message="Vitamin C serums are my most requested review; one TikTok with a 7-day check-in.",
)
COUNTER = CounterIn(
    revision=1,
    terms=COUNTERED_TERMS,
    message="Two videos fit my February plan; my rate for two is USD 850.",
)
ANSWER = AnswerIn(revision=2)

# ---- Pricing ---------------------------------------------------------------------------------
SHORT_VIDEO_FIRST = {Platform.TIKTOK, Platform.DOUYIN, Platform.KUAISHOU, Platform.TAOBAO_LIVE}
LONG_FORM = {Platform.YOUTUBE, Platform.BILIBILI}
RATE_CARD = RateCard(
    version=RATE_CARD_VERSION,
    currency=Currency.USD,
    cpm={
        p: dict.fromkeys(
            Tier, 2_250 if p in LONG_FORM else 1_100 if p is Platform.TIKTOK else 1_000
        )
        for p in Platform
    },
    deliverable_multiplier_bp={
        Deliverable.POST: 10_000,
        Deliverable.SHORT_VIDEO: 10_000,
        Deliverable.LONG_VIDEO: 15_000,
        Deliverable.LIVE_STREAM: 12_500,
        Deliverable.STORY: 5_000,
    },
    median_engagement_bp={
        p: dict(
            zip(
                Tier,
                (1_030, 810, 630, 550, 490)
                if p in SHORT_VIDEO_FIRST
                else (480, 240, 180, 150, 120),
                strict=True,
            )
        )
        for p in Platform
    },
    click_through_bp=dict.fromkeys(Platform, 100),
    conversion_rate_bp=200,
    take_rate_bp=1_000,
    authenticity_floor_bp=6_000,
    sources=[
        RateSource(
            applies_to="cpm.tiktok",
            value="1100 cents per 1000 views",
            source="2026 Southeast Asia booking data: TikTok CPMs rose about 10 % on 2025",
        ),
        RateSource(
            applies_to="take_rate_bp",
            value="1000 bp",
            source="marketplace policy: 10 % of the creator fee, paid by the merchant",
        ),
    ],
)
RATE_CARD_IN = RateCardIn(
    card=RATE_CARD, note="2027 review: TikTok CPM raised to USD 11; everything else unchanged."
)
ACCOUNT_METRICS = AccountMetrics(
    platform=Platform.TIKTOK,
    followers=84_000,
    median_views=52_000,
    engagement_rate=0.052,
    authenticity=0.8,
)
TWO_SHORT_VIDEOS = DeliverableOrder(kind=Deliverable.SHORT_VIDEO, count=2)
PRODUCT_TERMS = ProductTerms(average_order_value=3_800, commission_bp=800)
QUOTE_IN = QuoteIn(account_id=ACCOUNT_ID, deliverable=TWO_SHORT_VIDEOS, brief_id=BRIEF_ID)
QUOTE = Quote(
    rate_card_version=RATE_CARD_VERSION,
    currency="USD",
    tier=Tier.MICRO,
    lines=[
        QuoteLine(
            code=LineCode.BASE_FEE,
            label="Base fee",
            formula="expected views × reference CPM / 1000 × deliverable multiplier",
            inputs={
                "expected_views": 104_000,
                "reference_cpm": 1_100,
                "deliverable": "short_video",
                "deliverable_multiplier": 1.0,
            },
            amount=114_400,
        ),
        QuoteLine(
            code=LineCode.ENGAGEMENT_ADJUSTMENT,
            label="Engagement adjustment",
            formula="base fee × (clamp(engagement rate / tier median, 0.7, 1.5) − 1)",
            inputs={
                "base_fee": 114_400,
                "engagement_rate": 0.052,
                "tier_median_engagement": 0.081,
                "clamped_ratio": 0.7,
            },
            amount=-34_320,
        ),
        QuoteLine(
            code=LineCode.AUTHENTICITY_ADJUSTMENT,
            label="Authenticity adjustment",
            formula="(base fee + engagement adjustment) × (authenticity − 1)",
            inputs={"base_fee": 114_400, "engagement_adjustment": -34_320, "authenticity": 0.8},
            amount=-16_016,
        ),
        QuoteLine(
            code=LineCode.CREATOR_FEE,
            label="Creator fee",
            formula="base fee + engagement adjustment + authenticity adjustment",
            inputs={
                "base_fee": 114_400,
                "engagement_adjustment": -34_320,
                "authenticity_adjustment": -16_016,
            },
            amount=64_064,
        ),
        QuoteLine(
            code=LineCode.PLATFORM_FEE,
            label="Platform fee",
            formula="creator fee × take rate",
            inputs={"creator_fee": 64_064, "take_rate": 0.1},
            amount=6_406,
        ),
        QuoteLine(
            code=LineCode.MERCHANT_PAYS,
            label="Merchant pays",
            formula="creator fee + platform fee",
            inputs={"creator_fee": 64_064, "platform_fee": 6_406},
            amount=70_470,
        ),
        QuoteLine(
            code=LineCode.COMMISSION_PER_CONVERSION,
            label="Commission per conversion",
            formula="average order value × commission_bp / 10000",
            inputs={"average_order_value": 3_800, "commission_bp": 800},
            amount=304,
        ),
        QuoteLine(
            code=LineCode.EXPECTED_COMMISSION,
            label="Expected commission (paid per conversion, not part of the fee)",
            formula="expected views × click-through × conversion rate × commission per conversion",
            inputs={
                "expected_views": 104_000,
                "click_through": 0.01,
                "conversion_rate": 0.02,
                "commission_per_conversion": 304,
            },
            amount=6_323,
        ),
    ],
    estimates=[
        QuoteEstimate(
            code="expected_engagements",
            label="Expected engagements",
            formula="expected views × engagement rate",
            inputs={"expected_views": 104_000, "engagement_rate": 0.052},
            value=5_408.0,
        ),
        QuoteEstimate(
            code="expected_conversions",
            label="Expected conversions",
            formula="expected views × click-through × conversion rate",
            inputs={"expected_views": 104_000, "click_through": 0.01, "conversion_rate": 0.02},
            value=20.8,
        ),
    ],
    creator_fee=64_064,
    platform_fee=6_406,
    merchant_pays=70_470,
    commission_per_conversion=304,
    expected_views=104_000,
    expected_engagements=5_408.0,
    expected_conversions=20.8,
    effective_cpm=678,
    cost_per_engagement=13,
    cost_per_expected_conversion=3_388,
)


# ---- The catalog's view of the creator --------------------------------------------------------
ACCOUNT_OUT = AccountOut(
    id=ACCOUNT_ID,
    kol_id=KOL_ID,
    platform=Platform.TIKTOK,
    handle="aisyahglows",
    profile_url="https://www.tiktok.com/@aisyahglows",
    verified=False,
    tier=Tier.MICRO,
    followers=84_000,
    median_views=52_000,
    median_likes=3_900,
    median_comments=15,
    engagement_rate=0.052,
    posts_per_month=14.0,
    audience=AUDIENCE,
    reference_price=32_032,
    currency="USD",
    rate_card_version=RATE_CARD_VERSION,
    authenticity=Authenticity(
        score=0.8,
        computed_score=0.8,
        reasons=[
            AuthenticityReason(
                code=ReasonCode.COMMENTS_MISSING,
                penalty=0.2,
                message="posts get a median 3,900 likes but 15 comments (0.38 % of likes): "
                "likes without conversation are often bought",
            )
        ],
    ),
    metrics_updated_at=at("2027-01-02", "08:00:00"),
    created_at=at("2026-11-18", "14:25:00"),
)
KOL_OUT = KolOut(
    id=KOL_ID,
    display_name=PROFILE.display_name,
    bio=PROFILE.bio,
    region="MY",
    languages=PROFILE.languages,
    categories=PROFILE.categories,
    contact_preferences=CONTACT,
    accounts=[ACCOUNT_OUT],
    payout_ready=True,
    updated_at=at("2027-01-02", "08:00:00"),
)


# ---- Offers and the deal ---------------------------------------------------------------------
def breakdown_of(terms: Terms) -> Breakdown:
    """The breakdown of `terms` on the brief, with the card's 10 % take rate."""
    fee = terms.fixed_fee
    platform_fee = fee // 10
    per_order = min(3_800 * terms.commission_bp // 10_000, terms.commission_cap or 10**11)
    lines = [
        QuoteLine(
            code=LineCode.CREATOR_FEE,
            label="Creator fee",
            formula="the fixed fee for all deliverables",
            inputs={
                "fixed_fee": fee,
                "deliverable_items": sum(d.count for d in terms.deliverables),
            },
            amount=fee,
        ),
        QuoteLine(
            code=LineCode.PLATFORM_FEE,
            label="Platform fee",
            formula="creator fee × take rate (bp) / 10 000, rounded half to even",
            inputs={
                "creator_fee": fee,
                "take_rate_bp": 1_000,
                "rate_card_version": RATE_CARD_VERSION,
            },
            amount=platform_fee,
        ),
        QuoteLine(
            code=LineCode.MERCHANT_PAYS,
            label="Merchant pays",
            formula="creator fee + platform fee",
            inputs={"creator_fee": fee, "platform_fee": platform_fee},
            amount=fee + platform_fee,
        ),
        QuoteLine(
            code=LineCode.COMMISSION_PER_CONVERSION,
            label="Commission per order",
            formula="min(average order value × commission rate (bp) / 10 000, cap), on orders "
            "within the attribution window; over the whole deal, commission = min(GMV × rate, "
            "cap)",
            inputs={
                "average_order_value": 3_800,
                "commission_bp": terms.commission_bp,
                "commission_cap": "none" if terms.commission_cap is None else terms.commission_cap,
                "attribution_days": 30,
            },
            amount=per_order,
        ),
    ]
    return Breakdown(
        currency="USD",
        rate_card_version=RATE_CARD_VERSION,
        take_rate_bp=1_000,
        attribution_days=30,
        lines=lines,
        creator_fee=fee,
        platform_fee=platform_fee,
        merchant_pays=fee + platform_fee,
        commission_per_order=per_order,
    )


OFFER_OUT = OfferOut(
    id=OFFER_ID,
    brief_id=BRIEF_ID,
    merchant_id=MERCHANT_ID,
    kol_id=KOL_ID,
    origin=OfferOrigin.INVITATION,
    status=OfferStatus.OPEN,
    latest_revision=2,
    proposed_by=Side.KOL,
    awaiting=Side.MERCHANT,
    expires_at=COUNTERED_TERMS.expires_at,
    deal_id=None,
    created_at=at("2027-01-06", "03:20:00"),
    updated_at=at("2027-01-07", "10:05:00"),
    revisions=[
        RevisionOut(
            number=1,
            proposed_by=Side.MERCHANT,
            terms=INVITED_TERMS,
            breakdown=breakdown_of(INVITED_TERMS),
            message=INVITE.message,
            created_at=at("2027-01-06", "03:20:00"),
        ),
        RevisionOut(
            number=2,
            proposed_by=Side.KOL,
            terms=COUNTERED_TERMS,
            breakdown=breakdown_of(COUNTERED_TERMS),
            message=COUNTER.message,
            created_at=at("2027-01-07", "10:05:00"),
        ),
    ],
)
DEAL_TERMS = DealTerms(
    offer_id=OFFER_ID,
    revision=2,
    brief_id=BRIEF_ID,
    merchant_id=MERCHANT_ID,
    kol_id=KOL_ID,
    currency="USD",
    fixed_fee=85_000,
    platform_fee=8_500,
    merchant_pays=93_500,
    take_rate_bp=1_000,
    rate_card_version=RATE_CARD_VERSION,
    commission_bp=800,
    commission_cap=30_000,
    attribution_days=30,
    deliverables=[
        DealDeliverable(
            kind=Deliverable.SHORT_VIDEO,
            platform=Platform.TIKTOK,
            count=2,
            due_by=date(2027, 2, 20),
        )
    ],
    usage_rights=ORGANIC_90_DAYS,
    exclusivity_days=14,
)
DEAL_OUT = DealOut(
    id=DEAL_ID,
    offer_id=OFFER_ID,
    brief_id=BRIEF_ID,
    merchant_id=MERCHANT_ID,
    kol_id=KOL_ID,
    status=DealStatus.AWAITING_FUNDING,
    terms=DEAL_TERMS,
    # The SHA-256 of the terms' canonical JSON (keys sorted, no whitespace).
    terms_sha256=hashlib.sha256(msgspec.json.encode(DEAL_TERMS, order="sorted")).hexdigest(),
    merchant_accepted_at=at("2027-01-08", "04:30:00"),
    kol_accepted_at=at("2027-01-07", "10:05:00"),
    created_at=at("2027-01-08", "04:30:00"),
    tracking_code=TRACKING_CODE,
    tracking_url=f"https://api.kolmarket.example/t/{TRACKING_CODE}",
)
FUNDING = FundingOut(
    deal_id=DEAL_ID,
    payment_intent_id="pi_3QkGlowDew2027Lumen01",
    client_secret="pi_3QkGlowDew2027Lumen01_secret_Vb8xT2nKq5RzL0wYc4Hs",
    amount=93_500,
    currency="USD",
    status=FundingStatus.PENDING,
)
PAYOUT_ACCOUNT = PayoutAccountIn(
    country="MY",
    return_url="https://creators.kolmarket.example/payouts/ready",
    refresh_url="https://creators.kolmarket.example/payouts/restart",
)
PAYMENT_METHOD = PaymentMethodIn(payment_method="pm_1QkLumenVisa4242Billing")

# ---- Delivery and disputes -------------------------------------------------------------------
POST_METRICS = Metrics(views=61_000, likes=4_900, comments=310, shares=420)
SUBMISSION = SubmissionIn(
    deliverable=0,
    url="https://www.tiktok.com/@aisyahglows/video/7468123456789012345",
    posted_at=at("2027-02-10", "11:30:00"),
    metrics=POST_METRICS,
)
SUBMISSION_OUT = SubmissionOut(
    id=SUBMISSION_ID,
    deal_id=DEAL_ID,
    deliverable=0,
    platform=Platform.TIKTOK,
    url=SUBMISSION.url,
    posted_at=SUBMISSION.posted_at,
    metrics=POST_METRICS,
    status=SubmissionStatus.SUBMITTED,
    review_due_at=at("2027-02-13", "12:02:00"),
    reason=None,
    reviewed_at=None,
    auto_approved=False,
    created_at=at("2027-02-10", "12:02:00"),
)
REVIEW = ReviewIn(
    decision=ReviewDecision.REQUEST_CHANGES,
    reason="Please show the serum's label in the first three seconds and add #LumenPartner.",
)
TAKEDOWN = TakedownIn(
    submission_id=SUBMISSION_ID,
    observed_at=at("2027-02-24", "09:15:00"),
    note="The video no longer loads on TikTok, 14 days after it was posted; 30 were agreed.",
)
DISPUTE_OUT = DisputeOut(
    id=DISPUTE_ID,
    deal_id=DEAL_ID,
    submission_id=SUBMISSION_ID,
    kind=DisputeKind.TAKEDOWN,
    opened_by=DisputeOpener.MERCHANT,
    note=TAKEDOWN.note,
    observed_at=TAKEDOWN.observed_at,
    prior_status=DealStatus.APPROVED,
    status=DisputeStatus.OPEN,
    outcome=None,
    refund_amount=None,
    resolution_note=None,
    resolved_at=None,
    created_at=at("2027-02-24", "09:20:00"),
)
RESOLVE = ResolveIn(
    outcome=DisputeOutcome.REFUND,
    refund_amount=42_500,
    note="The creator removed one of two videos early; half of the creator fee goes back.",
)

# ---- Tracking --------------------------------------------------------------------------------
BUYER_REF = "31888c49f798941e0ad804b73f011c215ac3611bde6901ba85453ada74408cbb"
CONVERSION = ConversionIn(
    order_id="LB-SG-100482",
    amount=7_600,
    currency=Currency.USD,
    occurred_at=at("2027-02-12", "13:42:10"),
    tracking_code=TRACKING_CODE,
    click_id=CLICK_ID,
    buyer_ref=BUYER_REF,
)
CONVERSION_BATCH = ConversionBatchIn(
    items=[
        CONVERSION,
        ConversionIn(
            order_id="LB-MY-200917",
            amount=3_800,
            currency=Currency.USD,
            occurred_at=at("2027-02-13", "02:05:41"),
            tracking_code=TRACKING_CODE,
        ),
    ]
)
CONVERSION_OUT = ConversionOut(
    id=CONVERSION_ID,
    order_id="LB-SG-100482",
    deal_id=DEAL_ID,
    click_id=CLICK_ID,
    tracking_code=TRACKING_CODE,
    amount=7_600,
    currency="USD",
    occurred_at=CONVERSION.occurred_at,
    status=ConversionStatus.PENDING,
    reasons=[],
    commission=608,
    platform_cut=61,
    kol_share=547,
    hold_until=at("2027-02-26", "13:42:10"),
    received_at=at("2027-02-12", "13:42:12"),
    decided_at=None,
    reversal_reason=None,
    review_note=None,
)
CONVERSION_BATCH_OUT = ConversionBatchOut(
    results=[
        ConversionResult(
            index=0,
            order_id="LB-SG-100482",
            id=CONVERSION_ID,
            status=ConversionStatus.PENDING,
            reasons=[],
            commission=608,
            duplicate=False,
        ),
        ConversionResult(
            index=1,
            order_id="LB-MY-200917",
            id=CONVERSION_2_ID,
            status=ConversionStatus.PENDING,
            reasons=[],
            commission=304,
            duplicate=False,
        ),
    ],
    counts={ConversionStatus.PENDING: 2},
)
REVERSAL = ReversalIn(reason="returned unopened; the shop refunded the order")
CONVERSION_REVIEW = ConversionReviewIn(
    decision=ConversionReviewDecision.APPROVE,
    note="The buyer is the creator's sister, not the creator; a genuine order.",
)

# ---- Planning --------------------------------------------------------------------------------
SEGMENTS = [
    Segment(
        platform=Platform.TIKTOK,
        tier=Tier.MICRO,
        fee=77_000,
        reach=52_000.0,
        audience=3_000_000.0,
        cvr=0.0002,
        commission_per_conversion=304,
        available=40,
    ),
    Segment(
        platform=Platform.TIKTOK,
        tier=Tier.MID,
        fee=264_000,
        reach=180_000.0,
        audience=6_000_000.0,
        cvr=0.0002,
        commission_per_conversion=304,
        available=12,
    ),
    Segment(
        platform=Platform.INSTAGRAM,
        tier=Tier.MICRO,
        fee=41_800,
        reach=21_000.0,
        audience=2_500_000.0,
        cvr=0.0002,
        commission_per_conversion=304,
        available=60,
    ),
]
MID_SHARE = ShareRange(min_share=0.2, max_share=0.6)
ALLOCATION = AllocationProblem(
    segments=SEGMENTS,
    budget=1_500_000,
    currency=Currency.USD,
    min_reach=900_000.0,
    tier_shares={Tier.MID: MID_SHARE},
    max_creators_per_platform={Platform.INSTAGRAM: 10},
    objective=Objective.MAX_CONVERSIONS,
    time_limit_seconds=10.0,
)
SELECTION = SelectionProblem(
    candidates=[
        Candidate(
            id=str(ACCOUNT_ID),
            platform=Platform.TIKTOK,
            tier=Tier.MICRO,
            fee=70_470,
            reach=104_000.0,
            conversions=20.8,
            authenticity=0.8,
        ),
        Candidate(
            id=str(ACCOUNT_2_ID),
            platform=Platform.TIKTOK,
            tier=Tier.MID,
            fee=236_500,
            reach=310_000.0,
            conversions=62.0,
            authenticity=0.93,
        ),
        Candidate(
            id=str(ACCOUNT_3_ID),
            platform=Platform.INSTAGRAM,
            tier=Tier.MICRO,
            fee=41_800,
            reach=42_000.0,
            conversions=8.4,
            authenticity=0.88,
        ),
    ],
    budget=350_000,
    currency=Currency.USD,
    min_reach=300_000.0,
    must_include=[str(ACCOUNT_ID)],
    min_authenticity=0.7,
    objective=Objective.MAX_CONVERSIONS,
    time_limit_seconds=20.0,
)
ALLOCATION_PLAN_IN = AllocationPlanIn(
    tier_shares={Tier.MID: MID_SHARE}, max_creators_per_platform={Platform.INSTAGRAM: 10}
)
SELECTION_PLAN_IN = SelectionPlanIn(
    max_creators_per_tier={Tier.MID: 4},
    min_authenticity=0.75,
    objective=Objective.MAX_REACH,
    time_limit_seconds=30.0,
)
CATALOG_SELECTION = CatalogSelectionIn(
    brief_id=BRIEF_ID,
    budget=1_500_000,
    deliverable=Deliverable.SHORT_VIDEO,
    platforms=[Platform.TIKTOK],
    tiers=[Tier.MICRO, Tier.MID],
    categories=["skincare", "beauty"],
    regions=["MY", "SG", "ID"],
    min_followers=20_000,
    min_authenticity=0.7,
    min_reach=900_000.0,
)
PLAN_INVITATIONS = PlanInvitationsIn(
    message="You were chosen for the Glow Dew launch: two TikToks in February.",
    expires_in_days=10,
)
PLAN_OUT = PlanOut(
    id=PLAN_ID,
    kind=PlanKind.ALLOCATION,
    status=PlanState.SOLVED,
    brief_id=BRIEF_ID,
    created_at=at("2027-01-05", "02:00:00"),
    started_at=at("2027-01-05", "02:00:00"),
    finished_at=at("2027-01-05", "02:00:01"),
    status_url=f"/v1/plans/{PLAN_ID}",
    stop_reason=PlanStopReason.OPTIMAL,
    allocation=AllocationPlan(
        status=PlanStatus.OPTIMAL,
        objective=Objective.MAX_CONVERSIONS,
        currency="USD",
        segments=[
            SegmentPlan(
                platform=Platform.TIKTOK,
                tier=Tier.MICRO,
                creators=8,
                reach=391_618.8654376785,
                conversions=78.32377308753571,
                spend=639_810,
            ),
            SegmentPlan(
                platform=Platform.TIKTOK,
                tier=Tier.MID,
                creators=3,
                reach=523_962.0,
                conversions=104.7924,
                spend=823_857,
            ),
            SegmentPlan(
                platform=Platform.INSTAGRAM,
                tier=Tier.MICRO,
                creators=0,
                reach=0.0,
                conversions=0.0,
                spend=0,
            ),
        ],
        total_spend=1_463_667,
        total_reach=915_580.8654376785,
        total_conversions=183.1161730875357,
        total_creators=11,
        binding=["budget", "tier_shares.mid.max_share"],
        objective_value=183.1161730875357,
        bound=183.1161730875357,
        gap=0.0,
        stop_reason=StopReason.GAP_LIMIT,
    ),
)

# ---- Webhooks and notifications --------------------------------------------------------------
WEBHOOK_TYPES = [
    EventType.DEAL_CREATED,
    EventType.DEAL_FUNDED,
    EventType.SUBMISSION_CREATED,
    EventType.CONVERSION_RECORDED,
]
WEBHOOK_ENDPOINT = WebhookEndpointIn(
    url="https://hooks.lumenbeauty.sg/kolmarket",
    event_types=WEBHOOK_TYPES,
    description="Campaign and order sync",
)
WEBHOOK_ENDPOINT_PATCH = WebhookEndpointPatch(
    event_types=[*WEBHOOK_TYPES, EventType.DISPUTE_OPENED], description="Campaign, orders, disputes"
)
WEBHOOK_ENDPOINT_OUT = WebhookEndpointOut(
    id=ENDPOINT_ID,
    url=WEBHOOK_ENDPOINT.url,
    event_types=sorted(WEBHOOK_TYPES),
    description=WEBHOOK_ENDPOINT.description,
    enabled=True,
    disabled_reason=None,
    failing_since=None,
    previous_secret_expires_at=None,
    created_at=at("2027-01-04", "02:30:00"),
    updated_at=at("2027-01-04", "02:30:00"),
)
WEBHOOK_ENDPOINT_CREATED = WebhookEndpointCreated(
    **msgspec.structs.asdict(WEBHOOK_ENDPOINT_OUT),
    secret="whsec_WdU7LQ9DGHNfEa5DLs2QLSipwtp5CXjx6LvuIv3THAg=",
)
NOTIFICATION = NotificationOut(
    id=NOTIFICATION_ID,
    kind=NotificationKind.SUBMISSION_WAITING,
    title="Aisyah Rahman submitted content for “Glow Dew serum launch: Southeast Asia”",
    body="Review it before 2027-02-13 12:02 UTC; after that it is approved automatically.",
    language=Language.ENGLISH,
    object=NotificationObject(type="submission", id=SUBMISSION_ID),
    link=f"/deals/{DEAL_ID}/submissions/{SUBMISSION_ID}",
    created_at=at("2027-02-10", "12:02:05"),
    read_at=None,
)
NOTIFICATIONS = NotificationPage(items=[NOTIFICATION], next_cursor=None, unread=1)
PREFERENCES = PreferencesIn(
    email_off=[NotificationKind.OFFER_DECLINED, NotificationKind.OFFER_WITHDRAWN],
    daily_digest=True,
    language=Language.ENGLISH,
)

# ---- Problems --------------------------------------------------------------------------------
PROBLEM = Problem(
    type="/problems/validation-failed",
    title="Validation failed",
    status=422,
    detail="terms.expires_at: must be at most 30 days ahead",
    request_id="01JH8Q4WJ3V7M2K9T5R6Y1ZC0D",
    errors=[FieldError(field="terms.expires_at", message="must be at most 30 days ahead")],
)

# fmt: off
EXAMPLES: dict[type[msgspec.Struct], msgspec.Struct] = {
    example.__class__: example
    for example in (
        # Requests, and the parts of them that are schemas of their own.
        REGISTER, TOKEN, REFRESH, MEMBER_INVITE, ROLE_CHANGE, API_KEY, PRODUCT, GOALS, TIMELINE,
        COMMISSION, DELIVERY, TARGETING, BRIEF, BRIEF_PATCH, CONTACT, PROFILE, AUDIENCE, METRICS,
        ACCOUNT, ACCOUNT_PATCH, OVERRIDE, ORGANIC_90_DAYS, TWO_VIDEOS[0], INVITED_TERMS, INVITE,
        APPLICATION, COUNTER, ANSWER, PAYOUT_ACCOUNT, PAYMENT_METHOD, POST_METRICS, SUBMISSION,
        REVIEW, TAKEDOWN, RESOLVE, CONVERSION, CONVERSION_BATCH, REVERSAL, CONVERSION_REVIEW,
        RATE_CARD.sources[0], RATE_CARD, RATE_CARD_IN, ACCOUNT_METRICS, TWO_SHORT_VIDEOS,
        PRODUCT_TERMS, QUOTE_IN, MID_SHARE, SEGMENTS[0], ALLOCATION, SELECTION.candidates[0],
        SELECTION, ALLOCATION_PLAN_IN, SELECTION_PLAN_IN, CATALOG_SELECTION, PLAN_INVITATIONS,
        WEBHOOK_ENDPOINT, WEBHOOK_ENDPOINT_PATCH, PREFERENCES,
        # Answers.
        TOKEN_PAIR, ME, INVITATION, API_KEY_CREATED, API_KEY_CREATED.key, BRIEF_OUT, ACCOUNT_OUT,
        KOL_OUT, QUOTE, OFFER_OUT, OFFER_OUT.revisions[1].breakdown, DEAL_OUT, DEAL_TERMS, FUNDING,
        SUBMISSION_OUT, DISPUTE_OUT, CONVERSION_OUT, CONVERSION_BATCH_OUT, PLAN_OUT,
        WEBHOOK_ENDPOINT_OUT, WEBHOOK_ENDPOINT_CREATED, NOTIFICATION, NOTIFICATIONS, PROBLEM,
    )
}
# fmt: on

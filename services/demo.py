"""The demo marketplace `kolmarket serve --demo` loads: idempotent, through the use cases.

Accounts (password for all: `demo password 1`):
    merchant owner  demo-merchant@kolmarket.test   (Lumen Beauty, with an open brief, its
                                                    adopted plan and the invitations made
                                                    from it)
    KOL             demo-kol@kolmarket.test        (a TikTok account, invited to the brief:
                                                    an unread notification, and a mail
                                                    through SMTP_URL when it is set)
    KOL             demo-kol-2@kolmarket.test      (an Instagram account with a deal on the
                                                    brief: its link's clicks and orders)
    operator        demo-operator@kolmarket.test
and a synthetic catalog of 2,000 KOLs to search, quote and plan with.
"""

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import structlog

from contracts.accounts import RegisterIn, RegistrableRole
from contracts.briefs import BriefIn
from contracts.deals import DealOut
from contracts.kols import AccountIn, ProfileIn
from contracts.offers import AnswerIn, InviteIn
from contracts.plan_requests import AllocationPlanIn, PlanInvitationsIn
from contracts.tracking import ConversionBatchIn, ConversionIn
from services import database
from services.accounts import service as accounts
from services.actors import Caller
from services.briefs import service as briefs
from services.catalog import service as catalog
from services.catalog.seed import seed_kols
from services.negotiation import invitations
from services.negotiation import service as negotiation
from services.notifications.runner import Notifier
from services.planning import service as planning
from services.settings import Settings
from services.tracking import rules_clicks
from services.tracking import service as tracking
from services.tracking.clicks import ClickRecorder

DEMO_PASSWORD = "demo password 1"  # noqa: S105 - published demo credentials
MERCHANT_EMAIL = "demo-merchant@kolmarket.test"
KOL_EMAIL = "demo-kol@kolmarket.test"
SECOND_KOL_EMAIL = "demo-kol-2@kolmarket.test"
OPERATOR_EMAIL = "demo-operator@kolmarket.test"
CATALOG_SIZE = 2_000

ACCOUNTS = (
    RegisterIn(
        email=MERCHANT_EMAIL,
        password=DEMO_PASSWORD,
        role=RegistrableRole.MERCHANT,
        merchant_name="Lumen Beauty",
    ),
    RegisterIn(
        email=KOL_EMAIL, password=DEMO_PASSWORD, role=RegistrableRole.KOL, display_name="Mia Chen"
    ),
    RegisterIn(
        email=SECOND_KOL_EMAIL,
        password=DEMO_PASSWORD,
        role=RegistrableRole.KOL,
        display_name="Leo Park",
    ),
)

log = structlog.get_logger(__name__)


async def _account(conn: asyncpg.Connection, data: RegisterIn, settings: Settings) -> None:
    exists = await conn.fetchval("SELECT 1 FROM users WHERE email = $1", data.email)
    if not exists:
        await accounts.register(conn, data, "demo-loader", settings)


async def _load(url: str) -> None:
    settings = msgspec.structs.replace(Settings.from_env(), register_limit_per_ip=10**9)
    pool = await database.create_pool(url, min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            for data in ACCOUNTS:
                await _account(conn, data, settings)
            await accounts.ensure_operator(conn, OPERATOR_EMAIL, DEMO_PASSWORD)
            kol = await _kol(conn)
            await _brief_and_invitation(conn, kol)
            await _tracked_deal(conn, pool, settings)
        await Notifier(pool, settings).catch_up()
    finally:
        await pool.close()
    await seed_kols(url, CATALOG_SIZE, seed=7)
    await _adopted_plan(url)
    log.info("demo_loaded", merchant=MERCHANT_EMAIL, kol=KOL_EMAIL, operator=OPERATOR_EMAIL)


async def _adopted_plan(url: str) -> None:
    """The brief planned from the catalog as a merchant would: an allocation, the selection
    that follows it, adopted, and an invitation to each creator it chose."""
    conn = await database.connect(url)
    try:
        merchant = await _merchant(conn)
        brief_id = await conn.fetchval(
            "SELECT id FROM briefs WHERE merchant_id = $1 ORDER BY created_at LIMIT 1",
            merchant.merchant_id,
        )
        if await conn.fetchval(
            "SELECT 1 FROM plans WHERE brief_id = $1 AND adopted_at IS NOT NULL", brief_id
        ):
            return
        allocation = await planning.plan_brief(conn, merchant, brief_id, AllocationPlanIn())
        selection = await planning.selection_from_allocation(conn, merchant, allocation.id)
        await planning.adopt(conn, merchant, selection.id)
        note = PlanInvitationsIn(message="Our Glow Serum launch: we would love your take on it.")
        sent = await invitations.invite_from_plan(conn, merchant, selection.id, note)
    finally:
        await conn.close()
    log.info("demo_plan_adopted", plan_id=str(selection.id), invited=sent.invited)


async def _kol(conn: asyncpg.Connection) -> Caller:
    caller = await _caller_of(conn, KOL_EMAIL)
    if await conn.fetchval("SELECT 1 FROM kol_accounts WHERE kol_id = $1", caller.kol_id):
        return caller
    profile = {
        "display_name": "Mia Chen",
        "bio": "Skincare routines that work.",
        "region": "SG",
        "languages": ["en", "zh"],
        "categories": ["beauty", "lifestyle"],
    }
    await catalog.update_profile(conn, caller, msgspec.convert(profile, ProfileIn))
    account = {
        "platform": "tiktok",
        "handle": "miachen.skin",
        "profile_url": "https://www.tiktok.com/@miachen.skin",
        "metrics": {
            "followers": 48_000,
            "median_views": 15_500,
            "median_likes": 1_240,
            "median_comments": 96,
            "engagement_rate": 0.083,
            "posts_per_month": 14,
        },
    }
    await catalog.add_account(conn, caller, msgspec.convert(account, AccountIn))
    return caller


async def _brief_and_invitation(conn: asyncpg.Connection, kol: Caller) -> None:
    merchant = await _merchant(conn)
    if await conn.fetchval("SELECT 1 FROM briefs WHERE merchant_id = $1", merchant.merchant_id):
        return
    today = datetime.now(UTC)
    brief = await briefs.create(conn, merchant, msgspec.convert(_brief(today), BriefIn))
    await briefs.publish(conn, merchant, brief.id)
    invite = {
        "kol_id": str(kol.kol_id),
        "message": "We love your routines - join our serum launch?",
        "terms": _terms(today, fixed_fee=45_000, platform="tiktok", kind="short_video"),
    }
    await negotiation.invite(conn, merchant, brief.id, msgspec.convert(invite, InviteIn))


async def _tracked_deal(conn: asyncpg.Connection, pool: asyncpg.Pool, settings: Settings) -> None:
    """The second KOL's accepted deal, and what its tracking link brought: clicks written by
    the redirect's recorder and orders judged by the conversions use case (one held because
    the KOL bought it, one rejected for an unknown code)."""
    merchant = await _merchant(conn)
    creator = await _caller_of(conn, SECOND_KOL_EMAIL)
    if await conn.fetchval("SELECT 1 FROM deals WHERE kol_id = $1", creator.kol_id):
        return
    brief_id = await conn.fetchval(
        "SELECT id FROM briefs WHERE merchant_id = $1 ORDER BY created_at LIMIT 1",
        merchant.merchant_id,
    )
    today = datetime.now(UTC)
    terms = _terms(today, fixed_fee=30_000, platform="instagram", kind="post")
    invite = {"kol_id": str(creator.kol_id), "terms": terms}
    offer = await negotiation.invite(conn, merchant, brief_id, msgspec.convert(invite, InviteIn))
    deal = await negotiation.accept(
        conn, creator, offer.id, AnswerIn(revision=1), settings.public_base_url
    )
    clicks = await _clicks(pool, settings, deal)
    assert merchant.merchant_id is not None
    await tracking.record(conn, merchant.merchant_id, _orders(deal, clicks))


async def _clicks(pool: asyncpg.Pool, settings: Settings, deal: DealOut) -> list[uuid.UUID]:
    """Sixty clicks on the deal's link from forty visitors, as the redirect records them."""
    recorder = ClickRecorder(pool, settings.spool_folder)
    key = rules_clicks.visitor_key(settings.jwt_secret)
    clicks = [uuid.uuid4() for _ in range(60)]
    for n, click_id in enumerate(clicks):
        at = deal.created_at + timedelta(milliseconds=n)
        agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Instagram 340.0"
        visitor = rules_clicks.visitor(key, f"203.0.113.{n % 40 + 1}")
        recorder.record((click_id, deal.id, at, visitor, agent, "https://www.instagram.com/"))
    await recorder.flush()
    return clicks


def _orders(deal: DealOut, clicks: list[uuid.UUID]) -> list[ConversionIn]:
    """Nine orders through clicks from six buyers (some come back), one the KOL bought itself
    (held), and one with an unknown code (rejected)."""
    own = hashlib.sha256(SECOND_KOL_EMAIL.encode()).hexdigest()
    placed = (deal.created_at + timedelta(seconds=1)).isoformat()
    orders = [
        {"order_id": f"LB-{1000 + n}", "amount": 4_500 + 500 * (n % 3), "currency": "USD",
         "occurred_at": placed, "click_id": str(clicks[n * 5]),
         "buyer_ref": hashlib.sha256(f"buyer{n % 6}@example.com".encode()).hexdigest()}
        for n in range(9)
    ]  # fmt: skip
    orders.append(
        {"order_id": "LB-1100", "amount": 4_500, "currency": "USD",
         "occurred_at": placed, "tracking_code": deal.tracking_code, "buyer_ref": own}
    )  # fmt: skip
    orders.append(
        {"order_id": "LB-1101", "amount": 4_500, "currency": "USD",
         "occurred_at": placed, "tracking_code": "unknowncode1"}
    )  # fmt: skip
    return msgspec.convert({"items": orders}, ConversionBatchIn, strict=False).items


async def _merchant(conn: asyncpg.Connection) -> Caller:
    row = await conn.fetchrow(
        "SELECT u.id, m.merchant_id FROM users u JOIN merchant_members m ON m.user_id = u.id "
        "WHERE email = $1",
        MERCHANT_EMAIL,
    )
    return Caller(
        kind="merchant", user_id=row["id"], merchant_id=row["merchant_id"], member_role="owner"
    )


async def _caller_of(conn: asyncpg.Connection, email: str) -> Caller:
    row = await conn.fetchrow(
        "SELECT u.id, k.id AS kol_id FROM users u JOIN kols k ON k.user_id = u.id WHERE email = $1",
        email,
    )
    return Caller(kind="kol", user_id=row["id"], kol_id=row["kol_id"])


def _terms(today: datetime, *, fixed_fee: int, platform: str, kind: str) -> dict[str, object]:
    return {
        "fixed_fee": fixed_fee,
        "currency": "USD",
        "commission_bp": 1500,
        "commission_cap": 200_000,
        "deliverables": [
            {
                "kind": kind,
                "platform": platform,
                "count": 2,
                "due_by": (today + timedelta(days=30)).date().isoformat(),
            }
        ],
        "exclusivity_days": 14,
        "expires_at": (today + timedelta(days=7)).isoformat(),
    }


def _brief(today: datetime) -> dict[str, object]:
    return {
        "title": "Glow Serum launch",
        "description": "Short videos showing a morning routine with the new Glow Serum.",
        "product": {
            "name": "Glow Serum 30 ml",
            "url": "https://lumen.example/glow-serum",
            "category": "beauty",
            "average_order_value": 4_500,
        },
        "goals": {"reach": 500_000, "conversions": 200},
        "budget": 2_000_000,
        "currency": "USD",
        "platforms": ["tiktok", "instagram", "xiaohongshu"],
        "tiers": ["nano", "micro", "mid"],
        "deliverables": ["short_video", "post"],
        "timeline": {
            "apply_by": (today + timedelta(days=14)).isoformat(),
            "posting_from": (today + timedelta(days=7)).date().isoformat(),
            "posting_until": (today + timedelta(days=45)).date().isoformat(),
        },
        "commission": {"commission_bp": 1500, "attribution_days": 30},
    }


def load_demo(url: str) -> None:
    asyncio.run(_load(url))

"""A synthetic, realistic catalog for demos and benchmarks, bulk-loaded in batches.

Tiers skew to nano and micro; creators based in mainland China mostly use Chinese platforms,
the others mostly global ones; engagement falls with tier; about 5 % of accounts carry the
marks of bought followers or bought likes, and are scored by the same rules as real ones.
Draws are vectorised per batch; the next batch is generated while the database stores the
previous one. The same seed and batch size give the same catalog, and loading a catalog
twice loads it once.
"""

import asyncio
import io
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import asyncpg
import click
import msgspec
import numpy as np

from contracts.common import TIER_FLOORS, Platform, Tier, tier_for_followers
from contracts.kols import AgeBand, Category
from contracts.pricing import RateCard
from services import database
from services.catalog import rules
from services.planning.ratecards import current_rate_card

TIERS = [Tier.NANO, Tier.MICRO, Tier.MID, Tier.MACRO, Tier.MEGA]
TIER_SHARES = np.array([55, 30, 10, 3.5, 1.5]) / 100
SMALLEST_ACCOUNT, LARGEST_ACCOUNT = 500, 30_000_000
PLATFORMS = list(Platform)
CHINA_MIX = {"douyin": 26, "xiaohongshu": 24, "weibo": 12, "wechat": 8, "bilibili": 10}
CHINA_MIX |= {"kuaishou": 12, "taobao_live": 8}
GLOBAL_MIX = {"instagram": 34, "tiktok": 30, "youtube": 20, "xiaohongshu": 8, "douyin": 4}
GLOBAL_MIX |= {"weibo": 4}
REGIONS = ["CN", "TW", "HK", "SG", "MY", "TH", "ID", "VN", "PH", "JP", "KR", "US", "GB"]
REGION_WEIGHTS = np.array([45, 5, 4, 5, 5, 5, 6, 4, 4, 4, 4, 6, 3], dtype=float)
LANGUAGES = [["zh-Hans"], ["zh-Hant"], ["zh-Hant", "en"], ["en", "zh-Hans"], ["ms", "en"]]
LANGUAGES += [["th"], ["id"], ["vi"], ["en", "fil"], ["ja"], ["ko"], ["en"], ["en"]]
CATEGORIES = [c.value for c in Category]
POPULAR = {Category.BEAUTY, Category.FASHION, Category.FOOD, Category.LIFESTYLE}
CATEGORY_WEIGHTS = np.array([3.0 if c in POPULAR else 1.0 for c in Category])
FEMALE_LEANING = {Category.BEAUTY, Category.SKINCARE, Category.FASHION, Category.PARENTING}
MALE_LEANING = {Category.GAMING, Category.AUTOMOTIVE, Category.TECH, Category.SPORTS}
AUDIENCE_LEAN = np.array(
    [0.5 + 0.25 * (c in FEMALE_LEANING) - 0.25 * (c in MALE_LEANING) for c in Category]
)
VIEW_RATE = np.array([0.35, 0.25, 0.18, 0.14, 0.1])  # median views / followers, nano → mega
YOUNG_PLATFORMS = {Platform.DOUYIN, Platform.BILIBILI, Platform.TIKTOK, Platform.KUAISHOU}
AGE_MIX = {True: [0.08, 0.38, 0.32, 0.13, 0.06, 0.03], False: [0.03, 0.22, 0.36, 0.22, 0.11, 0.06]}
AGE_BANDS = [b.value for b in AgeBand]
SUSPICIOUS_SHARE = 0.05
PROFILE_URLS = {
    Platform.DOUYIN: "https://www.douyin.com/user/{}",
    Platform.XIAOHONGSHU: "https://www.xiaohongshu.com/user/profile/{}",
    Platform.WEIBO: "https://weibo.com/{}",
    Platform.WECHAT: "https://mp.weixin.qq.com/profile/{}",
    Platform.BILIBILI: "https://space.bilibili.com/{}",
    Platform.KUAISHOU: "https://www.kuaishou.com/profile/{}",
    Platform.TAOBAO_LIVE: "https://live.taobao.com/{}",
    Platform.INSTAGRAM: "https://www.instagram.com/{}",
    Platform.TIKTOK: "https://www.tiktok.com/@{}",
    Platform.YOUTUBE: "https://www.youtube.com/@{}",
}
GIVEN = ["Mia", "Lin", "Yu", "Hao", "Jia", "Wei", "Xin", "Yi", "Ana", "Ken", "Sara", "Leo"]
GIVEN += ["Nina", "Aiko", "Min", "Tara", "Rafi", "Dewi", "Linh", "Joy"]
FAMILY = ["Chen", "Wang", "Li", "Zhang", "Liu", "Tan", "Lim", "Ng", "Wong", "Sato", "Kim"]
FAMILY += ["Park", "Nguyen", "Santos", "Lee", "Smith"]
TOPICS = ["daily", "notes", "diary", "life", "studio", "club", "kitchen", "journey", "picks"]

KOL_COLUMNS = ["id", "display_name", "bio", "region", "languages", "categories"]
KOL_COLUMNS += ["contact_preferences"]
ACCOUNT_COLUMNS = ["id", "kol_id", "platform", "handle", "profile_url", "verified", "followers"]
ACCOUNT_COLUMNS += ["tier", "median_views", "median_likes", "median_comments", "engagement_rate"]
ACCOUNT_COLUMNS += ["posts_per_month", "audience_female", "audience_male", "audience_other"]
ACCOUNT_COLUMNS += [f"audience_age_{b}" for b in ("13_17", "18_24", "25_34", "35_44", "45_54")]
ACCOUNT_COLUMNS += ["audience_age_55_plus", "audience_regions", "reference_price", "price_currency"]
ACCOUNT_COLUMNS += ["rate_card_version"]
ACCOUNT_COLUMNS += ["computed_authenticity", "authenticity_reasons", "metrics_updated_at"]
ACCOUNT_COLUMNS += ["created_at"]  # the owner's categories and region are copied by a trigger
SNAPSHOT_COLUMNS = ["account_id", "taken_at", "followers", "median_views", "median_likes"]
SNAPSHOT_COLUMNS += ["median_comments", "engagement_rate", "posts_per_month", "audience"]
CONTACT = '{"channels": ["in_app"], "open_to_offers": true, "note": ""}'


class SeedResult(NamedTuple):
    kols: int
    accounts: int
    snapshots: int
    seconds: float
    already_loaded: bool


class Batch(NamedTuple):
    kols: list[tuple[Any, ...]]
    accounts: list[tuple[Any, ...]]
    snapshots: list[tuple[Any, ...]]


async def seed_kols(
    url_or_pool: str | asyncpg.Pool,
    n: int,
    *,
    seed: int = 7,
    batch_size: int = 5_000,
    writers: int = 2,
    progress: bool = True,
) -> SeedResult:
    """Load `n` synthetic KOLs (two accounts each on average, three monthly snapshots each),
    stored by `writers` connections at once."""
    started = time.perf_counter()
    pool = url_or_pool
    if isinstance(url_or_pool, str):
        pool = await database.create_pool(url_or_pool, min_size=1, max_size=writers)
    try:
        async with pool.acquire() as conn:
            card = await current_rate_card(conn)
        counts = await _load(pool, n, CatalogGenerator(seed, card), batch_size, writers, progress)
    finally:
        if isinstance(url_or_pool, str):
            await pool.close()
    if counts is None:
        return SeedResult(0, 0, 0, time.perf_counter() - started, already_loaded=True)
    return SeedResult(*counts, seconds=time.perf_counter() - started, already_loaded=False)


async def _load(
    pool: asyncpg.Pool,
    n: int,
    generator: "CatalogGenerator",
    size: int,
    writers: int,
    progress: bool,
) -> tuple[int, int, int] | None:
    async with pool.acquire() as conn:
        if n > 0 and await conn.fetchval("SELECT 1 FROM kols WHERE id = $1", generator.first_id()):
            return None
    queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=writers)
    totals = [0, 0, 0]
    out = sys.stderr if progress else io.StringIO()
    with click.progressbar(length=n, label="seeding KOLs", file=out) as bar:
        async with asyncio.TaskGroup() as group:
            for _ in range(writers):
                group.create_task(_write(pool, queue, totals, bar))
            batches = generator.batches(n, size)
            while (batch := await asyncio.to_thread(next, batches, None)) is not None:
                await queue.put(batch)
            for _ in range(writers):
                await queue.put(None)
    async with pool.acquire() as conn:
        # Statistics for the planner, a visibility map so that counting reads only the
        # index, and the categories index's pending entries merged.
        await conn.execute("VACUUM (ANALYZE) kol_accounts, kols")
        await conn.execute("ANALYZE kol_account_snapshots")
    return totals[0], totals[1], totals[2]


async def _write(
    pool: asyncpg.Pool, queue: "asyncio.Queue[Batch | None]", totals: list[int], bar: Any
) -> None:
    """Store batches from the queue, each in its own transaction, until told to stop."""
    async with pool.acquire() as conn:
        # Binary COPY needs the driver's own JSON encoding: documents go in as text.
        await conn.reset_type_codec("jsonb", schema="pg_catalog")
        try:
            while (batch := await queue.get()) is not None:
                async with conn.transaction():
                    await _copy(conn, batch)
                totals[:] = [t + len(rows) for t, rows in zip(totals, batch, strict=True)]
                bar.update(len(batch.kols))
        finally:
            await database.init_connection(conn)


async def _copy(conn: asyncpg.Connection, batch: Batch) -> None:
    await conn.copy_records_to_table("kols", records=batch.kols, columns=KOL_COLUMNS)
    await conn.copy_records_to_table(
        "kol_accounts", records=batch.accounts, columns=ACCOUNT_COLUMNS
    )
    await conn.copy_records_to_table(
        "kol_account_snapshots", records=batch.snapshots, columns=SNAPSHOT_COLUMNS
    )


class Accounts(NamedTuple):
    """Per-account draws of one batch, as parallel arrays."""

    owner: np.ndarray  # index of the owning KOL in the batch
    platform: np.ndarray  # index into PLATFORMS
    tier: np.ndarray  # index into TIERS


class History(NamedTuple):
    """Three monthly snapshots per account (columns: oldest to latest)."""

    followers: np.ndarray
    views: np.ndarray
    likes: np.ndarray
    comments: np.ndarray
    rate: np.ndarray
    hour: np.ndarray


class CatalogGenerator:
    """Deterministic rows: the batch starting at KOL i is drawn from stream (seed, i)."""

    def __init__(self, seed: int, card: RateCard) -> None:
        self.seed = seed
        self.card = card
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        # Monthly snapshots, two months ago to now, each at a random hour of its day.
        self.moments = [
            [now - timedelta(days=30 * (2 - month), hours=h) for h in range(24)]
            for month in range(3)
        ]

    def first_id(self) -> uuid.UUID:
        return _uuids(np.random.default_rng([self.seed, 0]), 1)[0]

    def batches(self, n: int, size: int) -> Iterator[Batch]:
        for start in range(0, n, size):
            yield self.batch(start, min(n, start + size))

    def batch(self, start: int, stop: int) -> Batch:
        rng = np.random.default_rng([self.seed, start])
        batch = Batch([], [], [])
        regions, first_category = _kols(rng, batch, _uuids(rng, stop - start))
        accounts = _accounts(rng, regions)
        count = len(accounts.owner)
        history = _history(rng, accounts)
        audiences = _audiences(
            rng, accounts, regions[accounts.owner], AUDIENCE_LEAN[first_category[accounts.owner]]
        )
        posts = np.round(rng.uniform(2, 40, count), 1).tolist()
        verified = rng.random(count) < np.where(accounts.tier >= TIERS.index(Tier.MACRO), 0.4, 0.1)
        ids = _uuids(rng, count)
        columns = [np.asarray(c).tolist() for c in history]
        owners, platforms = accounts.owner.tolist(), accounts.platform.tolist()
        for i, (owner, platform_index) in enumerate(zip(owners, platforms, strict=True)):
            samples = [
                rules.Sample(self.moments[m][columns[5][i][m]], *(c[i][m] for c in columns[:5]))
                for m in range(3)
            ]
            account = (ids[i], PLATFORMS[platform_index], posts[i], bool(verified[i]))
            handle = f"{batch.kols[owner][1].replace(' ', '.').lower()}_{self.seed}_{start + owner}"
            _add_account(
                self.card, batch, batch.kols[owner], handle, account, samples, audiences[i]
            )
        return batch


def _add_account(
    card: RateCard,
    batch: Batch,
    owner: tuple[Any, ...],
    handle: str,
    account: tuple[uuid.UUID, Platform, float, bool],
    history: list[rules.Sample],
    audience: tuple[list[float], str, str],
) -> None:
    account_id, platform, posts, verified = account
    shares, top_regions, document = audience
    kol_id = owner[0]
    # Only the latest snapshot carries the audience breakdown, as it was posted with it.
    for sample in history[:-1]:
        batch.snapshots.append((account_id, *sample, posts, None))
    latest = history[-1]
    batch.snapshots.append((account_id, *latest, posts, document))
    score, reasons = rules.score_authenticity(platform, history)
    batch.accounts.append(
        (
            *(account_id, kol_id, platform, handle, PROFILE_URLS[platform].format(handle)),
            *(verified, latest.followers, tier_for_followers(latest.followers)),
            *(latest.median_views, latest.median_likes, latest.median_comments),
            *(latest.engagement_rate, posts, *shares, top_regions),
            rules.reference_price(
                card, platform, latest.followers, latest.median_views, latest.engagement_rate, score
            ),
            *(card.currency, card.version, score),
            msgspec.json.encode(reasons).decode(),
            *(latest.taken_at, history[0].taken_at),
        )
    )


def _uuids(rng: np.random.Generator, count: int) -> list[uuid.UUID]:
    raw = rng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _distinct(rng: np.random.Generator, weights: np.ndarray, counts: np.ndarray) -> list[list[int]]:
    """Per row, `counts[row]` distinct column indices drawn by weight (Gumbel top-k)."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    order = np.argsort(-keys, axis=1)
    return [row[:k] for row, k in zip(order.tolist(), counts.tolist(), strict=True)]


def _kols(
    rng: np.random.Generator, batch: Batch, ids: list[uuid.UUID]
) -> tuple[np.ndarray, np.ndarray]:
    """Append the KOL rows; return each KOL's region and first category (as indices)."""
    count = len(ids)
    regions = rng.choice(len(REGIONS), size=count, p=REGION_WEIGHTS / REGION_WEIGHTS.sum())
    how_many = rng.choice([1, 2, 3], size=count, p=[0.4, 0.4, 0.2])
    categories = _distinct(rng, np.tile(CATEGORY_WEIGHTS, (count, 1)), how_many)
    given = rng.integers(len(GIVEN), size=count).tolist()
    family = rng.integers(len(FAMILY), size=count).tolist()
    topics = rng.integers(len(TOPICS), size=count).tolist()
    for i, region in enumerate(regions.tolist()):
        name = f"{GIVEN[given[i]]} {FAMILY[family[i]]}"
        covered = [CATEGORIES[c] for c in categories[i]]
        bio = f"{name} · {covered[0]} {TOPICS[topics[i]]}"
        batch.kols.append((ids[i], name, bio, REGIONS[region], LANGUAGES[region], covered, CONTACT))
    return regions, np.array([c[0] for c in categories])


def _accounts(rng: np.random.Generator, regions: np.ndarray) -> Accounts:
    """One to three accounts per KOL, two on average: pairs of KOLs hold four between them."""
    pairs = rng.choice([1, 2, 3], size=(len(regions) + 1) // 2, p=[0.25, 0.5, 0.25])
    counts = np.column_stack([pairs, 4 - pairs]).ravel()[: len(regions)]
    china = np.array([CHINA_MIX.get(p.value, 0) for p in PLATFORMS], dtype=float)
    world = np.array([GLOBAL_MIX.get(p.value, 0) for p in PLATFORMS], dtype=float)
    weights = np.where((regions == REGIONS.index("CN"))[:, None], china, world)
    platforms = _distinct(rng, weights, counts)
    owner = np.repeat(np.arange(len(regions)), counts)
    tier = rng.choice(len(TIERS), size=len(owner), p=TIER_SHARES)
    return Accounts(owner, np.array([p for row in platforms for p in row]), tier)


def _tier_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest followers of each tier, from the one tier table."""
    floors = dict(TIER_FLOORS)
    low = np.array([max(floors[t], SMALLEST_ACCOUNT) for t in TIERS], dtype=float)
    high = np.array([floors[t] for t in TIERS[1:]] + [LARGEST_ACCOUNT], dtype=float)
    return low, high


def _history(rng: np.random.Generator, accounts: Accounts) -> History:
    """Organic growth, or a suspicious pattern. Likes, comments and views follow the real
    audience; bought followers only add to the follower count, bought likes to the likes."""
    n, tier = len(accounts.tier), accounts.tier
    low, high = _tier_bounds()
    followers = np.floor(np.exp(rng.uniform(np.log(low[tier]), np.log(high[tier]))))
    medians = np.array([[rules.median_engagement(p, t) for t in TIERS] for p in PLATFORMS])
    engagement = np.minimum(0.5, medians[accounts.platform, tier] * np.exp(rng.normal(0, 0.35, n)))
    view_rate = np.minimum(3.0, VIEW_RATE[tier] * np.exp(rng.normal(0, 0.4, n)))
    comment_share = rng.uniform(0.01, 0.05, n)
    growth = 1 + rng.uniform(0.005, 0.06, (2, n))
    suspicious = rng.random(n) < SUSPICIOUS_SHARE
    bought_followers = suspicious & (rng.random(n) < 0.6)
    jump = np.where(bought_followers, rng.uniform(1.8, 3.5, n), 1.0)
    growth[1] = np.where(bought_followers, 1.0, growth[1])
    boost = np.where(suspicious & ~bought_followers, rng.uniform(5, 12, n), 1.0)
    start = followers / (growth[0] * growth[1] * jump)
    real = np.column_stack([start, start * growth[0], start * growth[0] * growth[1]])
    shown = np.rint(np.column_stack([start, start * growth[0], followers]))
    per_real = (engagement / (1 + comment_share))[:, None]
    likes = np.rint(real * per_real * boost[:, None])
    comments = np.rint(real * per_real * comment_share[:, None])
    views = np.maximum(likes, np.rint(real * view_rate[:, None]))
    rate = np.minimum(1.0, np.round((likes + comments) / np.maximum(shown, 1), 5))
    as_int = [a.astype(np.int64) for a in (shown, views, likes, comments)]
    return History(*as_int, rate, rng.integers(24, size=(n, 3)))


def _shares(values: np.ndarray) -> np.ndarray:
    """Rows normalised and rounded to 3 decimals, the last column taking the rest."""
    rounded = np.round(values / values.sum(axis=1, keepdims=True), 3)
    rounded[:, -1] = np.round(np.maximum(0.0, 1 - rounded[:, :-1].sum(axis=1)), 3)
    return rounded


def _audiences(
    rng: np.random.Generator, accounts: Accounts, home: np.ndarray, lean: np.ndarray
) -> list[tuple[list[float], str, str]]:
    """Per account: gender and age shares, the top regions (JSON), the whole breakdown."""
    n = len(home)
    female = np.clip(rng.normal(lean, 0.08), 0.05, 0.95)
    gender = _shares(np.column_stack([female, 0.98 - female, np.full(n, 0.02)]))
    young = np.isin(accounts.platform, [PLATFORMS.index(p) for p in YOUNG_PLATFORMS])
    base = np.where(young[:, None], AGE_MIX[True], AGE_MIX[False])
    ages = _shares(base * rng.uniform(0.7, 1.3, (n, len(AGE_BANDS))))
    stay = rng.uniform(0.5, 0.9, n)
    second = (1 - stay) * rng.uniform(0.3, 0.6, n)
    rest = (1 - stay - second) / 2
    regions = _shares(np.column_stack([stay, second, rest, rest]))
    first = rng.integers(1, len(REGIONS), n)
    other = rng.integers(1, len(REGIONS) - 1, n)
    other += other >= first
    places = np.column_stack([home, (home + first) % len(REGIONS), (home + other) % len(REGIONS)])
    encode, out = msgspec.json.encode, []
    for g, a, r, p in zip(
        gender.tolist(), ages.tolist(), regions.tolist(), places.tolist(), strict=True
    ):
        top = dict(zip([*(REGIONS[i] for i in p), "other"], r, strict=True))
        document = {
            "gender": dict(zip(("female", "male", "other"), g, strict=True)),
            "age": dict(zip(AGE_BANDS, a, strict=True)),
            "regions": top,
        }
        out.append((g + a, encode(top).decode(), encode(document).decode()))
    return out

"""Use cases of the catalog: a KOL's profile and accounts, operator reviews, and search."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
import structlog

from contracts.common import Platform, tier_for_followers
from contracts.kols import (
    AccountIn,
    AccountOut,
    AccountPatch,
    AgeBand,
    Audience,
    Gender,
    KolCard,
    KolOut,
    KolPage,
    KolSearch,
    MetricsIn,
    OverrideIn,
    ProfileIn,
    SnapshotOut,
    SnapshotPage,
)
from contracts.pricing import RateCard
from services import audit
from services.actors import Caller
from services.catalog import queries, rules
from services.errors import Conflict, NotFound
from services.idempotency import idempotent
from services.planning.ratecards import current_rate_card

log = structlog.get_logger(__name__)
# When the planner expects at most this many matching KOLs they are counted (a bounded
# job); above, its estimate is shown, flagged as such.
EXACT_COUNT_LIMIT = 1_000


def _own_kol(caller: Caller) -> UUID:
    if caller.kol_id is None:
        raise NotFound("kol profile")
    return caller.kol_id


async def create_profile(conn: asyncpg.Connection, user_id: UUID, display_name: str) -> UUID:
    """The empty profile of a KOL account just registered, in the registration's transaction."""
    kol_id: UUID = await conn.fetchval(queries.INSERT_KOL, user_id, display_name)
    return kol_id


async def my_profile(conn: asyncpg.Connection, caller: Caller) -> KolOut:
    return await get_kol(conn, _own_kol(caller))


async def get_kol(conn: asyncpg.Connection, kol_id: UUID) -> KolOut:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(queries.FIND_KOL, kol_id)
        if row is None:
            raise NotFound("kol", kol_id)
        accounts = await conn.fetch(queries.LIST_ACCOUNTS, kol_id)
    return _kol_out(row, accounts)


async def update_profile(conn: asyncpg.Connection, caller: Caller, data: ProfileIn) -> KolOut:
    kol_id = _own_kol(caller)
    rules.check_profile(data)
    async with conn.transaction():
        row = await conn.fetchrow(
            queries.UPDATE_PROFILE,
            kol_id,
            data.display_name.strip(),
            data.bio,
            data.region,
            data.languages,
            [str(c) for c in data.categories],
            msgspec.to_builtins(data.contact_preferences),
        )
        if row is None:
            raise NotFound("kol profile")
        accounts = await conn.fetch(queries.LIST_ACCOUNTS, kol_id)
    log.info("kol_profile_updated", kol_id=str(kol_id))
    return _kol_out(row, accounts)


@idempotent
async def add_account(conn: asyncpg.Connection, caller: Caller, data: AccountIn) -> AccountOut:
    """List a platform account with its first metrics snapshot."""
    kol_id = _own_kol(caller)
    rules.check_account(data.platform, data.profile_url, data.metrics.audience)
    out = await _add_account(conn, kol_id, data)
    log.info("kol_account_added", kol_id=str(kol_id), account_id=str(out.id))
    return out


async def _add_account(conn: asyncpg.Connection, kol_id: UUID, data: AccountIn) -> AccountOut:
    account_id, m = uuid4(), data.metrics
    score, reasons = rules.score_authenticity(data.platform, [_sample(m)])
    row = await conn.fetchrow(
        queries.INSERT_ACCOUNT,
        account_id,
        kol_id,
        data.platform,
        data.handle,
        data.profile_url,
        score,
        [msgspec.to_builtins(r) for r in reasons],
        *_measured(await current_rate_card(conn), data.platform, m, score),
    )
    if row is None:
        raise Conflict(f"the {data.platform} handle {data.handle} is already listed")
    await _snapshot(conn, account_id, m)
    return _account_out(row)


async def update_account(
    conn: asyncpg.Connection, caller: Caller, account_id: UUID, data: AccountPatch
) -> AccountOut:
    """Change the handle or link, and/or record a new snapshot that becomes the latest."""
    kol_id = _own_kol(caller)
    rules.check_patch(data)
    try:
        async with conn.transaction():
            row = await conn.fetchrow(queries.LOCK_ACCOUNT, account_id, kol_id)
            if row is None:
                raise NotFound("account", account_id)
            platform = Platform(row["platform"])
            rules.check_account(platform, data.profile_url, data.metrics and data.metrics.audience)
            if data.handle is not None or data.profile_url is not None:
                handle = data.handle or row["handle"]
                url = data.profile_url or row["profile_url"]
                row = await conn.fetchrow(queries.UPDATE_LINKS, account_id, kol_id, handle, url)
            if data.metrics is not None:
                row = await _record_metrics(conn, row, data.metrics)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"the handle {data.handle} is already listed on this platform") from exc
    log.info("kol_account_updated", kol_id=str(kol_id), account_id=str(account_id))
    return _account_out(row)


async def _record_metrics(
    conn: asyncpg.Connection, account: asyncpg.Record, m: MetricsIn
) -> asyncpg.Record:
    """Keep the snapshot, rescore from the recent history, price at the effective score."""
    await _snapshot(conn, account["id"], m)
    history = await conn.fetch(queries.RECENT_HISTORY, account["id"], queries.SCORING_HISTORY_SIZE)
    platform = Platform(account["platform"])
    score, reasons = rules.score_authenticity(platform, [rules.Sample(**dict(r)) for r in history])
    override = account["authenticity_override"]
    card = await current_rate_card(conn)
    return await conn.fetchrow(
        queries.UPDATE_METRICS,
        account["id"],
        account["kol_id"],
        score,
        [msgspec.to_builtins(r) for r in reasons],
        *_measured(card, platform, m, score if override is None else override),
    )


def _measured(
    card: RateCard, platform: Platform, m: MetricsIn, authenticity: float
) -> tuple[Any, ...]:
    """The account columns a snapshot sets, in the order INSERT_ACCOUNT and UPDATE_METRICS
    take them; the price is quoted by the current card at the account's effective
    authenticity."""
    return (
        m.followers,
        tier_for_followers(m.followers),
        m.median_views,
        m.median_likes,
        m.median_comments,
        m.engagement_rate,
        m.posts_per_month,
        *_audience_columns(m.audience),
        rules.reference_price(
            card, platform, m.followers, m.median_views, m.engagement_rate, authenticity
        ),
        card.currency,
        card.version,
    )


def _audience_columns(audience: Audience | None) -> tuple[Any, ...]:
    """Gender and age shares (0 for a group not given), then the regions document."""
    if audience is None:
        return (None,) * (len(Gender) + len(AgeBand) + 1)
    genders = tuple(audience.gender.get(g, 0.0) for g in Gender)
    ages = tuple(audience.age.get(b, 0.0) for b in AgeBand)
    return (*genders, *ages, dict(audience.regions))


def _audience_out(row: asyncpg.Record) -> dict[str, Any] | None:
    if row["audience_regions"] is None:
        return None
    return {
        "gender": {g.value: row[queries.GENDER_COLUMNS[g]] for g in Gender},
        "age": {b.value: row[queries.AGE_COLUMNS[b]] for b in AgeBand},
        "regions": row["audience_regions"],
    }


def _sample(m: MetricsIn) -> rules.Sample:
    return rules.Sample(
        taken_at=datetime.now(UTC),
        followers=m.followers,
        median_views=m.median_views,
        median_likes=m.median_likes,
        median_comments=m.median_comments,
        engagement_rate=m.engagement_rate,
    )


async def _snapshot(conn: asyncpg.Connection, account_id: UUID, m: MetricsIn) -> None:
    await conn.execute(
        queries.INSERT_SNAPSHOT,
        account_id,
        m.followers,
        m.median_views,
        m.median_likes,
        m.median_comments,
        m.engagement_rate,
        m.posts_per_month,
        msgspec.to_builtins(m.audience) if m.audience else None,
    )


async def review_authenticity(
    conn: asyncpg.Connection, caller: Caller, kol_id: UUID, account_id: UUID, data: OverrideIn
) -> AccountOut:
    """An operator replaces (or, with a null score, restores) the computed score."""
    note = data.note.strip()
    async with conn.transaction():
        row = await conn.fetchrow(queries.LOCK_ACCOUNT, account_id, kol_id)
        if row is None:
            raise NotFound("account", account_id)
        effective = row["computed_authenticity"] if data.score is None else data.score
        card = await current_rate_card(conn)
        price = rules.reference_price(
            card,
            Platform(row["platform"]),
            row["followers"],
            row["median_views"],
            row["engagement_rate"],
            effective,
        )
        row = await conn.fetchrow(
            queries.UPDATE_OVERRIDE,
            *(account_id, kol_id, data.score, note, data.verified),
            *(price, card.currency, card.version),
        )
        await conn.execute(
            queries.INSERT_OVERRIDE, account_id, caller.user_id, data.score, data.verified, note
        )
        detail = {"score": data.score, "verified": data.verified, "kol_id": str(kol_id)}
        await audit.record(
            conn,
            "authenticity_overridden",
            user_id=caller.user_id,
            subject=str(account_id),
            **detail,
        )
    log.info("authenticity_overridden", account_id=str(account_id), score=data.score)
    return _account_out(row)


async def list_snapshots(
    conn: asyncpg.Connection, kol_id: UUID, account_id: UUID, limit: int, cursor: str | None
) -> SnapshotPage:
    """The account's metric history, newest first."""
    before = int(cursor) if cursor else 2**63 - 1  # the id of the last snapshot served
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        if await conn.fetchrow(queries.FIND_ACCOUNT, account_id, kol_id) is None:
            raise NotFound("account", account_id)
        rows = await conn.fetch(queries.LIST_SNAPSHOTS, account_id, kol_id, before, limit + 1)
    items = [msgspec.convert({k: v for k, v in r.items() if k != "id"}, SnapshotOut) for r in rows]
    more = len(rows) > limit
    next_cursor = str(rows[limit - 1]["id"]) if more else None
    return SnapshotPage(items=items[:limit], next_cursor=next_cursor)


async def search(conn: asyncpg.Connection, search: KolSearch) -> KolPage:
    """One page of matching KOLs in a stable order, with the count of the whole result."""
    rules.check_search(search)
    resume = rules.resume_search(search)
    page = queries.search_page(search, resume.after if resume else None, search.limit + 1)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        # Plans fit each search's values (a generic plan could not pick the selective
        # index); one page is too small a job to share between processes.
        await conn.execute(queries.SEARCH_SETTINGS)
        rows = await conn.fetch(page.text, *page.args)
        if resume is not None:
            total, estimate = resume.total, resume.estimate
        elif len(rows) <= search.limit:
            total, estimate = len(rows), False
        else:
            total, estimate = await _count(conn, search)
    more = len(rows) > search.limit
    rows = rows[: search.limit]
    next_cursor = None
    if more:
        key = _sort_key(search, rows[-1])
        fingerprint = rules.search_fingerprint(search)
        next_cursor = rules.encode_cursor(rules.SearchCursor(fingerprint, key, total, estimate))
    items = [_card(r) for r in rows]
    return KolPage(items=items, next_cursor=next_cursor, total=total, total_is_estimate=estimate)


async def _count(conn: asyncpg.Connection, search: KolSearch) -> tuple[int, bool]:
    """Exact up to EXACT_COUNT_LIMIT matching KOLs, else the planner's estimate."""
    estimate_st = queries.matching_kols(search, cap=None)
    plan = await conn.fetchval(estimate_st.text, *estimate_st.args)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate > EXACT_COUNT_LIMIT:
        return estimate, True
    count_st = queries.matching_kols(search, cap=EXACT_COUNT_LIMIT + 1)
    counted: int = await conn.fetchval(count_st.text, *count_st.args)
    if counted > EXACT_COUNT_LIMIT:
        return max(counted, estimate), True
    return counted, False


def _sort_key(search: KolSearch, row: asyncpg.Record) -> list[Any]:
    if rules.ranks_by_categories(search):
        return [row["relevance"], row["followers"], str(row["account_id"])]
    column = rules.SORT_COLUMNS.get(search.sort, "followers")
    return [row[column], str(row["account_id"])]


def _card(row: asyncpg.Record) -> KolCard:
    """A page's row: the KOL's profile, at its best matching account."""
    fields = dict(row)
    account = fields | {"id": row["account_id"], "currency": row["price_currency"]}
    return msgspec.convert(fields | {"id": row["kol_id"], "account": account}, KolCard)


def _kol_out(row: asyncpg.Record, accounts: list[asyncpg.Record]) -> KolOut:
    return msgspec.convert(dict(row) | {"accounts": [_account_out(a) for a in accounts]}, KolOut)


def _account_out(row: asyncpg.Record) -> AccountOut:
    override = None
    if row["authenticity_override"] is not None:
        override = {
            "score": row["authenticity_override"],
            "note": row["override_note"],
            "at": row["overridden_at"],
        }
    authenticity = {
        "score": row["authenticity"],
        "computed_score": row["computed_authenticity"],
        "reasons": row["authenticity_reasons"],
        "override": override,
    }
    derived = {
        "audience": _audience_out(row),
        "currency": row["price_currency"],
        "authenticity": authenticity,
    }
    return msgspec.convert(dict(row) | derived, AccountOut)

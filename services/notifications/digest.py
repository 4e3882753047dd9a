"""The daily digest: for users who asked for it, the mails of non-urgent kinds wait and go
out together, one mail a day.

A daily job gathers each such user's waiting notifications that are still unread into one
mail (recorded under a key per user and day, so a second run that day records none), and
marks those read in the app meanwhile as needing no mail. The mail is then sent like any
other: at most once.
"""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog

from contracts.notifications import Language, NotificationKind
from services.notifications import queries, record, rules, texts
from services.settings import Settings

USERS_BATCH = 500
MAX_ITEMS = 100  # notifications in one digest; more wait for the next day's
log = structlog.get_logger(__name__)


def _mail(
    settings: Settings, user_id: UUID, rows: list[asyncpg.Record], now: datetime
) -> dict[str, Any]:
    language = Language(rows[0]["language"])
    kinds = list(dict.fromkeys(NotificationKind(r["kind"]) for r in rows))
    stops = [(kind, record.unsubscribe_url(settings, user_id, kind)) for kind in kinds]
    items = [texts.Item(r["title"], r["body"], record.app_url(settings, r["link"])) for r in rows]
    mail = texts.digest_mail(language, items, texts.unsubscribe_links(language, stops))
    return {
        "id": uuid4(), "user_id": user_id, "notification_id": None,
        "digest_key": rules.digest_key(user_id, now), "to_address": rows[0]["email"],
        "subject": mail.subject, "text_body": mail.text, "html_body": mail.html,
        "unsubscribe_url": stops[0][1],
    }  # fmt: skip


async def _digest(
    conn: asyncpg.Connection, settings: Settings, user_id: UUID, now: datetime
) -> int:
    """Gather one user's digest; 1 when a mail was recorded."""
    async with conn.transaction():
        rows = await conn.fetch(queries.DIGEST_ITEMS, user_id, now, MAX_ITEMS)
        unread = [r for r in rows if r["read_at"] is None]
        email_id = None
        if unread:
            mail = _mail(settings, user_id, unread, now)
            if not await record.insert_emails(conn, [mail]):
                return 0  # today's digest went out already: these wait for the next one
            email_id = mail["id"]
        await conn.execute(queries.MARK_DIGESTED, [r["id"] for r in rows], email_id)
    return 1 if email_id else 0


async def gather(conn: asyncpg.Connection, settings: Settings, now: datetime) -> int:
    """Record the digest of every user with notifications waiting at `now`; returns how
    many mails were recorded."""
    made, after = 0, None
    while True:
        users = await conn.fetch(queries.DIGEST_USERS, now, after, USERS_BATCH)
        for row in users:
            made += await _digest(conn, settings, row["user_id"], now)
        if len(users) < USERS_BATCH:
            break
        after = users[-1]["user_id"]
    if made:
        log.info("digests_recorded", mails=made)
    return made

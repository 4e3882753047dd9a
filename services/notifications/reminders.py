"""Reminders: an open offer expiring within 24 hours reminds the side that must answer it; a
submission whose review window closes within 24 hours reminds the merchant's members.

A periodic job scans for due windows at the time it is given (`now`, a parameter, so tests
pass time without sleeping). Each reminder is recorded once per object and kind (the primary
key of `notification_reminders`), in the same transaction as its notifications, so a scan
run twice, or on two workers at once, reminds once.
"""

from datetime import datetime, timedelta

import asyncpg
import structlog

from contracts.notifications import NotificationKind
from contracts.offers import Side
from services.notifications import queries, record, rules, sources
from services.notifications.rules import Audience, Intent
from services.settings import Settings

BATCH = 500
log = structlog.get_logger(__name__)


def offer_intent(row: asyncpg.Record) -> Intent:
    """The side that did not propose the latest terms is the one that must answer."""
    return Intent(
        kind=NotificationKind.OFFER_EXPIRING,
        audience=sources.audience_of(sources.other(Side(row["proposed_by"]))),
        object_type="offer", object_id=row["id"], link=rules.offer_link(row["id"]),
        context=("offer", row["id"]), merchant_id=row["merchant_id"], kol_id=row["kol_id"],
        values={"expires": rules.moment(row["expires_at"])},
    )  # fmt: skip


def review_intent(row: asyncpg.Record) -> Intent:
    return Intent(
        kind=NotificationKind.REVIEW_CLOSING, audience=Audience.MEMBERS,
        object_type="submission", object_id=row["id"],
        link=rules.submission_link(row["deal_id"], row["id"]), context=("deal", row["deal_id"]),
        merchant_id=row["merchant_id"], kol_id=row["kol_id"],
        values={"due": rules.moment(row["review_due_at"])},
    )  # fmt: skip


async def remind(
    conn: asyncpg.Connection,
    settings: Settings,
    now: datetime,
    window: timedelta = rules.REMINDER_WINDOW,
) -> int:
    """Record every reminder due at `now`; returns the notifications recorded."""
    made = 0
    while True:
        async with conn.transaction():
            offers = await conn.fetch(queries.RECORD_OFFER_REMINDERS, now, window, BATCH)
            reviews = await conn.fetch(queries.RECORD_REVIEW_REMINDERS, now, window, BATCH)
            items: list[tuple[Intent, int | None]] = [(offer_intent(r), None) for r in offers]
            items += [(review_intent(r), None) for r in reviews]
            made += await record.record(conn, settings, items)
        if len(offers) < BATCH and len(reviews) < BATCH:
            break
    if made:
        log.info("reminders_recorded", notifications=made)
    return made

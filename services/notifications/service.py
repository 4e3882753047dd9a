"""Use cases of notifications: a user's inbox (a page, read one, read all) and their email
preferences, changed signed in or through a mail's unsubscribe link; and the retention that
keeps the inbox from growing forever.

Every statement names the caller's own user in its WHERE: another user's notification answers
404. Reading writes a `notification.read` event filed under the reader's side, so the reader's
other devices can follow along on the event stream.
"""

from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.events import NotificationRead
from contracts.notifications import (
    KindPreference,
    Language,
    NotificationKind,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
    UnsubscribedOut,
)
from services import events, pagination
from services.actors import Caller
from services.database import delete_in_batches
from services.errors import NotFound
from services.notifications import queries, rules, tokens
from services.settings import Settings

log = structlog.get_logger(__name__)


def notification_out(row: asyncpg.Record) -> NotificationOut:
    fields = dict(row)
    fields["object"] = {"type": row["object_type"], "id": row["object_id"]}
    return msgspec.convert(fields, NotificationOut)


def _user(caller: Caller) -> UUID:
    assert caller.user_id is not None, "the guard admits signed-in users only"
    return caller.user_id


def _sides(caller: Caller) -> tuple[UUID | None, UUID | None]:
    """Where a user's own events are filed: the same side as their notifications'."""
    if caller.kind == "kol":
        return None, caller.kol_id
    if caller.kind == "merchant":
        return caller.merchant_id, None
    return None, None


async def list_notifications(
    conn: asyncpg.Connection, caller: Caller, unread: bool, limit: int, cursor: str | None
) -> NotificationPage:
    """The caller's notifications, newest first, with how many are unread."""
    user_id = _user(caller)
    query = queries.LIST_UNREAD if unread else queries.LIST_ALL
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        page, next_cursor = await pagination.fetch_page(
            conn, query, user_id, limit=limit, cursor=cursor
        )
        count = await conn.fetchval(queries.COUNT_UNREAD, user_id)
    return NotificationPage(
        items=[notification_out(r) for r in page], next_cursor=next_cursor, unread=count
    )


async def _tell(
    conn: asyncpg.Connection, caller: Caller, notification_id: UUID | None, read: int
) -> None:
    unread = await conn.fetchval(queries.COUNT_UNREAD, _user(caller))
    merchant_id, kol_id = _sides(caller)
    event = NotificationRead(
        user_id=_user(caller), notification_id=notification_id, read=read, unread=unread
    )
    await events.append(
        conn, event, aggregate_id=notification_id or _user(caller), merchant_id=merchant_id,
        kol_id=kol_id,
    )  # fmt: skip


async def read(conn: asyncpg.Connection, caller: Caller, notification_id: UUID) -> NotificationOut:
    """Mark one of the caller's notifications read (reading it again changes nothing)."""
    async with conn.transaction():
        row = await conn.fetchrow(queries.READ_ONE, notification_id, _user(caller))
        if row is not None:
            await _tell(conn, caller, notification_id, 1)
        else:
            row = await conn.fetchrow(queries.FIND, notification_id, _user(caller))
            if row is None:
                raise NotFound("notification", notification_id)
    return notification_out(row)


async def read_all(conn: asyncpg.Connection, caller: Caller) -> ReadAllOut:
    async with conn.transaction():
        status = await conn.execute(queries.READ_ALL, _user(caller))
        marked = int(status.split()[-1])
        if marked:
            await _tell(conn, caller, None, marked)
        unread = await conn.fetchval(queries.COUNT_UNREAD, _user(caller))
    return ReadAllOut(read=marked, unread=unread)


def preferences_out(row: asyncpg.Record | None) -> PreferencesOut:
    off = set(row["email_off"]) if row else set()
    kinds = [
        KindPreference(kind=k, email=k.value not in off, digestible=k in rules.DIGESTIBLE)
        for k in NotificationKind
    ]
    language = Language(row["language"]) if row and row["language"] else None
    return PreferencesOut(
        kinds=kinds, daily_digest=bool(row and row["daily_digest"]), language=language
    )


async def preferences(conn: asyncpg.Connection, caller: Caller) -> PreferencesOut:
    return preferences_out(await conn.fetchrow(queries.PREFERENCES, _user(caller)))


async def save_preferences(
    conn: asyncpg.Connection, caller: Caller, data: PreferencesIn
) -> PreferencesOut:
    """Replace the caller's preferences; they apply to notifications from now on."""
    off = sorted({kind.value for kind in data.email_off})
    language = data.language.value if data.language else None
    row = await conn.fetchrow(
        queries.SAVE_PREFERENCES, _user(caller), off, data.daily_digest, language
    )
    log.info("notification_preferences_saved", user_id=str(_user(caller)))
    return preferences_out(row)


async def unsubscribe(conn: asyncpg.Connection, settings: Settings, token: str) -> UnsubscribedOut:
    """Turn off the email of the kind a mail's signed link names, for the user it names, and
    nothing else; no login needed. Using a link twice changes nothing more."""
    user_id, kind = tokens.verify(settings.jwt_secret, token)
    if await conn.fetchval(queries.UNSUBSCRIBE, user_id, kind.value) is None:
        raise NotFound("user")
    log.info("notification_email_unsubscribed", user_id=str(user_id), kind=kind.value)
    return UnsubscribedOut(kind=kind, email=False)


async def purge(conn: asyncpg.Connection, retention_days: int) -> int:
    """Delete the notifications older than `retention_days` (read or not) with their mails,
    digest mails and reminder records as old; returns the notifications deleted. A
    notification still waiting for its digest, or whose mail is still being sent, stays until
    that is done."""
    deleted = await delete_in_batches(conn, queries.PURGE_NOTIFICATIONS, retention_days)
    await delete_in_batches(conn, queries.PURGE_DIGEST_MAILS, retention_days)
    await delete_in_batches(conn, queries.PURGE_REMINDERS, retention_days)
    return deleted

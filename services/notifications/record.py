"""Recording notifications, in the caller's transaction: for each intent and each of its
recipients a notification with its texts, the mail it calls for (rendered now, sent later by
the worker) and a `notification.created` event filed under the recipient's side only.

A notification made from an event is recorded once per event, recipient and kind (a unique
key), and its mail once per notification: replaying a batch adds nothing.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from contracts.events import NotificationCreated
from contracts.notifications import MailRoute, NotificationKind
from services import events
from services.notifications import queries, recipients, rules, texts, tokens
from services.notifications.rules import Intent, Recipient
from services.settings import Settings

UNSUBSCRIBE_PATH = "/v1/notification-preferences/unsubscribe"
_VALUES = {"offer": queries.OFFER_VALUES, "deal": queries.DEAL_VALUES}
_LIMITS = {"brief": 80, "merchant": 60, "kol": 60}


@dataclass(frozen=True, slots=True)
class Note:
    """A notification about to be recorded."""

    id: UUID
    intent: Intent
    recipient: Recipient
    event_id: int | None
    title: str
    body: str
    route: MailRoute


async def _values(
    conn: asyncpg.Connection, intents: Sequence[Intent]
) -> dict[tuple[str, UUID], dict[str, str]]:
    """The names and titles the texts read, by the intents' context rows."""
    found: dict[tuple[str, UUID], dict[str, str]] = {}
    wanted: dict[str, set[UUID]] = {}
    for intent in intents:
        wanted.setdefault(intent.context[0], set()).add(intent.context[1])
    for kind, ids in wanted.items():
        query = _VALUES.get(kind, queries.MERCHANT_VALUES)
        for row in await conn.fetch(query, list(ids)):
            found[kind, row["id"]] = {
                key: rules.clean(row[key], limit)
                for key, limit in _LIMITS.items()
                if row.get(key) is not None
            }
    return found


def _note(intent: Intent, event_id: int | None, person: Recipient, context: dict[str, str]) -> Note:
    other = context.get("merchant", "") if person.side == "kol" else context.get("kol", "")
    values: dict[str, Any] = {**context, **intent.values, "side": person.side, "other": other}
    title, body = texts.notice(intent.kind, person.language, values)
    route = rules.mail_route(intent.kind, person)
    return Note(uuid.uuid4(), intent, person, event_id, title, body, route)


def unsubscribe_url(settings: Settings, user_id: UUID, kind: NotificationKind) -> str:
    token = tokens.sign(settings.jwt_secret, user_id, kind)
    return f"{settings.public_base_url.rstrip('/')}{UNSUBSCRIBE_PATH}?token={token}"


def app_url(settings: Settings, link: str) -> str:
    return settings.app_base_url.rstrip("/") + link


def _row(note: Note) -> dict[str, Any]:
    merchant_id, kol_id = rules.filed_under(note.recipient)
    return {
        "id": note.id, "user_id": note.recipient.user_id, "kind": note.intent.kind,
        "language": note.recipient.language, "title": note.title, "body": note.body,
        "object_type": note.intent.object_type, "object_id": note.intent.object_id,
        "link": note.intent.link, "merchant_id": merchant_id, "kol_id": kol_id,
        "event_id": note.event_id, "mail": note.route,
    }  # fmt: skip


def _email(settings: Settings, note: Note) -> dict[str, Any]:
    person, kind = note.recipient, note.intent.kind
    stop = unsubscribe_url(settings, person.user_id, kind)
    links = texts.unsubscribe_links(person.language, [(kind, stop)])
    url = app_url(settings, note.intent.link)
    mail = texts.notification_mail(person.language, note.title, note.body, url, links)
    return {
        "id": uuid.uuid4(), "user_id": person.user_id, "notification_id": note.id,
        "digest_key": None, "to_address": person.email, "subject": mail.subject,
        "text_body": mail.text, "html_body": mail.html, "unsubscribe_url": stop,
    }  # fmt: skip


def _event(note: Note) -> tuple[NotificationCreated, UUID, UUID | None, UUID | None]:
    merchant_id, kol_id = rules.filed_under(note.recipient)
    created = NotificationCreated(
        notification_id=note.id, user_id=note.recipient.user_id, kind=note.intent.kind,
        title=note.title, body=note.body, link=note.intent.link,
        object_type=note.intent.object_type, object_id=note.intent.object_id,
    )  # fmt: skip
    return created, note.id, merchant_id, kol_id


async def insert_emails(conn: asyncpg.Connection, rows: list[dict[str, Any]]) -> int:
    """Record mails to send (each at most once: unique per notification or digest); wakes
    the senders. Returns how many were new."""
    if not rows:
        return 0
    made = await conn.fetch(queries.INSERT_EMAILS, msgspec.json.encode(rows).decode())
    await conn.execute(queries.NOTIFY_MAILS)
    return len(made)


async def record(
    conn: asyncpg.Connection, settings: Settings, items: Sequence[tuple[Intent, int | None]]
) -> int:
    """Record the notifications of `items` (intent, the event it came from); returns how
    many were new."""
    if not items:
        return 0
    intents = [intent for intent, _ in items]
    people = await recipients.resolve(conn, intents)
    values = await _values(conn, intents)
    notes = [
        _note(intent, event_id, person, values.get(intent.context, {}))
        for intent, event_id in items
        for person in people.of(intent)
    ]
    if not notes:
        return 0
    document = msgspec.json.encode([_row(n) for n in notes]).decode()
    made = {row["id"] for row in await conn.fetch(queries.INSERT_NOTIFICATIONS, document)}
    kept = [n for n in notes if n.id in made]
    mails = [_email(settings, n) for n in kept if n.route is MailRoute.IMMEDIATE]
    await insert_emails(conn, mails)
    await events.append_many(conn, [_event(n) for n in kept])
    return len(kept)

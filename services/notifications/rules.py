"""Pure rules of notifications: who hears of each kind, which kinds wait for the daily digest,
the language a recipient reads, how a notification is mailed, links and the texts' values.

No I/O: the consumer, the reminders and the inbox use these with rows they read.
"""

import enum
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from contracts.common import MINOR_UNIT_DIGITS
from contracts.notifications import EmailStatus, Language, MailRoute, NotificationKind

K = NotificationKind
REMINDER_WINDOW = timedelta(hours=24)  # reminders come this long before a window closes

# Kinds that can wait a day: when a recipient asked for the daily digest, their mails are
# gathered into it. Every other kind asks for an action soon and is mailed at once.
DIGESTIBLE = frozenset(
    {K.OFFER_DECLINED, K.OFFER_WITHDRAWN, K.DEAL_APPROVED, K.PAYOUT_SENT, K.DISPUTE_RESOLVED}
)

# Waits after each failed attempt to mail (seconds): 30 s, 2 min, 10 min, 30 min, 2 h. Six
# attempts over about three hours, then the mail is given up (`failed`).
MAIL_RETRY_SCHEDULE: tuple[float, ...] = (30, 120, 600, 1800, 7200)
JITTER = 0.2


class Audience(enum.StrEnum):
    """Who a notification goes to."""

    KOL = "kol"  # the KOL's user
    MEMBERS = "members"  # every member of the merchant (owners and members)
    OWNERS = "owners"  # the merchant's owners only
    OPERATORS = "operators"  # every operator


@dataclass(frozen=True, slots=True)
class Intent:
    """One kind of news about one object, for one audience: what an event (or a due window)
    means before its recipients are known. `context` names the row its texts read
    (`("offer", id)`, `("deal", id)` or `("merchant", id)`); `values` are the texts' values
    taken from the event itself."""

    kind: NotificationKind
    audience: Audience
    object_type: str
    object_id: UUID
    link: str
    context: tuple[str, UUID]
    merchant_id: UUID | None = None
    kol_id: UUID | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A user who receives notifications, with what decides their texts and mails."""

    user_id: UUID
    email: str
    side: str  # kol | merchant | operator
    language: Language
    email_off: frozenset[str]
    daily_digest: bool
    merchant_id: UUID | None = None
    kol_id: UUID | None = None


def language_of(tags: Sequence[str], chosen: str | None) -> Language:
    """The language texts are written in: the recipient's own choice, else the first of the
    profile's languages that is English or Chinese (any Chinese reads Simplified Chinese),
    else English."""
    if chosen is not None:
        return Language(chosen)
    for tag in tags:
        primary = tag.split("-")[0].lower()
        if primary == "zh":
            return Language.SIMPLIFIED_CHINESE
        if primary == "en":
            return Language.ENGLISH
    return Language.ENGLISH


def mail_route(kind: NotificationKind, recipient: Recipient) -> MailRoute:
    """How a notification of `kind` reaches `recipient` by email."""
    if kind.value in recipient.email_off:
        return MailRoute.NONE
    if recipient.daily_digest and kind in DIGESTIBLE:
        return MailRoute.DIGEST
    return MailRoute.IMMEDIATE


def filed_under(recipient: Recipient) -> tuple[UUID | None, UUID | None]:
    """The (merchant_id, kol_id) a recipient's notification events are filed under, so that
    only the recipient's side reads them: a KOL its own, a member its merchant's, operators
    (who read every event) neither."""
    if recipient.side == "kol":
        return None, recipient.kol_id
    if recipient.side == "merchant":
        return recipient.merchant_id, None
    return None, None


def next_attempt(
    attempts: int, now: datetime, schedule: tuple[float, ...] = MAIL_RETRY_SCHEDULE
) -> datetime | None:
    """When to try a mail again after `attempts` failed attempts; None once the schedule is
    spent."""
    if attempts > len(schedule):
        return None
    wait = schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    return now + timedelta(seconds=wait)


def after_failure(
    retryable: bool, attempts: int, now: datetime
) -> tuple[EmailStatus, datetime | None]:
    """A mail's status after a failed attempt that certainly sent nothing."""
    retry_at = next_attempt(attempts, now) if retryable else None
    return (EmailStatus.PENDING, retry_at) if retry_at else (EmailStatus.FAILED, None)


# Links: paths of the frontend, relative to its address.
def offer_link(offer_id: UUID) -> str:
    return f"/offers/{offer_id}"


def deal_link(deal_id: UUID) -> str:
    return f"/deals/{deal_id}"


def submission_link(deal_id: UUID, submission_id: UUID) -> str:
    return f"/deals/{deal_id}/submissions/{submission_id}"


def dispute_link(dispute_id: UUID) -> str:
    return f"/disputes/{dispute_id}"


def conversion_link(conversion_id: UUID) -> str:
    return f"/conversions/{conversion_id}"


PAYOUT_SETUP_LINK = "/payouts/setup"
HELD_ORDERS_LINK = "/conversions?status=held"

_SPACES = re.compile(r"\s+")


def clean(text: str, limit: int) -> str:
    """A value others typed, fit for a one-line title: whitespace (line breaks included)
    collapsed, cut at `limit` characters."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def money(amount: int, currency: str) -> str:
    """Minor units as a reader writes them: `450.00 USD`, `4,500 JPY`."""
    digits = MINOR_UNIT_DIGITS.get(currency, 2)
    if digits == 0:
        return f"{amount:,} {currency}"
    units, cents = divmod(abs(amount), 10**digits)
    sign = "-" if amount < 0 else ""
    return f"{sign}{units:,}.{cents:0{digits}d} {currency}"


def moment(at: datetime) -> str:
    """A point in time for texts, in UTC: `2026-12-05 14:00 UTC`."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def digest_key(user_id: UUID, now: datetime) -> str:
    """The one digest a user receives on a (UTC) day."""
    return f"digest:{user_id}:{now.astimezone(UTC).date().isoformat()}"

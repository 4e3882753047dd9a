"""Notifications: what needs a merchant's member, a KOL or an operator, in an inbox and by email.

Each notification has a kind, a short title and body in the recipient's language, the object
it is about and a link path for the frontend. Email preferences are per kind; the inbox is
always on.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta


class NotificationKind(enum.StrEnum):
    """What a notification tells of: `offer_invitation`, `offer_application`,
    `offer_countered`, `offer_accepted`, `offer_declined`, `offer_withdrawn`,
    `offer_expiring` (the offer lapses within 24 hours), `submission_waiting` (content to
    review), `review_closing` (the review window ends within 24 hours), `changes_requested`,
    `deal_approved`, `payout_sent`, `takedown_reported`, `dispute_resolved`,
    `conversion_held` (operators: an order waits for review), `payout_account_incomplete`
    (a deal was funded but the KOL cannot be paid yet)."""

    OFFER_INVITATION = "offer_invitation"  # a merchant invited the KOL
    OFFER_APPLICATION = "offer_application"  # a KOL applied to the merchant's brief
    OFFER_COUNTERED = "offer_countered"  # the other side proposed new terms
    OFFER_ACCEPTED = "offer_accepted"  # the other side accepted: a deal exists
    OFFER_DECLINED = "offer_declined"
    OFFER_WITHDRAWN = "offer_withdrawn"
    OFFER_EXPIRING = "offer_expiring"  # reminder: the offer lapses within 24 hours
    SUBMISSION_WAITING = "submission_waiting"  # content to review
    REVIEW_CLOSING = "review_closing"  # reminder: the review window ends within 24 hours
    CHANGES_REQUESTED = "changes_requested"
    DEAL_APPROVED = "deal_approved"
    PAYOUT_SENT = "payout_sent"
    TAKEDOWN_REPORTED = "takedown_reported"
    DISPUTE_RESOLVED = "dispute_resolved"
    CONVERSION_HELD = "conversion_held"  # operators: an order waits for review
    PAYOUT_ACCOUNT_INCOMPLETE = "payout_account_incomplete"  # funded, but payouts not set up


class ReminderKind(enum.StrEnum):
    """The kinds that come from a due window rather than from an event; each is recorded once
    per object."""

    OFFER_EXPIRING = "offer_expiring"
    REVIEW_CLOSING = "review_closing"


class Language(enum.StrEnum):
    """Languages of notification texts: English or Simplified Chinese."""

    ENGLISH = "en"
    SIMPLIFIED_CHINESE = "zh-Hans"


class MailRoute(enum.StrEnum):
    """What becomes of a notification by email."""

    NONE = "none"  # no mail: the recipient turned this kind's email off
    IMMEDIATE = "immediate"  # a mail of its own
    DIGEST = "digest"  # waiting for the recipient's daily digest
    DIGESTED = "digested"  # gathered into a digest mail
    SKIPPED = "skipped"  # read in the app before its digest went out


class EmailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # handed to the mail server under a lease
    SENT = "sent"  # the mail server accepted it
    LOGGED = "logged"  # no mail server is configured: written to the log instead
    FAILED = "failed"  # refused for good, or retries exhausted; never sent
    UNKNOWN = "unknown"  # the answer was lost: it may have been sent, so it is not sent again


class NotificationObject(msgspec.Struct, kw_only=True, frozen=True):
    """The object a notification is about: `offer`, `deal`, `submission`, `dispute`,
    `conversion` or `kol` (the KOL's own payout set-up)."""

    type: str
    id: UUID


class NotificationOut(msgspec.Struct, kw_only=True, frozen=True):
    """One notification in the caller's inbox; `read_at` is null while unread."""

    id: UUID
    kind: NotificationKind
    title: str
    body: str
    language: Language
    object: NotificationObject
    link: Annotated[str, Meta(description="a path of the frontend, e.g. /offers/<id>")]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(msgspec.Struct, kw_only=True, frozen=True):
    """Newest first; `unread` counts all of the caller's unread notifications."""

    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class ReadAllOut(msgspec.Struct, kw_only=True, frozen=True):
    """What marking every notification read did."""

    read: Annotated[int, Meta(description="how many were marked read now")]
    unread: Annotated[int, Meta(description="left unread (0, unless some arrived meanwhile)")]


class KindPreference(msgspec.Struct, kw_only=True, frozen=True):
    """Whether one kind of notification is also sent by email."""

    kind: NotificationKind
    email: bool
    digestible: Annotated[
        bool,
        Meta(description="gathered into the daily digest when that is on, else mailed at once"),
    ]


class PreferencesOut(msgspec.Struct, kw_only=True, frozen=True):
    """Email per kind (the inbox always receives every kind), the daily digest, and the
    language of texts (null: from the KOL profile's languages, else English)."""

    kinds: list[KindPreference]
    daily_digest: bool
    language: Language | None


class PreferencesIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The whole set of preferences (PUT replaces it): the kinds whose email is off, the
    daily digest, and the language of texts (null to derive it)."""

    email_off: Annotated[list[NotificationKind], Meta(max_length=len(NotificationKind))] = []
    daily_digest: bool = False
    language: Language | None = None


class UnsubscribedOut(msgspec.Struct, kw_only=True, frozen=True):
    """The kind whose email the link turned off."""

    kind: NotificationKind
    email: Annotated[bool, Meta(description="always false: no more mail of this kind")]

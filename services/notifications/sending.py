"""Record, call, apply: the three steps of sending a notification's mail, at most once.

1. Claim (record): in one statement, due mails are leased to this sender and marked
   `sending` (with the attempt counted), then committed, before anything leaves.
2. Call: outside any transaction, the mail is handed to the SMTP server with a timeout.
3. Apply: in a second statement the result is recorded: `sent` (or `logged`), `pending`
   again with a later attempt when nothing was sent and the failure may pass (retried with
   backoff, six attempts at most), `failed` when the server refused it for good, `unknown`
   when the answer was lost while the message travelled.

SMTP has no idempotency key, so the rule is at most once per notification: a mail is only
ever handed over from `pending`, and a sender that dies between handing it over and applying
the answer leaves it `sending`; when the lease ends it becomes `unknown` and is never sent
again (it may or may not have arrived; the inbox still has the notification). Retried jobs
and restarted workers find nothing left to send.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg
import structlog

from contracts.notifications import EmailStatus
from services.notifications import queries, rules
from services.notifications.mail import Mail, Mailer, Outcome

CONCURRENCY = 8  # mails handed over at once per worker
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Claimed:
    mail: Mail
    attempts: int  # this attempt's number


async def claim(
    conn: asyncpg.Connection, now: datetime, limit: int, lease_seconds: float
) -> tuple[UUID, list[Claimed]]:
    """Lease up to `limit` mails due at `now`; the claim's token and the mails."""
    token = uuid4()
    rows = await conn.fetch(queries.CLAIM_EMAILS, now, limit, token, lease_seconds)
    claimed = [
        Claimed(
            Mail(
                id=r["id"], to=r["to_address"], subject=r["subject"], text=r["text_body"],
                html=r["html_body"], unsubscribe_url=r["unsubscribe_url"],
            ),
            r["attempts"],
        )
        for r in rows
    ]  # fmt: skip
    return token, claimed


async def call(mailer: Mailer, claimed: Claimed) -> Outcome:
    """Hand one claimed mail over; never raises (an unexpected error leaves it unknown)."""
    try:
        return await mailer.send(claimed.mail)
    except Exception as error:
        return Outcome(EmailStatus.UNKNOWN, f"{type(error).__name__}: {error}"[:500])


def fate(outcome: Outcome, attempts: int, now: datetime) -> tuple[EmailStatus, datetime | None]:
    """The mail's status after this attempt, and its next attempt if any."""
    if outcome.status is EmailStatus.PENDING:
        return rules.after_failure(True, attempts, now)
    return outcome.status, None


async def apply(
    conn: asyncpg.Connection, token: UUID, claimed: Claimed, outcome: Outcome, now: datetime
) -> EmailStatus:
    status, retry_at = fate(outcome, claimed.attempts, now)
    await conn.execute(
        queries.APPLY_EMAIL, claimed.mail.id, token, status.value, retry_at, outcome.error, now
    )
    if status not in (EmailStatus.SENT, EmailStatus.LOGGED):
        log.warning(
            "email_not_sent", email_id=str(claimed.mail.id), status=status.value,
            attempt=claimed.attempts, error=outcome.error,
        )  # fmt: skip
    return status


async def expire_leases(conn: asyncpg.Connection, now: datetime) -> int:
    """Mails whose sender stopped mid-send become `unknown`; never sent again."""
    lost = await conn.fetch(queries.EXPIRE_LEASES, now)
    for row in lost:
        log.warning("email_outcome_unknown", email_id=str(row["id"]))
    return len(lost)


async def send_round(
    pool: asyncpg.Pool, mailer: Mailer, now: datetime, lease_seconds: float, limit: int
) -> list[EmailStatus]:
    """Claim, send and apply up to `limit` due mails; their new statuses."""
    async with pool.acquire() as conn:
        await expire_leases(conn, now)
        token, claimed = await claim(conn, now, limit, lease_seconds)
    if not claimed:
        return []
    outcomes: Sequence[Outcome] = await asyncio.gather(*(call(mailer, c) for c in claimed))
    async with pool.acquire() as conn:
        return [await apply(conn, token, c, o, now) for c, o in zip(claimed, outcomes, strict=True)]


async def send_due(
    pool: asyncpg.Pool,
    mailer: Mailer,
    now: datetime,
    lease_seconds: float,
    limit: int = CONCURRENCY,
) -> int:
    """Send every mail due at `now`; returns the attempts made."""
    made = 0
    while True:
        statuses = await send_round(pool, mailer, now, lease_seconds, limit)
        made += len(statuses)
        if len(statuses) < limit:
            return made

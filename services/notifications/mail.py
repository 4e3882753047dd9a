"""Handing a mail to the outside: SMTP with aiosmtplib, or the log when no server is set.

`SMTP_URL` names the server: `smtp://[user:password@]host[:port]` (STARTTLS when the server
offers it), `smtp+starttls://` (STARTTLS required) or `smtps://` (TLS from the start).
Without it mails are written to the log as one line each (and stay in the inbox).

SMTP has no idempotency key, so what an error means decides whether a mail may be tried
again: nothing is sent when connecting or logging in fails, nor when the server refuses the
sender, the recipient or the message with a reply code (4xx: try later; 5xx: never). A
connection lost or a timeout while the message travels leaves it unknown: the server may
have accepted it, so it is not sent again.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from uuid import UUID

import aiosmtplib
import structlog

from contracts.notifications import EmailStatus
from services.settings import Settings

log = structlog.get_logger(__name__)
SCHEMES = {"smtp": (False, None), "smtp+starttls": (False, True), "smtps": (True, False)}


@dataclass(frozen=True, slots=True)
class Mail:
    id: UUID
    to: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one attempt: `sent` or `logged`; `pending` when nothing was sent and it
    may be tried again; `failed` when nothing was sent and never will be; `unknown`."""

    status: EmailStatus
    error: str | None = None


class Mailer(Protocol):
    async def send(self, mail: Mail) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    use_tls: bool
    start_tls: bool | None
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> Server:
    """The server `SMTP_URL` names; ValueError naming the variable when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError("SMTP_URL must be smtp://, smtp+starttls:// or smtps:// with a host")
    use_tls, start_tls = SCHEMES[parts.scheme]
    default_port = 465 if use_tls else 587 if start_tls else 25
    return Server(
        host=parts.hostname, port=parts.port or default_port, use_tls=use_tls,
        start_tls=start_tls, username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )  # fmt: skip


def message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message: plain text and HTML alternatives, a Message-ID made from the mail's
    id (the same on every attempt), and one-click unsubscribe headers (RFC 8058)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kolmarket.invalid"
    built = EmailMessage()
    built["From"] = sender
    built["To"] = mail.to
    built["Subject"] = mail.subject
    built["Date"] = format_datetime(datetime.now(UTC))
    built["Message-ID"] = f"<{mail.id}@{domain}>"
    built["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    built["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    built["Auto-Submitted"] = "auto-generated"
    built.set_content(mail.text)
    built.add_alternative(mail.html, subtype="html")
    return built


class LogMailer:
    """No mail server: each mail becomes one log line (no body: it holds the unsubscribe
    link)."""

    def __init__(self, logger: Any = None) -> None:
        self._log = logger or log

    async def send(self, mail: Mail) -> Outcome:
        self._log.info("email_logged", email_id=str(mail.id), to=mail.to, subject=mail.subject)
        return Outcome(EmailStatus.LOGGED)


def _refused(code: int, what: str) -> Outcome:
    retry = 400 <= code < 500
    return Outcome(EmailStatus.PENDING if retry else EmailStatus.FAILED, f"{what}: {code}")


class SmtpMailer:
    def __init__(self, server: Server, sender: str, timeout: float) -> None:
        self._server = server
        self._sender = sender
        self._timeout = timeout
        self._local = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    async def send(self, mail: Mail) -> Outcome:
        client = aiosmtplib.SMTP(
            hostname=self._server.host, port=self._server.port, use_tls=self._server.use_tls,
            start_tls=self._server.start_tls, username=self._server.username,
            password=self._server.password, timeout=self._timeout, local_hostname=self._local,
        )  # fmt: skip
        try:
            async with asyncio.timeout(self._timeout):
                await client.connect()
        except Exception as error:  # nothing was handed over: safe to try again
            return Outcome(EmailStatus.PENDING, _describe("connect", error))
        try:
            return await self._transfer(client, mail)
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout):
                    await client.quit()
            client.close()

    async def _transfer(self, client: aiosmtplib.SMTP, mail: Mail) -> Outcome:
        try:
            async with asyncio.timeout(self._timeout):
                await client.send_message(message(mail, self._sender))
        except aiosmtplib.SMTPRecipientsRefused as refused:
            return _refused(min(r.code for r in refused.recipients), "recipient refused")
        except aiosmtplib.SMTPServerDisconnected as error:
            return Outcome(EmailStatus.UNKNOWN, _describe("disconnected", error))
        except aiosmtplib.SMTPResponseException as error:
            return _refused(error.code, f"refused ({error.message[:200]})")
        except Exception as error:  # the message may have arrived: never send it again
            return Outcome(EmailStatus.UNKNOWN, _describe("no answer", error))
        return Outcome(EmailStatus.SENT)


def _describe(stage: str, error: BaseException) -> str:
    return f"{stage}: {type(error).__name__}: {error}"[:500]


def mailer_for(settings: Settings) -> Mailer:
    if not settings.smtp_url:
        return LogMailer()
    server = parse_smtp_url(settings.smtp_url)
    return SmtpMailer(server, settings.mail_from, settings.smtp_timeout_seconds)

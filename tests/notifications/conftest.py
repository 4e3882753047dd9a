"""Fixtures of the notification tests: a real SMTP server on loopback (aiosmtpd) that keeps
every message it accepts, and the settings that send mail to it."""

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import msgspec
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.notifications.mail import LogMailer
from services.notifications.runner import Notifier
from services.settings import Settings

APP = "https://app.kolmarket.test"
API = "https://api.kolmarket.test"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content


@dataclass
class SmtpBox:
    """Keeps each accepted message. `refuse` queues replies to RCPT for an address (then it
    is accepted); a message to an address in `lose_answer` is kept but the connection drops
    before the server answers, as when a network fails after the mail went through."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, list[str]] = field(default_factory=dict)
    lose_answer: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        queued = self.refuse.get(address)
        if queued:
            return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        if self.lose_answer & set(envelope.rcpt_tos):
            server.transport.close()
        return "250 Message accepted"


@pytest.fixture(scope="session")
async def smtp() -> AsyncIterator[SmtpBox]:
    box = SmtpBox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(box, hostname="mail.kolmarket.test", loop=loop), "127.0.0.1", 0
    )
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()


@pytest.fixture(scope="session")
def mail_settings(settings: Settings, smtp: SmtpBox) -> Settings:
    return msgspec.structs.replace(
        settings,
        smtp_url=smtp.url,
        smtp_timeout_seconds=5.0,
        app_base_url=APP,
        public_base_url=API,
        mail_from="kolmarket <notifications@kolmarket.test>",
    )


@pytest.fixture(scope="session", autouse=True)
async def caught_up(pool: Any, settings: Settings) -> None:
    """What earlier tests of the session did is notified (to the log) before these begin, so
    each test's own mails are the only ones due."""
    await Notifier(pool, settings, mailer=LogMailer()).drain()

"""Mails through a real SMTP server on loopback: an invitation mails the KOL once, in its
language, with the link to act; retries and lost answers never send a second mail; a turned
off kind keeps its inbox item but sends nothing; the unsubscribe link works only as signed."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from structlog.testing import capture_logs

from contracts.notifications import NotificationKind
from services.notifications import sending, tokens
from services.notifications.mail import LogMailer, mailer_for
from services.settings import Settings
from services.worker.app import run_worker
from tests.helpers import Account, Client, merchant
from tests.negotiation.support import invite, open_brief
from tests.notifications.conftest import API, APP, SmtpBox
from tests.notifications.support import WAIT, lease, notify, read_inbox, send, speaking

EMAIL_OF = "SELECT e.* FROM notification_emails e JOIN notifications n ON n.id = e.notification_id"


async def _invited(client: Client, creator: Account) -> tuple[Account, dict[str, Any]]:
    owner = await merchant(client)
    brief = await open_brief(client, owner, title="Glow <Serum> launch")
    return owner, await invite(client, owner, brief["id"], creator)


async def _email_row(db: Any, offer_id: str, user_id: str) -> Any:
    return await db.fetchrow(
        EMAIL_OF + " WHERE n.object_id = $1 AND n.user_id = $2",
        uuid.UUID(offer_id), uuid.UUID(user_id),
    )  # fmt: skip


async def test_an_invitation_mails_the_kol_once_in_its_language_with_the_link(
    client: Client, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    chinese = await speaking(client, "zh-Hant", "en")
    english = await speaking(client, "fr", "en")
    for creator in (chinese, english):
        _, offer = await _invited(client, creator)
        await notify(pool, mail_settings)
        await send(pool, mail_settings)
        (mail,) = smtp.to(creator.email)
        link = f"{APP}/offers/{offer['id']}"
        assert link in mail.part("plain")
        assert f'href="{link}"' in mail.part("html")
        assert "Glow &lt;Serum&gt; launch" in mail.part("html")  # escaped, never markup
        assert mail.message["List-Unsubscribe"].startswith(f"<{API}/v1/notification-preferences")
    assert "邀请你参与" in smtp.to(chinese.email)[0].message["Subject"]
    assert "invited you to" in smtp.to(english.email)[0].message["Subject"]
    # Nothing more to send: another run, or the same notification read again, mails nothing.
    await notify(pool, mail_settings)
    assert await send(pool, mail_settings) == 0
    assert len(smtp.to(chinese.email)) == len(smtp.to(english.email)) == 1


async def test_a_sender_that_dies_after_handing_the_mail_over_never_sends_it_again(
    client: Client, db: Any, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    _, offer = await _invited(client, creator)
    await notify(pool, mail_settings)
    now = datetime.now(UTC)
    # Record and call, then the worker dies before applying the answer.
    _, claimed = await sending.claim(db, now, 100, lease(mail_settings))
    mine = [c for c in claimed if c.mail.to == creator.email]
    assert len(mine) == 1
    for each in claimed:
        await sending.call(mailer_for(mail_settings), each)
    assert len(smtp.to(creator.email)) == 1
    # A retried job before the lease ends, then after it: neither sends it again.
    assert await send(pool, mail_settings, now) == 0
    later = now + timedelta(seconds=lease(mail_settings) + 1)
    await send(pool, mail_settings, later)
    row = await _email_row(db, offer["id"], creator.me["user_id"])
    assert (row["status"], row["attempts"]) == ("unknown", 1)
    assert len(smtp.to(creator.email)) == 1


async def test_a_lost_answer_leaves_the_mail_unknown_and_unsent_again(
    client: Client, db: Any, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    smtp.lose_answer.add(creator.email)
    _, offer = await _invited(client, creator)
    await notify(pool, mail_settings)
    await send(pool, mail_settings)
    row = await _email_row(db, offer["id"], creator.me["user_id"])
    assert row["status"] == "unknown", row["last_error"]
    await send(pool, mail_settings, datetime.now(UTC) + timedelta(days=1))
    assert len(smtp.to(creator.email)) == 1


async def test_a_refusal_to_try_later_is_retried_with_backoff_and_sends_once(
    client: Client, db: Any, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    smtp.refuse[creator.email] = ["451 4.3.0 Try again later"]
    _, offer = await _invited(client, creator)
    await notify(pool, mail_settings)
    now = datetime.now(UTC)
    await send(pool, mail_settings, now)
    row = await _email_row(db, offer["id"], creator.me["user_id"])
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt_at"] > now
    assert smtp.to(creator.email) == []
    await send(pool, mail_settings, now)  # not due yet
    assert smtp.to(creator.email) == []
    await send(pool, mail_settings, now + timedelta(hours=1))
    await send(pool, mail_settings, now + timedelta(hours=2))
    row = await _email_row(db, offer["id"], creator.me["user_id"])
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert len(smtp.to(creator.email)) == 1


async def test_a_permanent_refusal_fails_without_retrying(
    client: Client, db: Any, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    smtp.refuse[creator.email] = ["550 5.1.1 No such user"]
    _, offer = await _invited(client, creator)
    await notify(pool, mail_settings)
    await send(pool, mail_settings)
    await send(pool, mail_settings, datetime.now(UTC) + timedelta(days=1))
    row = await _email_row(db, offer["id"], creator.me["user_id"])
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert smtp.to(creator.email) == []


async def test_a_kind_turned_off_keeps_the_inbox_item_and_sends_no_mail(
    client: Client, db: Any, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    saved = await client.put(
        "/v1/me/notification-preferences",
        json={"email_off": ["offer_invitation"]},
        headers=creator.headers,
    )
    assert saved.status_code == 200, saved.text
    _, offer = await _invited(client, creator)
    await notify(pool, mail_settings)
    await send(pool, mail_settings)
    items = (await read_inbox(client, creator))["items"]
    assert [(i["kind"], i["object"]["id"]) for i in items] == [("offer_invitation", offer["id"])]
    assert await _email_row(db, offer["id"], creator.me["user_id"]) is None
    assert smtp.to(creator.email) == []


async def _preferences(client: Client, who: Account) -> dict[str, bool]:
    response = await client.get("/v1/me/notification-preferences", headers=who.headers)
    assert response.status_code == 200, response.text
    return {k["kind"]: k["email"] for k in response.json()["kinds"]}


async def test_the_unsubscribe_link_works_as_signed_and_fails_when_tampered(
    client: Client, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    await _invited(client, creator)
    await notify(pool, mail_settings)
    await send(pool, mail_settings)
    (mail,) = smtp.to(creator.email)
    url = urlsplit(mail.message["List-Unsubscribe"].strip("<>"))
    token = url.query.removeprefix("token=")
    assert url.path == "/v1/notification-preferences/unsubscribe"

    body, _, signature = token.partition(".")
    kind = NotificationKind.OFFER_INVITATION
    forged = tokens.sign("another deployment's secret", uuid.UUID(creator.me["user_id"]), kind)
    for bad in (f"{body}.{signature[:-2]}AA", f"{body[:-1]}B.{signature}", forged, "x" * 20):
        refused = await client.get(url.path, params={"token": bad})
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == ["token"]
    assert all((await _preferences(client, creator)).values())

    done = await client.get(url.path, params={"token": token})  # no login
    assert done.status_code == 200, done.text
    assert done.json() == {"kind": "offer_invitation", "email": False}
    wanted = await _preferences(client, creator)
    assert [k for k, on in wanted.items() if not on] == ["offer_invitation"]
    again = await client.post(url.path, params={"token": token})  # one-click, twice: the same
    assert again.status_code == 200, again.text

    await _invited(client, creator)
    await notify(pool, mail_settings)
    await send(pool, mail_settings)
    assert len(smtp.to(creator.email)) == 1
    assert (await read_inbox(client, creator))["unread"] == 2


async def test_the_worker_notifies_and_mails_and_a_second_run_sends_nothing_more(
    client: Client, database_url: str, mail_settings: Settings, smtp: SmtpBox
) -> None:
    creator = await speaking(client, "en")
    _, offer = await _invited(client, creator)

    async def run() -> None:
        worker = run_worker(database_url, settings=mail_settings, concurrency=1, wait=False)
        await asyncio.wait_for(worker, timeout=60)

    # A transaction open elsewhere on the server may hold the invitation back for a while.
    async with asyncio.timeout(WAIT):
        while not smtp.to(creator.email):
            await run()
    await run()
    (mail,) = smtp.to(creator.email)
    assert f"{APP}/offers/{offer['id']}" in mail.part("plain")


async def test_without_a_mail_server_each_mail_is_one_log_line_and_the_inbox_keeps_it(
    client: Client, db: Any, pool: Any, settings: Settings
) -> None:
    assert not settings.smtp_url
    assert isinstance(mailer_for(settings), LogMailer)
    creator = await speaking(client, "en")
    _, offer = await _invited(client, creator)
    await notify(pool, settings)
    with capture_logs() as logs:
        mailer = LogMailer(structlog.get_logger("test"))
        await sending.send_due(pool, mailer, datetime.now(UTC), lease(settings))
    (logged,) = [e for e in logs if e["event"] == "email_logged" and e["to"] == creator.email]
    assert "invited you to" in logged["subject"]
    assert "token=" not in str(logs)  # the unsubscribe link stays out of the log
    row = await _email_row(db, offer["id"], creator.me["user_id"])
    assert row["status"] == "logged"
    assert (await read_inbox(client, creator))["unread"] == 1

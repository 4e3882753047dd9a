"""The daily digest: for a user who asked for it, non-urgent kinds wait and go out in one mail
a day (with a link to stop each kind), urgent ones are mailed at once, and what was read in
the app meanwhile is left out."""

from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications import digest
from services.settings import Settings
from tests.helpers import Account, Client, merchant
from tests.negotiation.support import answer, invite, open_brief, terms
from tests.notifications.conftest import SmtpBox
from tests.notifications.support import notify, read_inbox, send, speaking


async def _declined_by(client: Client, owner: Account, creator: Account, title: str) -> None:
    brief = await open_brief(client, owner, title=title)
    offer = await invite(client, owner, brief["id"], creator)
    declined = await answer(client, creator, offer, "decline", 1)
    assert declined.status_code == 200, declined.text


async def test_non_urgent_kinds_wait_for_one_daily_digest(
    client: Client, db: Any, pool: Any, mail_settings: Settings, smtp: SmtpBox
) -> None:
    owner, creator = await merchant(client), await speaking(client, "en")
    saved = await client.put(
        "/v1/me/notification-preferences", json={"daily_digest": True}, headers=owner.headers
    )
    assert saved.status_code == 200, saved.text
    for title in ("First launch", "Second launch", "Third launch"):
        await _declined_by(client, owner, creator, title)
    brief = await open_brief(client, owner)
    applied = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json={"terms": terms(60_000)},
        headers=creator.headers,
    )
    assert applied.status_code == 201, applied.text
    await notify(pool, mail_settings)
    await send(pool, mail_settings)
    (urgent,) = smtp.to(owner.email)  # the application: at once
    assert "applied to" in urgent.message["Subject"]

    # One declined offer was read in the app before the digest: it is left out.
    items = (await read_inbox(client, owner))["items"]
    third = next(i for i in items if "Third launch" in i["title"])
    await client.post(f"/v1/notifications/{third['id']}/read", headers=owner.headers)

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    await digest.gather(db, mail_settings, tomorrow)
    await digest.gather(db, mail_settings, tomorrow + timedelta(hours=1))  # once a day
    await send(pool, mail_settings, tomorrow)
    (_, daily) = smtp.to(owner.email)
    assert daily.message["Subject"] == "Your kolmarket digest: 2 updates"
    text = daily.part("plain")
    assert "First launch" in text and "Second launch" in text and "Third launch" not in text
    assert "Stop emails about declined offers" in text
    assert len((await read_inbox(client, owner))["items"]) == 4  # the inbox keeps them all

    await digest.gather(db, mail_settings, tomorrow + timedelta(days=1))
    await send(pool, mail_settings, tomorrow + timedelta(days=1))
    assert len(smtp.to(owner.email)) == 2  # nothing new: no mail

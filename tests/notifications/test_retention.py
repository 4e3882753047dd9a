"""Retention: the worker's daily job deletes notifications older than
`NOTIFICATION_RETENTION_DAYS` with their mails, and reminder records as old, but keeps a
notification still waiting for its digest."""

import asyncio
import uuid
from typing import Any

import msgspec

from services.jobs import defer
from services.settings import Settings
from services.worker.app import run_worker
from tests.helpers import Client, merchant
from tests.negotiation.support import invite, open_brief
from tests.notifications.support import kinds, notify, send, speaking


def user(creator: Any) -> uuid.UUID:
    return uuid.UUID(creator.me["user_id"])


BACKDATE = "UPDATE {table} SET created_at = now() - interval '400 days' WHERE {column} = $1"


async def test_notifications_past_the_retention_go_with_their_mails(
    client: Client, db: Any, pool: Any, settings: Settings, database_url: str
) -> None:
    owner = await merchant(client)
    old, recent, digested = [await speaking(client, "en") for _ in range(3)]
    brief = await open_brief(client, owner)
    for creator in (old, recent, digested):
        await invite(client, owner, brief["id"], creator)
    await notify(pool, settings)
    await send(pool, settings)

    def notification_of(creator: Any) -> Any:
        return db.fetchval("SELECT id FROM notifications WHERE user_id = $1", user(creator))

    old_id, digested_id = await notification_of(old), await notification_of(digested)
    await db.execute(BACKDATE.format(table="notifications", column="id"), old_id)
    await db.execute(BACKDATE.format(table="notification_emails", column="notification_id"), old_id)
    # One as old, but still waiting for the daily digest to gather it.
    await db.execute("DELETE FROM notification_emails WHERE notification_id = $1", digested_id)
    await db.execute(
        "UPDATE notifications SET mail = 'digest', created_at = now() - interval '400 days' "
        "WHERE id = $1",
        digested_id,
    )
    stale, fresh = uuid.uuid4(), uuid.uuid4()
    await db.execute(
        "INSERT INTO notification_reminders (kind, subject_id, due_at) VALUES "
        "('offer_expiring', $1, now() - interval '400 days'), ('offer_expiring', $2, now())",
        stale,
        fresh,
    )

    await defer(
        db, "notifications:purge_notifications", {"timestamp": 0}, queueing_lock="test-purge"
    )
    kept_for_a_year = msgspec.structs.replace(settings, notification_retention_days=365)
    await asyncio.wait_for(
        run_worker(database_url, settings=kept_for_a_year, concurrency=1, wait=False), 60
    )

    assert await kinds(client, old) == []
    assert (
        await db.fetchval("SELECT count(*) FROM notification_emails WHERE user_id = $1", user(old))
        == 0
    )
    assert await kinds(client, recent) == ["offer_invitation"]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM notification_emails WHERE user_id = $1", user(recent)
        )
        == 1
    )
    assert await kinds(client, digested) == ["offer_invitation"]
    reminders = await db.fetch(
        "SELECT subject_id FROM notification_reminders WHERE subject_id = any($1::uuid[])",
        [stale, fresh],
    )
    assert [r["subject_id"] for r in reminders] == [fresh]

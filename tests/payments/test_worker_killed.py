"""A worker killed (`kill -9`) at the worst moment, after Stripe acted and answered but before
the worker could book the answer, loses nothing and repeats nothing: once its job is found
stalled and its call's lease has run out, another worker finishes the job with the same
idempotency key, and Stripe holds one transfer (or one charge), booked once.

The worker is `kolmarket worker` in a process of its own, its Stripe behind the fault proxy,
which kills it the moment Stripe's answer arrives.
"""

import asyncio
import os
import signal
import subprocess
import uuid
from typing import Any

import pytest
import stripe

from services.jobs import defer
from services.settings import Settings
from services.worker.app import run_worker
from tests.helpers import Client
from tests.payments.conftest import Inbox, Sides
from tests.payments.fault_support import (
    booked,
    books_agree,
    commissions_owed,
    entries_of,
    lease_ends,
    operation_of,
    payment_intents,
    payout_of,
    ready_kol,
    released_deal,
    transfers,
)
from tests.stripe_peer.faults import FaultProxy
from tests.support.processes import environment, kolmarket, stop

pytestmark = pytest.mark.slow
KILL_TIMEOUT = 60.0  # seconds for the worker to start and reach Stripe
JOB = "SELECT id, status, worker_id FROM procrastinate_jobs WHERE id = $1"
HEARTBEAT_STOPPED = """
    UPDATE procrastinate_workers SET last_heartbeat = now() - interval '10 minutes'
    WHERE id = (SELECT worker_id FROM procrastinate_jobs WHERE id = $1)
"""


async def _killed_when_stripe_answers(
    proxy: FaultProxy, settings: Settings, path: str, contains: str
) -> None:
    """Run `kolmarket worker` until Stripe answers its call to `path` about `contains`; the
    proxy kills it then, before the answer reaches it."""
    started: list[subprocess.Popen[bytes]] = []
    rule = proxy.inject(
        "drop", "POST", path, contains=contains,
        then=lambda: os.kill(started[0].pid, signal.SIGKILL),
    )  # fmt: skip
    worker = kolmarket(environment(settings), "worker", "--concurrency", "1")
    started.append(worker)
    try:
        async with asyncio.timeout(KILL_TIMEOUT):
            while worker.poll() is None:  # noqa: ASYNC110 (a process, not an event)
                await asyncio.sleep(0.1)
    finally:
        stop(worker)
    assert (rule.fired, worker.returncode) == (1, -signal.SIGKILL)


async def _time_passes_and_a_worker_runs(
    db: Any, database_url: str, settings: Settings, job_id: int, operation_id: uuid.UUID
) -> None:
    """The dead worker's heartbeat and its call's lease run out; a new worker retries the
    stalled job (the housekeeping job finds it) and runs everything due."""
    await db.execute(HEARTBEAT_STOPPED, job_id)
    await lease_ends(db, operation_id)
    await defer(db, "worker:retry_stalled_jobs", {"timestamp": 0})
    await asyncio.wait_for(
        run_worker(database_url, settings=settings, concurrency=1, wait=False), timeout=60
    )


async def test_a_worker_killed_after_stripe_made_the_transfer_pays_the_kol_once(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, peer_url: str, db, pool, gateway, database_url: str,
    faulty_settings: Settings, payments_settings: Settings,
) -> None:  # fmt: skip
    creator = await ready_kol(fault_client, peer_url)
    deal, _, payout = await released_deal(
        fault_client, stripe_api, inbox, db, sides.merchant, creator
    )
    job_id = await db.fetchval(
        "SELECT id FROM procrastinate_jobs WHERE task_name = 'payments:pay_out'"
        " AND args->>'payout_id' = $1",
        str(payout["id"]),
    )

    await _killed_when_stripe_answers(faults, faulty_settings, "/v1/transfers", str(payout["id"]))

    [made] = await transfers(stripe_api, deal["id"])  # Stripe acted
    assert (await payout_of(db, deal["id"]))["status"] == "scheduled"  # nothing was booked
    operation = await operation_of(db, payout["id"])
    assert operation["status"] == "sent"
    assert (await db.fetchrow(JOB, job_id))["status"] == "doing"

    await _time_passes_and_a_worker_runs(
        db, database_url, payments_settings, job_id, uuid.UUID(operation["id"])
    )

    assert (await db.fetchrow(JOB, job_id))["status"] == "succeeded"
    paid = await payout_of(db, deal["id"])
    assert (paid["status"], paid["transfer_id"]) == ("paid", made.id)
    assert [t.id for t in await transfers(stripe_api, deal["id"])] == [made.id]
    assert await booked(db, "payout", deal["id"]) == [made.id]
    await books_agree(pool, gateway, deal["id"])


async def test_a_worker_killed_after_stripe_charged_the_merchant_charges_once(
    fault_client: Client, faults: FaultProxy, stripe_api: stripe.StripeClient, peer_url: str,
    db, pool, gateway, database_url: str, faulty_settings: Settings,
    payments_settings: Settings,
) -> None:  # fmt: skip
    deal = await commissions_owed(fault_client, db, peer_url, 4_000, 600)
    job_id = await defer(db, "tracking:settle_commissions", {"timestamp": 0})

    await _killed_when_stripe_answers(
        faults, faulty_settings, "/v1/payment_intents", str(deal["merchant_id"])
    )

    settlement = await db.fetchrow(
        "SELECT id, status FROM commission_settlements WHERE merchant_id = $1",
        deal["merchant_id"],
    )
    [charged] = await payment_intents(stripe_api, settlement_id=str(settlement["id"]))
    assert (charged.status, charged.amount) == ("succeeded", 4_000)  # Stripe charged
    assert settlement["status"] != "paid" and await entries_of(db, charged.id) == []
    operation = await operation_of(db, settlement["id"])
    assert operation["status"] == "sent"

    await _time_passes_and_a_worker_runs(
        db, database_url, payments_settings, job_id, uuid.UUID(operation["id"])
    )

    assert (await db.fetchrow(JOB, job_id))["status"] == "succeeded"
    intents = await payment_intents(stripe_api, settlement_id=str(settlement["id"]))
    assert [i.id for i in intents] == [charged.id]
    paid = await db.fetchrow(
        "SELECT status, payment_intent_id FROM commission_settlements WHERE id = $1",
        settlement["id"],
    )
    assert (paid["status"], paid["payment_intent_id"]) == ("paid", charged.id)
    assert await entries_of(db, charged.id) == ["settlement"]
    [share] = await transfers(stripe_api, deal["id"])
    assert share.amount == 4_000 - 600
    assert await booked(db, "payout", deal["id"]) == [share.id]
    await books_agree(pool, gateway, deal["id"])

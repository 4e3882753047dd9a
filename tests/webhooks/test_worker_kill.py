"""At least once through a crash: the worker is killed (SIGKILL) while the receiver holds its
request; the next worker sends the same event again, with the same webhook-id."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import pytest

from tests.helpers import Client, merchant
from tests.webhooks.conftest import WAIT, Receiver
from tests.webhooks.support import endpoint, published_brief

pytestmark = pytest.mark.slow
STATUS = "SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1"


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEBHOOK_ALLOW_LOCAL": "true",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "services.cli", "worker", "--concurrency", "1"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _stop(process: subprocess.Popen[bytes], how: int) -> None:
    process.send_signal(how)
    async with asyncio.timeout(WAIT):
        while process.poll() is None:  # noqa: ASYNC110 (a process has no event to wait on)
            await asyncio.sleep(0.05)


async def test_killing_the_worker_mid_delivery_loses_no_event(
    hook_client: Client, receiver: Receiver, database_url: str, db
) -> None:
    owner = await merchant(hook_client)
    where = f"/killed/{uuid.uuid4().hex}"
    receiver.hold[where] = asyncio.Event()
    created = await endpoint(hook_client, owner, receiver.url(where))
    await published_brief(hook_client, owner)

    first = _worker(database_url)
    try:
        (held,) = await receiver.wait_for(where, 1)
    finally:
        await _stop(first, signal.SIGKILL)
    receiver.hold.pop(where).set()

    second = _worker(database_url)
    try:
        _, again = await receiver.wait_for(where, 2)
        async with asyncio.timeout(WAIT):
            while (await db.fetchrow(STATUS, uuid.UUID(created["id"])))["status"] != "delivered":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        await _stop(second, signal.SIGTERM)
    assert again.headers["webhook-id"] == held.headers["webhook-id"]
    assert again.body == held.body

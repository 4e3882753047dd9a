"""A Stripe that holds every request does not hold the rest of the API: while fundings wait on
it (longer than the database pool has connections for), reads, tracking redirects and the
readiness probe are answered, because no request keeps a database connection while Stripe
answers. The app runs as in production (`kolmarket serve`), on a real socket."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable

import httpx
import msgspec
import pytest
import stripe

from services.settings import Settings
from tests.helpers import Client
from tests.payments.conftest import Sides
from tests.payments.fault_support import payment_intents, reconciled, unconfirmed
from tests.payments.support import accepted_deal
from tests.stripe_peer.faults import FaultProxy
from tests.support.processes import environment, serving

pytestmark = pytest.mark.slow
FUNDINGS = 12  # more than the app's pool has connections (DB_POOL_MAX)
HANG = 30.0  # seconds Stripe holds each request
PROMPTLY = 5.0  # seconds an answer may take while Stripe hangs


async def _until(done: Callable[[], bool], seconds: float) -> None:
    """Wait for what another thread (the proxy's) brings about."""
    async with asyncio.timeout(seconds):
        while not done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_a_hanging_stripe_does_not_stop_reads_redirects_or_readiness(
    pay_client: Client, sides: Sides, faults: FaultProxy, payments_settings: Settings,
    stripe_api: stripe.StripeClient, db, pool, gateway,
) -> None:  # fmt: skip
    deals = [
        (await accepted_deal(pay_client, sides.merchant, sides.kol))["id"] for _ in range(FUNDINGS)
    ]
    code = await db.fetchval(
        "SELECT code FROM tracking_links WHERE deal_id = $1", uuid.UUID(deals[0])
    )
    patient = msgspec.structs.replace(
        payments_settings, stripe_api_base=faults.url, stripe_timeout_seconds=HANG + 10,
        stripe_max_retries=0, db_pool_max=FUNDINGS - 4,
    )  # fmt: skip
    env = environment(patient)
    held = faults.inject("hang", "POST", "/v1/payment_intents", times=FUNDINGS, seconds=HANG)
    merchant = sides.merchant.headers

    with serving(env) as (base_url, _):
        async with httpx.AsyncClient(base_url=base_url, timeout=HANG + 30) as http:
            fundings = [
                asyncio.create_task(http.post(f"/v1/deals/{deal_id}/funding", headers=merchant))
                for deal_id in deals
            ]
            await _until(lambda: held.fired == FUNDINGS, HANG)  # every funding waits on Stripe

            read = await asyncio.wait_for(
                http.get(f"/v1/deals/{deals[0]}", headers=merchant), PROMPTLY
            )
            redirect = await asyncio.wait_for(http.get(f"/t/{code}"), PROMPTLY)
            ready = await asyncio.wait_for(http.get("/health/ready"), PROMPTLY)

            assert (read.status_code, read.json()["id"]) == (200, deals[0])
            assert redirect.status_code == 302
            assert redirect.headers["location"].startswith("https://shop.example.com/")
            assert ready.status_code == 200, ready.text
            assert not any(funding.done() for funding in fundings)
            faults.release()
            answers = await asyncio.gather(*fundings)

    for answer in answers:
        unconfirmed(answer, "funding")
    await reconciled(pool, gateway)
    made = Counter(i.metadata.to_dict().get("deal_id") for i in await payment_intents(stripe_api))
    assert [made[deal_id] for deal_id in deals] == [1] * FUNDINGS
    funded = await db.fetchval(
        "SELECT count(*) FROM deal_fundings WHERE deal_id = any($1::uuid[])",
        [uuid.UUID(d) for d in deals],
    )
    assert funded == FUNDINGS

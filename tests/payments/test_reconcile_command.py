"""`kolmarket reconcile` compares the ledger with Stripe: on books that agree it prints nothing
and exits 0; money moved at Stripe behind the ledger's back (a refund made in the dashboard, a
transfer made by hand in a deal's transfer group) is printed with the deal it concerns, and it
exits 1. It runs as an operator runs it, in a process of its own, on a database of its own."""

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
import stripe
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.api.app import create_app
from services.settings import Settings
from tests.helpers import merchant
from tests.payments.conftest import Inbox
from tests.payments.fault_support import ready_kol
from tests.payments.support import funded_deal, start_funding
from tests.support.database import scratch_database
from tests.support.processes import ROOT, environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def books(server_url: str, payments_settings: Settings) -> Iterator[Settings]:
    """The app's settings on a database holding nothing but what this module makes."""
    with scratch_database(server_url, "kolmarket_books") as url:
        yield msgspec.structs.replace(payments_settings, database_url=url)


@pytest.fixture(scope="module")
async def books_client(books: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(books), raise_server_exceptions=False) as client:
        yield client


async def _reconcile(settings: Settings) -> tuple[int | None, str, str]:
    command = [sys.executable, "-m", "services.cli", "reconcile"]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=environment(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_reconcile_passes_on_books_that_agree_and_names_the_deal_of_each_difference(
    books_client: AsyncTestClient[Litestar], books: Settings, stripe_api: stripe.StripeClient,
    inbox: Inbox, peer_url: str,
) -> None:  # fmt: skip
    owner, creator = await merchant(books_client), await ready_kol(books_client, peer_url)
    deal = await funded_deal(books_client, stripe_api, inbox, owner, creator)

    code, printed, said = await _reconcile(books)

    assert (code, printed) == (0, ""), said
    assert "0 difference(s)" in said
    intent_id = (await start_funding(books_client, owner, deal["id"]))["payment_intent_id"]
    await stripe_api.v1.refunds.create_async({"payment_intent": intent_id, "amount": 1_000})
    account = await books_client.get("/v1/kols/me/payout-account", headers=creator.headers)
    await stripe_api.v1.transfers.create_async(
        {"amount": 2_500, "currency": "usd", "destination": account.json()["stripe_account_id"],
         "transfer_group": f"deal_{deal['id']}"}
    )  # fmt: skip

    code, printed, said = await _reconcile(books)

    assert code == 1, said
    assert printed.splitlines() == [
        f"deal {deal['id']}: refunded 0 in the ledger, 1000 at Stripe",
        f"deal {deal['id']}: transferred 0 in the ledger, 2500 at Stripe",
    ]
    assert "2 difference(s)" in said

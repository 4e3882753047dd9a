"""Steps and checks of the tests of Stripe's failures: a fault by name around one call, what the
caller was told, reconciliation once time has passed, and the two sides of the books (what
Stripe holds for a deal, what the ledger booked of it)."""

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import stripe

from services.payments import commissions, reconcile
from services.payments.gateway import StripeGateway
from tests.helpers import Account, Client, merchant
from tests.payments.conftest import Inbox
from tests.payments.delivery_support import ago, delivered, payout_ready_kol, set_policy
from tests.payments.support import PROBLEM, accepted_deal, funded_deal
from tests.stripe_peer.faults import FaultProxy

# How Stripe fails on one call: its answer is lost after it acted, the connection is closed
# before the request reaches it, or it holds the request past the caller's read timeout.
FAULTS = ("drop", "refuse", "hang")
# Whether Stripe made the object although its caller never heard back.
ACTED = {"drop": 1, "refuse": 0, "hang": 0, "unreachable": 0}


@contextlib.contextmanager
def failing(
    proxy: FaultProxy, fault: str, method: str, path: str, **options: Any
) -> Iterator[None]:
    """Stripe fails once, as `fault` says, on `method path` inside the block; `unreachable`
    refuses every connection meanwhile."""
    if fault == "unreachable":
        with proxy.unreachable():
            yield
        return
    rule = proxy.inject(fault, method, path, **options)  # type: ignore[arg-type]
    yield
    assert rule.fired == 1, f"the {fault} fault on {method} {path} never fired"


def unconfirmed(response: Any, kind: str) -> dict[str, Any]:
    """The answer while Stripe's outcome is unknown: 503 problem+json with Retry-After, naming
    the recorded operation. Returns that operation."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    assert problem["type"] == "/problems/payment-unconfirmed"
    operation: dict[str, Any] = problem["operation"]
    assert (operation["kind"], operation["status"]) == (kind, "unknown")
    assert operation["id"] in problem["detail"]
    return operation


def refused_while(response: Any, operation: dict[str, Any]) -> None:
    """A conflicting request is refused with 409 problem+json naming the unsettled operation."""
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    named = response.json()["operation"]
    assert (named["id"], named["status"]) == (operation["id"], "unknown")


async def operation_status(db: asyncpg.Connection, operation_id: str) -> str:
    status: str = await db.fetchval(
        "SELECT status FROM payment_operations WHERE id = $1", uuid.UUID(operation_id)
    )
    return status


async def reconciled(pool: asyncpg.Pool, gateway: StripeGateway) -> None:
    """The reconciliation job's run: every operation whose outcome is unknown is settled."""
    await reconcile.settle_due(pool, gateway, grace=timedelta(0))


async def lease_ends(db: asyncpg.Connection, operation_id: Any) -> None:
    """Time passes: the lease of a caller that died mid-call runs out."""
    await db.execute(
        "UPDATE payment_operations SET lease_until = now() - interval '1 second' WHERE id = $1",
        operation_id,
    )


async def books_agree(pool: asyncpg.Pool, gateway: StripeGateway, deal_id: Any) -> None:
    """What the ledger booked of the deal's money equals what Stripe holds for it."""
    assert await reconcile.audit_deal(pool, gateway, uuid.UUID(str(deal_id))) == []


async def payment_intents(stripe_api: stripe.StripeClient, **metadata: str) -> list[Any]:
    """Every PaymentIntent at Stripe whose metadata has these values."""
    page = await stripe_api.v1.payment_intents.list_async({"limit": 100})
    return [
        intent
        async for intent in page.auto_paging_iter()
        if all(intent.metadata.to_dict().get(k) == v for k, v in metadata.items())
    ]


async def refunds(stripe_api: stripe.StripeClient, intent_id: str) -> list[Any]:
    found = await stripe_api.v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
    return list(found.data)


async def transfers(stripe_api: stripe.StripeClient, deal_id: Any) -> list[Any]:
    found = await stripe_api.v1.transfers.list_async(
        {"transfer_group": f"deal_{deal_id}", "limit": 100}
    )
    return list(found.data)


async def booked(db: asyncpg.Connection, kind: str, deal_id: Any) -> list[str]:
    """The Stripe ids of the deal's journal entries of `kind`, oldest first."""
    rows = await db.fetch(
        "SELECT external_id FROM journal_entries WHERE kind = $1 AND deal_id = $2 ORDER BY id",
        kind,
        uuid.UUID(str(deal_id)),
    )
    return [r["external_id"] for r in rows]


async def entries_of(db: asyncpg.Connection, stripe_id: str) -> list[str]:
    """The kinds of the journal entries booking a Stripe object."""
    rows = await db.fetch(
        "SELECT kind FROM journal_entries WHERE external_id = $1 ORDER BY id", stripe_id
    )
    return [r["kind"] for r in rows]


async def funding_intent(db: asyncpg.Connection, deal_id: Any) -> str:
    intent_id: str = await db.fetchval(
        "SELECT payment_intent_id FROM deal_fundings WHERE deal_id = $1", uuid.UUID(str(deal_id))
    )
    return intent_id


async def ready_kol(client: Client, peer_url: str) -> Account:
    """A KOL whose payout account we know is ready (read from Stripe, as the KOL's app does)."""
    creator = await payout_ready_kol(client, peer_url)
    shown = await client.get("/v1/kols/me/payout-account", headers=creator.headers)
    assert shown.json()["ready"] is True, shown.text
    return creator


async def released_deal(
    client: Client,
    stripe_api: stripe.StripeClient,
    inbox: Inbox,
    db: asyncpg.Connection,
    owner: Account,
    creator: Account,
) -> tuple[dict[str, Any], list[dict[str, Any]], asyncpg.Record]:
    """A funded deal delivered in full and approved, its payout due now: the deal, its two
    approved pieces and the payout."""
    deal = await funded_deal(client, stripe_api, inbox, owner, creator)
    await set_policy(db, deal["id"], payout_hold_days=0)
    pieces = await delivered(client, owner, creator, deal["id"], posted_at=ago(days=2))
    payout = await payout_of(db, deal["id"])
    return deal, pieces, payout


async def commissions_owed(
    client: Client, db: asyncpg.Connection, peer_url: str, amount: int, cut: int
) -> asyncpg.Record:
    """A merchant with a saved card owing one commission on a deal with a payout-ready KOL;
    returns the deal (id, merchant_id, kol_id, currency)."""
    owner = await merchant(client)
    saved = await client.post(
        "/v1/billing/payment-method", json={"payment_method": "pm_card_visa"},
        headers=owner.headers,
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    creator = await ready_kol(client, peer_url)
    deal_id = uuid.UUID((await accepted_deal(client, owner, creator))["id"])
    deal = await db.fetchrow(
        "SELECT id, merchant_id, kol_id, currency FROM deals WHERE id = $1", deal_id
    )
    async with db.transaction():
        await commissions.accrue(db, deal, amount, cut)
    return deal


async def payout_of(db: asyncpg.Connection, deal_id: Any) -> asyncpg.Record:
    return await db.fetchrow(
        "SELECT id, amount, status, transfer_id, last_error FROM payouts WHERE deal_id = $1",
        uuid.UUID(str(deal_id)),
    )


async def operation_of(db: asyncpg.Connection, subject_id: Any) -> dict[str, Any]:
    """The one call to Stripe made for a payout, a settlement or a commission."""
    [row] = await db.fetch(
        "SELECT id::text, kind, status, attempts FROM payment_operations WHERE subject_id = $1",
        subject_id,
    )
    return dict(row)


async def takedown(client: Client, who: Account, deal_id: str, piece: dict[str, Any]) -> Any:
    """The merchant reports an approved piece taken down a day after it was posted."""
    observed = datetime.fromisoformat(piece["posted_at"]) + timedelta(days=1)
    body = {"submission_id": piece["id"], "observed_at": observed.isoformat(), "note": "Gone."}
    return await client.post(f"/v1/deals/{deal_id}/takedowns", json=body, headers=who.headers)


async def resolve(client: Client, who: Account, dispute_id: str, **decision: Any) -> Any:
    return await client.post(
        f"/v1/disputes/{dispute_id}/resolve", json={"note": "Decided.", **decision},
        headers=who.headers,
    )  # fmt: skip

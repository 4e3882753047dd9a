"""Steps of the delivery and dispute tests: content submitted and reviewed over HTTP, a deal
delivered in full, a brief's delivery policy, an operator and a payout-ready KOL."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.accounts.service import ensure_operator
from tests.helpers import Account, Client, kol, login, unique_email
from tests.stripe_peer import onboard_account

LINKS = {"return_url": "https://app.kolmarket.test/payouts", "refresh_url": "https://app.test/r"}


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def post_url() -> str:
    return f"https://www.tiktok.com/@creator/video/{uuid.uuid4().int % 10**18}"


async def submit(
    client: Client,
    creator: Account,
    deal_id: str,
    *,
    deliverable: int = 0,
    url: str | None = None,
    posted_at: datetime | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Any:
    body = {
        "deliverable": deliverable,
        "url": url or post_url(),
        "posted_at": (posted_at or ago(hours=2)).isoformat(),
        **extra,
    }
    return await client.post(
        f"/v1/deals/{deal_id}/submissions",
        json=body,
        headers={**creator.headers, **(headers or {})},
    )


async def submitted(
    client: Client, creator: Account, deal_id: str, **changes: Any
) -> dict[str, Any]:
    response = await submit(client, creator, deal_id, **changes)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def review(
    client: Client, who: Account, deal_id: str, submission_id: str, decision: str, **extra: Any
) -> Any:
    return await client.post(
        f"/v1/deals/{deal_id}/submissions/{submission_id}/review",
        json={"decision": decision, **extra},
        headers=who.headers,
    )


async def delivered(
    client: Client,
    owner: Account,
    creator: Account,
    deal_id: str,
    posted_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Both pieces of the deal's one deliverable submitted and approved: the deal is released."""
    pieces = [await submitted(client, creator, deal_id, posted_at=posted_at) for _ in range(2)]
    for piece in pieces:
        approved = await review(client, owner, deal_id, piece["id"], "approve")
        assert approved.status_code == 200, approved.text
    return pieces


async def set_policy(db: Any, deal_id: str, **columns: int) -> None:
    """The brief's delivery policy, as its merchant set it before publishing."""
    for column in columns:
        assert column in {"review_days", "min_live_days", "payout_hold_days"}
    await db.execute(
        "UPDATE briefs SET review_days = coalesce($2, review_days),"
        " min_live_days = coalesce($3, min_live_days),"
        " payout_hold_days = coalesce($4, payout_hold_days)"
        " WHERE id = (SELECT brief_id FROM deals WHERE id = $1)",
        uuid.UUID(deal_id),
        columns.get("review_days"),
        columns.get("min_live_days"),
        columns.get("payout_hold_days"),
    )


async def operator(client: Client, db: Any) -> Account:
    email = unique_email("operator")
    await ensure_operator(db, email, "operator pass 123")
    return await login(client, email, "operator pass 123")


async def payout_ready_kol(client: Client, peer_url: str) -> Account:
    creator = await kol(client)
    opened = await client.post("/v1/kols/me/payout-account", json=LINKS, headers=creator.headers)
    assert opened.status_code == 200, opened.text
    await onboard_account(peer_url, opened.json()["stripe_account_id"])
    return creator


async def balance(db: Any, kind: str, owner_id: str, currency: str = "USD") -> int:
    """An account's balance on its normal side (all of these are credit-normal)."""
    total: int = await db.fetchval(
        "SELECT coalesce(sum(p.amount), 0)::bigint FROM ledger_accounts a"
        " JOIN postings p ON p.account_id = a.id"
        " WHERE a.kind = $1 AND a.owner_id = $2 AND a.currency = $3",
        kind,
        uuid.UUID(owner_id),
        currency,
    )
    return -total


async def event_types(db: Any, *aggregate_ids: str) -> list[str]:
    rows = await db.fetch(
        "SELECT type FROM events WHERE aggregate_id = any($1::uuid[]) ORDER BY id",
        [uuid.UUID(a) for a in aggregate_ids],
    )
    return [r["type"] for r in rows]

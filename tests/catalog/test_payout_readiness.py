"""A KOL's profile says whether it can be paid: a payout account with payouts enabled."""

import uuid
from typing import Any

from tests.helpers import Account, Client, kol, merchant

SET_ACCOUNT = """
    INSERT INTO payout_accounts (kol_id, stripe_account_id, payouts_enabled, details_submitted)
    VALUES ($1, $2, $3, $3)
    ON CONFLICT (kol_id) DO UPDATE
        SET payouts_enabled = excluded.payouts_enabled,
            details_submitted = excluded.details_submitted
"""


async def _ready(client: Client, creator: Account, reader: Account) -> tuple[bool, bool]:
    """payout_ready as the KOL's public profile and its own profile show it."""
    public = await client.get(f"/v1/kols/{creator.me['kol_id']}", headers=reader.headers)
    assert public.status_code == 200, public.text
    own = await client.get("/v1/kols/me", headers=creator.headers)
    assert own.status_code == 200, own.text
    return public.json()["payout_ready"], own.json()["payout_ready"]


async def _set_account(db: Any, creator: Account, enabled: bool) -> None:
    kol_id = uuid.UUID(creator.me["kol_id"])
    await db.execute(SET_ACCOUNT, kol_id, f"acct_test_{uuid.uuid4().hex}", enabled)


async def test_a_kol_without_a_payout_account_is_not_ready(client: Client) -> None:
    creator, shop = await kol(client), await merchant(client)
    assert await _ready(client, creator, shop) == (False, False)


async def test_a_kol_is_ready_once_its_payout_account_has_payouts_enabled(
    client: Client, db: Any
) -> None:
    creator, other, shop = await kol(client), await kol(client), await merchant(client)
    await _set_account(db, creator, enabled=False)
    assert await _ready(client, creator, shop) == (False, False)
    await _set_account(db, creator, enabled=True)
    assert await _ready(client, creator, shop) == (True, True)
    assert await _ready(client, creator, other) == (True, True)
    assert await _ready(client, other, shop) == (False, False)
    saved = await client.put(
        "/v1/kols/me", json={"display_name": "Paid Creator"}, headers=creator.headers
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["payout_ready"] is True
    await _set_account(db, creator, enabled=False)
    assert await _ready(client, creator, shop) == (False, False)

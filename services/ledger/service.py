"""The ledger's one write, `post`, and its reads: balances and the entries of a deal.

`post` runs inside the caller's transaction, so a movement of money commits exactly when the
state change it belongs to does. It locks the escrow accounts it touches before reading their
balances, so two entries on one deal cannot both spend the same escrow.
"""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from contracts.ledger import AccountKind, EntryKind, EntryOut, PostingOut
from services.ledger import queries, rules
from services.ledger.rules import Account, Line


async def post(
    conn: asyncpg.Connection,
    kind: EntryKind,
    lines: Sequence[Line],
    *,
    deal_id: UUID | None = None,
    memo: str = "",
    external_id: str | None = None,
) -> int:
    """Book one balanced journal entry; returns its id. Call inside a transaction.

    `external_id` names the Stripe object that moved the money (a payment, refund or
    transfer): each is booked at most once, by a unique index."""
    assert conn.is_in_transaction(), "ledger.post runs inside the use case's transaction"
    currency = rules.check_entry(lines)
    ids: dict[Account, int] = {}
    for account in sorted({line.account for line in lines}, key=_order):
        ids[account] = await conn.fetchval(
            queries.ENSURE_ACCOUNT, account.kind.value, account.owner_id, account.currency
        )
    sums: dict[Account, int] = {}
    for account, account_id in ids.items():
        if account.kind in rules.NEVER_NEGATIVE:
            await conn.execute(queries.LOCK_ACCOUNT, account_id)
            sums[account] = await conn.fetchval(queries.POSTINGS_SUM, account_id)
    rules.check_floors(sums, lines)
    entry_id: int = await conn.fetchval(
        queries.INSERT_ENTRY, kind.value, deal_id, currency, memo, external_id
    )
    await conn.executemany(
        queries.INSERT_POSTING, [(entry_id, ids[line.account], line.amount) for line in lines]
    )
    return entry_id


def _order(account: Account) -> tuple[str, str, str]:
    return (account.kind.value, str(account.owner_id or ""), account.currency)


async def booked(conn: asyncpg.Connection, external_id: str) -> bool:
    """Whether the Stripe object `external_id` already has its journal entry."""
    return await conn.fetchval(queries.BOOKED, external_id) is not None


async def balance(conn: asyncpg.Connection, account: Account) -> int:
    """The account's balance on its normal side (0 for an account never used)."""
    total = await conn.fetchval(
        queries.ACCOUNT_SUM, account.kind.value, account.owner_id, account.currency
    )
    return rules.balance(account.kind, total)


async def deal_entries(conn: asyncpg.Connection, deal_id: UUID) -> list[EntryOut]:
    """Every journal entry of a deal, oldest first, with its postings."""
    entries: list[EntryOut] = []
    for row in await conn.fetch(queries.DEAL_POSTINGS, deal_id):
        if not entries or entries[-1].id != row["entry_id"]:
            entries.append(
                EntryOut(
                    id=row["entry_id"],
                    kind=EntryKind(row["entry_kind"]),
                    currency=row["currency"],
                    memo=row["memo"],
                    created_at=row["created_at"],
                    postings=[],
                )
            )
        entries[-1].postings.append(
            PostingOut(
                account=AccountKind(row["account_kind"]),
                owner_id=row["owner_id"],
                amount=row["amount"],
            )
        )
    return entries

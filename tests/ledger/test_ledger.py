"""The ledger's promises: entries balance, postings never change, escrow never goes negative,
and the sum of every posting is zero, whatever sequence of movements is attempted."""

import uuid

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.ledger import EntryKind
from services import database
from services.ledger import rules
from services.ledger.service import balance, post

GLOBAL_CHECKS = """
    SELECT (SELECT coalesce(sum(amount), 0) FROM postings) AS total,
           (SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id
                                  HAVING sum(amount) <> 0) s) AS unbalanced,
           (SELECT count(*) FROM (SELECT a.id FROM ledger_accounts a
                                  JOIN postings p ON p.account_id = a.id
                                  WHERE a.kind = 'merchant_escrow'
                                  GROUP BY a.id HAVING sum(p.amount) > 0) s) AS negative_escrows
"""


async def _book(conn: asyncpg.Connection, kind: EntryKind, lines: list[rules.Line]) -> bool:
    try:
        async with conn.transaction():
            await post(conn, kind, lines)
    except rules.Unbalanced:
        return False
    return True


async def test_funding_then_release_moves_escrow_to_kol_and_revenue(db) -> None:
    deal, kol = uuid.uuid4(), uuid.uuid4()
    async with db.transaction():
        await post(db, EntryKind.FUNDING, rules.funding(deal, "USD", 11_000))
    assert await balance(db, rules.escrow(deal, "USD")) == 11_000
    async with db.transaction():
        await post(db, EntryKind.RELEASE, rules.release(deal, kol, "USD", 10_000, 1_000))
    assert await balance(db, rules.escrow(deal, "USD")) == 0
    assert await balance(db, rules.payable(kol, "USD")) == 10_000


async def test_releasing_more_than_escrow_holds_is_refused(db) -> None:
    deal, kol = uuid.uuid4(), uuid.uuid4()
    assert await _book(db, EntryKind.FUNDING, rules.funding(deal, "USD", 5_000))
    release = rules.release(deal, kol, "USD", 5_000, 1)
    assert not await _book(db, EntryKind.RELEASE, release)
    assert await balance(db, rules.escrow(deal, "USD")) == 5_000
    assert await balance(db, rules.payable(kol, "USD")) == 0


async def test_postings_and_entries_can_never_be_changed_or_deleted(db) -> None:
    deal = uuid.uuid4()
    async with db.transaction():
        entry = await post(db, EntryKind.FUNDING, rules.funding(deal, "EUR", 700))
    for sql in (
        "UPDATE postings SET amount = amount * 2 WHERE entry_id = $1",
        "DELETE FROM postings WHERE entry_id = $1",
        "UPDATE journal_entries SET memo = 'x' WHERE id = $1",
        "DELETE FROM journal_entries WHERE id = $1",
    ):
        with pytest.raises(asyncpg.RestrictViolationError):
            await db.execute(sql, entry)
    assert await balance(db, rules.escrow(deal, "EUR")) == 700


async def test_database_refuses_an_unbalanced_entry_at_commit(db) -> None:
    account = await db.fetchval(
        "INSERT INTO ledger_accounts (kind, owner_id, currency)"
        " VALUES ('merchant_escrow', $1, 'USD') RETURNING id",
        uuid.uuid4(),
    )
    with pytest.raises(asyncpg.CheckViolationError):
        async with db.transaction():
            entry = await db.fetchval(
                "INSERT INTO journal_entries (kind, currency) VALUES ('funding', 'USD')"
                " RETURNING id"
            )
            await db.execute(
                "INSERT INTO postings (entry_id, account_id, amount) VALUES ($1, $2, 10)",
                entry,
                account,
            )
    assert await db.fetchval("SELECT count(*) FROM postings WHERE account_id = $1", account) == 0


def test_entry_rules_refuse_mixed_currencies_and_single_lines() -> None:
    deal = uuid.uuid4()
    with pytest.raises(rules.Unbalanced):
        rules.check_entry([rules.Line(rules.escrow(deal, "USD"), 0)])
    with pytest.raises(rules.Unbalanced):
        rules.check_entry(
            [rules.Line(rules.escrow(deal, "USD"), 5), rules.Line(rules.clearing("EUR"), -5)]
        )


amounts = st.integers(min_value=1, max_value=10**9)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("fund"), st.integers(0, 2), amounts),
        st.tuples(st.just("release"), st.integers(0, 2), amounts, st.integers(0, 10**8)),
        st.tuples(st.just("refund"), st.integers(0, 2), amounts),
        st.tuples(st.just("payout"), st.integers(0, 2), amounts),
    ),
    max_size=12,
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
async def test_any_sequence_of_movements_keeps_the_ledger_balanced(database_url, ops) -> None:
    conn = await asyncpg.connect(database.asyncpg_dsn(database_url))
    try:
        deals, kols = [uuid.uuid4() for _ in range(3)], [uuid.uuid4() for _ in range(3)]
        escrow, payable = dict.fromkeys(deals, 0), dict.fromkeys(kols, 0)
        for op, who, amount, *rest in ops:
            deal, kol = deals[who], kols[who]
            if op == "fund":
                assert await _book(conn, EntryKind.FUNDING, rules.funding(deal, "USD", amount))
                escrow[deal] += amount
            elif op == "release":
                lines = rules.release(deal, kol, "USD", amount, rest[0])
                booked = await _book(conn, EntryKind.RELEASE, lines)
                assert booked == (amount + rest[0] <= escrow[deal])
                escrow[deal] -= (amount + rest[0]) if booked else 0
                payable[kol] += amount if booked else 0
            elif op == "refund":
                booked = await _book(conn, EntryKind.REFUND, rules.refund(deal, "USD", amount))
                assert booked == (amount <= escrow[deal])
                escrow[deal] -= amount if booked else 0
            else:
                assert await _book(conn, EntryKind.PAYOUT, rules.payout(kol, "USD", amount))
                payable[kol] -= amount
        for deal, expected in escrow.items():
            assert await balance(conn, rules.escrow(deal, "USD")) == expected >= 0
        for kol, expected in payable.items():
            assert await balance(conn, rules.payable(kol, "USD")) == expected
        checks = await conn.fetchrow(GLOBAL_CHECKS)
        assert (checks["total"], checks["unbalanced"], checks["negative_escrows"]) == (0, 0, 0)
    finally:
        await conn.close()

"""SQL of the ledger: accounts made on first use, append-only entries and postings."""

ENSURE_ACCOUNT = """
    INSERT INTO ledger_accounts (kind, owner_id, currency) VALUES ($1, $2, $3)
    ON CONFLICT (kind, owner_id, currency) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING id
"""
# Serializes entries on the same account, so a balance read after it stays true until commit.
LOCK_ACCOUNT = "SELECT id FROM ledger_accounts WHERE id = $1 FOR UPDATE"
POSTINGS_SUM = "SELECT coalesce(sum(amount), 0)::bigint FROM postings WHERE account_id = $1"
INSERT_ENTRY = """
    INSERT INTO journal_entries (kind, deal_id, currency, memo, external_id)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING id
"""
# Whether the Stripe object (payment, refund, transfer) is already booked.
BOOKED = "SELECT id FROM journal_entries WHERE external_id = $1"
INSERT_POSTING = "INSERT INTO postings (entry_id, account_id, amount) VALUES ($1, $2, $3)"
ACCOUNT_SUM = """
    SELECT coalesce(sum(p.amount), 0)::bigint
    FROM ledger_accounts a JOIN postings p ON p.account_id = a.id
    WHERE a.kind = $1 AND a.owner_id IS NOT DISTINCT FROM $2 AND a.currency = $3
"""
DEAL_POSTINGS = """
    SELECT e.id AS entry_id, e.kind AS entry_kind, e.currency, e.memo, e.created_at,
           a.kind AS account_kind, a.owner_id, p.amount
    FROM journal_entries e
    JOIN postings p ON p.entry_id = e.id
    JOIN ledger_accounts a ON a.id = p.account_id
    WHERE e.deal_id = $1
    ORDER BY e.id, p.id
"""

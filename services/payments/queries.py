"""SQL of payments: fundings, Stripe events, payout accounts, payouts and refunds.

Statements are composed from this module's constant fragments only (hence the file-wide S608
exemption); values always travel as $n parameters.
"""

# ruff: noqa: S608

DEAL_COLUMNS = """
    d.id, d.merchant_id, d.kol_id, d.status, d.currency, d.merchant_pays,
    (d.terms->>'fixed_fee')::bigint AS creator_fee,
    (d.terms->>'platform_fee')::bigint AS platform_fee
"""
LOCK_MERCHANT_DEAL = f"""
    SELECT {DEAL_COLUMNS} FROM deals d WHERE d.id = $1 AND d.merchant_id = $2 FOR UPDATE
"""
LOCK_DEAL = f"""
    SELECT {DEAL_COLUMNS}, b.payout_hold_days
    FROM deals d JOIN briefs b ON b.id = d.brief_id
    WHERE d.id = $1 FOR UPDATE OF d
"""
FIND_VISIBLE_DEAL = f"""
    SELECT {DEAL_COLUMNS} FROM deals d
    WHERE d.id = $1 AND (d.merchant_id = $2 OR d.kol_id = $3)
"""

FIND_FUNDING = """
    SELECT deal_id, payment_intent_id, amount, currency, status, last_error, client_secret
    FROM deal_fundings WHERE deal_id = $1
"""
INSERT_FUNDING = """
    INSERT INTO deal_fundings (deal_id, payment_intent_id, amount, currency, client_secret)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (deal_id) DO NOTHING
"""
# The first success wins; a success after a failure (a second card) replaces the failure.
FUNDING_SUCCEEDED = """
    UPDATE deal_fundings f SET status = 'succeeded', last_error = NULL, updated_at = now()
    FROM deals d
    WHERE f.payment_intent_id = $1 AND f.status <> 'succeeded' AND d.id = f.deal_id
    RETURNING f.deal_id, f.amount, f.currency, d.merchant_id, d.kol_id
"""
FUNDING_FAILED = """
    UPDATE deal_fundings SET status = 'failed', last_error = $2, updated_at = now()
    WHERE payment_intent_id = $1 AND status = 'pending'
"""

RECORD_STRIPE_EVENT = """
    INSERT INTO stripe_events (id, type) VALUES ($1, $2)
    ON CONFLICT (id) DO NOTHING RETURNING id
"""

LOCK_KOL = "SELECT id FROM kols WHERE id = $1 FOR UPDATE"
# One payout run per KOL at a time (their due payouts are transferred together).
LOCK_KOL_PAYOUTS = "SELECT pg_advisory_xact_lock(hashtextextended('payouts ' || $1, 0))"
ACCOUNT_OF_PAYOUT = """
    SELECT a.stripe_account_id, a.payouts_enabled
    FROM payouts p JOIN payout_accounts a ON a.kol_id = p.kol_id WHERE p.id = $1
"""
FIND_PAYOUT_ACCOUNT = """
    SELECT kol_id, stripe_account_id, payouts_enabled, details_submitted
    FROM payout_accounts WHERE kol_id = $1
"""
INSERT_PAYOUT_ACCOUNT = """
    INSERT INTO payout_accounts (kol_id, stripe_account_id, payouts_enabled, details_submitted)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (kol_id) DO NOTHING
"""
UPDATE_PAYOUT_ACCOUNT = """
    UPDATE payout_accounts SET payouts_enabled = $2, details_submitted = $3, updated_at = now()
    WHERE stripe_account_id = $1
"""

PAYOUT_COLUMNS = """
    p.id, p.deal_id, p.kol_id, p.amount, p.currency, p.status, p.due_at, p.attempts,
    p.last_error, p.transfer_id, p.paid_at
"""
INSERT_PAYOUT = f"""
    INSERT INTO payouts AS p (deal_id, kol_id, amount, currency, due_at)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING {PAYOUT_COLUMNS}
"""
LOCK_PAYOUT = f"""
    SELECT {PAYOUT_COLUMNS}, d.status AS deal_status
    FROM payouts p JOIN deals d ON d.id = p.deal_id
    WHERE p.id = $1 FOR UPDATE OF p
"""
# A dispute holds the deal's lock; a transfer under way holds the payout's and then wants the
# deal's. Not waiting for the payout breaks that circle: the dispute answers 409 instead.
LOCK_PAYOUT_NOWAIT = f"""
    SELECT {PAYOUT_COLUMNS} FROM payouts p WHERE p.id = $1 FOR UPDATE OF p NOWAIT
"""
PAYOUT_OF_DEAL = f"SELECT {PAYOUT_COLUMNS} FROM payouts p WHERE p.deal_id = $1"
PAYOUTS_OF_KOL = f"""
    SELECT {PAYOUT_COLUMNS} FROM payouts p WHERE p.kol_id = $1 ORDER BY p.due_at, p.id LIMIT 500
"""
DUE_PAYOUTS = """
    SELECT id FROM payouts WHERE status = 'scheduled' AND due_at <= $1
    ORDER BY due_at, id LIMIT $2
"""
OVERDUE_PAYOUTS = f"""
    SELECT {PAYOUT_COLUMNS} FROM payouts p
    WHERE p.status IN ('scheduled', 'paused') AND p.due_at < $1 ORDER BY p.due_at, p.id LIMIT $2
"""
PAYOUT_PAID = """
    UPDATE payouts SET status = 'paid', transfer_id = $2, paid_at = now(),
                       attempts = attempts + 1, last_error = NULL, updated_at = now()
    WHERE id = $1
"""
PAYOUT_ATTEMPT_FAILED = """
    UPDATE payouts SET attempts = attempts + 1, last_error = $2, updated_at = now()
    WHERE id = $1 RETURNING attempts
"""
# A KOL's due payouts are paid together, so small ones add up to the minimum payout.
DUE_BATCH_OF_KOL = f"""
    SELECT {PAYOUT_COLUMNS}, d.status AS deal_status
    FROM payouts p JOIN deals d ON d.id = p.deal_id
    WHERE p.kol_id = $1 AND p.currency = $2 AND p.status = 'scheduled' AND p.due_at <= $3
      AND d.status <> 'disputed'
    ORDER BY p.due_at, p.id
    FOR UPDATE OF p
"""
PAYOUT_HELD = "UPDATE payouts SET last_error = $2, updated_at = now() WHERE id = $1"
PAYOUT_PAUSED = """
    UPDATE payouts SET status = 'paused', updated_at = now()
    WHERE id = $1 AND status = 'scheduled'
"""

# Refunds of the deal decided but not yet confirmed by Stripe: escrow keeps them.
REFUNDS_UNDER_WAY = """
    SELECT coalesce(sum(amount), 0)::bigint FROM payment_operations
    WHERE deal_id = $1 AND kind = 'refund' AND status IN ('pending', 'sent', 'unknown')
"""
# Each refund decided for a deal has its number (its key's), whatever came of it.
COUNT_REFUND_OPERATIONS = """
    SELECT count(*) FROM payment_operations WHERE deal_id = $1 AND kind = 'refund'
"""
INSERT_REFUND = """
    INSERT INTO refunds (deal_id, amount, stripe_refund_id, reason) VALUES ($1, $2, $3, $4)
    RETURNING id, deal_id, amount, stripe_refund_id, reason, created_at
"""
REFUNDS_OF_DEAL = """
    SELECT id, deal_id, amount, stripe_refund_id, reason, created_at
    FROM refunds WHERE deal_id = $1 ORDER BY created_at, id
"""
KNOWN_PAYOUT_ACCOUNT = "SELECT 1 FROM payout_accounts WHERE stripe_account_id = $1"
EARNING_LINES = """
    SELECT e.id AS entry_id, e.kind, e.deal_id, -p.amount AS amount, e.currency, e.created_at
    FROM ledger_accounts a
    JOIN postings p ON p.account_id = a.id
    JOIN journal_entries e ON e.id = p.entry_id
    WHERE a.kind = 'kol_payable' AND a.owner_id = $1
    ORDER BY e.id DESC LIMIT 500
"""

LOCK_BILLING = """
    SELECT merchant_id, stripe_customer_id, payment_method_id
    FROM merchant_billing WHERE merchant_id = $1 FOR UPDATE
"""
# One change of a merchant's billing at a time (its customer is made once).
LOCK_BILLING_OF = "SELECT pg_advisory_xact_lock(hashtextextended('billing ' || $1, 0))"
INSERT_BILLING = """
    INSERT INTO merchant_billing (merchant_id, stripe_customer_id) VALUES ($1, $2)
    ON CONFLICT (merchant_id) DO NOTHING
"""
SAVE_CARD = """
    UPDATE merchant_billing SET payment_method_id = $2, updated_at = now() WHERE merchant_id = $1
"""
INSERT_ACCRUAL = """
    INSERT INTO commission_accruals (deal_id, merchant_id, kol_id, currency, amount, platform_cut)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
"""
SETTLEMENT_COLUMNS = """
    s.id, s.merchant_id, s.currency, s.amount, s.status, s.attempts, s.last_error,
    s.payment_intent_id, s.paid_at, s.created_at
"""
OPEN_SETTLEMENT = f"""
    SELECT {SETTLEMENT_COLUMNS} FROM commission_settlements s
    WHERE s.merchant_id = $1 AND s.currency = $2 AND s.status <> 'paid' FOR UPDATE
"""
UNSETTLED_TOTAL = """
    SELECT coalesce(sum(amount), 0)::bigint FROM commission_accruals
    WHERE merchant_id = $1 AND currency = $2 AND settlement_id IS NULL
"""
FIND_SETTLEMENT = f"SELECT {SETTLEMENT_COLUMNS} FROM commission_settlements s WHERE s.id = $1"
LOCK_SETTLEMENT = FIND_SETTLEMENT + " FOR UPDATE"
INSERT_SETTLEMENT = f"""
    INSERT INTO commission_settlements AS s (merchant_id, currency, amount) VALUES ($1, $2, $3)
    RETURNING {SETTLEMENT_COLUMNS}
"""
CLAIM_ACCRUALS = """
    UPDATE commission_accruals SET settlement_id = $3
    WHERE merchant_id = $1 AND currency = $2 AND settlement_id IS NULL
"""
SETTLEMENT_PAID = f"""
    UPDATE commission_settlements s SET status = 'paid', payment_intent_id = $2,
        attempts = attempts + 1, last_error = NULL, paid_at = now(), updated_at = now()
    WHERE s.id = $1 RETURNING {SETTLEMENT_COLUMNS}
"""
SETTLEMENT_FAILED = f"""
    UPDATE commission_settlements s SET status = 'failed', attempts = attempts + 1,
        last_error = $2, payment_intent_id = coalesce($3, payment_intent_id), updated_at = now()
    WHERE s.id = $1 RETURNING {SETTLEMENT_COLUMNS}
"""
UNTRANSFERRED_SHARES = """
    SELECT c.id, c.deal_id, c.kol_id, c.currency, c.amount - c.platform_cut AS share,
           a.stripe_account_id, a.payouts_enabled
    FROM commission_accruals c
    JOIN commission_settlements s ON s.id = c.settlement_id AND s.status = 'paid'
    JOIN payout_accounts a ON a.kol_id = c.kol_id
    WHERE c.merchant_id = $1 AND c.transfer_id IS NULL AND c.amount > c.platform_cut
"""
LOCK_UNTRANSFERRED_SHARES = UNTRANSFERRED_SHARES + " FOR UPDATE OF c"
SHARE_TRANSFERRED = "UPDATE commission_accruals SET transfer_id = $2 WHERE id = $1"
SETTLEMENTS_OF_MERCHANT = f"""
    SELECT {SETTLEMENT_COLUMNS} FROM commission_settlements s
    WHERE s.merchant_id = $1 ORDER BY s.created_at DESC, s.id LIMIT 200
"""
# Owing commissions, or a charge to retry, or KOL shares of a paid settlement still to transfer
# (the charge confirmed by reconciliation, or a transfer refused or not yet possible).
MERCHANTS_TO_SETTLE = """
    SELECT DISTINCT merchant_id, currency FROM commission_accruals WHERE settlement_id IS NULL
    UNION
    SELECT merchant_id, currency FROM commission_settlements WHERE status <> 'paid'
    UNION
    SELECT c.merchant_id, c.currency FROM commission_accruals c
    JOIN commission_settlements s ON s.id = c.settlement_id AND s.status = 'paid'
    WHERE c.transfer_id IS NULL AND c.amount > c.platform_cut
    LIMIT $1
"""
PAYOUT_RESUMED = f"""
    UPDATE payouts p SET status = 'scheduled', updated_at = now()
    WHERE p.id = $1 AND p.status = 'paused'
    RETURNING {PAYOUT_COLUMNS}
"""
# A dispute's clawback lowers an unpaid payout; one brought to zero is cancelled.
PAYOUT_REDUCED = f"""
    UPDATE payouts p SET amount = amount - $2, updated_at = now(),
        status = CASE WHEN amount - $2 = 0 THEN 'cancelled' ELSE status END
    WHERE p.id = $1 AND p.status IN ('scheduled', 'paused') AND amount >= $2
    RETURNING {PAYOUT_COLUMNS}
"""
